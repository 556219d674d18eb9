/**
 * @module
 * What a session's engine reports, applied to the session: status changes (an engine that gave
 * up ends its Worker), the QR, a logout, a fatal failure (a crash, for the restart policy), and
 * message events, which leave only once the linked account was found to be the number's own. A
 * session linked by another number's phone is FAILED at once and its Worker retired.
 */
import type { Config } from "../config.ts";
import { describeError, type Logger } from "../logger.ts";
import type { Fence, SessionRepository } from "../store/store.ts";
import type { EngineEvent, Me } from "./engine.ts";
import { linkProblem } from "./linked_number.ts";
import { qrToTerminal } from "./qr.ts";
import type { Restarts } from "./restarts.ts";
import type { SessionEntry } from "./session_entry.ts";
import type { SavedLogins } from "./saved_logins.ts";
import type { Emit } from "./session_events.ts";
import type { StatusMachine } from "./status_machine.ts";
import type { WorkerHost } from "./worker_host.ts";

/** Applies one event of `host`, the Worker of `entry` (ignored once `entry` has another). */
export type EngineEventHandler = (
  entry: SessionEntry,
  host: WorkerHost,
  event: EngineEvent,
) => void;

export interface EngineEventsDeps {
  logQr: Config["logQr"];
  sessions: SessionRepository;
  log: Logger;
  status: StatusMachine;
  emit: Emit;
  restarts: Restarts;
  /** Has the Worker of a refused link log out and end (`Lifecycle.retire`). */
  retire: (entry: SessionEntry, host: WorkerHost) => void;
  /** The lease the session's own writes carry: refused once another node took the number. */
  fenceOf?: (phoneNumber: string) => Fence | null;
  /** The numbers' logins kept in the shared store (a cluster); absent on a single node. */
  logins?: Pick<SavedLogins, "save" | "forget">;
}

export function createEngineEventHandler(deps: EngineEventsDeps): EngineEventHandler {
  const { sessions, log, status, emit, restarts } = deps;
  const fenceOf = (entry: SessionEntry) => deps.fenceOf?.(entry.phoneNumber) ?? null;

  /**
   * Records what the engine reported without holding up the event (the handler runs in the
   * Worker's message callback); a write that fails is logged, the session goes on.
   */
  function record(entry: SessionEntry, write: Promise<void>): void {
    write.catch((error) =>
      log.error("recording a session's state failed", {
        session: entry.phoneNumber,
        error: describeError(error),
      })
    );
  }

  /** The engine says it is linked and connected: as the number's own phone, or refused. */
  function onLinked(entry: SessionEntry, host: WorkerHost, me: Me | undefined): void {
    // A reconnect may leave `me` out; within one launch the account cannot change.
    const account = me ?? (entry.verified ? entry.me : null);
    const problem = linkProblem(entry.phoneNumber, account);
    if (problem) {
      refuseLink(entry, host, problem);
      return;
    }
    entry.me = account;
    entry.verified = true;
    entry.consecutiveTimeouts = 0;
    record(entry, sessions.markLinked(entry.phoneNumber, fenceOf(entry)));
    status.set(entry, "WORKING");
  }

  /**
   * Another number's phone linked: the session is FAILED at once, its Worker cut off (its events
   * and calls go nowhere from here) and retired (logged out, so the phone's linked device is
   * removed and the login deleted). It is not restarted; the number stays its owner's.
   */
  function refuseLink(entry: SessionEntry, host: WorkerHost, reason: string): void {
    log.warn("session linked by another number's phone: logging it out", {
      session: entry.phoneNumber,
      reason,
    });
    restarts.cancel(entry);
    entry.host = null;
    entry.qr = null;
    entry.wanted = false;
    entry.verified = false;
    entry.me = null;
    record(entry, sessions.setShouldRun(entry.phoneNumber, false, fenceOf(entry)));
    status.set(entry, "FAILED", reason);
    deps.retire(entry, host);
  }

  /** The login is worth nothing anywhere now: the stored one goes too. */
  function forgetLogin(entry: SessionEntry): void {
    if (deps.logins) record(entry, deps.logins.forget(entry.phoneNumber));
  }

  return function onEngineEvent(entry, host, event) {
    if (event.type === "login") {
      // The last one comes from a Worker being stopped, already cut off (`host` null); one from
      // a Worker replaced since, or of an account not found to be the number's own, is dropped.
      const current = entry.host === host || entry.host === null;
      if (current && entry.verified) {
        deps.logins?.save(entry.phoneNumber, event.archive, fenceOf(entry));
      }
      return;
    }
    if (entry.host !== host) return;
    switch (event.type) {
      case "status":
        if (event.status === "WORKING") {
          onLinked(entry, host, event.me);
          return;
        }
        if (event.status === "STOPPED" || event.status === "FAILED") {
          // The engine gave up on its own (QR never scanned, auth failure).
          host.terminate(event.reason ?? event.status);
          entry.host = null;
          if (event.status === "STOPPED") {
            entry.wanted = false;
            record(entry, sessions.setShouldRun(entry.phoneNumber, false, fenceOf(entry)));
          }
        }
        status.set(entry, event.status, event.reason ?? null);
        return;
      case "qr":
        // The waha engine's QR was on its way from WAHA while WAHA's webhook said the phone had
        // scanned: stale. (Were the number logged out, WAHA's status post would come first.)
        if (entry.engine === "waha" && entry.status === "WORKING") return;
        entry.qr = event.value;
        // A QR means the session waits for a scan, whatever status event follows it.
        status.set(entry, "SCAN_QR_CODE", null, true);
        if (deps.logQr === "terminal") {
          qrToTerminal(event.value).then((drawing) =>
            console.log(`Scan this QR code with WhatsApp for ${entry.phoneNumber}:\n${drawing}`)
          );
        }
        return;
      case "pairing_code":
        return;
      case "message":
      case "message.any":
        // Nothing of an account that was not found to be this number's leaves the session.
        if (entry.verified) emit(entry, { type: event.type, message: event.message });
        return;
      case "message.ack":
        if (!entry.verified) return;
        emit(entry, {
          type: "message.ack",
          messageId: event.messageId,
          chatId: event.chatId,
          ack: event.ack,
        });
        return;
      case "message.reaction":
      case "poll.vote":
      case "poll.vote.failed":
      case "message.revoked":
      case "message.edited":
      case "presence.update":
      case "group.leave":
      case "label.upsert":
      case "label.deleted":
      case "label.chat.added":
      case "label.chat.deleted":
      case "call.received":
      case "call.rejected":
      case "group.join":
      case "group.participants":
      case "group.update":
      case "group.join_request":
        if (entry.verified) emit(entry, event);
        return;
      case "login_rejected":
        forgetLogin(entry);
        return;
      case "logged_out":
        forgetLogin(entry);
        host.terminate("Logged out");
        entry.host = null;
        entry.wanted = false;
        entry.me = null;
        record(entry, sessions.setShouldRun(entry.phoneNumber, false, fenceOf(entry)));
        status.set(entry, "STOPPED", event.reason);
        return;
      case "fatal":
        log.warn("session engine failed", { session: entry.phoneNumber, reason: event.reason });
        restarts.kill(entry, host, event.reason);
        return;
      case "child_process":
        return;
    }
  };
}
