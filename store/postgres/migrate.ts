/**
 * @module
 * Brings a PostgreSQL database's schema up to date at start. Every node runs this when it opens
 * the store, so several starting at once serialise on a transaction-level advisory lock: the
 * first applies what is missing, the others find it done. The applied versions are recorded in
 * `schema_version`; a database whose newest is beyond what this version knows is refused
 * (`SchemaTooNewError`), so an older node never runs against a schema it might misread.
 */
import type postgres from "postgres";
import { SchemaTooNewError } from "../errors.ts";
import type { Migration } from "../migrations.ts";

/** The advisory lock key of schema migrations ("wagm" in ASCII, an arbitrary constant). */
export const MIGRATION_LOCK = 0x7761676d;

/**
 * Applies the missing migrations in one transaction under the lock; returns the schema version.
 * `where` names the database (without credentials) in the refusal.
 */
export async function migrate(
  sql: postgres.Sql<Record<string, unknown>>,
  migrations: readonly Migration[],
  where: string,
): Promise<number> {
  // By version, not by place in the list: versions may be merged in from branches out of order.
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  const newest = ordered.at(-1)?.version ?? 0;
  return await sql.begin(async (tx) => {
    await tx.unsafe(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx`
      CREATE TABLE IF NOT EXISTS schema_version (
        version integer PRIMARY KEY,
        description text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )
    `;
    const [{ version }] = await tx<{ version: number }[]>`
      SELECT coalesce(max(version), 0) AS version FROM schema_version
    `;
    if (version > newest) throw new SchemaTooNewError(where, version, newest);
    for (const migration of ordered) {
      if (migration.version <= version) continue;
      try {
        await tx.unsafe(migration.sql);
      } catch (error) {
        throw new Error(
          `Migration ${migration.version} ("${migration.description}") failed: ${
            (error as Error).message
          }`,
          { cause: error },
        );
      }
      await tx`
        INSERT INTO schema_version (version, description)
        VALUES (${migration.version}, ${migration.description})
      `;
    }
    return Math.max(version, newest);
  });
}
