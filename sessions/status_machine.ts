/**
 * @module
 * A session's status: every change goes through `set`, which keeps the last three (WAHA's
 * `statuses`), drops a QR that no longer applies, logs and announces the change as a
 * `session.status` event, and wakes whoever waits for the session to reach a state (`waitFor`).
 */
import type { Logger } from "../logger.ts";
import type { SessionStatus } from "./engine.ts";
import type { SessionEntry } from "./session_entry.ts";
import type { Emit } from "./session_events.ts";

export interface StatusMachine {
  /** `again`: announce the status even when it is unchanged (WAHA repeats it for each new QR). */
  set(entry: SessionEntry, status: SessionStatus, reason?: string | null, again?: boolean): void;
  /** Resolves once `done()` holds after a change (or at once), or after `ms`. */
  waitFor(entry: SessionEntry, done: () => boolean, ms: number): Promise<void>;
  /** Lets every waiter look again (the entry changed without an announced status). */
  wake(entry: SessionEntry): void;
}

export function createStatusMachine(deps: { log: Logger; emit: Emit }): StatusMachine {
  const { log, emit } = deps;

  function wake(entry: SessionEntry): void {
    for (const check of entry.waiters) check();
  }

  return {
    set(entry, status, reason = null, again = false) {
      if (entry.status === status && entry.reason === reason && !again) return;
      entry.status = status;
      entry.reason = reason;
      if (status !== "SCAN_QR_CODE" && status !== "STARTING") entry.qr = null;
      entry.statuses = [...entry.statuses, { status, timestamp: Date.now() }].slice(-3);
      log.info("session status", { session: entry.phoneNumber, status, reason });
      emit(entry, { type: "session.status", status, reason, statuses: entry.statuses });
      wake(entry);
    },

    waitFor(entry, done, ms) {
      if (done() || ms <= 0) return Promise.resolve();
      return new Promise((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          entry.waiters.delete(check);
          resolve();
        };
        const check = () => {
          if (done()) finish();
        };
        const timer = setTimeout(finish, ms);
        entry.waiters.add(check);
      });
    },

    wake,
  };
}
