/**
 * @module
 * The store's test suite, one for both implementations: `runStoreSuite(t, open)` runs every case
 * as a step against a fresh store from `open` (`store/sqlite/store_test.ts` opens SQLite in
 * memory, `store/postgres/store_test.ts` a new database on a PostgreSQL server of the test's own).
 * What a store must do is said here once; what only one of them does (file modes, the advisory
 * lock, the commit-order cursor under concurrent writers) is tested beside it.
 */
import assert from "node:assert/strict";
import type { Envelope } from "../events/envelope.ts";
import {
  comparePositions,
  type DeliveryQueue,
  type EventPosition,
  type Fence,
  FIRST_POSITION,
  globalDestination,
  laneOf,
  numberDestination,
  StaleFenceError,
} from "../events/outbox.ts";
import { idempotencyCases } from "./idempotency_suite.ts";
import { LOGIN_CASES } from "./logins_suite.ts";
import { CLUSTER_CASES } from "./cluster_suite.ts";
import type { Store } from "./store.ts";

/** A store opened for one case, with what the suite needs to look inside it. */
export interface StoreUnderTest {
  store: Store;
  /** Every stored event id, in the stream's order. */
  storedIds(): Promise<string[]>;
  /**
   * Makes writing a delivery of the events named `event` fail (a full disk) until the function
   * it resolves is called.
   */
  refuseDeliveries(event: string): Promise<() => Promise<void>>;
  /** Gives a saved number's lease to `nodeId` with `epoch`, as a take-over would. */
  setLease(phoneNumber: string, nodeId: string, epoch: number): Promise<void>;
  close(): Promise<void>;
}

export type OpenStore = () => Promise<StoreUnderTest>;

const SESSION = "4915550001234";
const OTHER = "4915550009999";
const HOOK = globalDestination("http://h.test/");

function envelope(id: string, event: string, session = SESSION): Envelope {
  return {
    id,
    timestamp: 1_700_000_000_000,
    event,
    session,
    payload: { text: `payload of ${id}` },
    engine: "WAHA",
    environment: {},
  };
}

/** `a` derives `a.derived`; nothing else derives anything. */
const derive = (source: Envelope) =>
  source.event === "a" ? [envelope(`${source.id}.derived`, "a.derived", source.session)] : [];

const toAll = { destinationsFor: () => [HOOK] };
/** Lanes per destination in the cases about lanes. */
const LANES = 8;
/** A number in another lane than `SESSION`'s (FNV-1a: the last character decides the lane). */
const NEIGHBOUR = "4915550001235";

function sortQueues(queues: readonly DeliveryQueue[]): DeliveryQueue[] {
  return [...queues].sort((a, b) => a.lane - b.lane || a.destination.localeCompare(b.destination));
}

/** Follows a session's events from `after` to the end, `limit` at a time. */
async function follow(store: Store, session: string, after: number, limit = 2) {
  const ids: string[] = [];
  for (;;) {
    const { events } = await store.outbox.eventsAfter(session, after, limit);
    for (const event of events) ids.push(event.id);
    if (events.length < limit) return ids;
    after = events.at(-1)!.seq;
  }
}

/** Polls `check` until it holds; fails after five seconds. */
async function eventually(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Asserts `work` rejects with a `StaleFenceError` naming exactly `sessions`. */
async function refusedAsStale(work: Promise<unknown>, sessions: string[]): Promise<void> {
  await assert.rejects(work, (error: unknown) => {
    assert.ok(error instanceof StaleFenceError, String(error));
    assert.deepEqual([...error.sessions], sessions);
    return true;
  });
}

type Case = [name: string, fn: (s: StoreUnderTest) => Promise<void>];

const cases: Case[] = [
  [
    "sessions.save() keeps the first owner of a number and updates its engine",
    async ({ store }) => {
      await store.sessions.save({
        phoneNumber: "4915550001",
        engine: "wwebjs",
        ownerAccountId: "a",
      });
      const saved = await store.sessions.save({
        phoneNumber: "4915550001",
        engine: "simulator",
        ownerAccountId: "b",
      });
      assert.equal(saved.ownerAccountId, "a");
      assert.equal(saved.engine, "simulator");
      assert.equal(saved.shouldRun, false);
      assert.equal(saved.linkedAt, null);
      assert.deepEqual(await store.sessions.get("4915550001"), saved);
      assert.equal(await store.sessions.get("4915550002"), null);
    },
  ],

  [
    "sessions.setShouldRun() and delete() change what get() and list() answer",
    async ({ store }) => {
      const { sessions } = store;
      await sessions.save({ phoneNumber: "4915550001", engine: "simulator" });
      await sessions.setShouldRun("4915550001", true);
      assert.equal((await sessions.get("4915550001"))?.shouldRun, true);
      const copy = (await sessions.get("4915550001"))!;
      copy.ownerAccountId = "org_mallory";
      assert.equal((await sessions.get("4915550001"))?.ownerAccountId, null, "callers get copies");
      await sessions.setShouldRun("4915550001", false);
      assert.equal((await sessions.get("4915550001"))?.shouldRun, false);
      await sessions.save({ phoneNumber: "4915550002", engine: "wwebjs", ownerAccountId: "org_a" });
      assert.deepEqual((await sessions.list()).map((r) => r.phoneNumber), [
        "4915550001",
        "4915550002",
      ]);
      assert.deepEqual(
        (await sessions.list({ ownerAccountId: "org_a" })).map((r) => r.phoneNumber),
        ["4915550002"],
      );
      await sessions.delete("4915550001");
      assert.equal(await sessions.get("4915550001"), null);
      assert.deepEqual((await sessions.list()).map((r) => r.phoneNumber), ["4915550002"]);
    },
  ],

  [
    "sessions.claim() gives unowned numbers within the account's limit and refuses others",
    async ({ store }) => {
      const { sessions } = store;
      const claim = (phone: string, account: string) =>
        sessions.claim(phone, { engine: "wwebjs", ownerAccountId: account, max: 1 });
      assert.equal(await claim("4915550001", "org_a"), "claimed");
      assert.equal(await claim("4915550001", "org_a"), "owned");
      assert.equal(await claim("4915550001", "org_b"), "taken");
      assert.equal(await claim("4915550002", "org_a"), "limit");
      await sessions.save({ phoneNumber: "4915550003", engine: "wwebjs" });
      assert.equal(await claim("4915550003", "org_b"), "admin", "the admin's number stays so");
      assert.equal(
        await sessions.previewClaim("4915550004", { ownerAccountId: "org_b", max: 1 }),
        "claimed",
      );
      assert.equal(await sessions.get("4915550004"), null, "a preview writes nothing");
      assert.equal(await claim("4915550004", "org_b"), "claimed");
      assert.equal(
        await sessions.previewClaim("4915550005", { ownerAccountId: "org_b", max: 1 }),
        "limit",
      );
      assert.equal(await sessions.countOwnedBy("org_b"), 1);
      assert.equal((await sessions.get("4915550004"))?.ownerAccountId, "org_b");
      await sessions.delete("4915550001");
      assert.equal(await claim("4915550002", "org_a"), "claimed", "deleting frees the slot");
    },
  ],

  [
    "sessions.claim() lets concurrent claims of one account pass its limit only once",
    async ({ store }) => {
      const numbers = Array.from({ length: 8 }, (_, i) => `49155500${10 + i}`);
      const outcomes = await Promise.all(
        numbers.map((phone) =>
          store.sessions.claim(phone, { engine: "simulator", ownerAccountId: "org_a", max: 3 })
        ),
      );
      assert.equal(outcomes.filter((o) => o === "claimed").length, 3);
      assert.equal(outcomes.filter((o) => o === "limit").length, 5);
      assert.equal(await store.sessions.countOwnedBy("org_a"), 3);
      // And two accounts racing for one number: one gets it.
      const race = await Promise.all(
        ["org_b", "org_c", "org_d"].map((account) =>
          store.sessions.claim("4915550099", {
            engine: "simulator",
            ownerAccountId: account,
            max: 5,
          })
        ),
      );
      assert.deepEqual(race.filter((o) => o === "claimed").length, 1);
      assert.deepEqual(race.filter((o) => o === "taken").length, 2);
    },
  ],

  [
    "sessions.markLinked() records the first link only; listUnlinkedClaims() lists claims that never linked",
    async ({ store }) => {
      const { sessions } = store;
      const claim = (phone: string, account: string) =>
        sessions.claim(phone, { engine: "simulator", ownerAccountId: account, max: 5 });
      await claim("4915550001", "org_a");
      await claim("4915550002", "org_b");
      await sessions.save({ phoneNumber: "4915550003", engine: "simulator" });
      assert.deepEqual((await sessions.listUnlinkedClaims()).map((r) => r.phoneNumber), [
        "4915550001",
        "4915550002",
      ], "oldest first; the admin's number is no claim");
      await sessions.markLinked("4915550002");
      const first = (await sessions.get("4915550002"))?.linkedAt;
      assert.equal(typeof first, "number");
      await new Promise((resolve) => setTimeout(resolve, 5));
      await sessions.markLinked("4915550002");
      assert.equal((await sessions.get("4915550002"))?.linkedAt, first, "the first link is kept");
      assert.deepEqual((await sessions.listUnlinkedClaims()).map((r) => r.phoneNumber), [
        "4915550001",
      ]);
    },
  ],

  [
    "sessions.setSettings() keeps a number's settings through save(), setShouldRun() and a claim; a new number has none",
    async ({ store }) => {
      const { sessions } = store;
      await sessions.claim("4915550001", { engine: "simulator", ownerAccountId: "org_a", max: 5 });
      assert.deepEqual((await sessions.get("4915550001"))?.settings, {});
      const settings = {
        proxy: { url: "http://user:secret@proxy.example.com:3128", byAdmin: false },
        calls: { autoReject: true, message: "Please write instead" },
      };
      await sessions.setSettings("4915550001", settings);
      await sessions.save({ phoneNumber: "4915550001", engine: "wwebjs" });
      await sessions.setShouldRun("4915550001", true);
      await sessions.claim("4915550001", { engine: "wwebjs", ownerAccountId: "org_a", max: 5 });
      assert.deepEqual((await sessions.get("4915550001"))?.settings, settings);
      assert.deepEqual((await sessions.list())[0].settings, settings);
      await sessions.setSettings("4915550001", { calls: settings.calls });
      assert.deepEqual((await sessions.get("4915550001"))?.settings, { calls: settings.calls });
      await sessions.setSettings("4915550009", settings);
      assert.equal(await sessions.get("4915550009"), null, "no row is made for an unknown number");
    },
  ],

  [
    "sessions.releaseUnlinkedClaim() deletes only an account's never-linked claim made before the cutoff",
    async ({ store }) => {
      const { sessions } = store;
      await sessions.claim("4915550001", { engine: "simulator", ownerAccountId: "org_a", max: 5 });
      await sessions.claim("4915550002", { engine: "simulator", ownerAccountId: "org_a", max: 5 });
      await sessions.markLinked("4915550002");
      await sessions.save({ phoneNumber: "4915550003", engine: "simulator" });
      const made = (await sessions.get("4915550001"))!.createdAt;
      const later = await store.now() + 60_000;
      assert.equal(await sessions.releaseUnlinkedClaim("4915550001", made - 1), false, "too young");
      assert.equal(await sessions.releaseUnlinkedClaim("4915550002", later), false, "linked");
      assert.equal(await sessions.releaseUnlinkedClaim("4915550003", later), false, "the admin's");
      assert.equal((await sessions.get("4915550001"))?.ownerAccountId, "org_a");
      assert.equal(await sessions.releaseUnlinkedClaim("4915550001", made), true);
      assert.equal(await sessions.get("4915550001"), null);
      assert.equal(
        await sessions.claim("4915550001", {
          engine: "simulator",
          ownerAccountId: "org_b",
          max: 1,
        }),
        "claimed",
        "the number is free for another account",
      );
      assert.ok((await sessions.get("4915550001"))!.createdAt >= made, "its claim starts afresh");
    },
  ],

  ["now() is the database's clock, and records are stamped with it", async ({ store }) => {
    const before = await store.now();
    const saved = await store.sessions.save({ phoneNumber: "4915550001", engine: "simulator" });
    const after = await store.now();
    assert.ok(saved.createdAt >= before && saved.createdAt <= after);
    // The test's database runs on this machine: the clocks agree to well within a minute.
    assert.ok(Math.abs(after - Date.now()) < 60_000);
  }],

  ["adminKey() generates the key once and returns the same one afterwards", async ({ store }) => {
    const first = await store.adminKey();
    assert.equal(first.generated, true);
    assert.match(first.key, /^wag_[0-9a-f]{64}$/);
    const again = await store.adminKey();
    assert.deepEqual(again, { ...first, generated: false });
  }],

  [
    "outbox.append() stores each envelope followed by what it derives, with their deliveries",
    async (s) => {
      const { outbox } = s.store;
      const result = await outbox.append([envelope("e1", "a"), envelope("e2", "b")], {
        ...toAll,
        derive,
      });
      assert.deepEqual(result.events.map((e) => e.id), ["e1", "e1.derived", "e2"]);
      assert.deepEqual(result.duplicates, []);
      assert.deepEqual([...result.destinations], [HOOK]);
      assert.equal(result.events[0].body, JSON.stringify(envelope("e1", "a")), "the exact JSON");
      assert.deepEqual(await s.storedIds(), ["e1", "e1.derived", "e2"]);
      const deliveries = await outbox.listDeliveries(SESSION, { limit: 10 });
      assert.deepEqual(deliveries.map((d) => d.eventId).reverse(), ["e1", "e1.derived", "e2"]);
      assert.ok(deliveries.every((d) => d.status === "pending" && d.attempts === 0));
      assert.ok(deliveries.every((d) => d.url === "http://h.test/" && d.destination === HOOK));
    },
  ],

  ["outbox.append() skips an id already stored together with what it would derive", async (s) => {
    const { outbox } = s.store;
    await outbox.append([envelope("e1", "a")], { destinationsFor: () => [], derive });
    let derived = 0;
    const again = await outbox.append([envelope("e1", "a"), envelope("e2", "b")], {
      destinationsFor: () => [],
      derive: (source) => (derived++, derive(source)),
    });
    assert.deepEqual(again.events.map((e) => e.id), ["e2"]);
    assert.deepEqual(again.duplicates, ["e1"]);
    assert.equal(derived, 1, "only e2 was asked for what it derives");
    assert.deepEqual(await s.storedIds(), ["e1", "e1.derived", "e2"]);
  }],

  ["outbox.append() stores nothing when a delivery write fails midway", async (s) => {
    const { outbox } = s.store;
    const allow = await s.refuseDeliveries("a.derived");
    await assert.rejects(
      outbox.append([envelope("e1", "a")], { ...toAll, derive }),
      /disk full/,
    );
    assert.deepEqual(await s.storedIds(), []);
    assert.deepEqual(await outbox.listDeliveries(SESSION, { limit: 10 }), []);
    await allow();
    // Rolled back, not left open: the next append works.
    await outbox.append([envelope("e1", "a")], { ...toAll, derive });
    assert.deepEqual(await s.storedIds(), ["e1", "e1.derived"]);
  }],

  [
    "outbox.head() serves a destination's oldest pending delivery, due by the database's clock",
    async ({ store }) => {
      const { outbox } = store;
      const other = numberDestination(SESSION, "http://n.test/");
      await outbox.append([envelope("e1", "b"), envelope("e2", "b")], {
        destinationsFor: () => [HOOK, other],
      });
      assert.deepEqual((await outbox.pendingDestinations()).sort(), [HOOK, other].sort());
      assert.equal(await outbox.pendingCount(), 4);
      const first = (await outbox.head(HOOK))!;
      assert.equal(first.eventId, "e1");
      assert.equal(first.dueInMs, 0);
      assert.equal(first.body, JSON.stringify(envelope("e1", "b")));
      await outbox.markRetry(first.id, {
        attempts: 1,
        delayMs: 60_000,
        error: "The receiver answered 503",
        httpStatus: 503,
      });
      const waiting = (await outbox.head(HOOK))!;
      assert.equal(waiting.id, first.id, "a retrying delivery holds back the ones behind it");
      assert.ok(waiting.dueInMs > 50_000 && waiting.dueInMs <= 60_000, `due in ${waiting.dueInMs}`);
      assert.equal(waiting.attempts, 1);
      assert.equal(waiting.lastError, "The receiver answered 503");
      assert.equal(waiting.lastStatus, 503);
      await outbox.markDelivered([{ id: first.id, httpStatus: 200 }]);
      const second = (await outbox.head(HOOK))!;
      assert.equal(second.eventId, "e2");
      await outbox.markFailed(second.id, { attempts: 8, error: "gone", httpStatus: 410 });
      assert.equal(await outbox.head(HOOK), null);
      assert.deepEqual(await outbox.pendingDestinations(), [other]);
      assert.equal(await outbox.pendingCount(), 2, "delivered and failed ones are not pending");
      assert.equal(await outbox.failPending(other, "The webhook was removed"), 2);
      assert.deepEqual(await outbox.pendingDestinations(), []);
      assert.equal(await outbox.pendingCount(), 0);
      const delivered = (await outbox.getDelivery(SESSION, first.id))!;
      assert.equal(delivered.status, "delivered");
      assert.equal(delivered.attempts, 2);
      assert.equal(delivered.lastStatus, 200);
      assert.equal(delivered.lastError, null);
    },
  ],

  [
    "outbox.listDeliveries() pages newest first by status and scope; requeue() makes one due again",
    async ({ store }) => {
      const { outbox } = store;
      const mine = numberDestination(SESSION, "http://n.test/");
      await outbox.append([envelope("e1", "b"), envelope("e2", "b"), envelope("e3", "b")], {
        destinationsFor: () => [HOOK, mine],
      });
      await outbox.append([envelope("x1", "b", OTHER)], { destinationsFor: () => [HOOK] });
      const all = await outbox.listDeliveries(SESSION, { limit: 10 });
      assert.equal(all.length, 6);
      assert.ok(all.every((d, i) => i === 0 || d.id < all[i - 1].id), "newest first");
      const page = await outbox.listDeliveries(SESSION, { limit: 2, beforeId: all[1].id });
      assert.deepEqual(page.map((d) => d.id), [all[2].id, all[3].id]);
      const scoped = await outbox.listDeliveries(SESSION, { limit: 10, numberWebhooksOnly: true });
      assert.deepEqual(scoped.map((d) => d.destination), [mine, mine, mine]);
      const failed = scoped[0];
      await outbox.markFailed(failed.id, { attempts: 8, error: "gone", httpStatus: 500 });
      assert.deepEqual(
        (await outbox.listDeliveries(SESSION, { limit: 10, status: "failed" })).map((d) => d.id),
        [failed.id],
      );
      const global = all.find((d) => d.destination === HOOK)!;
      assert.equal(
        await outbox.getDelivery(SESSION, global.id, { numberWebhooksOnly: true }),
        null,
        "the operator's webhook is not an account's business",
      );
      assert.equal(await outbox.getDelivery(OTHER, failed.id), null, "another number's");
      assert.equal(await outbox.requeue(OTHER, failed.id), null);
      const requeued = (await outbox.requeue(SESSION, failed.id, { numberWebhooksOnly: true }))!;
      assert.equal(requeued.status, "pending");
      assert.equal(requeued.attempts, 0);
      const again = (await outbox.getDelivery(SESSION, failed.id))!;
      assert.equal(again.status, "pending");
      assert.equal(again.attempts, 0);
    },
  ],

  [
    "outbox.eventsAfter() resumes after any event with every later one exactly once",
    async ({ store }) => {
      const { outbox } = store;
      const ids = Array.from({ length: 7 }, (_, i) => `e${i}`);
      for (const id of ids) {
        await outbox.append([envelope(id, "b"), envelope(`${id}.other`, "b", OTHER)], toAll);
      }
      assert.deepEqual(await follow(store, SESSION, 0), ids);
      for (const [i, id] of ids.entries()) {
        const seq = (await outbox.seqOf(id))!;
        assert.deepEqual(await follow(store, SESSION, seq), ids.slice(i + 1), `after ${id}`);
      }
      assert.equal(await outbox.seqOf("evt_unknown"), null);
      const { events, pending } = await outbox.eventsAfter(SESSION, 0, 100);
      assert.equal(pending, false);
      assert.ok(events.every((e) => e.session === SESSION && e.event === "b"));
      assert.equal(events[0].body, JSON.stringify(envelope("e0", "b")));
    },
  ],

  [
    "outbox.prune() deletes events past their age unless a delivery is still pending",
    async ({ store }) => {
      const { outbox } = store;
      await outbox.append([envelope("kept", "b")], toAll);
      await outbox.append([envelope("old", "b")], { destinationsFor: () => [] });
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(await outbox.prune(60_000), 0, "nothing is a minute old");
      assert.equal(await outbox.prune(10), 1);
      assert.equal(await outbox.seqOf("old"), null);
      assert.notEqual(await outbox.seqOf("kept"), null, "its delivery is pending");
      const delivery = (await outbox.head(HOOK))!;
      await outbox.markDelivered([{ id: delivery.id, httpStatus: 200 }]);
      assert.equal(await outbox.prune(10), 1);
      assert.deepEqual(await outbox.listDeliveries(SESSION, { limit: 10 }), []);
    },
  ],

  [
    "outbox.replaceWebhooks() replaces a number's webhooks; forgetSession() deletes all of a number",
    async ({ store }) => {
      const { outbox } = store;
      const hooks = [
        { url: "http://a.test/", events: ["message"], secret: "s3cret", headers: { "X-A": "1" } },
        { url: "http://b.test/", events: ["*"] },
      ];
      await outbox.replaceWebhooks(SESSION, hooks);
      await outbox.replaceWebhooks(OTHER, [{ url: "http://c.test/", events: ["*"] }]);
      assert.deepEqual(await outbox.listWebhooks(SESSION), hooks);
      await outbox.replaceWebhooks(SESSION, [hooks[1]]);
      assert.deepEqual(await outbox.listWebhooks(SESSION), [hooks[1]]);
      await outbox.append([envelope("e1", "b"), envelope("x1", "b", OTHER)], toAll);
      await outbox.forgetSession(SESSION);
      assert.deepEqual(await outbox.listWebhooks(SESSION), []);
      assert.equal(await outbox.seqOf("e1"), null);
      assert.deepEqual(await outbox.listDeliveries(SESSION, { limit: 10 }), []);
      assert.equal((await outbox.listWebhooks(OTHER)).length, 1, "another number's stay");
      assert.notEqual(await outbox.seqOf("x1"), null);
    },
  ],

  [
    "outbox.append() with a fence stores only under the number's current lease; a stale one stores nothing",
    async (s) => {
      const { outbox, sessions } = s.store;
      await sessions.save({ phoneNumber: SESSION, engine: "simulator" });
      await s.setLease(SESSION, "node-a", 2);
      const fenced = (fence: Fence | null) => ({ ...toAll, fence: () => fence });
      await refusedAsStale(
        outbox.append([envelope("e1", "b")], fenced({ nodeId: "node-a", epoch: 1 })),
        [SESSION],
      );
      await refusedAsStale(
        outbox.append([envelope("e1", "b")], fenced({ nodeId: "node-b", epoch: 2 })),
        [SESSION],
      );
      await refusedAsStale(
        outbox.append(
          [envelope("e1", "b"), envelope("x1", "b", OTHER)],
          fenced({ nodeId: "node-a", epoch: 2 }),
        ),
        [OTHER],
      );
      assert.deepEqual(await s.storedIds(), [], "nothing of a refused batch is stored");
      assert.deepEqual(await outbox.pendingDestinations(), []);
      const stored = await outbox.append([envelope("e1", "b"), envelope("x1", "b", OTHER)], {
        ...toAll,
        fence: (session) => session === SESSION ? { nodeId: "node-a", epoch: 2 } : null,
      });
      assert.deepEqual(stored.events.map((e) => e.id), ["e1", "x1"], "null: not fenced");
      assert.deepEqual(await s.storedIds(), ["e1", "x1"]);
    },
  ],

  [
    "outbox.nextDelivery() serves a destination to one node at a time until its lease expires or is released",
    async ({ store }) => {
      const { outbox } = store;
      await outbox.append([envelope("e1", "b"), envelope("e2", "b")], toAll);
      const a = { nodeId: "node-a", ttlMs: 60_000 };
      const b = { nodeId: "node-b", ttlMs: 60_000 };
      const first = await outbox.nextDelivery(HOOK, a);
      assert.ok(first.held);
      assert.equal(first.delivery?.eventId, "e1");
      assert.deepEqual(await outbox.nextDelivery(HOOK, b), { held: false });
      assert.deepEqual(await outbox.leasePending(b), [], "b takes nothing that a holds");
      assert.deepEqual(await outbox.leasePending(a), [HOOK], "a renews its own");
      const read = await outbox.nextDelivery(HOOK, { ...a, ttlMs: 1, renewBelowMs: 1_000 });
      assert.ok(read.held, "a lease with more than renewBelowMs left is only read");
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(
        await outbox.nextDelivery(HOOK, b),
        { held: false },
        "and was not shortened",
      );
      await outbox.releaseDestinations("node-a");
      const taken = await outbox.nextDelivery(HOOK, { ...b, ttlMs: 1 });
      assert.ok(taken.held, "a released lease is free at once");
      assert.equal(taken.delivery?.eventId, "e1");
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(await outbox.leasePending(a), [HOOK], "a takes b's expired lease");
      assert.deepEqual(await outbox.nextDelivery(HOOK, b), { held: false });
      await outbox.markDelivered([{ id: first.delivery!.id, httpStatus: 200 }]);
      const second = await outbox.nextDelivery(HOOK, a);
      assert.ok(second.held);
      assert.equal(second.delivery?.eventId, "e2");
      await outbox.markDelivered([{ id: second.delivery!.id, httpStatus: 200 }]);
      assert.deepEqual(await outbox.nextDelivery(HOOK, a), {
        held: true,
        delivery: null,
        later: [],
      });
      assert.deepEqual(await outbox.leasePending(b), [], "nothing pending, nothing to take");
    },
  ],

  [
    "outbox.nextDelivery() serves each lane of a destination apart, a number's deliveries in one lane, in order",
    async ({ store }) => {
      const { outbox } = store;
      const [one, two] = [laneOf(SESSION, LANES), laneOf(NEIGHBOUR, LANES)];
      assert.notEqual(one, two, "the two numbers are in different lanes");
      const stored = await outbox.append([
        envelope("e1", "b"),
        envelope("x1", "b", NEIGHBOUR),
        envelope("e2", "b"),
        envelope("x2", "b", NEIGHBOUR),
      ], { ...toAll, lanes: LANES });
      assert.deepEqual(
        sortQueues(stored.queues),
        sortQueues([{ destination: HOOK, lane: one }, { destination: HOOK, lane: two }]),
        "append() reports each lane its deliveries joined, once",
      );
      assert.deepEqual((await outbox.pendingLanes(HOOK)).sort(), [one, two].sort());
      const node = { nodeId: "node-a", ttlMs: 60_000 };
      const headOf = async (lane: number) => {
        const next = await outbox.nextDelivery(HOOK, node, { lane });
        assert.ok(next.held);
        return next.delivery;
      };
      const first = (await headOf(one))!;
      assert.equal(first.eventId, "e1");
      await outbox.markRetry(first.id, {
        attempts: 1,
        delayMs: 60_000,
        error: "The receiver answered 503",
        httpStatus: 503,
      });
      assert.equal((await headOf(one))?.eventId, "e1", "a retrying delivery holds back its lane");
      const other = (await headOf(two))!;
      assert.equal(other.eventId, "x1", "and no other lane");
      assert.equal(other.dueInMs, 0);
      await outbox.markDelivered([{ id: other.id, httpStatus: 200 }]);
      assert.equal((await headOf(two))?.eventId, "x2");
      assert.equal((await outbox.nextDelivery(HOOK, node))!.held, true);
      assert.equal(
        (await outbox.head(HOOK))?.eventId,
        "e1",
        "without a lane: the destination's oldest",
      );
      assert.deepEqual(
        await outbox.nextDelivery(HOOK, { nodeId: "node-b", ttlMs: 60_000 }, { lane: two }),
        { held: false },
        "the lease is the destination's, whatever the lane",
      );
      assert.equal(await headOf(LANES + 1), null, "a lane with nothing pending");
    },
  ],

  [
    "outbox.nextDelivery() with a limit reads a lane's next deliveries in order, and markDelivered() marks several at once, each with its status",
    async ({ store }) => {
      const { outbox } = store;
      await outbox.append(
        ["n1", "n2", "n3", "n4"].map((id) => envelope(id, "b")),
        { ...toAll, lanes: LANES },
      );
      await outbox.append([envelope("x1", "b", NEIGHBOUR)], { ...toAll, lanes: LANES });
      const node = { nodeId: "node-a", ttlMs: 60_000 };
      const lane = laneOf(SESSION, LANES);
      const read = await outbox.nextDelivery(HOOK, node, { lane, limit: 3 });
      assert.ok(read.held);
      assert.equal(read.delivery?.eventId, "n1");
      assert.deepEqual(read.later.map((d) => [d.eventId, d.body.includes('"n3"')]), [
        ["n2", false],
        ["n3", true],
      ], "the next two of the lane, bodies and all, and not its neighbour's");
      assert.deepEqual(read.later.map((d) => d.dueInMs), [0, 0]);
      await outbox.markDelivered([
        { id: read.delivery!.id, httpStatus: 200 },
        ...read.later.map((d, i) => ({ id: d.id, httpStatus: 202 + i })),
      ]);
      const marked = await outbox.listDeliveries(SESSION, { status: "delivered", limit: 10 });
      assert.deepEqual(
        marked.map((d) => [d.eventId, d.lastStatus, d.attempts]).sort(),
        [["n1", 200, 1], ["n2", 202, 1], ["n3", 203, 1]],
      );
      const rest = await outbox.nextDelivery(HOOK, node, { lane, limit: 3 });
      assert.ok(rest.held);
      assert.equal(rest.delivery?.eventId, "n4");
      assert.deepEqual(rest.later, [], "fewer pending than the limit: only those");
      const plain = await outbox.nextDelivery(HOOK, node, { lane });
      assert.ok(plain.held);
      assert.deepEqual(plain.later, [], "no limit: one delivery");
      await outbox.markDelivered([]);
      assert.equal(await outbox.pendingCount(), 2, "an empty list marks nothing");
    },
  ],

  [
    "outbox.append() puts a number's deliveries in the lane of its pending ones, whatever the lane count",
    async ({ store }) => {
      const { outbox } = store;
      const moved = [SESSION, NEIGHBOUR].find((session) => laneOf(session, LANES) !== 0)!;
      const still = moved === SESSION ? NEIGHBOUR : SESSION;
      // Queued with one lane (or before lanes existed): lane 0.
      await outbox.append([envelope("m1", "b", moved)], { ...toAll, lanes: 1 });
      const later = await outbox.append([
        envelope("m2", "b", moved),
        envelope("s1", "b", still),
      ], { ...toAll, lanes: LANES });
      assert.deepEqual(
        sortQueues(later.queues),
        sortQueues([
          { destination: HOOK, lane: 0 },
          { destination: HOOK, lane: laneOf(still, LANES) },
        ]),
      );
      const node = { nodeId: "node-a", ttlMs: 60_000 };
      const m1 = await outbox.nextDelivery(HOOK, node, { lane: 0 });
      assert.ok(m1.held && m1.delivery?.eventId === "m1");
      await outbox.markDelivered([{ id: m1.delivery.id, httpStatus: 200 }]);
      const m2 = await outbox.nextDelivery(HOOK, node, { lane: 0 });
      assert.equal(m2.held && m2.delivery?.eventId, "m2", "behind its number's older one");
      await outbox.markDelivered([{ id: m2.held ? m2.delivery!.id : 0, httpStatus: 200 }]);
      const m3 = await outbox.append([envelope("m3", "b", moved)], { ...toAll, lanes: LANES });
      assert.deepEqual(
        m3.queues,
        [{ destination: HOOK, lane: laneOf(moved, LANES) }],
        "nothing pending: its own lane",
      );
    },
  ],

  [
    "outbox.eventsAfter() follows stream positions; livePosition() stands after every event readable now",
    async ({ store }) => {
      const { outbox } = store;
      await outbox.append([envelope("e1", "b"), envelope("e2", "b")], toAll);
      await outbox.append([envelope("x1", "b", OTHER)], toAll);
      const live = await outbox.livePosition();
      const [e3] = (await outbox.append([envelope("e3", "b")], toAll)).events;
      assert.deepEqual((await outbox.eventsAfter(SESSION, live, 10)).events.map((e) => e.id), [
        "e3",
      ]);
      const e1 = (await outbox.positionOf("e1"))!;
      assert.equal(e1.session, SESSION);
      const after = (await outbox.eventsAfter(SESSION, e1.position, 10)).events;
      assert.deepEqual(after.map((e) => e.id), ["e2", "e3"]);
      assert.ok(comparePositions(e1.position, after[0].position) < 0);
      assert.ok(comparePositions(after[0].position, after[1].position) < 0);
      assert.deepEqual(after[1].position, e3.position, "append() reports the stored position");
      assert.equal(await outbox.positionOf("evt_unknown"), null);
    },
  ],

  [
    "outbox.eventsAfterAll() reads every session's events, or an owner's, in one order and as owners change",
    async ({ store }) => {
      const { outbox, sessions } = store;
      await sessions.save({ phoneNumber: SESSION, engine: "simulator", ownerAccountId: "a" });
      await sessions.save({ phoneNumber: OTHER, engine: "simulator", ownerAccountId: "b" });
      await sessions.save({ phoneNumber: "4915550007777", engine: "simulator" });
      await outbox.append([envelope("a1", "b"), envelope("b1", "b", OTHER)], toAll);
      await outbox.append([envelope("n1", "b", "4915550007777")], toAll);
      await outbox.append([envelope("x1", "b", "4915550008888")], toAll);
      await outbox.append([envelope("b2", "b", OTHER), envelope("a2", "b")], toAll);
      /** Every id from `after` on, `limit` at a time, each page resuming after the last one. */
      const followAll = async (after: EventPosition, scope?: { ownerAccountId?: string }) => {
        const ids: string[] = [];
        for (;;) {
          const { events, pending } = await outbox.eventsAfterAll(after, 2, scope);
          assert.equal(pending, false);
          ids.push(...events.map((e) => e.id));
          if (events.length < 2) return ids;
          after = events.at(-1)!.position;
        }
      };
      assert.deepEqual(
        await followAll(FIRST_POSITION),
        ["a1", "b1", "n1", "b2", "a2"],
        "every number's, in the stream's order; none of a number without a row",
      );
      assert.deepEqual(await followAll(FIRST_POSITION, { ownerAccountId: "a" }), ["a1", "a2"]);
      assert.deepEqual(await followAll(FIRST_POSITION, { ownerAccountId: "b" }), ["b1", "b2"]);
      assert.deepEqual(await followAll(FIRST_POSITION, { ownerAccountId: "c" }), []);
      const b1 = (await outbox.positionOf("b1"))!.position;
      assert.deepEqual(await followAll(b1), ["n1", "b2", "a2"], "resumes after any event");

      // OTHER changes hands: "b" reads none of it any more, "a" reads it from the next event on.
      const a2 = (await outbox.positionOf("a2"))!.position;
      await sessions.delete(OTHER);
      await outbox.forgetSession(OTHER);
      await sessions.save({ phoneNumber: OTHER, engine: "simulator", ownerAccountId: "a" });
      await outbox.append([envelope("b3", "b", OTHER)], toAll);
      assert.deepEqual(await followAll(a2, { ownerAccountId: "a" }), ["b3"]);
      assert.deepEqual(await followAll(FIRST_POSITION, { ownerAccountId: "b" }), []);
      const [event] = (await outbox.eventsAfterAll(a2, 10)).events;
      assert.equal(event.body, JSON.stringify(envelope("b3", "b", OTHER)));
      assert.equal(event.session, OTHER);
    },
  ],

  [
    "outbox.watch() reports committed events, queued deliveries, webhook changes and forgotten numbers",
    async ({ store }) => {
      const { outbox } = store;
      const seen = new Set<string>();
      const stop = await outbox.watch({
        events: (session) => seen.add(`events ${session}`),
        deliveries: (destination) => seen.add(`deliveries ${destination}`),
        webhooks: (phone) => seen.add(`webhooks ${phone}`),
        forgotten: (phone) => seen.add(`forgotten ${phone}`),
        resync: () => seen.add("resync"),
      });
      try {
        await outbox.append([envelope("e1", "b")], toAll);
        await outbox.replaceWebhooks(SESSION, [{ url: "http://a.test/", events: ["*"] }]);
        await outbox.forgetSession(OTHER);
        const expected = [
          `events ${SESSION}`,
          `deliveries ${HOOK}`,
          `webhooks ${SESSION}`,
          `forgotten ${OTHER}`,
        ];
        await eventually("the reports", () => expected.every((report) => seen.has(report)));
        assert.ok(!seen.has("resync"), "nothing was missed");
      } finally {
        await stop();
      }
    },
  ],
];

/** Runs every case of the suite as a step, each on a fresh store from `open`. */
export async function runStoreSuite(t: Deno.TestContext, open: OpenStore): Promise<void> {
  for (const [name, fn] of [...cases, ...idempotencyCases, ...CLUSTER_CASES, ...LOGIN_CASES]) {
    await t.step(name, async () => {
      const subject = await open();
      try {
        await fn(subject);
      } finally {
        await subject.close();
      }
    });
  }
}
