/**
 * @module
 * Saved logins on PostgreSQL. A save reads the number's lease row `FOR SHARE` in the statement
 * that writes: a take-over in progress (which updates that row) makes it wait and then find the
 * lease stale, so a save can never land under a lease that was superseded while it ran.
 */
import type postgres from "postgres";
import { type LoginRow, toLogin } from "../rows.ts";
import type { LoginRepository } from "../store.ts";

type Sql = postgres.Sql<Record<string, unknown>>;

export function createLoginRepository(sql: Sql): LoginRepository {
  return {
    async save(phoneNumber, { blob, size }, fence) {
      const [row] = await sql<{ saved_at: number }[]>`
        WITH lease AS (
          SELECT phone_number, owner_account_id FROM sessions
          WHERE phone_number = ${phoneNumber} AND epoch = ${fence.epoch}
            AND (node_id = ${fence.nodeId} OR node_id IS NULL)
          FOR SHARE
        )
        INSERT INTO saved_logins (phone_number, owner_account_id, epoch, node_id, blob, size,
          saved_at)
        SELECT phone_number, owner_account_id, ${fence.epoch}, ${fence.nodeId}, ${blob}, ${size},
          wa_now_ms()
        FROM lease
        ON CONFLICT (phone_number) DO UPDATE SET
          owner_account_id = excluded.owner_account_id,
          epoch = excluded.epoch,
          node_id = excluded.node_id,
          blob = excluded.blob,
          size = excluded.size,
          saved_at = excluded.saved_at
        WHERE saved_logins.epoch <= excluded.epoch
        RETURNING saved_at
      `;
      return row?.saved_at ?? null;
    },
    async get(phoneNumber) {
      const [row] = await sql<LoginRow[]>`
        SELECT l.phone_number, l.epoch, l.node_id, l.blob, l.size, l.saved_at
        FROM saved_logins l JOIN sessions s ON s.phone_number = l.phone_number
        WHERE l.phone_number = ${phoneNumber}
          AND s.owner_account_id IS NOT DISTINCT FROM l.owner_account_id
      `;
      return row ? toLogin(row) : null;
    },
    async savedAt(phoneNumbers) {
      if (phoneNumbers.length === 0) return new Map();
      const rows = await sql<{ phone_number: string; saved_at: number }[]>`
        SELECT phone_number, saved_at FROM saved_logins
        WHERE phone_number = ANY(${phoneNumbers}::text[])
      `;
      return new Map(rows.map((row) => [row.phone_number, row.saved_at]));
    },
    async remove(phoneNumber) {
      await sql`DELETE FROM saved_logins WHERE phone_number = ${phoneNumber}`;
    },
  };
}
