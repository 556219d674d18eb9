/**
 * @module
 * The session repository on SQLite: one row per number (engine, started flag, owner, first link).
 * Every route of a number reads its record, so reads go through a cache that this repository's
 * own writes keep exact (it is the only writer of the record's columns: one server per
 * `DATA_DIR`; the cluster repository writes only the lease columns, which records do not carry).
 */
import type { DatabaseSync } from "node:sqlite";
import { type SessionRow, toRecord } from "../rows.ts";
import type { ClaimOutcome, SessionRecord, SessionRepository } from "../store.ts";
import { promised, type Synchronous } from "./promised.ts";

export function createSessionRepository(db: DatabaseSync, now = Date.now): SessionRepository {
  const byPhone = db.prepare("SELECT * FROM sessions WHERE phone_number = ?");
  const all = db.prepare("SELECT * FROM sessions ORDER BY created_at, phone_number");
  const byOwner = db.prepare(
    "SELECT * FROM sessions WHERE owner_account_id = ? ORDER BY created_at, phone_number",
  );
  const upsert = db.prepare(`
    INSERT INTO sessions (phone_number, engine, should_run, owner_account_id, created_at, updated_at)
    VALUES (?, ?, 0, ?, ?, ?)
    ON CONFLICT (phone_number) DO UPDATE SET
      engine = excluded.engine,
      owner_account_id = COALESCE(sessions.owner_account_id, excluded.owner_account_id),
      updated_at = excluded.updated_at
  `);
  const shouldRun = db.prepare(
    "UPDATE sessions SET should_run = ?, updated_at = ? WHERE phone_number = ?",
  );
  // A session's own writes carry its lease (`Fence`): refused once another node took the number.
  const FENCE = "AND epoch = ? AND (node_id = ? OR node_id IS NULL)";
  const shouldRunFenced = db.prepare(
    `UPDATE sessions SET should_run = ?, updated_at = ? WHERE phone_number = ? ${FENCE}`,
  );
  const settings = db.prepare(
    "UPDATE sessions SET settings = ?, updated_at = ? WHERE phone_number = ?",
  );
  const countOwner = db.prepare(
    "SELECT COUNT(*) AS n FROM sessions WHERE owner_account_id = ?",
  );
  const remove = db.prepare("DELETE FROM sessions WHERE phone_number = ?");
  const linked = db.prepare(
    "UPDATE sessions SET linked_at = ? WHERE phone_number = ? AND linked_at IS NULL",
  );
  const linkedFenced = db.prepare(
    `UPDATE sessions SET linked_at = ? WHERE phone_number = ? AND linked_at IS NULL ${FENCE}`,
  );
  const unlinkedClaims = db.prepare(`
    SELECT * FROM sessions WHERE owner_account_id IS NOT NULL AND linked_at IS NULL
    ORDER BY created_at, phone_number
  `);
  const releaseClaim = db.prepare(`
    DELETE FROM sessions WHERE phone_number = ? AND owner_account_id IS NOT NULL
      AND linked_at IS NULL AND created_at <= ?
  `);

  // Every route of a number reads its record (ownership, state); this repository is the table's
  // only writer, so a read-through cache that its own writes clear is exact.
  // Only existing numbers are cached, so lookups of unknown ones cannot grow it.
  const cache = new Map<string, SessionRecord>();
  const read = (phoneNumber: string): SessionRecord | null => {
    let record = cache.get(phoneNumber);
    if (!record) {
      const row = byPhone.get(phoneNumber) as SessionRow | undefined;
      if (!row) return null;
      record = toRecord(row);
      cache.set(phoneNumber, record);
    }
    return { ...record };
  };

  function claimOutcome(phoneNumber: string, ownerAccountId: string, max: number): ClaimOutcome {
    const row = byPhone.get(phoneNumber) as SessionRow | undefined;
    if (row?.owner_account_id === ownerAccountId) return "owned";
    if (row?.owner_account_id) return "taken";
    // Started by the admin (no owner): taking it would hand over a linked account and its
    // history. The admin frees a number with DELETE.
    if (row) return "admin";
    if ((countOwner.get(ownerAccountId) as { n: number }).n >= max) return "limit";
    return "claimed";
  }

  const repository: Synchronous<SessionRepository> = {
    get: read,
    list(filter = {}) {
      const rows = filter.ownerAccountId === undefined
        ? all.all()
        : byOwner.all(filter.ownerAccountId);
      return (rows as unknown as SessionRow[]).map(toRecord);
    },
    save({ phoneNumber, engine, ownerAccountId = null }) {
      const at = now();
      cache.delete(phoneNumber);
      upsert.run(phoneNumber, engine, ownerAccountId, at, at);
      return read(phoneNumber)!;
    },
    setShouldRun(phoneNumber, run, fence) {
      cache.delete(phoneNumber);
      if (fence) shouldRunFenced.run(run ? 1 : 0, now(), phoneNumber, fence.epoch, fence.nodeId);
      else shouldRun.run(run ? 1 : 0, now(), phoneNumber);
    },
    setSettings(phoneNumber, value) {
      cache.delete(phoneNumber);
      settings.run(JSON.stringify(value), now(), phoneNumber);
    },
    markLinked(phoneNumber, fence) {
      // Most links are reconnects of a number that linked long ago: no write, no cache drop.
      if (read(phoneNumber)?.linkedAt !== null) return;
      cache.delete(phoneNumber);
      if (fence) linkedFenced.run(now(), phoneNumber, fence.epoch, fence.nodeId);
      else linked.run(now(), phoneNumber);
    },
    listUnlinkedClaims() {
      return (unlinkedClaims.all() as unknown as SessionRow[]).map(toRecord);
    },
    releaseUnlinkedClaim(phoneNumber, createdBefore) {
      cache.delete(phoneNumber);
      return Number(releaseClaim.run(phoneNumber, createdBefore).changes) > 0;
    },
    countOwnedBy(ownerAccountId) {
      return (countOwner.get(ownerAccountId) as { n: number }).n;
    },
    claim(phoneNumber, { engine, ownerAccountId, max }) {
      cache.delete(phoneNumber);
      db.exec("BEGIN IMMEDIATE");
      try {
        const outcome = claimOutcome(phoneNumber, ownerAccountId, max);
        if (outcome === "claimed") {
          const at = now();
          upsert.run(phoneNumber, engine, ownerAccountId, at, at);
        }
        db.exec("COMMIT");
        return outcome;
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      } finally {
        cache.delete(phoneNumber);
      }
    },
    previewClaim(phoneNumber, { ownerAccountId, max }) {
      return claimOutcome(phoneNumber, ownerAccountId, max);
    },
    delete(phoneNumber) {
      cache.delete(phoneNumber);
      remove.run(phoneNumber);
    },
  };
  return promised(repository);
}
