/**
 * @module
 * The `reason` label of a restart: the free-text reasons the Worker host, the call path and the
 * wwebjs engine give (`worker_host.ts`, `calls.ts`, `engines/wwebjs/engine.ts`) folded into a
 * short fixed list, so a reason carrying a pid, a signal or an error text makes no new series.
 */

const REASONS: readonly [RegExp, string][] = [
  [/^Chromium exited/i, "chromium_exited"],
  [/^The WhatsApp page (crashed|was closed)/i, "page_crashed"],
  [/^WhatsApp Web (did not finish loading|loaded but did not|could not be set up)/i, "web_stuck"],
  [/^Authenticated, but WhatsApp Web did not become ready/i, "web_stuck"],
  [/^Worker crashed|^Worker sent an unreadable message/i, "worker_crashed"],
  [/^Worker missed its heartbeat/i, "heartbeat_missed"],
  [/^Worker did not load/i, "worker_boot_timeout"],
  [/calls in a row timed out$/i, "calls_timed_out"],
];

/** Every label `restartReasonLabel` gives. */
export const RESTART_REASONS: readonly string[] = [
  ...new Set([...REASONS.map(([, label]) => label), "other"]),
];

/** One of a fixed list of labels for a restart's reason; `other` for what none names. */
export function restartReasonLabel(reason: string): string {
  for (const [pattern, label] of REASONS) if (pattern.test(reason)) return label;
  return "other";
}
