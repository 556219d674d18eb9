/**
 * @module
 * Saved logins on SQLite: the same rules as PostgreSQL's (`store/postgres/logins.ts`) on one
 * connection, where a statement is never interleaved with another node's take-over.
 */
import type { DatabaseSync } from "node:sqlite";
import { type LoginRow, toLogin } from "../rows.ts";
import type { LoginRepository } from "../store.ts";
import { promised, type Synchronous } from "./promised.ts";

export function createLoginRepository(db: DatabaseSync, now = Date.now): LoginRepository {
  const save = db.prepare(`
    INSERT INTO saved_logins (phone_number, owner_account_id, epoch, node_id, blob, size, saved_at)
    SELECT phone_number, owner_account_id, ?, ?, ?, ?, ? FROM sessions
    WHERE phone_number = ? AND epoch = ? AND (node_id = ? OR node_id IS NULL)
    ON CONFLICT (phone_number) DO UPDATE SET
      owner_account_id = excluded.owner_account_id,
      epoch = excluded.epoch,
      node_id = excluded.node_id,
      blob = excluded.blob,
      size = excluded.size,
      saved_at = excluded.saved_at
    WHERE saved_logins.epoch <= excluded.epoch
    RETURNING saved_at
  `);
  const get = db.prepare(`
    SELECT l.phone_number, l.epoch, l.node_id, l.blob, l.size, l.saved_at
    FROM saved_logins l JOIN sessions s ON s.phone_number = l.phone_number
    WHERE l.phone_number = ? AND s.owner_account_id IS l.owner_account_id
  `);
  const remove = db.prepare("DELETE FROM saved_logins WHERE phone_number = ?");
  const sync: Synchronous<LoginRepository> = {
    save(phoneNumber, { blob, size }, fence) {
      const row = save.get(
        fence.epoch,
        fence.nodeId,
        blob,
        size,
        now(),
        phoneNumber,
        fence.epoch,
        fence.nodeId,
      ) as { saved_at: number } | undefined;
      return row?.saved_at ?? null;
    },
    get(phoneNumber) {
      const row = get.get(phoneNumber) as LoginRow | undefined;
      return row ? toLogin(row) : null;
    },
    savedAt(phoneNumbers) {
      if (phoneNumbers.length === 0) return new Map();
      const rows = db.prepare(
        `SELECT phone_number, saved_at FROM saved_logins WHERE phone_number IN (${
          phoneNumbers.map(() => "?").join(", ")
        })`,
      ).all(...phoneNumbers) as { phone_number: string; saved_at: number }[];
      return new Map(rows.map((row) => [row.phone_number, row.saved_at]));
    },
    remove(phoneNumber) {
      remove.run(phoneNumber);
    },
  };
  return promised(sync);
}
