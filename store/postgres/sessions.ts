/**
 * @module
 * The session repository on PostgreSQL. No cache: other nodes write the same rows, so every read
 * asks the database (the guard's ownership read is one indexed lookup). Times are stamped by the
 * database's clock. Claims of one account are serialised with a transaction-level advisory lock
 * on the account, so concurrent claims on any nodes cannot pass its limit together, and two
 * accounts claiming one number meet on its primary key.
 */
import type postgres from "postgres";
import { type SessionRow, toRecord } from "../rows.ts";
import type { ClaimOutcome, Fence, SessionRepository } from "../store.ts";

type Sql = postgres.Sql<Record<string, unknown>>;
type Tx = postgres.TransactionSql<Record<string, unknown>>;

export function createSessionRepository(sql: Sql): SessionRepository {
  /** The fencing condition of a write a session made (`Fence`), or nothing for a caller's. */
  const fenced = (fence: Fence | null | undefined) =>
    fence
      ? sql`AND epoch = ${fence.epoch} AND (node_id = ${fence.nodeId} OR node_id IS NULL)`
      : sql``;

  async function outcome(
    tx: Sql | Tx,
    phoneNumber: string,
    ownerAccountId: string,
    max: number,
  ): Promise<ClaimOutcome> {
    const [row] = await tx<{ owner_account_id: string | null }[]>`
      SELECT owner_account_id FROM sessions WHERE phone_number = ${phoneNumber}
    `;
    if (row?.owner_account_id === ownerAccountId) return "owned";
    if (row?.owner_account_id) return "taken";
    // Started by the admin (no owner): taking it would hand over a linked account and its
    // history. The admin frees a number with DELETE.
    if (row) return "admin";
    const [{ n }] = await tx<{ n: number }[]>`
      SELECT count(*) AS n FROM sessions WHERE owner_account_id = ${ownerAccountId}
    `;
    return n >= max ? "limit" : "claimed";
  }

  return {
    async get(phoneNumber) {
      const [row] = await sql<SessionRow[]>`
        SELECT * FROM sessions WHERE phone_number = ${phoneNumber}
      `;
      return row ? toRecord(row) : null;
    },
    async list(filter = {}) {
      const rows = filter.ownerAccountId === undefined
        ? await sql<SessionRow[]>`SELECT * FROM sessions ORDER BY created_at, phone_number`
        : await sql<SessionRow[]>`
          SELECT * FROM sessions WHERE owner_account_id = ${filter.ownerAccountId}
          ORDER BY created_at, phone_number
        `;
      return rows.map(toRecord);
    },
    async save({ phoneNumber, engine, ownerAccountId = null }) {
      const [row] = await sql<SessionRow[]>`
        INSERT INTO sessions (phone_number, engine, should_run, owner_account_id, created_at,
          updated_at)
        VALUES (${phoneNumber}, ${engine}, false, ${ownerAccountId}, wa_now_ms(), wa_now_ms())
        ON CONFLICT (phone_number) DO UPDATE SET
          engine = excluded.engine,
          owner_account_id = COALESCE(sessions.owner_account_id, excluded.owner_account_id),
          updated_at = excluded.updated_at
        RETURNING *
      `;
      return toRecord(row);
    },
    async setShouldRun(phoneNumber, shouldRun, fence) {
      await sql`
        UPDATE sessions SET should_run = ${shouldRun}, updated_at = wa_now_ms()
        WHERE phone_number = ${phoneNumber} ${fenced(fence)}
      `;
    },
    async setSettings(phoneNumber, settings) {
      await sql`
        UPDATE sessions SET settings = ${JSON.stringify(settings)}, updated_at = wa_now_ms()
        WHERE phone_number = ${phoneNumber}
      `;
    },
    async markLinked(phoneNumber, fence) {
      await sql`
        UPDATE sessions SET linked_at = wa_now_ms()
        WHERE phone_number = ${phoneNumber} AND linked_at IS NULL ${fenced(fence)}
      `;
    },
    async listUnlinkedClaims() {
      const rows = await sql<SessionRow[]>`
        SELECT * FROM sessions WHERE owner_account_id IS NOT NULL AND linked_at IS NULL
        ORDER BY created_at, phone_number
      `;
      return rows.map(toRecord);
    },
    async releaseUnlinkedClaim(phoneNumber, createdBefore) {
      const deleted = await sql`
        DELETE FROM sessions WHERE phone_number = ${phoneNumber}
          AND owner_account_id IS NOT NULL AND linked_at IS NULL AND created_at <= ${createdBefore}
      `;
      return deleted.count > 0;
    },
    async countOwnedBy(ownerAccountId) {
      const [{ n }] = await sql<{ n: number }[]>`
        SELECT count(*) AS n FROM sessions WHERE owner_account_id = ${ownerAccountId}
      `;
      return n;
    },
    async claim(phoneNumber, { engine, ownerAccountId, max }) {
      return await sql.begin(async (tx) => {
        // One claim of the account at a time, on every node: the count below stays true until
        // this transaction ends.
        await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`claim:${ownerAccountId}`}, 0))`;
        // Another account may create the row between the read and the insert: the insert then
        // does nothing and the row is read again (a few rounds at most).
        for (let round = 0; round < 3; round++) {
          const found = await outcome(tx, phoneNumber, ownerAccountId, max);
          if (found !== "claimed") return found;
          const inserted = await tx`
            INSERT INTO sessions (phone_number, engine, should_run, owner_account_id, created_at,
              updated_at)
            VALUES (${phoneNumber}, ${engine}, false, ${ownerAccountId}, wa_now_ms(), wa_now_ms())
            ON CONFLICT (phone_number) DO NOTHING
          `;
          if (inserted.count > 0) return "claimed";
        }
        return "taken";
      });
    },
    previewClaim(phoneNumber, { ownerAccountId, max }) {
      return outcome(sql, phoneNumber, ownerAccountId, max);
    },
    async delete(phoneNumber) {
      await sql`DELETE FROM sessions WHERE phone_number = ${phoneNumber}`;
    },
  };
}
