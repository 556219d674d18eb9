import assert from "node:assert/strict";
import { createLogger } from "../logger.ts";
import { openSqliteStore } from "../store/sqlite/store.ts";
import type { ClusterRepository } from "../store/store.ts";
import { createOwnership, type SessionHost } from "./ownership.ts";

const PHONE = "4915550005001";
const TTL = 600;

/** A cluster repository on SQLite in memory whose statements fail while `down` is set. */
async function setUp() {
  const store = openSqliteStore(":memory:");
  await store.sessions.save({ phoneNumber: PHONE, engine: "simulator" });
  await store.sessions.setShouldRun(PHONE, true);
  const state = { down: false };
  const cluster = new Proxy(store.cluster, {
    get(target, name: keyof ClusterRepository) {
      const value = target[name];
      if (typeof value !== "function" || name === "onWake") return value;
      return (...args: unknown[]) =>
        state.down
          ? Promise.reject(new Error("connect ECONNREFUSED"))
          : (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
  const leaseUntil = () =>
    (store.db.prepare("SELECT lease_until FROM sessions WHERE phone_number = ?").get(PHONE) as {
      lease_until: number | null;
    }).lease_until;
  const events: string[] = [];
  const waiters = new Set<() => void>();
  const host: SessionHost & { evictedBeforeExpiry: boolean[] } = {
    evictedBeforeExpiry: [],
    adopt(phoneNumber) {
      events.push(`adopt ${phoneNumber}`);
      waiters.forEach((wake) => wake());
      return Promise.resolve();
    },
    evict(phoneNumber) {
      // The invariant: a session stops before its lease can have run out.
      host.evictedBeforeExpiry.push((leaseUntil() ?? 0) > Date.now());
      events.push(`evict ${phoneNumber}`);
      waiters.forEach((wake) => wake());
      return Promise.resolve();
    },
  };
  const until = async (what: string, check: () => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}: ${events}`);
      await new Promise<void>((resolve) => {
        waiters.add(resolve);
        setTimeout(resolve, 50);
      });
    }
  };
  return { store, cluster, state, host, events, until };
}

const node = {
  id: "node-a",
  url: "http://a.test",
  role: "worker" as const,
  capacity: 5,
  version: "t",
};
const log = createLogger("silent");

Deno.test("a node that cannot renew stops its sessions before their lease runs out, and takes them back by epoch", async () => {
  const { store, cluster, state, host, events, until } = await setUp();
  const ownership = createOwnership({ cluster, node, ttlMs: TTL, single: false, log });
  try {
    await ownership.join(host);
    ownership.startTakeover();
    await until("the take-over", () => events.includes(`adopt ${PHONE}`));
    const epoch = ownership.fenceOf(PHONE)!.epoch;
    assert.equal(ownership.readiness().ready, true);

    state.down = true;
    await until("the self-stop", () => events.includes(`evict ${PHONE}`));
    assert.deepEqual(host.evictedBeforeExpiry, [true]);
    assert.equal(ownership.holds(PHONE), false);
    assert.equal(ownership.readiness().ready, false);

    state.down = false;
    await until(
      "the session taken back",
      () => events.filter((e) => e.startsWith("adopt")).length === 2,
    );
    assert.deepEqual(ownership.fenceOf(PHONE), { nodeId: "node-a", epoch: epoch + 1 });
    assert.equal(ownership.readiness().ready, true);
  } finally {
    await ownership.close();
    await store.close();
  }
});

Deno.test("after a pause, confirm() kills a session whose lease was taken over before anything is served", async () => {
  const { store, cluster, host, events, until } = await setUp();
  let skipped = 0;
  const ownership = createOwnership({
    cluster,
    node,
    ttlMs: TTL,
    single: false,
    log,
    clock: () => performance.now() + skipped,
  });
  try {
    await ownership.join(host);
    ownership.startTakeover();
    await until("the take-over", () => events.includes(`adopt ${PHONE}`));
    // Another node took the number while this one was paused (its monotonic clock jumps).
    store.db.prepare("UPDATE sessions SET node_id = 'node-b', epoch = epoch + 1").run();
    skipped = TTL * 10;
    await ownership.confirm();
    assert.ok(events.includes(`evict ${PHONE}`), "killed before confirm() resolved");
    assert.equal(ownership.holds(PHONE), false);
  } finally {
    await ownership.close();
    await store.close();
  }
});
