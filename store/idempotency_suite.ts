/**
 * @module
 * The store suite's cases for idempotency keys (`Store.idempotency`), run on both stores by
 * `runStoreSuite` (`store_suite.ts`).
 */
import assert from "node:assert/strict";
import type { StoreUnderTest } from "./store_suite.ts";

const DAY = { ttlMs: 86_400_000, abandonedMs: 60_000 };
const OK = { status: 200, response: '{"messageId":"m1","timestamp":1}' };

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export const idempotencyCases: [string, (s: StoreUnderTest) => Promise<void>][] = [
  [
    "idempotency.begin() reserves a new key once; the same request then waits for, then replays, the first answer",
    async ({ store: { idempotency } }) => {
      assert.deepEqual(await idempotency.begin("admin", "k1", "h1", DAY), { kind: "reserved" });
      assert.deepEqual(await idempotency.begin("admin", "k1", "h1", DAY), { kind: "in_flight" });
      await idempotency.complete("admin", "k1", "h1", OK);
      assert.deepEqual(await idempotency.begin("admin", "k1", "h1", DAY), { kind: "done", ...OK });
      await idempotency.complete("admin", "k1", "h1", { status: 201, response: "{}" });
      assert.deepEqual(
        await idempotency.begin("admin", "k1", "h1", DAY),
        { kind: "done", ...OK },
        "a kept answer is never overwritten",
      );
    },
  ],
  [
    "idempotency.begin() answers mismatch for another request under a used key, and keys are per principal",
    async ({ store: { idempotency } }) => {
      await idempotency.begin("account:a", "k", "h1", DAY);
      assert.deepEqual(await idempotency.begin("account:a", "k", "h2", DAY), { kind: "mismatch" });
      await idempotency.complete("account:a", "k", "h1", OK);
      assert.deepEqual(await idempotency.begin("account:a", "k", "h2", DAY), { kind: "mismatch" });
      assert.deepEqual(await idempotency.begin("account:b", "k", "h2", DAY), { kind: "reserved" });
    },
  ],
  [
    "idempotency.release() frees an unanswered reservation but never a kept answer",
    async ({ store: { idempotency } }) => {
      await idempotency.begin("admin", "k", "h1", DAY);
      await idempotency.release("admin", "k", "h1");
      assert.deepEqual(await idempotency.begin("admin", "k", "h2", DAY), { kind: "reserved" });
      await idempotency.complete("admin", "k", "h2", OK);
      await idempotency.release("admin", "k", "h2");
      assert.deepEqual(await idempotency.begin("admin", "k", "h2", DAY), { kind: "done", ...OK });
    },
  ],
  [
    "idempotency.begin() takes over a key past its time-to-live, and an abandoned reservation",
    async ({ store: { idempotency } }) => {
      await idempotency.begin("admin", "old", "h1", DAY);
      await idempotency.complete("admin", "old", "h1", OK);
      await idempotency.begin("admin", "stuck", "h1", DAY);
      await delay(20);
      const short = { ttlMs: 5, abandonedMs: 5 };
      assert.deepEqual(await idempotency.begin("admin", "old", "h2", short), { kind: "reserved" });
      assert.deepEqual(
        await idempotency.begin("admin", "stuck", "h1", { ttlMs: DAY.ttlMs, abandonedMs: 5 }),
        { kind: "reserved" },
      );
      assert.deepEqual(await idempotency.begin("admin", "stuck", "h1", DAY), { kind: "in_flight" });
    },
  ],
  [
    "idempotency.sweep() deletes the keys past their time-to-live only",
    async ({ store: { idempotency } }) => {
      await idempotency.begin("admin", "a", "h", DAY);
      await idempotency.complete("admin", "a", "h", OK);
      await delay(300);
      await idempotency.begin("admin", "b", "h", DAY);
      assert.equal(await idempotency.sweep(200), 1);
      assert.deepEqual(await idempotency.begin("admin", "a", "h2", DAY), { kind: "reserved" });
      assert.deepEqual(await idempotency.begin("admin", "b", "h2", DAY), { kind: "mismatch" });
    },
  ],
  [
    "idempotency.begin() reserves a key for exactly one of many concurrent requests",
    async ({ store: { idempotency } }) => {
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, () => idempotency.begin("admin", "race", "h", DAY)),
      );
      assert.equal(outcomes.filter((o) => o.kind === "reserved").length, 1);
      assert.equal(outcomes.filter((o) => o.kind === "in_flight").length, 7);
    },
  ],
];
