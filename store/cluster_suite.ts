/**
 * @module
 * The store suite's cases for the cluster repository (`store.cluster`), run on both stores by
 * `runStoreSuite`: leases taken by compare-and-set with a growing epoch, renewed by heartbeats,
 * taken over only after the TTL and the margin (by the database's clock), released; fenced
 * session writes refused once the epoch is stale; the nodes' rows and their liveness.
 */
import assert from "node:assert/strict";
import type { NodeInput, Store } from "./store.ts";

type Case = [name: string, fn: (s: { store: Store }) => Promise<void>];

const PHONE = "4915550002001";
const TTL = 400;
const MARGIN = 200;
const timing = { ttlMs: TTL, marginMs: MARGIN };

const node = (id: string, capacity = 10): NodeInput => ({
  id,
  url: `http://${id}.test:3000`,
  role: "worker",
  capacity,
  version: "test",
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A number that should run, and nodes `a` and `b`. */
async function setUp(store: Store, phoneNumber = PHONE): Promise<void> {
  await store.sessions.save({ phoneNumber, engine: "simulator" });
  await store.sessions.setShouldRun(phoneNumber, true);
  await store.cluster.join(node("a"), { ttlMs: TTL });
  await store.cluster.join(node("b"), { ttlMs: TTL });
}

/** Polls `check` until it holds (at most 5 s). */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(20);
  }
}

export const CLUSTER_CASES: Case[] = [
  [
    "cluster.take() gives a number to one node at a time and bumps its epoch at every take",
    async ({ store }) => {
      await setUp(store);
      const { cluster } = store;
      const first = await cluster.take(PHONE, "a", timing);
      assert.equal(first, 1);
      assert.equal(await cluster.take(PHONE, "b", timing), null, "a holds it");
      assert.deepEqual(await cluster.owner(PHONE), {
        nodeId: "a",
        url: "http://a.test:3000",
        epoch: 1,
      });
      assert.equal(await cluster.release(PHONE, { nodeId: "b", epoch: 1 }), false);
      assert.equal(await cluster.release(PHONE, { nodeId: "a", epoch: 1 }), true);
      assert.equal(await cluster.owner(PHONE), null);
      assert.equal(await cluster.take(PHONE, "b", timing), 2);
      assert.equal((await cluster.owners()).get(PHONE)?.nodeId, "b");
    },
  ],
  [
    "cluster.take() refuses a number that should not run or does not exist",
    async ({ store }) => {
      await setUp(store);
      await store.sessions.setShouldRun(PHONE, false);
      assert.equal(await store.cluster.take(PHONE, "a", timing), null);
      assert.equal(await store.cluster.take("4915550002999", "a", timing), null);
    },
  ],
  [
    "a lease is taken over only once its TTL and the margin passed since its last renewal",
    async ({ store }) => {
      await setUp(store);
      const { cluster } = store;
      const epoch = (await cluster.take(PHONE, "a", timing))!;
      // The store renews at some moment of the call, not before it began: the bound from below is
      // what both checks of time below may rely on (taken after the call, a slow answer made "not
      // before the TTL" fail on a loaded machine).
      const renewedAt = Date.now();
      const renewed = await cluster.heartbeat("a", {
        ttlMs: TTL,
        draining: false,
        leases: [{ phoneNumber: PHONE, epoch }],
      });
      assert.deepEqual(renewed, [{ phoneNumber: PHONE, epoch, shouldRun: true }]);
      assert.equal(await cluster.take(PHONE, "b", timing), null);
      await eventually("the lease to run out", async () => (await cluster.owner(PHONE)) === null);
      if (Date.now() - renewedAt < TTL + MARGIN - 50) {
        assert.equal(await cluster.take(PHONE, "b", timing), null, "still within the margin");
      }
      assert.deepEqual((await cluster.vacant({ marginMs: 0 })).map((v) => v.phoneNumber), [PHONE]);
      let taken: number | null = null;
      await eventually("b to take it", async () => {
        taken = await cluster.take(PHONE, "b", timing);
        return taken !== null;
      });
      assert.ok(Date.now() - renewedAt >= TTL + MARGIN - 50, "not before the TTL and margin");
      assert.equal(taken, epoch + 1);
      const lost = await cluster.heartbeat("a", {
        ttlMs: TTL,
        draining: false,
        leases: [{ phoneNumber: PHONE, epoch }],
      });
      assert.deepEqual(lost, [], "a's renewal finds its lease gone");
      assert.equal(
        await cluster.take(PHONE, "a", { ...timing, epoch }),
        null,
        "a stale epoch takes nothing back",
      );
    },
  ],
  [
    "a node takes its own lease back by its epoch, whatever the lease's expiry",
    async ({ store }) => {
      await setUp(store);
      const epoch = (await store.cluster.take(PHONE, "a", timing))!;
      assert.equal(await store.cluster.take(PHONE, "a", timing), null, "not without the epoch");
      assert.equal(await store.cluster.take(PHONE, "a", { ...timing, epoch }), epoch + 1);
    },
  ],
  [
    "a session's fenced writes are refused once another node took the number",
    async ({ store }) => {
      await setUp(store);
      const { cluster, sessions } = store;
      const epoch = (await cluster.take(PHONE, "a", timing))!;
      const fenceA = { nodeId: "a", epoch };
      await sessions.markLinked(PHONE, fenceA);
      const linkedAt = (await sessions.get(PHONE))!.linkedAt;
      assert.notEqual(linkedAt, null, "the holder's write is accepted");
      await cluster.release(PHONE, fenceA);
      await sessions.setShouldRun(PHONE, true, fenceA);
      const epochB = (await cluster.take(PHONE, "b", timing))!;
      await sessions.setShouldRun(PHONE, false, fenceA);
      assert.equal((await sessions.get(PHONE))!.shouldRun, true, "a's stale write is refused");
      await sessions.setShouldRun(PHONE, false, { nodeId: "b", epoch: epochB });
      assert.equal((await sessions.get(PHONE))!.shouldRun, false, "b's write is accepted");
    },
  ],
  [
    "cluster.nodes() lists the nodes with their live leases, draining flag and liveness",
    async ({ store }) => {
      await setUp(store);
      await store.sessions.save({ phoneNumber: "4915550002002", engine: "simulator" });
      await store.sessions.setShouldRun("4915550002002", true);
      const { cluster } = store;
      await cluster.take(PHONE, "a", timing);
      await cluster.take("4915550002002", "a", timing);
      await cluster.heartbeat("b", { ttlMs: 60_000, draining: true, leases: [] });
      const nodes = await cluster.nodes();
      assert.deepEqual(
        nodes.map((n) => [n.id, n.sessions, n.capacity, n.draining, n.live, n.url, n.role]),
        [
          ["a", 2, 10, false, true, "http://a.test:3000", "worker"],
          ["b", 0, 10, true, true, "http://b.test:3000", "worker"],
        ],
      );
      await eventually("a to be found dead", async () => {
        const a = (await cluster.nodes()).find((n) => n.id === "a")!;
        return !a.live && a.sessions === 0;
      });
      await cluster.leave("b");
      assert.deepEqual((await cluster.nodes()).map((n) => n.id), ["a"]);
    },
  ],
  [
    "cluster.vacant() lists numbers to take with where they were placed; place() wakes the nodes",
    async ({ store }) => {
      await setUp(store);
      const { cluster } = store;
      let woken = 0;
      const unsubscribe = cluster.onWake(() => woken++);
      try {
        // PostgreSQL's LISTEN connection opens with the first subscriber.
        await sleep(200);
        await cluster.place(PHONE, "b");
        await eventually("the wake-up", () => Promise.resolve(woken > 0));
      } finally {
        unsubscribe();
      }
      assert.deepEqual(await cluster.vacant({ marginMs: MARGIN }), [
        {
          phoneNumber: PHONE,
          engine: "simulator",
          nodeId: null,
          epoch: 0,
          placedNode: "b",
          expiredMs: null,
        },
      ]);
      assert.equal(await cluster.take(PHONE, "b", timing), 1);
      assert.deepEqual(await cluster.vacant({ marginMs: MARGIN }), []);
    },
  ],
  [
    "cluster.join() of the only node (exclusive) releases every lease left in the database",
    async ({ store }) => {
      await setUp(store);
      await store.cluster.take(PHONE, "a", { ttlMs: 60_000, marginMs: 0 });
      await store.cluster.join(node("a"), { ttlMs: TTL, exclusive: true });
      assert.equal(await store.cluster.owner(PHONE), null);
      assert.equal(await store.cluster.take(PHONE, "a", timing), 2);
    },
  ],
];
