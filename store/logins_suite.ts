/**
 * @module
 * The store suite's cases for saved logins (`store.logins`), run on both stores by
 * `runStoreSuite`: a save is fenced by the number's lease and never goes back to an older epoch,
 * a login is read back only for the account that owned the number when it was saved, and a
 * removed one is gone.
 */
import assert from "node:assert/strict";
import type { NodeInput, Store } from "./store.ts";

type Case = [name: string, fn: (s: { store: Store }) => Promise<void>];

const PHONE = "4915550003001";
const timing = { ttlMs: 60_000, marginMs: 30_000 };
const node = (id: string): NodeInput => ({
  id,
  url: `http://${id}.test:3000`,
  role: "worker",
  capacity: 10,
  version: "test",
});
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (blob: Uint8Array | undefined) => blob && new TextDecoder().decode(blob);

/** The number, owned by `owner`, should run; nodes `a` and `b` have joined. */
async function setUp(store: Store, owner: string | null = "acct-1"): Promise<void> {
  if (owner) {
    await store.sessions.claim(PHONE, { engine: "wwebjs", ownerAccountId: owner, max: 5 });
  } else await store.sessions.save({ phoneNumber: PHONE, engine: "wwebjs" });
  await store.sessions.setShouldRun(PHONE, true);
  await store.cluster.join(node("a"), { ttlMs: timing.ttlMs });
  await store.cluster.join(node("b"), { ttlMs: timing.ttlMs });
}

export const LOGIN_CASES: Case[] = [
  [
    "logins.save() keeps the lease holder's login, with its epoch, size and time",
    async ({ store }) => {
      await setUp(store);
      const epoch = (await store.cluster.take(PHONE, "a", timing))!;
      const before = await store.now();
      const savedAt = await store.logins.save(PHONE, { blob: bytes("login 1"), size: 7 }, {
        nodeId: "a",
        epoch,
      });
      assert.ok(savedAt !== null && savedAt >= before);
      const login = await store.logins.get(PHONE);
      assert.deepEqual({ ...login, blob: text(login?.blob) }, {
        phoneNumber: PHONE,
        epoch,
        nodeId: "a",
        blob: "login 1",
        size: 7,
        savedAt,
      });
      assert.deepEqual(
        await store.logins.savedAt([PHONE, "4915550009999"]),
        new Map([[PHONE, savedAt]]),
      );
    },
  ],
  [
    "logins.save() is refused under a stale lease, so a paused node cannot overwrite the new owner's login",
    async ({ store }) => {
      await setUp(store);
      const old = (await store.cluster.take(PHONE, "a", timing))!;
      await store.logins.save(PHONE, { blob: bytes("a's login"), size: 1 }, {
        nodeId: "a",
        epoch: old,
      });
      // a stops being the owner (released here; a lease that ran out is taken the same way).
      await store.cluster.release(PHONE, { nodeId: "a", epoch: old });
      const current = (await store.cluster.take(PHONE, "b", timing))!;
      assert.ok(current > old);
      assert.notEqual(
        await store.logins.save(PHONE, { blob: bytes("b's login"), size: 1 }, {
          nodeId: "b",
          epoch: current,
        }),
        null,
      );
      assert.equal(
        await store.logins.save(PHONE, { blob: bytes("a, woken"), size: 1 }, {
          nodeId: "a",
          epoch: old,
        }),
        null,
      );
      assert.equal(
        await store.logins.save(PHONE, { blob: bytes("a, as b"), size: 1 }, {
          nodeId: "a",
          epoch: current,
        }),
        null,
        "the epoch alone is not enough: the node must hold it",
      );
      assert.equal(text((await store.logins.get(PHONE))?.blob), "b's login");
    },
  ],
  [
    "logins.save() after its holder released the number still lands, until another node takes it",
    async ({ store }) => {
      await setUp(store);
      const epoch = (await store.cluster.take(PHONE, "a", timing))!;
      await store.cluster.release(PHONE, { nodeId: "a", epoch });
      assert.notEqual(
        await store.logins.save(PHONE, { blob: bytes("at stop"), size: 1 }, { nodeId: "a", epoch }),
        null,
      );
      await store.cluster.take(PHONE, "b", timing);
      assert.equal(
        await store.logins.save(PHONE, { blob: bytes("too late"), size: 1 }, {
          nodeId: "a",
          epoch,
        }),
        null,
      );
      assert.equal(text((await store.logins.get(PHONE))?.blob), "at stop");
    },
  ],
  [
    "logins.get() answers nothing once the number is gone or another account owns it",
    async ({ store }) => {
      await setUp(store, "acct-1");
      const epoch = (await store.cluster.take(PHONE, "a", timing))!;
      await store.logins.save(PHONE, { blob: bytes("acct-1's"), size: 1 }, { nodeId: "a", epoch });
      assert.ok(await store.logins.get(PHONE));
      await store.sessions.delete(PHONE);
      assert.equal(await store.logins.get(PHONE), null, "the number is gone");
      await store.sessions.claim(PHONE, { engine: "wwebjs", ownerAccountId: "acct-2", max: 5 });
      assert.equal(await store.logins.get(PHONE), null, "another account owns it now");
    },
  ],
  [
    "logins of the admin's numbers (no owner) are read back, and remove() deletes a login",
    async ({ store }) => {
      await setUp(store, null);
      const epoch = (await store.cluster.take(PHONE, "a", timing))!;
      await store.logins.save(PHONE, { blob: bytes("admin's"), size: 1 }, { nodeId: "a", epoch });
      assert.equal(text((await store.logins.get(PHONE))?.blob), "admin's");
      await store.logins.remove(PHONE);
      assert.equal(await store.logins.get(PHONE), null);
      assert.deepEqual(await store.logins.savedAt([PHONE]), new Map());
    },
  ],
];
