/**
 * @module
 * The PostgreSQL store's schema, as numbered migrations (numbered on their own: SQLite's are in
 * `store/migrations.ts`, whose header states the rule both follow: additive only, expand now and
 * contract in a later release, never edit an applied one). The database records each applied
 * version in `schema_version`; `migrate.ts` applies the missing ones at start, several nodes
 * serialised by an advisory lock.
 *
 * Version 1 holds everything SQLite holds at its version 4. Times are Unix milliseconds of the
 * database's clock (`wa_now_ms()`), as in SQLite, so records read the same from both stores.
 * The `sessions` table is where the cluster's ownership will go (`node_id`, `epoch`,
 * `lease_until`: added columns), and every write the outbox makes is one statement or one
 * transaction that a fencing condition can be added to.
 */
import type { Migration } from "../migrations.ts";

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "sessions, events outbox, webhook deliveries, webhooks, generated keys",
    // `events`: the stream's cursor is (txid, seq). `seq` alone is not commit order with several
    // writers (a lower number can commit after a higher one was read, and a reader that resumed
    // past it would never see it); `txid` is the writing transaction's id, and readers only read
    // rows of transactions older than every one still open (`pg_snapshot_xmin`), so nothing can
    // commit behind a cursor (`outbox.ts`).
    sql: `
      CREATE FUNCTION wa_now_ms() RETURNS bigint LANGUAGE sql STABLE
        AS $$ SELECT floor(extract(epoch FROM now()) * 1000)::bigint $$;

      CREATE TABLE sessions (
        phone_number text PRIMARY KEY,
        engine text NOT NULL,
        should_run boolean NOT NULL DEFAULT false,
        owner_account_id text,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        linked_at bigint
      );
      CREATE INDEX sessions_owner ON sessions (owner_account_id);

      CREATE TABLE events (
        seq bigserial PRIMARY KEY,
        txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
        id text NOT NULL UNIQUE,
        session text NOT NULL,
        event text NOT NULL,
        body text NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE INDEX events_session_cursor ON events (session, txid, seq);
      CREATE INDEX events_created ON events (created_at);

      CREATE TABLE webhook_deliveries (
        id bigserial PRIMARY KEY,
        event_seq bigint NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
        session text NOT NULL,
        destination text NOT NULL,
        status text NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at bigint NOT NULL,
        last_error text,
        last_status integer,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
      );
      CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (destination, status, id);
      CREATE INDEX webhook_deliveries_session ON webhook_deliveries (session, status, id);
      CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_seq);

      CREATE TABLE webhooks (
        id bigserial PRIMARY KEY,
        phone_number text NOT NULL,
        url text NOT NULL,
        events text NOT NULL,
        secret text,
        headers text,
        created_at bigint NOT NULL
      );
      CREATE INDEX webhooks_phone ON webhooks (phone_number);

      CREATE TABLE generated_keys (
        name text PRIMARY KEY,
        value text NOT NULL,
        created_at bigint NOT NULL
      );
    `,
  },
  {
    version: 2,
    description:
      "the cluster: nodes, leases with an epoch, idempotent requests, destination leases",
    // `sessions`: the node that runs the number (`node_id`), until when its lease holds
    // (`lease_until`, database ms), and the lease's fencing token (`epoch`, bumped at every
    // take-over; an owner's writes carry it and are refused once it is stale). `placed_node`: the
    // node a start placed the number on, which takes it first. `nodes`: one row per node, renewed
    // by its heartbeat. `idempotency_keys`: the first answer to a POST per principal and key.
    // `webhook_destinations`: which node serves a destination's queue (order per destination).
    sql: `
      ALTER TABLE sessions ADD COLUMN node_id text;
      ALTER TABLE sessions ADD COLUMN epoch bigint NOT NULL DEFAULT 0;
      ALTER TABLE sessions ADD COLUMN lease_until bigint;
      ALTER TABLE sessions ADD COLUMN placed_node text;
      CREATE INDEX sessions_node ON sessions (node_id);

      CREATE TABLE nodes (
        id text PRIMARY KEY,
        url text,
        role text NOT NULL,
        capacity integer NOT NULL,
        sessions integer NOT NULL DEFAULT 0,
        draining boolean NOT NULL DEFAULT false,
        version text,
        started_at bigint NOT NULL,
        heartbeat_at bigint NOT NULL
      );

      CREATE TABLE idempotency_keys (
        principal text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        status integer,
        response text,
        created_at bigint NOT NULL,
        PRIMARY KEY (principal, key)
      );
      CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

      CREATE TABLE webhook_destinations (
        destination text PRIMARY KEY,
        node_id text,
        lease_until bigint
      );
    `,
  },
  {
    version: 3,
    description: "until when a node counts as live (its heartbeat plus the lease TTL)",
    // Written by each node's heartbeat with its own LEASE_TTL_MS (database ms): whoever reads
    // `nodes` (placement, take-over, GET /cluster) compares it with now() and needs no TTL.
    sql: `ALTER TABLE nodes ADD COLUMN live_until bigint NOT NULL DEFAULT 0;`,
  },
  {
    version: 4,
    description: "saved whatsapp-web.js logins, sealed, one per number",
    // `epoch`: the lease under which it was saved (a save of an older one is refused);
    // `owner_account_id`: the account that owned the number then (read back only while it still
    // does); `size`: the archive's compressed bytes, before sealing.
    sql: `
      CREATE TABLE saved_logins (
        phone_number text PRIMARY KEY,
        owner_account_id text,
        epoch bigint NOT NULL,
        node_id text,
        blob bytea NOT NULL,
        size integer NOT NULL,
        saved_at bigint NOT NULL
      );
    `,
  },
  {
    version: 5,
    description: "a number's own settings (its proxy, calls), as JSON",
    // Text, as in SQLite: the store reads it back whole and never queries inside it.
    sql: `ALTER TABLE sessions ADD COLUMN settings text NOT NULL DEFAULT '{}';`,
  },
  {
    version: 6,
    description: "webhook deliveries in lanes: a destination serves its lanes side by side",
    // Deliveries queued before it are all in lane 0 and keep their order; a number's next ones
    // join them (`events/outbox.ts`). A node of the previous release writes lane 0 and takes the
    // same lease per destination, so both serve a destination one node at a time during a
    // rolling upgrade. The index holds pending rows only (a lane's head, read per attempt).
    sql: `
      ALTER TABLE webhook_deliveries ADD COLUMN lane integer NOT NULL DEFAULT 0;
      CREATE INDEX webhook_deliveries_lane ON webhook_deliveries (destination, lane, id)
        WHERE status = 'pending';
    `,
  },
];
