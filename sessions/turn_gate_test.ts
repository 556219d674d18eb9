import assert from "node:assert/strict";
import { createTurnGate } from "./turn_gate.ts";

/** Resolves after the event loop has run the timers and I/O already due (a later turn). */
const laterTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

Deno.test("a turn gate admits its callers a few per turn, in the order they came, and lets other work run between", async () => {
  const gate = createTurnGate(2);
  const log: string[] = [];
  const passes = ["a", "b", "c", "d", "e"].map((name) =>
    gate.pass().then(() => {
      log.push(name);
    })
  );
  assert.equal(gate.waiting, 5);
  await Promise.resolve();
  assert.equal(log.length, 0, "nobody passes in the turn that asked");

  // Work that became due after the gate's first admission (a request arriving) runs before its
  // second: the gate does not hold the event loop for everyone it queued.
  await laterTurn();
  log.push("other work");
  await Promise.all(passes);
  assert.deepEqual(log, ["a", "b", "other work", "c", "d", "e"]);
  assert.equal(gate.waiting, 0);
});

Deno.test("a turn gate that emptied admits the next caller in the next turn", async () => {
  const gate = createTurnGate(1);
  await gate.pass();
  let passed = false;
  const pass = gate.pass().then(() => {
    passed = true;
  });
  await Promise.resolve();
  assert.equal(passed, false);
  await pass;
  assert.equal(passed, true);
});
