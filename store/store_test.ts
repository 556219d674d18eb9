import assert from "node:assert/strict";
import { MIGRATIONS } from "./migrations.ts";
import { DatabaseInUseError, openDatabase } from "./sqlite.ts";
import { createSessionRepository, openStore } from "./store.ts";

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

Deno.test("markLinked() records the first link only, and listUnlinkedClaims() lists accounts' claims that never linked", () => {
  let clock = 1_000;
  const store = openStore(":memory:");
  const sessions = createSessionRepository(store.db, () => clock);
  const claim = (phone: string, account: string) =>
    sessions.claim(phone, { engine: "simulator", ownerAccountId: account, max: 5 });
  claim("4915550001", "org_a");
  clock = 2_000;
  claim("4915550002", "org_b");
  sessions.save({ phoneNumber: "4915550003", engine: "simulator" });
  assert.equal(sessions.get("4915550001")?.linkedAt, null);
  assert.deepEqual(sessions.listUnlinkedClaims().map((r) => r.phoneNumber), [
    "4915550001",
    "4915550002",
  ], "the admin's number is no claim");
  clock = 3_000;
  sessions.markLinked("4915550002");
  clock = 4_000;
  sessions.markLinked("4915550002");
  assert.equal(sessions.get("4915550002")?.linkedAt, 3_000, "the first link is kept");
  assert.deepEqual(sessions.listUnlinkedClaims().map((r) => r.phoneNumber), ["4915550001"]);
  store.close();
});

Deno.test("releaseUnlinkedClaim() deletes only an account's never-linked claim made before the cutoff", () => {
  let clock = 1_000;
  const store = openStore(":memory:");
  const sessions = createSessionRepository(store.db, () => clock);
  sessions.claim("4915550001", { engine: "simulator", ownerAccountId: "org_a", max: 5 });
  sessions.claim("4915550002", { engine: "simulator", ownerAccountId: "org_a", max: 5 });
  sessions.markLinked("4915550002");
  sessions.save({ phoneNumber: "4915550003", engine: "simulator" });
  assert.equal(sessions.releaseUnlinkedClaim("4915550001", 999), false, "too young");
  assert.equal(sessions.releaseUnlinkedClaim("4915550002", 5_000), false, "linked");
  assert.equal(sessions.releaseUnlinkedClaim("4915550003", 5_000), false, "the admin's");
  assert.equal(sessions.get("4915550001")?.ownerAccountId, "org_a");
  assert.equal(sessions.releaseUnlinkedClaim("4915550001", 1_000), true);
  assert.equal(sessions.get("4915550001"), null);
  clock = 9_000;
  assert.equal(
    sessions.claim("4915550001", { engine: "simulator", ownerAccountId: "org_b", max: 1 }),
    "claimed",
    "the number is free for another account",
  );
  assert.equal(sessions.get("4915550001")?.createdAt, 9_000, "its claim starts afresh");
  store.close();
});

Deno.test("migration 4 counts the sessions of an older database as linked, and migrations run in version order whatever the list's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/old.db`;
    const old = openDatabase(path, MIGRATIONS.filter((m) => m.version === 1));
    old.exec(`INSERT INTO sessions (phone_number, engine, owner_account_id, created_at, updated_at)
      VALUES ('4915550001', 'wwebjs', 'org_a', 10, 20)`);
    old.close();
    const reversed = [...MIGRATIONS].reverse();
    const db = openDatabase(path, reversed);
    const version = db.prepare("PRAGMA user_version").get() as { user_version: number };
    assert.equal(version.user_version, Math.max(...MIGRATIONS.map((m) => m.version)));
    assert.ok(
      db.prepare("SELECT name FROM sqlite_master WHERE name = 'events'").get(),
      "migration 2 ran although listed after 4",
    );
    const sessions = createSessionRepository(db);
    assert.equal(sessions.get("4915550001")?.linkedAt, 20);
    assert.deepEqual(sessions.listUnlinkedClaims(), []);
    db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
