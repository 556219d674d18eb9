/**
 * @module
 * The SQLite store's schema, as numbered migrations applied in order of their version. The
 * database remembers the last one it applied in `PRAGMA user_version`; append new migrations,
 * never edit an applied one. PostgreSQL's are in `store/postgres/migrations.ts`, numbered on their
 * own: a change to the schema goes into both lists.
 *
 * The rule for both, so that two versions of the server can run on one database during a rolling
 * upgrade: migrations are additive ("expand now, contract later"). A migration may add tables,
 * columns (nullable or with a default), indexes; it does not drop, rename or retype anything the
 * previous release still reads or writes, nor add a constraint its writes would break. What
 * becomes unused is dropped in a later release, once no running version uses it. A server refuses
 * to start against a database whose version is newer than the newest migration it knows.
 */

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "sessions",
    sql: `
      CREATE TABLE sessions (
        phone_number TEXT PRIMARY KEY,
        engine TEXT NOT NULL,
        should_run INTEGER NOT NULL DEFAULT 0,
        owner_account_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX sessions_owner ON sessions (owner_account_id);
    `,
  },
  {
    version: 2,
    description: "events outbox, webhook deliveries and per-number webhooks",
    sql: `
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        session TEXT NOT NULL,
        event TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX events_session_seq ON events (session, seq);
      CREATE INDEX events_created ON events (created_at);
      CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_seq INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
        session TEXT NOT NULL,
        destination TEXT NOT NULL,
        url TEXT NOT NULL,
        secret TEXT,
        headers TEXT,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        last_status INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (destination, status, id);
      CREATE INDEX webhook_deliveries_session ON webhook_deliveries (session, status, id);
      CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_seq);
      CREATE TABLE webhooks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        phone_number TEXT NOT NULL,
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        secret TEXT,
        headers TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX webhooks_phone ON webhooks (phone_number);
    `,
  },
  {
    version: 3,
    description: "webhook deliveries name their destination; URL, secret and headers stay NULL",
    // Deliveries stop copying the webhook's URL, secret and headers: the dispatcher looks the
    // destination up at each attempt. SQLite cannot drop `url`'s NOT NULL in place, so the table
    // is rebuilt with the same columns, the three now nullable (expand: nothing is dropped, so
    // statements of the old code still run; a later migration drops them). The copies already
    // written become NULL: nothing reads them any more, and they hold stale secrets and most of
    // the table's bytes. The AUTOINCREMENT counter carries over: no delivery id is handed out twice.
    sql: `
      CREATE TABLE webhook_deliveries_v3 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_seq INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
        session TEXT NOT NULL,
        destination TEXT NOT NULL,
        url TEXT,
        secret TEXT,
        headers TEXT,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        last_status INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      INSERT INTO webhook_deliveries_v3 (id, event_seq, session, destination, status, attempts,
        next_attempt_at, last_error, last_status, created_at, updated_at)
      SELECT id, event_seq, session, destination, status, attempts, next_attempt_at, last_error,
        last_status, created_at, updated_at
      FROM webhook_deliveries;
      DELETE FROM sqlite_sequence WHERE name = 'webhook_deliveries_v3';
      INSERT INTO sqlite_sequence (name, seq)
        SELECT 'webhook_deliveries_v3', seq FROM sqlite_sequence WHERE name = 'webhook_deliveries';
      DROP TABLE webhook_deliveries;
      ALTER TABLE webhook_deliveries_v3 RENAME TO webhook_deliveries;
      CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (destination, status, id);
      CREATE INDEX webhook_deliveries_session ON webhook_deliveries (session, status, id);
      CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_seq);
    `,
  },
  {
    version: 4,
    description: "when a session's number first linked (claims that never link expire)",
    // Sessions from before this version count as linked: whether their phone ever linked is not
    // known, and releasing them could hand a working login's number to another account. The
    // number check still applies to them at their next link.
    sql: `
      ALTER TABLE sessions ADD COLUMN linked_at INTEGER;
      UPDATE sessions SET linked_at = updated_at;
    `,
  },
  {
    version: 5,
    description: "the cluster's columns and tables, as on PostgreSQL (one node uses them too)",
    // The same as PostgreSQL's version 2 (see there): one store interface reads the same rows
    // from both. A single node holds every lease itself; idempotent requests work alike.
    sql: `
      ALTER TABLE sessions ADD COLUMN node_id TEXT;
      ALTER TABLE sessions ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sessions ADD COLUMN lease_until INTEGER;
      ALTER TABLE sessions ADD COLUMN placed_node TEXT;
      CREATE INDEX sessions_node ON sessions (node_id);
      CREATE TABLE nodes (
        id TEXT PRIMARY KEY,
        url TEXT,
        role TEXT NOT NULL,
        capacity INTEGER NOT NULL,
        sessions INTEGER NOT NULL DEFAULT 0,
        draining INTEGER NOT NULL DEFAULT 0,
        version TEXT,
        started_at INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL
      );
      CREATE TABLE idempotency_keys (
        principal TEXT NOT NULL,
        key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        status INTEGER,
        response TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (principal, key)
      );
      CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
      CREATE TABLE webhook_destinations (
        destination TEXT PRIMARY KEY,
        node_id TEXT,
        lease_until INTEGER
      );
    `,
  },
  {
    version: 6,
    description: "until when a node counts as live (its heartbeat plus the lease TTL)",
    // As PostgreSQL's version 3: each node writes its own deadline, so readers need no TTL.
    sql: `ALTER TABLE nodes ADD COLUMN live_until INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    version: 7,
    description: "saved whatsapp-web.js logins, sealed, one per number",
    // As PostgreSQL's version 4 (one store interface); a single node does not use it yet.
    sql: `
      CREATE TABLE saved_logins (
        phone_number TEXT PRIMARY KEY,
        owner_account_id TEXT,
        epoch INTEGER NOT NULL,
        node_id TEXT,
        blob BLOB NOT NULL,
        size INTEGER NOT NULL,
        saved_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 8,
    description: "a number's own settings (its proxy, calls), as JSON",
    sql: `ALTER TABLE sessions ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';`,
  },
  {
    version: 9,
    description: "webhook deliveries in lanes: a destination serves its lanes side by side",
    // As PostgreSQL's version 6. Deliveries queued before it are all in lane 0, so they keep
    // their order, and a number's next ones join them there (`events/outbox.ts`); a release
    // without lanes writes 0 and serves a destination in id order, as before. The index holds
    // pending rows only: a lane's head is read per attempt, delivered rows leave it.
    sql: `
      ALTER TABLE webhook_deliveries ADD COLUMN lane INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX webhook_deliveries_lane ON webhook_deliveries (destination, lane, id)
        WHERE status = 'pending';
    `,
  },
];
