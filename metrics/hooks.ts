/**
 * @module
 * What the server's parts report to the metrics, as plain interfaces: the session manager and its
 * parts take a `SessionMetrics`, the event pipeline and the dispatcher an `EventMetrics`, each as
 * an optional dependency. Without one a part reports nothing and pays nothing, so the parts and
 * their tests need neither `prom-client` nor a registry (`metrics/registry.ts` implements them).
 */

/** How an engine call ended: answered, failed (the engine or the Worker), or out of time. */
export type CallOutcome = "ok" | "error" | "timeout";

/** What became of a session whose Worker died while it should run. */
export type RestartOutcome = "restarted" | "failed";

export interface SessionMetrics {
  /** An engine call (`sessions/calls.ts`) ended after `seconds`. */
  engineCall(method: string, seconds: number, outcome: CallOutcome): void;
  /**
   * A wanted session's Worker or Chromium died for `reason` (free text, as logged) and is
   * relaunched after its backoff, or FAILED by the restart policy.
   */
  restart(reason: string, outcome: RestartOutcome): void;
  /** The engine of `phoneNumber` runs a child process (Chromium) as `pid`, in its own group. */
  childProcess(phoneNumber: string, pid: number): void;
}

/** The result of one webhook attempt: sent, to be tried again, or given up (a dead letter). */
export type DeliveryResult = "success" | "retry" | "failed";

export interface EventMetrics {
  /** Events were written to the outbox (derived ones included), by name. */
  stored(events: readonly { event: string }[]): void;
  /** One webhook attempt ended with `result` after `seconds` (the POST and its answer). */
  delivery(result: DeliveryResult, seconds: number): void;
}
