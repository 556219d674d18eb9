import assert from "node:assert/strict";
import { createKeyedLock } from "./keyed_lock.ts";

const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("createKeyedLock() runs work of one key one at a time, in order", async () => {
  const lock = createKeyedLock();
  const log: string[] = [];
  const step = (name: string, ms: number) =>
    lock.run("4915550001", async () => {
      log.push(`${name} start`);
      await tick(ms);
      log.push(`${name} end`);
      return name;
    });
  const results = await Promise.all([step("start", 20), step("stop", 1), step("restart", 5)]);
  assert.deepEqual(results, ["start", "stop", "restart"]);
  assert.deepEqual(log, [
    "start start",
    "start end",
    "stop start",
    "stop end",
    "restart start",
    "restart end",
  ]);
  assert.equal(lock.size, 0, "a key with nothing queued is forgotten");
});

Deno.test("createKeyedLock() lets different keys run side by side and survives failures", async () => {
  const lock = createKeyedLock();
  const running = new Set<string>();
  let together = 0;
  const work = (key: string) =>
    lock.run(key, async () => {
      running.add(key);
      together = Math.max(together, running.size);
      await tick(10);
      running.delete(key);
    });
  await Promise.all([work("a"), work("b")]);
  assert.equal(together, 2);
  await assert.rejects(lock.run("a", () => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await lock.run("a", () => Promise.resolve("after")), "after");
});
