/**
 * @module
 * The store's repository interfaces and the SQLite implementation behind them. Everything else
 * talks to these interfaces, so another backend (Postgres) can be added without touching callers.
 */
import type { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { openDatabase } from "./sqlite.ts";

export interface SessionRecord {
  phoneNumber: string;
  engine: string;
  /** Started and not stopped: bring it back when the server boots. */
  shouldRun: boolean;
  ownerAccountId: string | null;
  /** Unix milliseconds. */
  createdAt: number;
  updatedAt: number;
  /** When a phone of this number first linked (Unix ms); null while it never has. */
  linkedAt: number | null;
}

/**
 * `claimed`: the number is now the account's; `owned`: it already was; `taken`: another account
 * owns it; `admin`: the admin started it without an owner; `limit`: the account owns enough.
 */
export type ClaimOutcome = "claimed" | "owned" | "taken" | "admin" | "limit";

export interface SessionRepository {
  get(phoneNumber: string): SessionRecord | null;
  list(filter?: { ownerAccountId?: string }): SessionRecord[];
  /** Creates the session, or updates its engine; keeps an existing owner. */
  save(
    input: { phoneNumber: string; engine: string; ownerAccountId?: string | null },
  ): SessionRecord;
  setShouldRun(phoneNumber: string, shouldRun: boolean): void;
  /** Records that the number's own phone linked (the first time only). */
  markLinked(phoneNumber: string): void;
  /** The accounts' claims whose number never linked, oldest first (the admin's are not claims). */
  listUnlinkedClaims(): SessionRecord[];
  /**
   * Deletes the number if it is still an account's claim that never linked and was made at or
   * before `createdBefore` (Unix ms); true when it did.
   */
  releaseUnlinkedClaim(phoneNumber: string, createdBefore: number): boolean;
  countOwnedBy(ownerAccountId: string): number;
  /**
   * Atomically gives an unowned number to an account, unless the account already owns `max`
   * numbers. `owned`: it was already this account's; `taken`: another account owns it.
   */
  claim(
    phoneNumber: string,
    input: { engine: string; ownerAccountId: string; max: number },
  ): ClaimOutcome;
  /** What `claim` would answer now, writing nothing (`claimed`: it would be claimed). */
  previewClaim(phoneNumber: string, input: { ownerAccountId: string; max: number }): ClaimOutcome;
  delete(phoneNumber: string): void;
}

export interface Store {
  sessions: SessionRepository;
  /** The underlying database, for repositories added by other parts (events, keys). */
  db: DatabaseSync;
  close(): void;
}

interface SessionRow {
  phone_number: string;
  engine: string;
  should_run: number;
  owner_account_id: string | null;
  created_at: number;
  updated_at: number;
  linked_at: number | null;
}

function toRecord(row: SessionRow): SessionRecord {
  return {
    phoneNumber: row.phone_number,
    engine: row.engine,
    shouldRun: row.should_run === 1,
    ownerAccountId: row.owner_account_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    linkedAt: row.linked_at,
  };
}

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
  const countOwner = db.prepare(
    "SELECT COUNT(*) AS n FROM sessions WHERE owner_account_id = ?",
  );
  const remove = db.prepare("DELETE FROM sessions WHERE phone_number = ?");
  const linked = db.prepare(
    "UPDATE sessions SET linked_at = ? WHERE phone_number = ? AND linked_at IS NULL",
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

  return {
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
    setShouldRun(phoneNumber, run) {
      cache.delete(phoneNumber);
      shouldRun.run(run ? 1 : 0, now(), phoneNumber);
    },
    markLinked(phoneNumber) {
      // Most links are reconnects of a number that linked long ago: no write, no cache drop.
      if (read(phoneNumber)?.linkedAt !== null) return;
      cache.delete(phoneNumber);
      linked.run(now(), phoneNumber);
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
}

/** Opens the SQLite store at `<dataDir>/wa-gateway.db` (`:memory:` for a throwaway one). */
export function openStore(dataDir: string | ":memory:"): Store {
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
  return {
    sessions: createSessionRepository(db),
    db,
    close() {
      if (db.isOpen) db.close();
    },
  };
}
