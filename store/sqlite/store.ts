/**
 * @module
 * The store on SQLite, the default: one file, `<DATA_DIR>/wa-gateway.db`, held by one server
 * (`database.ts`), with the session repository and the outbox on its one connection.
 */
import type { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { loadOrCreateAdminKey } from "../admin_key.ts";
import type { Store } from "../store.ts";
import { createClusterRepository } from "./cluster.ts";
import { openDatabase } from "./database.ts";
import { createOutbox } from "./outbox.ts";
import { createIdempotencyRepository } from "./idempotency.ts";
import { createLoginRepository } from "./logins.ts";
import { createSessionRepository } from "./sessions.ts";

export interface SqliteStore extends Store {
  readonly kind: "sqlite";
  /** The database itself, for tests and tools that look inside. */
  db: DatabaseSync;
}

/** Opens the SQLite store at `<dataDir>/wa-gateway.db` (`:memory:` for a throwaway one). */
export function openSqliteStore(dataDir: string | ":memory:"): SqliteStore {
  const path = dataDir === ":memory:" ? ":memory:" : join(dataDir, "wa-gateway.db");
  if (dataDir !== ":memory:") {
    // The database holds webhook secrets and owners: readable by the server's user only. SQLite
    // gives its -wal and -shm files the database file's mode.
    Deno.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      Deno.writeFileSync(path, new Uint8Array(), { createNew: true, mode: 0o600 });
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  const db = openDatabase(path);
  const outbox = createOutbox(db);
  return {
    kind: "sqlite",
    db,
    sessions: createSessionRepository(db),
    cluster: createClusterRepository(db),
    outbox,
    idempotency: createIdempotencyRepository(db),
    logins: createLoginRepository(db),
    adminKey() {
      if (dataDir === ":memory:") return Promise.reject(new Error("A memory store keeps no key"));
      try {
        return Promise.resolve(loadOrCreateAdminKey(dataDir));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    now: () => Promise.resolve(Date.now()),
    close() {
      try {
        outbox.settle();
      } finally {
        if (db.isOpen) db.close();
      }
      return Promise.resolve();
    },
  };
}

/** The SQLite database under a store (tests that look inside); throws for another store. */
export function sqliteDatabase(store: Store): DatabaseSync {
  if (store.kind !== "sqlite") throw new Error(`The store is ${store.kind}, not SQLite`);
  return (store as SqliteStore).db;
}
