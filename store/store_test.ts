import assert from "node:assert/strict";
import { DatabaseInUseError } from "./sqlite.ts";
import { openStore } from "./store.ts";

Deno.test("openStore() applies the migrations once and keeps data across reopenings", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = openStore(`${dir}/data`);
    assert.equal(Deno.statSync(`${dir}/data`).mode! & 0o777, 0o700);
    assert.equal(Deno.statSync(`${dir}/data/wa-gateway.db`).mode! & 0o777, 0o600);
    first.sessions.save({ phoneNumber: "4915550001", engine: "simulator" });
    first.sessions.setShouldRun("4915550001", true);
    first.close();
    const second = openStore(`${dir}/data`);
    const version = second.db.prepare("PRAGMA user_version").get() as { user_version: number };
    assert.ok(version.user_version >= 1);
    assert.equal(
      (second.db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode,
      "wal",
    );
    const record = second.sessions.get("4915550001");
    assert.equal(record?.engine, "simulator");
    assert.equal(record?.shouldRun, true);
    second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("save() keeps the first owner of a number", () => {
  const store = openStore(":memory:");
  store.sessions.save({ phoneNumber: "4915550001", engine: "wwebjs", ownerAccountId: "org_a" });
  store.sessions.save({ phoneNumber: "4915550001", engine: "simulator", ownerAccountId: "org_b" });
  const record = store.sessions.get("4915550001");
  assert.equal(record?.ownerAccountId, "org_a");
  assert.equal(record?.engine, "simulator");
  store.close();
});

Deno.test("claim() gives unowned numbers within the account's limit and refuses others", () => {
  const store = openStore(":memory:");
  const claim = (phone: string, account: string) =>
    store.sessions.claim(phone, { engine: "wwebjs", ownerAccountId: account, max: 1 });
  assert.equal(claim("4915550001", "org_a"), "claimed");
  assert.equal(claim("4915550001", "org_a"), "owned");
  assert.equal(claim("4915550001", "org_b"), "taken");
  assert.equal(claim("4915550002", "org_a"), "limit");
  store.sessions.save({ phoneNumber: "4915550003", engine: "wwebjs" });
  assert.equal(
    claim("4915550003", "org_b"),
    "admin",
    "a number the admin started stays the admin's",
  );
  assert.equal(claim("4915550004", "org_b"), "claimed");
  assert.equal(store.sessions.countOwnedBy("org_b"), 1);
  assert.deepEqual(store.sessions.list({ ownerAccountId: "org_a" }).map((r) => r.phoneNumber), [
    "4915550001",
  ]);
  store.sessions.delete("4915550001");
  assert.equal(claim("4915550002", "org_a"), "claimed", "deleting frees the account's slot");
  store.close();
});

Deno.test("get() answers from a cache that every write of the repository keeps exact", () => {
  const store = openStore(":memory:");
  const sessions = store.sessions;
  assert.equal(sessions.get("4915550001"), null);
  sessions.save({ phoneNumber: "4915550001", engine: "simulator" });
  assert.equal(sessions.get("4915550001")?.shouldRun, false);
  sessions.setShouldRun("4915550001", true);
  assert.equal(sessions.get("4915550001")?.shouldRun, true);
  const copy = sessions.get("4915550001")!;
  copy.ownerAccountId = "org_mallory";
  assert.equal(sessions.get("4915550001")?.ownerAccountId, null, "callers get copies");
  sessions.delete("4915550001");
  assert.equal(sessions.get("4915550001"), null);
  sessions.claim("4915550001", { engine: "simulator", ownerAccountId: "org_a", max: 1 });
  assert.equal(sessions.get("4915550001")?.ownerAccountId, "org_a");
  store.close();
});

Deno.test("openStore() refuses a DATA_DIR that another store holds open, and opens it once that one is closed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = openStore(dir);
    assert.throws(() => openStore(dir), DatabaseInUseError);
    first.sessions.save({ phoneNumber: "4915550001", engine: "simulator" });
    first.close();
    const second = openStore(dir);
    assert.equal(second.sessions.get("4915550001")?.engine, "simulator");
    second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
