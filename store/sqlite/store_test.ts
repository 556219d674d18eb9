import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { globalDestination } from "../../events/outbox.ts";
import { SchemaTooNewError } from "../errors.ts";
import { MIGRATIONS } from "../migrations.ts";
import { runStoreSuite } from "../store_suite.ts";
import { DatabaseInUseError, openDatabase } from "./database.ts";
import { createSessionRepository } from "./sessions.ts";
import { openSqliteStore, type SqliteStore } from "./store.ts";

Deno.test("the store suite passes on SQLite", async (t) => {
  await runStoreSuite(t, async () => {
    // A file store, as the server runs it (the admin key is a file beside the database).
    const dir = await Deno.makeTempDir({ prefix: "wa-gateway-store-" });
    const store = openSqliteStore(dir);
    const db = store.db;
    return {
      store,
      storedIds() {
        const rows = db.prepare("SELECT id FROM events ORDER BY seq").all() as { id: string }[];
        return Promise.resolve(rows.map((row) => row.id));
      },
      refuseDeliveries(event) {
        db.exec(`
          CREATE TRIGGER refuse_deliveries BEFORE INSERT ON webhook_deliveries
          WHEN (SELECT event FROM events WHERE seq = NEW.event_seq) = '${event}'
          BEGIN SELECT RAISE(ABORT, 'disk full'); END
        `);
        return Promise.resolve(() => {
          db.exec("DROP TRIGGER refuse_deliveries");
          return Promise.resolve();
        });
      },
      setLease(phoneNumber, nodeId, epoch) {
        db.prepare("UPDATE sessions SET node_id = ?, epoch = ? WHERE phone_number = ?")
          .run(nodeId, epoch, phoneNumber);
        return Promise.resolve();
      },
      async close() {
        await store.close();
        await Deno.remove(dir, { recursive: true });
      },
    };
  });
});

Deno.test("openSqliteStore() applies the migrations once and keeps data across reopenings", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = openSqliteStore(`${dir}/data`);
    assert.equal(Deno.statSync(`${dir}/data`).mode! & 0o777, 0o700);
    assert.equal(Deno.statSync(`${dir}/data/wa-gateway.db`).mode! & 0o777, 0o600);
    await first.sessions.save({ phoneNumber: "4915550001", engine: "simulator" });
    await first.sessions.setShouldRun("4915550001", true);
    const key = await first.adminKey();
    assert.equal(key.location, `${dir}/data/admin-api-key`);
    assert.equal(Deno.statSync(key.location).mode! & 0o777, 0o600);
    await first.close();
    const second = openSqliteStore(`${dir}/data`);
    const version = second.db.prepare("PRAGMA user_version").get() as { user_version: number };
    assert.ok(version.user_version >= 1);
    assert.equal(
      (second.db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode,
      "wal",
    );
    const record = await second.sessions.get("4915550001");
    assert.equal(record?.engine, "simulator");
    assert.equal(record?.shouldRun, true);
    assert.equal((await second.adminKey()).key, key.key);
    await second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openSqliteStore() refuses a DATA_DIR that another store holds open, and opens it once that one is closed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = openSqliteStore(dir);
    assert.throws(() => openSqliteStore(dir), DatabaseInUseError);
    await first.sessions.save({ phoneNumber: "4915550001", engine: "simulator" });
    await first.close();
    const second = openSqliteStore(dir);
    assert.equal((await second.sessions.get("4915550001"))?.engine, "simulator");
    await second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openDatabase() refuses a database that a newer version migrated further, in one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/newer.db`;
    const newest = Math.max(...MIGRATIONS.map((m) => m.version));
    const db = openDatabase(path);
    db.exec(`PRAGMA user_version = ${newest + 1}`);
    db.close();
    let message = "";
    assert.throws(() => {
      try {
        openDatabase(path);
      } catch (error) {
        message = (error as Error).message;
        throw error;
      }
    }, SchemaTooNewError);
    assert.doesNotMatch(message, /\n/);
    assert.match(message, new RegExp(`schema version ${newest + 1}, newer than ${newest}`));
    // And it let go of the file: the next open is refused for the schema again, not the lock.
    assert.throws(() => openDatabase(path), SchemaTooNewError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sessions.get() answers from a cache that every write of the repository keeps exact", async () => {
  const store = openSqliteStore(":memory:");
  const sessions = store.sessions;
  assert.equal(await sessions.get("4915550001"), null);
  await sessions.save({ phoneNumber: "4915550001", engine: "simulator" });
  assert.equal((await sessions.get("4915550001"))?.shouldRun, false);
  await sessions.setShouldRun("4915550001", true);
  assert.equal((await sessions.get("4915550001"))?.shouldRun, true);
  await sessions.delete("4915550001");
  assert.equal(await sessions.get("4915550001"), null);
  await sessions.claim("4915550001", { engine: "simulator", ownerAccountId: "org_a", max: 1 });
  assert.equal((await sessions.get("4915550001"))?.ownerAccountId, "org_a");
  await sessions.markLinked("4915550001");
  assert.equal(typeof (await sessions.get("4915550001"))?.linkedAt, "number");
  // A row changed behind the repository's back (nothing does so): the cache still answers.
  store.db.prepare("UPDATE sessions SET engine = 'wwebjs'").run();
  assert.equal((await sessions.get("4915550001"))?.engine, "simulator", "served from the cache");
  await store.close();
});

Deno.test("markLinked() stamps the link with the repository's clock", async () => {
  let clock = 1_000;
  const store = openSqliteStore(":memory:");
  const sessions = createSessionRepository(store.db, () => clock);
  await sessions.claim("4915550001", { engine: "simulator", ownerAccountId: "org_a", max: 5 });
  clock = 3_000;
  await sessions.markLinked("4915550001");
  clock = 4_000;
  await sessions.markLinked("4915550001");
  assert.equal((await sessions.get("4915550001"))?.linkedAt, 3_000, "the first link is kept");
  assert.equal((await sessions.get("4915550001"))?.createdAt, 1_000);
  await store.close();
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
    assert.equal((await sessions.get("4915550001"))?.linkedAt, 20);
    assert.deepEqual(await sessions.listUnlinkedClaims(), []);
    db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const HOOK = globalDestination("http://h.test/");

/** A message event of one number, as the pipeline hands it to the outbox. */
function messageEnvelope(id: string) {
  return {
    id,
    timestamp: 1,
    event: "message",
    session: "4915550001",
    payload: {},
    engine: "WEBJS",
    environment: {},
  };
}

/**
 * Runs `work` on a store in a temporary folder holding `count` pending deliveries to `HOOK`
 * (their ids given), then closes and removes it.
 */
async function withDeliveries(
  count: number,
  work: (store: SqliteStore, ids: number[], dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wa-gateway-marks-" });
  const store = openSqliteStore(dir);
  try {
    const envelopes = Array.from({ length: count }, (_, i) => messageEnvelope(`evt_mark_${i}`));
    await store.outbox.append(envelopes, { destinationsFor: () => [HOOK] });
    const ids = (store.db.prepare("SELECT id FROM webhook_deliveries ORDER BY id").all() as {
      id: number;
    }[]).map((row) => row.id);
    await work(store, ids, dir);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Each delivery's status as the database file holds it, read past the outbox. */
function statusesIn(db: DatabaseSync): string[] {
  return (db.prepare("SELECT status FROM webhook_deliveries ORDER BY id").all() as {
    status: string;
  }[]).map((row) => row.status);
}

Deno.test("outbox.markDelivered() on SQLite joins the next append's transaction", async () => {
  await withDeliveries(2, async (store, ids) => {
    await store.outbox.markDelivered([{ id: ids[0], httpStatus: 200 }]);
    await store.outbox.append([messageEnvelope("evt_mark_next")], {
      destinationsFor: () => [HOOK],
    });
    assert.deepEqual(statusesIn(store.db), ["delivered", "pending", "pending"]);
  });
});

Deno.test("outbox.markDelivered() on SQLite is written by itself when no append comes", async () => {
  await withDeliveries(2, async (store, ids) => {
    await store.outbox.markDelivered([{ id: ids[1], httpStatus: 204 }]);
    const deadline = Date.now() + 10_000;
    while (statusesIn(store.db)[1] !== "delivered" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.deepEqual(statusesIn(store.db), ["pending", "delivered"]);
  });
});

Deno.test("outbox.markDelivered() on SQLite is written before the store closes, and kept by an append that fails", async () => {
  await withDeliveries(2, async (store, ids, dir) => {
    await store.outbox.markDelivered([{ id: ids[0], httpStatus: 200 }]);
    store.db.exec(`
      CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END
    `);
    await assert.rejects(
      store.outbox.append([messageEnvelope("evt_mark_refused")], { destinationsFor: () => [HOOK] }),
      /disk full/,
    );
    await store.close();
    const reopened = new DatabaseSync(`${dir}/wa-gateway.db`);
    try {
      assert.deepEqual(statusesIn(reopened), ["delivered", "pending"]);
    } finally {
      reopened.close();
    }
  });
});
