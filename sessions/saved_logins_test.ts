import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogger } from "../logger.ts";
import { openSqliteStore } from "../store/sqlite/store.ts";
import type { Fence, Store } from "../store/store.ts";
import { createLoginCipher } from "./login_cipher.ts";
import { createSavedLogins, type SavedLogins } from "./saved_logins.ts";

const PHONE = "4915550004001";
const KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(3)));
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined) => data && new TextDecoder().decode(data);

/** A real store with the number owned by an account and leased to `node` (its fence). */
async function setUp(): Promise<{ store: Store; fence: Fence; dir: string }> {
  const store = openSqliteStore(":memory:");
  await store.sessions.claim(PHONE, { engine: "wwebjs", ownerAccountId: "acct", max: 1 });
  await store.sessions.setShouldRun(PHONE, true);
  const node = { id: "node", url: null, role: "worker" as const, capacity: 5, version: null };
  await store.cluster.join(node, { ttlMs: 60_000 });
  const epoch = await store.cluster.take(PHONE, "node", { ttlMs: 60_000, marginMs: 30_000 });
  return { store, fence: { nodeId: "node", epoch: epoch! }, dir: await Deno.makeTempDir() };
}

async function logins(store: Store, retryMinMs = 10): Promise<SavedLogins> {
  return createSavedLogins({
    logins: store.logins,
    cipher: await createLoginCipher(KEY),
    log: createLogger("silent"),
    intervalMs: 60_000,
    retryMinMs,
  });
}

/** A local login in `dir` (the engine's folder), run last under `epoch` (none: never recorded). */
async function localLogin(dir: string, epoch?: number): Promise<void> {
  await Deno.mkdir(join(dir, "auth"), { recursive: true });
  await Deno.writeTextFile(join(dir, "auth/linked"), `${PHONE}@c.us`);
  if (epoch !== undefined) await Deno.writeTextFile(join(dir, "auth/login-epoch"), String(epoch));
}

Deno.test("a saved login is sealed in the store, and a failed save is retried until it lands", async () => {
  const { store, fence, dir } = await setUp();
  try {
    let failures = 2;
    const save = store.logins.save.bind(store.logins);
    store.logins.save = (...args) =>
      failures-- > 0 ? Promise.reject(new Error("connection reset")) : save(...args);
    const saved = await logins(store);
    saved.save(PHONE, bytes("the archive"), fence);
    await saved.settled(PHONE, 5_000);
    const row = await store.logins.get(PHONE);
    assert.ok(row, "saved after two failures");
    assert.equal(row.size, "the archive".length);
    assert.ok(!text(row.blob)!.includes("the archive"), "sealed");
    assert.equal(text(await (await createLoginCipher(KEY)).open(PHONE, row.blob)), "the archive");
    assert.equal(saved.lastSaved(PHONE), row.savedAt);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the newest archive wins: one that arrives during a save replaces those still waiting", async () => {
  const { store, fence, dir } = await setUp();
  try {
    const writes: string[] = [];
    const save = store.logins.save.bind(store.logins);
    const cipher = await createLoginCipher(KEY);
    store.logins.save = async (phoneNumber, login, f) => {
      writes.push(text(await cipher.open(phoneNumber, login.blob))!);
      return await save(phoneNumber, login, f);
    };
    const saved = await logins(store);
    for (const n of [1, 2, 3]) saved.save(PHONE, bytes(`archive ${n}`), fence);
    await saved.settled(PHONE, 5_000);
    assert.deepEqual(writes, ["archive 1", "archive 3"]);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("prepare restores a stored login of a later epoch, keeps a local one as new, and deletes a local one with nothing stored", async (t) => {
  const { store, fence, dir } = await setUp();
  try {
    const saved = await logins(store);
    await t.step(
      "nothing stored: a local copy is not used (logged out or deleted elsewhere)",
      async () => {
        await localLogin(dir, fence.epoch);
        assert.equal((await saved.prepare(PHONE, dir)).restore, undefined);
        await assert.rejects(Deno.stat(join(dir, "auth")), Deno.errors.NotFound);
      },
    );
    saved.save(PHONE, bytes("saved under the lease"), fence);
    await saved.settled(PHONE, 5_000);
    await t.step("no local copy: the stored one is restored", async () => {
      const backup = await saved.prepare(PHONE, dir);
      assert.equal(text(backup.restore), "saved under the lease");
      assert.equal(backup.intervalMs, 60_000);
    });
    await t.step(
      "a local copy of the same epoch (this node ran on after saving) is kept",
      async () => {
        await localLogin(dir);
        await saved.started(dir, fence);
        assert.equal((await saved.prepare(PHONE, dir)).restore, undefined);
        assert.equal(await Deno.readTextFile(join(dir, "auth/linked")), `${PHONE}@c.us`);
      },
    );
    await t.step("a local copy of an earlier epoch gives way to the stored one", async () => {
      await Deno.writeTextFile(join(dir, "auth/login-epoch"), String(fence.epoch - 1));
      assert.equal(text((await saved.prepare(PHONE, dir)).restore), "saved under the lease");
    });
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a forgotten login is removed from the store, and archives that come after it are dropped until the next start", async () => {
  const { store, fence, dir } = await setUp();
  try {
    const saved = await logins(store);
    saved.save(PHONE, bytes("linked"), fence);
    await saved.settled(PHONE, 5_000);
    assert.ok(await store.logins.get(PHONE));
    await saved.forget(PHONE);
    assert.equal(await store.logins.get(PHONE), null);
    saved.save(PHONE, bytes("a late archive of the logged-out session"), fence);
    await saved.settled(PHONE, 5_000);
    assert.equal(await store.logins.get(PHONE), null);
    assert.equal(saved.lastSaved(PHONE), undefined);
    await saved.prepare(PHONE, dir);
    saved.save(PHONE, bytes("linked again"), fence);
    await saved.settled(PHONE, 5_000);
    assert.ok(await store.logins.get(PHONE));
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
