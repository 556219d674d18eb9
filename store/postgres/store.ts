/**
 * @module
 * The store on PostgreSQL (`DATABASE_URL`), the one shared part of a cluster: a pool of
 * `DATABASE_POOL_SIZE` connections (the `postgres` driver), the schema brought up to date at
 * open (`migrate.ts`), and the session repository, the outbox and the generated admin key on it.
 * A database that cannot be reached, or one a newer version migrated, refuses the open with one
 * line that names the database without its password.
 */
import postgres from "postgres";
import { generateAdminKey } from "../admin_key.ts";
import { StoreRefusedError } from "../errors.ts";
import type { Store } from "../store.ts";
import { createClusterRepository } from "./cluster.ts";
import { migrate } from "./migrate.ts";
import { POSTGRES_MIGRATIONS } from "./migrations.ts";
import { createListener, type Listener } from "./listener.ts";
import { createOutbox } from "./outbox.ts";
import { createSessionRepository } from "./sessions.ts";
import { createIdempotencyRepository } from "./idempotency.ts";
import { createLoginRepository } from "./logins.ts";
import { translateErrors } from "./unavailable.ts";

export interface PostgresStore extends Store {
  readonly kind: "postgres";
  /** The pool, for tests and tools that look inside. */
  sql: postgres.Sql<Record<string, unknown>>;
  /** The schema version the database is at. */
  schemaVersion: number;
  /** The node's one `LISTEN` connection (opened on first use), for every part woken by NOTIFY. */
  listener: Listener;
}

export interface PostgresOptions {
  /** `DATABASE_POOL_SIZE`: connections the pool opens at most. */
  poolSize: number;
  /** Seconds to wait for a connection (default 10). */
  connectTimeoutS?: number;
}

/** The row of `generated_keys` holding the admin key. */
const ADMIN_KEY = "admin_api_key";

/** The URL without its password (and query), to name the database in messages and logs. */
export function describeDatabase(url: string): string {
  try {
    const parsed = new URL(url);
    const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : "";
    return `${parsed.protocol}//${user}${parsed.host}${parsed.pathname}`;
  } catch {
    return "DATABASE_URL";
  }
}

/** Opens the pool, migrates the schema and returns the store; refuses what an operator fixes. */
export async function openPostgresStore(
  url: string,
  options: PostgresOptions,
): Promise<PostgresStore> {
  const where = describeDatabase(url);
  const sql = postgres(url, {
    max: options.poolSize,
    connect_timeout: options.connectTimeoutS ?? 10,
    onnotice: () => {},
    connection: { application_name: "wa-gateway" },
    // Counts, ids and Unix-ms times are int8: all below 2^53, read as numbers.
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (value: number) => String(value),
        parse: (value: string) => Number(value),
      },
    },
  }) as unknown as postgres.Sql<Record<string, unknown>>;
  let schemaVersion: number;
  try {
    schemaVersion = await migrate(sql, POSTGRES_MIGRATIONS, where);
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => {});
    if (error instanceof StoreRefusedError) throw error;
    const message = (error as Error)?.message ?? String(error);
    throw new StoreRefusedError(`Cannot open the PostgreSQL database ${where}: ${message}`, {
      cause: error,
    });
  }
  const listener = createListener(url, { connectTimeoutS: options.connectTimeoutS });
  // A database that goes away while serving: its callers see `StoreUnavailableError` (503).
  const store: PostgresStore = {
    kind: "postgres",
    sql,
    schemaVersion,
    listener,
    sessions: translateErrors(createSessionRepository(sql)),
    outbox: translateErrors(createOutbox(sql, listener)),
    idempotency: translateErrors(createIdempotencyRepository(sql)),
    logins: translateErrors(createLoginRepository(sql)),
    cluster: translateErrors(createClusterRepository(sql)),
    async adminKey() {
      const location = `the generated_keys table of ${where}`;
      const fresh = generateAdminKey();
      // The first node to start keeps its key; every other one reads it.
      const inserted = await sql`
        INSERT INTO generated_keys (name, value, created_at)
        VALUES (${ADMIN_KEY}, ${fresh}, wa_now_ms())
        ON CONFLICT (name) DO NOTHING
      `;
      if (inserted.count > 0) return { key: fresh, generated: true, location };
      const [row] = await sql<{ value: string }[]>`
        SELECT value FROM generated_keys WHERE name = ${ADMIN_KEY}
      `;
      return { key: row.value, generated: false, location };
    },
    async now() {
      const [row] = await sql<{ now: number }[]>`SELECT wa_now_ms() AS now`;
      return row.now;
    },
    async close() {
      await listener.close();
      await sql.end({ timeout: 5 });
    },
  };
  const { adminKey, now } = translateErrors({ adminKey: store.adminKey, now: store.now });
  return { ...store, adminKey, now };
}
