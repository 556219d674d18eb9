/**
 * @module
 * What to do when a session's Worker dies while it should be running: restart it after an
 * exponential backoff (`backoffMinMs` doubling up to `backoffMaxMs`), unless it crashed
 * `maxCrashes` times within `crashWindowMs`, then give up until someone starts it again.
 */

export interface RestartPolicy {
  backoffMinMs: number;
  backoffMaxMs: number;
  maxCrashes: number;
  crashWindowMs: number;
}

export type RestartDecision =
  | { action: "restart"; delayMs: number; crashes: number[] }
  | { action: "give_up"; crashes: number[]; reason: string };

/** Records a crash at `now` among the earlier ones and decides. Pure: the caller keeps `crashes`. */
export function decideRestart(
  policy: RestartPolicy,
  earlierCrashes: readonly number[],
  now: number,
): RestartDecision {
  const crashes = [...earlierCrashes, now].filter((at) => now - at <= policy.crashWindowMs);
  if (crashes.length >= policy.maxCrashes) {
    const minutes = Math.round(policy.crashWindowMs / 60_000);
    return {
      action: "give_up",
      crashes,
      reason: `crashed ${crashes.length} times in ${minutes} minutes, start it again to retry`,
    };
  }
  const delayMs = Math.min(policy.backoffMaxMs, policy.backoffMinMs * 2 ** (crashes.length - 1));
  return { action: "restart", delayMs, crashes };
}
