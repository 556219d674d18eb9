/**
 * @module
 * Brings crashed sessions back. When a session's Worker dies while the session should run, the
 * restart policy (`restart_policy.ts`) decides: a relaunch after its backoff, under the number's
 * lock and only if the session is still wanted then, or FAILED once it crashed too often. A
 * Worker that cannot go on (its engine said so, or it stopped answering) is ended the same way.
 */
import type { Logger } from "../logger.ts";
import type { SessionMetrics } from "../metrics/hooks.ts";
import { decideRestart, type RestartPolicy } from "./restart_policy.ts";
import type { SessionEntry } from "./session_entry.ts";
import type { StatusMachine } from "./status_machine.ts";
import type { WorkerHost } from "./worker_host.ts";

export interface Restarts {
  /** `host`, the Worker of `entry`, died for `reason` (ignored once `entry` has another). */
  onDeath(entry: SessionEntry, host: WorkerHost, reason: string): void;
  /** Ends `host` now and handles it as a crash. */
  kill(entry: SessionEntry, host: WorkerHost, reason: string): void;
  /** Forgets a pending relaunch. */
  cancel(entry: SessionEntry): void;
}

export interface RestartsDeps {
  policy: RestartPolicy;
  log: Logger;
  status: StatusMachine;
  isClosing: () => boolean;
  withLock: (key: string, fn: () => Promise<void>) => Promise<void>;
  /** Starts a new Worker for `entry` (called under the number's lock). */
  launch: (entry: SessionEntry) => void;
  /** Told of each death of a wanted session and what followed (`METRICS_ENABLED`). */
  metrics?: Pick<SessionMetrics, "restart">;
}

export function createRestarts(deps: RestartsDeps): Restarts {
  const { policy, log, status, isClosing, withLock } = deps;

  function cancel(entry: SessionEntry): void {
    if (entry.restartTimer !== null) clearTimeout(entry.restartTimer);
    entry.restartTimer = null;
  }

  function onDeath(entry: SessionEntry, host: WorkerHost, reason: string): void {
    if (entry.host !== host) return;
    entry.host = null;
    entry.qr = null;
    if (!entry.wanted || isClosing()) {
      status.set(entry, "STOPPED", reason);
      return;
    }
    const decision = decideRestart(policy, entry.crashes, Date.now());
    entry.crashes = decision.crashes;
    deps.metrics?.restart(reason, decision.action === "give_up" ? "failed" : "restarted");
    if (decision.action === "give_up") {
      status.set(entry, "FAILED", `${reason}; ${decision.reason}`);
      return;
    }
    const delay = decision.delayMs;
    log.warn("session crashed, restarting", { session: entry.phoneNumber, reason, delayMs: delay });
    status.set(entry, "STARTING", `${reason}; restarting in ${delay} ms`);
    entry.restartTimer = setTimeout(() => {
      entry.restartTimer = null;
      withLock(entry.phoneNumber, () => {
        if (entry.wanted && !entry.host && !isClosing()) deps.launch(entry);
        return Promise.resolve();
      });
    }, delay);
  }

  return {
    onDeath,
    kill(entry, host, reason) {
      host.terminate(reason);
      onDeath(entry, host, reason);
    },
    cancel,
  };
}
