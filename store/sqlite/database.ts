/**
 * @module
 * Opens the embedded SQLite database under `DATA_DIR` (WAL, busy timeout) and brings its schema
 * up to date with the numbered migrations (`store/migrations.ts`); a database that a newer version
 * migrated further is refused ({@link SchemaTooNewError}).
 *
 * A file database is opened in `EXCLUSIVE` locking mode: this process holds its lock from the
 * first statement until it closes it. A second server on the same `DATA_DIR` (which would restore
 * and drive the same WhatsApp sessions) is refused at start with {@link DatabaseInUseError}, and
 * each commit skips the file-lock calls it would otherwise make (15–20 % of a commit here,
 * bench/README.md). Nothing else can read the file while the server runs.
 */
import { DatabaseSync } from "node:sqlite";
import { SchemaTooNewError, StoreRefusedError } from "../errors.ts";
import { type Migration, MIGRATIONS } from "../migrations.ts";

/** Another process (another server on the same `DATA_DIR`, most likely) holds the database. */
export class DatabaseInUseError extends StoreRefusedError {
  constructor(path: string, options?: ErrorOptions) {
    super(
      `The database ${path} is in use by another process: is another wa-gateway running on the ` +
        "same DATA_DIR? One server per DATA_DIR.",
      options,
    );
    this.name = "DatabaseInUseError";
  }
}

export function openDatabase(path: string, migrations: readonly Migration[] = MIGRATIONS) {
  const db = new DatabaseSync(path);
  // Before the first access: in WAL mode, exclusive locking also does without the -shm file.
  if (path !== ":memory:") db.exec("PRAGMA locking_mode = EXCLUSIVE");
  try {
    db.exec("PRAGMA journal_mode = WAL"); // The first access: it takes the lock.
  } catch (error) {
    db.close();
    if (/database is locked/.test(String(error))) {
      throw new DatabaseInUseError(path, { cause: error });
    }
    throw error;
  }
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  try {
    migrate(db, migrations, path);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function migrate(db: DatabaseSync, migrations: readonly Migration[], path: string): void {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  // By version, not by place in the list: versions may be merged in from branches out of order.
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  const newest = ordered.at(-1)?.version ?? 0;
  if (row.user_version > newest) throw new SchemaTooNewError(path, row.user_version, newest);
  for (const migration of ordered) {
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
