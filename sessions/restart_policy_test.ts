import assert from "node:assert/strict";
import { decideRestart } from "./restart_policy.ts";

const POLICY = {
  backoffMinMs: 1_000,
  backoffMaxMs: 60_000,
  maxCrashes: 5,
  crashWindowMs: 600_000,
};

Deno.test("decideRestart() doubles the delay from 1 s and gives up at the 5th crash in 10 minutes", () => {
  let crashes: number[] = [];
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    const decision = decideRestart(POLICY, crashes, i * 1_000);
    assert.equal(decision.action, "restart");
    if (decision.action === "restart") delays.push(decision.delayMs);
    crashes = decision.crashes;
  }
  assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000]);
  const fifth = decideRestart(POLICY, crashes, 5_000);
  assert.equal(fifth.action, "give_up");
  if (fifth.action === "give_up") assert.match(fifth.reason, /crashed 5 times in 10 minutes/);
});

Deno.test("decideRestart() forgets crashes older than the window and caps the delay", () => {
  const old = [0, 1_000, 2_000, 3_000];
  const later = decideRestart(POLICY, old, 700_000);
  assert.deepEqual(later, { action: "restart", delayMs: 1_000, crashes: [700_000] });
  const capped = decideRestart({ ...POLICY, maxCrashes: 100 }, Array(20).fill(10), 20);
  assert.equal(capped.action === "restart" && capped.delayMs, 60_000);
});
