/**
 * @module
 * `deno task migrate-to-postgres`: moving a single node up to a cluster. It copies what a
 * `DATA_DIR`'s SQLite database holds into an empty PostgreSQL database (`DATABASE_URL`), so the
 * nodes started on it serve the same numbers: sessions with their owners, engines, started flags
 * and link times; webhooks; the events still retained, with their ids and their order; every
 * webhook delivery, the pending ones included (the nodes deliver them); idempotency keys; and the
 * generated admin key (`DATA_DIR/admin-api-key`), which every node then uses.
 *
 * It refuses, in one line and before writing anything, a database that already holds data (it
 * copies into an empty one only, so nothing is merged or overwritten) and a `DATA_DIR` whose
 * server still runs (the SQLite file is held open). Everything is copied in one transaction: a
 * failure leaves the database as empty as it was.
 *
 * The whatsapp-web.js logins (`DATA_DIR/sessions/<number>/auth`) go too, packed as the engine packs
 * them and sealed with the cluster's `AUTH_ENCRYPTION_KEY` (required when there are any), so the
 * nodes start those numbers without a new scan. They are read while nothing runs (the database is
 * held), so each is a login at rest.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import type postgres from "postgres";
import { loadStoreConfig } from "../config.ts";
import { StoreRefusedError } from "./errors.ts";
import { describeDatabase, openPostgresStore } from "./postgres/store.ts";
import { openDatabase } from "./sqlite/database.ts";
import { LINKED_MARKER, LOGIN_DIR, packLogin } from "../sessions/engines/wwebjs/login_archive.ts";
import { createLoginCipher } from "../sessions/login_cipher.ts";

type Tx = postgres.TransactionSql<Record<string, unknown>>;

/** How many of each the copy moved. */
export interface MigrationReport {
  sessions: number;
  webhooks: number;
  events: number;
  deliveries: number;
  pendingDeliveries: number;
  idempotencyKeys: number;
  adminKey: boolean;
  /** whatsapp-web.js logins carried over. */
  logins: number;
}

/** The tables that must be empty: the data of another install, or of nodes already running. */
const DATA_TABLES = [
  "sessions",
  "events",
  "webhook_deliveries",
  "webhooks",
  "generated_keys",
  "idempotency_keys",
  "saved_logins",
] as const;

/** Two copies into one database at once: the second waits, then finds it not empty. */
const COPY_LOCK = 0x7761636d; // "wacm"

/** Rows per insert statement (parameters stay well below PostgreSQL's limit). */
const CHUNK = 500;

/** Copies `dataDir`'s SQLite state into the empty PostgreSQL database at `databaseUrl`. */
export async function migrateToPostgres(
  options: { dataDir: string; databaseUrl: string; loginKey?: string },
): Promise<MigrationReport> {
  const file = join(options.dataDir, "wa-gateway.db");
  if (!existsSync(file)) {
    throw new StoreRefusedError(
      `There is no wa-gateway database in DATA_DIR "${options.dataDir}" (no wa-gateway.db): ` +
        "set DATA_DIR to the folder the server used",
    );
  }
  // Held exclusively: refused while the server runs (`DatabaseInUseError` says so).
  const db = openDatabase(file);
  try {
    const logins = await packLogins(db, options.dataDir, options.loginKey);
    const where = describeDatabase(options.databaseUrl);
    const store = await openPostgresStore(options.databaseUrl, { poolSize: 1 });
    try {
      return await store.sql.begin(async (tx) => {
        await tx.unsafe(`SELECT pg_advisory_xact_lock(${COPY_LOCK})`);
        for (const table of DATA_TABLES) {
          const [row] = await tx.unsafe(`SELECT EXISTS (SELECT 1 FROM ${table}) AS used`);
          if (row.used) {
            throw new StoreRefusedError(
              `The PostgreSQL database ${where} is not empty (table ${table} has rows): ` +
                "migrate-to-postgres copies into an empty database only",
            );
          }
        }
        return await copy(db, tx, options.dataDir, logins);
      });
    } finally {
      await store.close();
    }
  } finally {
    db.close();
  }
}

function rows<T>(db: DatabaseSync, query: string): T[] {
  return db.prepare(query).all() as unknown as T[];
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** The column of `items`, as an array parameter. */
function column<T, K extends keyof T>(items: readonly T[], key: K): T[K][] {
  return items.map((item) => item[key]);
}

/** Moves a table's id sequence past the ids copied, so new rows never collide with them. */
async function advance(tx: Tx, table: string, idColumn: string): Promise<void> {
  await tx.unsafe(
    `SELECT setval(pg_get_serial_sequence('${table}', '${idColumn}'),
       GREATEST((SELECT max(${idColumn}) FROM ${table}), 1))`,
  );
}

interface SessionRow {
  phone_number: string;
  engine: string;
  should_run: number;
  owner_account_id: string | null;
  created_at: number;
  updated_at: number;
  linked_at: number | null;
  settings: string;
}

interface WebhookRow {
  id: number;
  phone_number: string;
  url: string;
  events: string;
  secret: string | null;
  headers: string | null;
  created_at: number;
}

interface EventRow {
  seq: number;
  id: string;
  session: string;
  event: string;
  body: string;
  created_at: number;
}

interface DeliveryRow {
  id: number;
  event_seq: number;
  session: string;
  destination: string;
  lane: number;
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  last_status: number | null;
  created_at: number;
  updated_at: number;
}

interface KeyRow {
  principal: string;
  key: string;
  request_hash: string;
  status: number | null;
  response: string | null;
  created_at: number;
}

/** A number's login, packed and sealed. */
interface SealedLogin {
  phoneNumber: string;
  blob: Uint8Array;
  size: number;
}

/**
 * The logins of the numbers the database knows, sealed with `keyText`; refused, before anything
 * is written, when there are logins and no key to seal them with.
 */
async function packLogins(
  db: DatabaseSync,
  dataDir: string,
  keyText: string | undefined,
): Promise<SealedLogin[]> {
  const numbers = rows<{ phone_number: string }>(db, "SELECT phone_number FROM sessions");
  const archives: { phoneNumber: string; archive: Uint8Array }[] = [];
  for (const { phone_number: phoneNumber } of numbers) {
    const folder = join(dataDir, "sessions", phoneNumber, LOGIN_DIR);
    const archive = await packLogin(folder, LINKED_MARKER);
    if (archive) archives.push({ phoneNumber, archive });
  }
  if (archives.length === 0) return [];
  if (!keyText) {
    throw new StoreRefusedError(
      `DATA_DIR holds ${archives.length} whatsapp-web.js login(s): set AUTH_ENCRYPTION_KEY to ` +
        "the key the cluster's nodes will use, so they start those numbers without a new scan",
    );
  }
  const cipher = await createLoginCipher(keyText);
  return await Promise.all(archives.map(async ({ phoneNumber, archive }) => ({
    phoneNumber,
    blob: await cipher.seal(phoneNumber, archive),
    size: archive.length,
  })));
}

async function copy(
  db: DatabaseSync,
  tx: Tx,
  dataDir: string,
  logins: SealedLogin[],
): Promise<MigrationReport> {
  const sessions = rows<SessionRow>(db, "SELECT * FROM sessions ORDER BY created_at");
  for (const part of chunks(sessions)) {
    await tx`
      INSERT INTO sessions (phone_number, engine, should_run, owner_account_id, created_at,
        updated_at, linked_at, settings)
      SELECT t.phone_number, t.engine, t.should_run <> 0, t.owner_account_id, t.created_at,
        t.updated_at, t.linked_at, t.settings
      FROM unnest(
        ${column(part, "phone_number")}::text[], ${column(part, "engine")}::text[],
        ${column(part, "should_run")}::integer[],
        ${column(part, "owner_account_id")}::text[], ${column(part, "created_at")}::bigint[],
        ${column(part, "updated_at")}::bigint[], ${column(part, "linked_at")}::bigint[],
        ${column(part, "settings")}::text[]
      ) AS t(phone_number, engine, should_run, owner_account_id, created_at, updated_at, linked_at,
        settings)
    `;
  }

  const webhooks = rows<WebhookRow>(db, "SELECT * FROM webhooks ORDER BY id");
  for (const part of chunks(webhooks)) {
    await tx`
      INSERT INTO webhooks (id, phone_number, url, events, secret, headers, created_at)
      SELECT * FROM unnest(
        ${column(part, "id")}::bigint[], ${column(part, "phone_number")}::text[],
        ${column(part, "url")}::text[], ${column(part, "events")}::text[],
        ${column(part, "secret")}::text[], ${column(part, "headers")}::text[],
        ${column(part, "created_at")}::bigint[]
      )
    `;
  }
  await advance(tx, "webhooks", "id");

  // In the stream's order, keeping each event's `seq`: one transaction writes them all, so
  // they share its `txid` and the PostgreSQL cursor (txid, seq) keeps SQLite's order. A client
  // resuming with the `Last-Event-ID` it had gets what follows, as before.
  const events = rows<EventRow>(
    db,
    "SELECT seq, id, session, event, body, created_at FROM events ORDER BY seq",
  );
  for (const part of chunks(events)) {
    await tx`
      INSERT INTO events (seq, id, session, event, body, created_at)
      SELECT * FROM unnest(
        ${column(part, "seq")}::bigint[], ${column(part, "id")}::text[],
        ${column(part, "session")}::text[], ${column(part, "event")}::text[],
        ${column(part, "body")}::text[], ${column(part, "created_at")}::bigint[]
      ) AS t(seq, id, session, event, body, created_at)
      ORDER BY t.seq
    `;
  }
  await advance(tx, "events", "seq");

  const deliveries = rows<DeliveryRow>(
    db,
    `SELECT id, event_seq, session, destination, lane, status, attempts, next_attempt_at,
       last_error, last_status, created_at, updated_at
     FROM webhook_deliveries ORDER BY id`,
  );
  for (const part of chunks(deliveries)) {
    await tx`
      INSERT INTO webhook_deliveries (id, event_seq, session, destination, lane, status,
        attempts, next_attempt_at, last_error, last_status, created_at, updated_at)
      SELECT * FROM unnest(
        ${column(part, "id")}::bigint[], ${column(part, "event_seq")}::bigint[],
        ${column(part, "session")}::text[], ${column(part, "destination")}::text[],
        ${column(part, "lane")}::integer[],
        ${column(part, "status")}::text[], ${column(part, "attempts")}::integer[],
        ${column(part, "next_attempt_at")}::bigint[], ${column(part, "last_error")}::text[],
        ${column(part, "last_status")}::integer[], ${column(part, "created_at")}::bigint[],
        ${column(part, "updated_at")}::bigint[]
      )
    `;
  }
  await advance(tx, "webhook_deliveries", "id");

  const keys = rows<KeyRow>(db, "SELECT * FROM idempotency_keys");
  for (const part of chunks(keys)) {
    await tx`
      INSERT INTO idempotency_keys (principal, key, request_hash, status, response, created_at)
      SELECT * FROM unnest(
        ${column(part, "principal")}::text[], ${column(part, "key")}::text[],
        ${column(part, "request_hash")}::text[], ${column(part, "status")}::integer[],
        ${column(part, "response")}::text[], ${column(part, "created_at")}::bigint[]
      )
    `;
  }

  // Epoch 0: the first node that takes the number (epoch 1) finds it newer than no local login.
  for (const login of logins) {
    await tx`
      INSERT INTO saved_logins (phone_number, owner_account_id, epoch, node_id, blob, size,
        saved_at)
      SELECT phone_number, owner_account_id, 0, NULL, ${login.blob}, ${login.size}, wa_now_ms()
      FROM sessions WHERE phone_number = ${login.phoneNumber}
    `;
  }

  const adminKey = readAdminKey(dataDir);
  if (adminKey) {
    await tx`
      INSERT INTO generated_keys (name, value, created_at)
      VALUES ('admin_api_key', ${adminKey}, wa_now_ms())
    `;
  }

  return {
    sessions: sessions.length,
    webhooks: webhooks.length,
    events: events.length,
    deliveries: deliveries.length,
    pendingDeliveries: deliveries.filter((d) => d.status === "pending").length,
    idempotencyKeys: keys.length,
    adminKey: adminKey !== null,
    logins: logins.length,
  };
}

/** The admin key the single node generated, as `store/admin_key.ts` keeps it; null when none. */
function readAdminKey(dataDir: string): string | null {
  try {
    const key = Deno.readTextFileSync(join(dataDir, "admin-api-key")).trim();
    return key.length >= 32 ? key : null;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

async function main(): Promise<void> {
  let config;
  try {
    // Only where from and where to: the copy is not a node (no NODE_URL, no CLUSTER_SECRET).
    config = loadStoreConfig();
    if (!config.database.url) {
      throw new StoreRefusedError(
        "Set DATABASE_URL to the empty PostgreSQL database to copy DATA_DIR into",
      );
    }
    const report = await migrateToPostgres({
      dataDir: config.dataDir,
      databaseUrl: config.database.url,
      loginKey: Deno.env.get("AUTH_ENCRYPTION_KEY")?.trim() || undefined,
    });
    console.log(
      `Copied ${report.sessions} numbers, ${report.webhooks} webhooks, ${report.events} events, ` +
        `${report.deliveries} webhook deliveries (${report.pendingDeliveries} pending), ` +
        `${report.idempotencyKeys} idempotency keys, ${report.logins} whatsapp-web.js logins` +
        (report.adminKey ? " and the generated admin key" : "") +
        ` from ${config.dataDir} to ${describeDatabase(config.database.url)}`,
    );
  } catch (error) {
    // What an operator fixes (a wrong variable, a database in use or not empty): one line.
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}

if (import.meta.main) await main();
