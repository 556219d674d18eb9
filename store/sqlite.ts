/**
 * @module
 * Opens the embedded SQLite database under `DATA_DIR` (WAL, busy timeout) and brings its schema
 * up to date with the numbered migrations.
 */
import { DatabaseSync } from "node:sqlite";
import { type Migration, MIGRATIONS } from "./migrations.ts";

export function openDatabase(path: string, migrations: readonly Migration[] = MIGRATIONS) {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  migrate(db, migrations);
  return db;
}

function migrate(db: DatabaseSync, migrations: readonly Migration[]): void {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  for (const migration of migrations) {
    if (migration.version <= row.user_version) continue;
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(migration.sql);
      db.exec(`PRAGMA user_version = ${migration.version}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw new Error(`Migration ${migration.version} ("${migration.description}") failed`, {
        cause: error,
      });
    }
  }
}
