import assert from "node:assert/strict";
import { RESTART_REASONS, restartReasonLabel } from "./restart_reason.ts";

Deno.test("restartReasonLabel() folds the reasons the server gives into a fixed list", () => {
  const cases: [string, string][] = [
    ["Chromium exited (SIGKILL)", "chromium_exited"],
    ["Chromium exited or lost its connection", "chromium_exited"],
    ["The WhatsApp page crashed: Error: Page crashed!", "page_crashed"],
    ["The WhatsApp page was closed", "page_crashed"],
    ["WhatsApp Web did not finish loading within 60000 ms", "web_stuck"],
    ["Authenticated, but WhatsApp Web did not become ready within 60000 ms", "web_stuck"],
    ["Worker crashed: Uncaught Error: Simulated crash", "worker_crashed"],
    ["Worker missed its heartbeat (1000 ms)", "heartbeat_missed"],
    ["Worker did not load within 30000 ms", "worker_boot_timeout"],
    ["3 calls in a row timed out", "calls_timed_out"],
    ["something nobody foresaw", "other"],
  ];
  for (const [reason, label] of cases) assert.equal(restartReasonLabel(reason), label, reason);
  assert.deepEqual(
    [...new Set(cases.map(([, label]) => label))].sort(),
    [...RESTART_REASONS].sort(),
  );
});
