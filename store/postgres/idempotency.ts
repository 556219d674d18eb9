/**
 * @module
 * Idempotency keys on PostgreSQL, shared by every node: a retry that reaches another node (after
 * a failover, or through another load balancer target) finds the first answer. Ages are judged by
 * the database's clock (`wa_now_ms()`). Reserving is one statement: an insert that, on the
 * principal's key, takes over only a row past its time-to-live or an abandoned reservation, so
 * two nodes reserving the same key at once cannot both win.
 */
import type postgres from "postgres";
import type { IdempotencyRepository } from "../store.ts";

type Sql = postgres.Sql<Record<string, unknown>>;

interface KeyRow {
  request_hash: string;
  status: number | null;
  response: string | null;
}

export function createIdempotencyRepository(sql: Sql): IdempotencyRepository {
  return {
    async begin(principal, key, requestHash, { ttlMs, abandonedMs }) {
      // The row may be released between the two statements: then reserve again.
      for (let round = 0; round < 3; round++) {
        const reserved = await sql`
          INSERT INTO idempotency_keys (principal, key, request_hash, status, response, created_at)
          VALUES (${principal}, ${key}, ${requestHash}, NULL, NULL, wa_now_ms())
          ON CONFLICT (principal, key) DO UPDATE SET
            request_hash = excluded.request_hash, status = NULL, response = NULL,
            created_at = excluded.created_at
          WHERE idempotency_keys.created_at < wa_now_ms() - ${ttlMs}::bigint
            OR (idempotency_keys.status IS NULL
              AND idempotency_keys.created_at < wa_now_ms() - ${abandonedMs}::bigint)
        `;
        if (reserved.count > 0) return { kind: "reserved" };
        const [row] = await sql<KeyRow[]>`
          SELECT request_hash, status, response FROM idempotency_keys
          WHERE principal = ${principal} AND key = ${key}
        `;
        if (!row) continue;
        if (row.request_hash !== requestHash) return { kind: "mismatch" };
        if (row.status === null || row.response === null) return { kind: "in_flight" };
        return { kind: "done", status: row.status, response: row.response };
      }
      // Released three times in a row by concurrent requests: another is serving it now.
      return { kind: "in_flight" };
    },
    async complete(principal, key, requestHash, { status, response }) {
      await sql`
        UPDATE idempotency_keys SET status = ${status}, response = ${response}
        WHERE principal = ${principal} AND key = ${key} AND request_hash = ${requestHash}
          AND status IS NULL
      `;
    },
    async release(principal, key, requestHash) {
      await sql`
        DELETE FROM idempotency_keys
        WHERE principal = ${principal} AND key = ${key} AND request_hash = ${requestHash}
          AND status IS NULL
      `;
    },
    async sweep(ttlMs) {
      const deleted = await sql`
        DELETE FROM idempotency_keys WHERE created_at < wa_now_ms() - ${ttlMs}::bigint
      `;
      return deleted.count;
    },
  };
}
