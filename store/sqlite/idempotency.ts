/**
 * @module
 * Idempotency keys on SQLite: the first answer to a request per principal and key. Each call is
 * one short transaction on the server's one connection (synchronous, so nothing runs inside it),
 * timed by this machine's clock, which is the database's clock of a single node.
 */
import type { DatabaseSync } from "node:sqlite";
import type { IdempotencyOutcome, IdempotencyRepository } from "../store.ts";
import { promised, type Synchronous } from "./promised.ts";

interface KeyRow {
  request_hash: string;
  status: number | null;
  response: string | null;
}

export function createIdempotencyRepository(
  db: DatabaseSync,
  now = Date.now,
): IdempotencyRepository {
  // A row past its time-to-live, or an unanswered one past `abandoned`, is replaced in place.
  const reserve = db.prepare(`
    INSERT INTO idempotency_keys (principal, key, request_hash, status, response, created_at)
    VALUES (?, ?, ?, NULL, NULL, ?)
    ON CONFLICT (principal, key) DO UPDATE SET
      request_hash = excluded.request_hash, status = NULL, response = NULL,
      created_at = excluded.created_at
    WHERE idempotency_keys.created_at < ?
      OR (idempotency_keys.status IS NULL AND idempotency_keys.created_at < ?)
  `);
  const read = db.prepare(
    "SELECT request_hash, status, response FROM idempotency_keys WHERE principal = ? AND key = ?",
  );
  const complete = db.prepare(`
    UPDATE idempotency_keys SET status = ?, response = ?
    WHERE principal = ? AND key = ? AND request_hash = ? AND status IS NULL
  `);
  const release = db.prepare(`
    DELETE FROM idempotency_keys
    WHERE principal = ? AND key = ? AND request_hash = ? AND status IS NULL
  `);
  const sweep = db.prepare("DELETE FROM idempotency_keys WHERE created_at < ?");

  const repository: Synchronous<IdempotencyRepository> = {
    begin(principal, key, requestHash, { ttlMs, abandonedMs }): IdempotencyOutcome {
      const at = now();
      const changed = reserve.run(principal, key, requestHash, at, at - ttlMs, at - abandonedMs);
      if (Number(changed.changes) > 0) return { kind: "reserved" };
      const row = read.get(principal, key) as KeyRow | undefined;
      // The statement above found the row and nothing deletes between two synchronous calls.
      if (!row || row.request_hash !== requestHash) return { kind: "mismatch" };
      if (row.status === null || row.response === null) return { kind: "in_flight" };
      return { kind: "done", status: row.status, response: row.response };
    },
    complete(principal, key, requestHash, { status, response }) {
      complete.run(status, response, principal, key, requestHash);
    },
    release(principal, key, requestHash) {
      release.run(principal, key, requestHash);
    },
    sweep(ttlMs) {
      return Number(sweep.run(now() - ttlMs).changes);
    },
  };
  return promised(repository);
}
