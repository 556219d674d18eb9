/**
 * @module
 * The outbox (`events/outbox.ts`) on PostgreSQL. An `append` is one transaction of a few
 * statements whatever the batch (the known ids, every event in one insert, every delivery in
 * one), committed before it resolves: a send answered 200 has its event stored.
 *
 * The stream's order is commit order, which `seq` alone is not with several writers: a
 * transaction can take a lower `seq` and commit after a reader went past a higher one. Each row
 * also carries its transaction's id (`txid`); readers go by (txid, seq) and read only the rows
 * of transactions older than the oldest one still open (`pg_snapshot_xmin`). Every transaction
 * below that line has ended and every later one gets a higher id, so no row can ever appear
 * behind a position a reader has passed: a reader that resumes after any event gets every later
 * one exactly once. The price: a committed event waits, unread, while an older transaction is
 * open (`EventPage.pending` says so).
 *
 * Every node is told of changes through `NOTIFY`, sent in the transaction that makes them (so at
 * its commit) with the key as payload: `wa_events` (a session), `wa_webhooks` and `wa_forgotten`
 * (a number), `wa_deliveries` (a destination). The node's one listening connection
 * (`listener.ts`) turns them into `watch` reports. An append fenced by an owner's lease locks the
 * number's `sessions` row (`FOR SHARE`) while it checks the lease: a take-over, which updates
 * that row, waits for the append to commit, so no event is stored under a lease that was already
 * superseded. Destination leases live in `webhook_destinations`, taken with `FOR UPDATE SKIP
 * LOCKED` in a transaction of their own, and timed by the database's clock.
 */
import type postgres from "postgres";
import type { Envelope } from "../../events/envelope.ts";
import {
  type DeliveryQueue,
  type DestinationLease,
  laneOf,
  type Outbox,
  StaleFenceError,
  type StoredEvent,
} from "../../events/outbox.ts";
import type { Listener } from "./listener.ts";
import {
  type DeliveryRow,
  type EventRow,
  scopePattern,
  toDelivery,
  toEvent,
  toWebhook,
  type WebhookRow,
} from "../rows.ts";

type Sql = postgres.Sql<Record<string, unknown>>;

const DELIVERY_COLUMNS = `d.id, d.event_seq, e.id AS event_id, e.event, d.session, d.destination,
  d.status, d.attempts, d.next_attempt_at, d.last_error, d.last_status, d.created_at, d.updated_at`;

/** An id of the batch was stored by another writer between the read and the insert. */
class IdRace extends Error {}

/** The channels of `NOTIFY` the outbox sends on. */
export const CHANNELS = {
  events: "wa_events",
  webhooks: "wa_webhooks",
  forgotten: "wa_forgotten",
  deliveries: "wa_deliveries",
} as const;

/** A payload must stay under 8000 bytes; a longer destination is found by the sweep instead. */
const MAX_PAYLOAD = 7_900;

/**
 * A page of events as the cursor queries return it: one row per event, or one row of nulls when
 * there is none, each carrying whether newer events wait behind an open transaction.
 */
function toPage(rows: (EventRow & { pending: boolean })[]) {
  return {
    events: rows.filter((row) => row.seq !== null).map(toEvent),
    pending: rows[0]?.pending ?? false,
  };
}

type Tx = postgres.TransactionSql<Record<string, unknown>>;

/** Refuses the batch when a session's lease is not the one it carries (see the module comment). */
async function checkFences(
  tx: Tx,
  envelopes: readonly Envelope[],
  fence: (session: string) => { nodeId: string; epoch: number } | null | undefined,
) {
  const fences = new Map<string, { nodeId: string; epoch: number }>();
  for (const { session } of envelopes) {
    if (fences.has(session)) continue;
    const lease = fence(session);
    if (lease) fences.set(session, lease);
  }
  if (fences.size === 0) return;
  const rows = await tx<{ phone_number: string; node_id: string | null; epoch: number }[]>`
    SELECT phone_number, node_id, epoch FROM sessions
    WHERE phone_number = ANY(${[...fences.keys()]}::text[])
    ORDER BY phone_number
    FOR SHARE
  `;
  const found = new Map(rows.map((row) => [row.phone_number, row]));
  const stale = [...fences].filter(([session, lease]) => {
    const row = found.get(session);
    return row?.node_id !== lease.nodeId || row.epoch !== lease.epoch;
  }).map(([session]) => session);
  if (stale.length > 0) throw new StaleFenceError(stale);
}

async function notify(tx: Tx, channel: string, keys: Iterable<string>) {
  const payloads = [...new Set(keys)];
  if (payloads.length === 0) return;
  await tx`
    SELECT pg_notify(${channel}, k) FROM unnest(${payloads}::text[]) AS k
    WHERE octet_length(k) < ${MAX_PAYLOAD}
  `;
}

/** `listener`: the node's listening connection, for `watch`. */
export function createOutbox(sql: Sql, listener?: Listener): Outbox {
  /** Stores the batch in one transaction; throws `IdRace` when an id was taken meanwhile. */
  function appendOnce(
    envelopes: readonly Envelope[],
    destinationsFor: (envelope: Envelope) => readonly string[],
    derive: ((envelope: Envelope) => Envelope[]) | undefined,
    fence: ((session: string) => { nodeId: string; epoch: number } | null | undefined) | undefined,
    lanes: number,
  ) {
    return sql.begin(async (tx) => {
      if (fence) await checkFences(tx, envelopes, fence);
      const ids = envelopes.map((envelope) => envelope.id);
      const known = new Set(
        (await tx<{ id: string }[]>`SELECT id FROM events WHERE id = ANY(${ids}::text[])`)
          .map((row) => row.id),
      );
      const duplicates: string[] = [];
      /** What to store, in order: each new envelope, then what it derives. */
      const rows: { envelope: Envelope; body: string }[] = [];
      for (const envelope of envelopes) {
        if (known.has(envelope.id)) {
          duplicates.push(envelope.id);
          continue;
        }
        known.add(envelope.id); // The same id twice in one batch: the second is a duplicate.
        for (const stored of [envelope, ...(derive?.(envelope) ?? [])]) {
          rows.push({ envelope: stored, body: JSON.stringify(stored) });
        }
      }
      const events: StoredEvent[] = [];
      const destinations = new Set<string>();
      const queues: DeliveryQueue[] = [];
      if (rows.length === 0) return { events, destinations, queues, duplicates };
      const inserted = await tx<{ id: string; seq: number; txid: number; created_at: number }[]>`
        INSERT INTO events (id, session, event, body, created_at)
        SELECT t.id, t.session, t.event, t.body, wa_now_ms()
        FROM unnest(
          ${rows.map((r) => r.envelope.id)}::text[],
          ${rows.map((r) => r.envelope.session)}::text[],
          ${rows.map((r) => r.envelope.event)}::text[],
          ${rows.map((r) => r.body)}::text[]
        ) WITH ORDINALITY AS t(id, session, event, body, ord)
        ORDER BY t.ord
        ON CONFLICT (id) DO NOTHING
        RETURNING id, seq, txid::text::bigint AS txid, created_at
      `;
      if (inserted.length < rows.length) throw new IdRace();
      const byId = new Map(inserted.map((row) => [row.id, row]));
      const deliveries = {
        seqs: [] as number[],
        sessions: [] as string[],
        keys: [] as string[],
        lanes: [] as number[],
      };
      for (const { envelope, body } of rows) {
        const row = byId.get(envelope.id)!;
        events.push({
          seq: row.seq,
          position: { txid: row.txid, seq: row.seq },
          id: envelope.id,
          session: envelope.session,
          event: envelope.event,
          body,
          createdAt: row.created_at,
        });
        for (const destination of destinationsFor(envelope)) {
          deliveries.seqs.push(row.seq);
          deliveries.sessions.push(envelope.session);
          deliveries.keys.push(destination);
          deliveries.lanes.push(laneOf(envelope.session, lanes));
          destinations.add(destination);
        }
      }
      if (deliveries.seqs.length > 0) {
        // In the events' order: a lane's deliveries are sent in `id` order. A session with
        // deliveries pending to the destination keeps their lane (`events/outbox.ts`).
        const joined = await tx<DeliveryQueue[]>`
          INSERT INTO webhook_deliveries (event_seq, session, destination, lane, status, attempts,
            next_attempt_at, created_at, updated_at)
          SELECT t.seq, t.session, t.destination, coalesce((
              SELECT p.lane FROM webhook_deliveries p
              WHERE p.session = t.session AND p.status = 'pending'
                AND p.destination = t.destination
              ORDER BY p.id DESC LIMIT 1
            ), t.lane), 'pending', 0, wa_now_ms(), wa_now_ms(), wa_now_ms()
          FROM unnest(
            ${deliveries.seqs}::bigint[],
            ${deliveries.sessions}::text[],
            ${deliveries.keys}::text[],
            ${deliveries.lanes}::int[]
          ) WITH ORDINALITY AS t(seq, session, destination, lane, ord)
          ORDER BY t.ord
          RETURNING destination, lane
        `;
        const seen = new Set<string>();
        for (const { destination, lane } of joined) {
          if (seen.has(`${lane} ${destination}`)) continue;
          seen.add(`${lane} ${destination}`);
          queues.push({ destination, lane });
        }
      }
      await notify(tx, CHANNELS.events, events.map((event) => event.session));
      await notify(tx, CHANNELS.deliveries, destinations);
      return { events, destinations, queues, duplicates };
    });
  }

  /** The oldest `limit` pending deliveries of a destination, in `lane` (null: in any lane). */
  async function headsOf(
    destination: string,
    lane: number | null,
    limit: number,
    on: Sql | Tx = sql,
  ) {
    const rows = await on.unsafe<DeliveryRow[]>(
      `SELECT ${DELIVERY_COLUMNS}, e.body,
         greatest(0, d.next_attempt_at - wa_now_ms()) AS due_in_ms
       FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
       WHERE d.destination = $1 AND d.status = 'pending' AND ($2::int IS NULL OR d.lane = $2)
       ORDER BY d.id LIMIT $3`,
      [destination, lane, limit],
      { prepare: true },
    );
    return rows.map((row) => ({ ...toDelivery(row), body: row.body!, dueInMs: row.due_in_ms! }));
  }

  /** What `nextDelivery` returns once the lease is the node's. */
  async function served(destination: string, lane: number | null, limit: number, on?: Tx) {
    const [delivery = null, ...later] = await headsOf(destination, lane, Math.max(1, limit), on);
    return { held: true as const, delivery, later };
  }

  /** Takes or renews the leases of `candidates` that are free, expired or `nodeId`'s. */
  async function lease(tx: Tx, candidates: string[], { nodeId, ttlMs }: DestinationLease) {
    if (candidates.length === 0) return [];
    await tx`
      INSERT INTO webhook_destinations (destination)
      SELECT unnest(${candidates}::text[]) ON CONFLICT (destination) DO NOTHING
    `;
    // SKIP LOCKED: a row another node is taking right now is its, not worth waiting for.
    const rows = await tx<{ destination: string }[]>`
      WITH free AS (
        SELECT destination FROM webhook_destinations
        WHERE destination = ANY(${candidates}::text[])
          AND (node_id IS NULL OR node_id = ${nodeId} OR lease_until < wa_now_ms())
        ORDER BY destination
        FOR UPDATE SKIP LOCKED
      )
      UPDATE webhook_destinations w
      SET node_id = ${nodeId}, lease_until = wa_now_ms() + ${ttlMs}::bigint
      FROM free WHERE w.destination = free.destination
      RETURNING w.destination
    `;
    return rows.map((row) => row.destination);
  }

  async function deliveryOf(session: string, id: number, numberWebhooksOnly?: boolean) {
    const [row] = await sql.unsafe<DeliveryRow[]>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
       WHERE d.session = $1 AND d.destination LIKE $2 AND d.id = $3`,
      [session, scopePattern(numberWebhooksOnly), id],
      { prepare: true },
    );
    return row;
  }

  return {
    async append(envelopes, { destinationsFor, derive, fence, lanes = 1 }) {
      for (let attempt = 1;; attempt++) {
        try {
          return await appendOnce(envelopes, destinationsFor, derive, fence, lanes);
        } catch (error) {
          // A re-send of the same id by another writer at the same moment: read again, it is a
          // duplicate now.
          if (!(error instanceof IdRace) || attempt >= 3) throw error;
        }
      }
    },
    async head(destination) {
      return (await headsOf(destination, null, 1))[0] ?? null;
    },
    async nextDelivery(destination, destinationLease, { lane, limit = 1 } = {}) {
      const { nodeId, renewBelowMs } = destinationLease;
      if (renewBelowMs !== undefined) {
        const [fresh] = await sql<{ destination: string }[]>`
          SELECT destination FROM webhook_destinations
          WHERE destination = ${destination} AND node_id = ${nodeId}
            AND lease_until - wa_now_ms() >= ${renewBelowMs}::bigint
        `;
        if (fresh) return await served(destination, lane ?? null, limit);
      }
      return await sql.begin(async (tx) => {
        const [held] = await lease(tx, [destination], destinationLease);
        if (!held) return { held: false } as const;
        return await served(destination, lane ?? null, limit, tx);
      });
    },
    async pendingLanes(destination) {
      const rows = await sql<{ lane: number }[]>`
        SELECT DISTINCT lane FROM webhook_deliveries
        WHERE destination = ${destination} AND status = 'pending'
      `;
      return rows.map((row) => row.lane);
    },
    leasePending(destinationLease) {
      return sql.begin(async (tx) => {
        const pending = await tx<{ destination: string }[]>`
          SELECT DISTINCT destination FROM webhook_deliveries WHERE status = 'pending'
        `;
        return await lease(tx, pending.map((row) => row.destination), destinationLease);
      });
    },
    async releaseDestinations(nodeId) {
      await sql`
        UPDATE webhook_destinations SET node_id = NULL, lease_until = NULL
        WHERE node_id = ${nodeId}
      `;
    },
    async pendingDestinations() {
      const rows = await sql<{ destination: string }[]>`
        SELECT DISTINCT destination FROM webhook_deliveries WHERE status = 'pending'
      `;
      return rows.map((row) => row.destination);
    },
    async pendingCount() {
      const [row] = await sql<{ count: string }[]>`
        SELECT COUNT(*) AS count FROM webhook_deliveries WHERE status = 'pending'
      `;
      return Number(row.count);
    },
    async markDelivered(marks) {
      if (marks.length === 0) return;
      // One statement for all: each receiver's status goes with its delivery's id.
      await sql`
        UPDATE webhook_deliveries d
        SET status = 'delivered', attempts = d.attempts + 1, last_status = m.status,
          last_error = NULL, updated_at = wa_now_ms()
        FROM unnest(${marks.map((mark) => mark.id)}::bigint[],
          ${marks.map((mark) => mark.httpStatus)}::int[]) AS m(id, status)
        WHERE d.id = m.id
      `;
    },
    async markRetry(id, { attempts, delayMs, error, httpStatus }) {
      await sql`
        UPDATE webhook_deliveries
        SET attempts = ${attempts}, next_attempt_at = wa_now_ms() + ${delayMs}::bigint,
          last_error = ${error}, last_status = ${httpStatus}, updated_at = wa_now_ms()
        WHERE id = ${id}
      `;
    },
    async markFailed(id, { attempts, error, httpStatus }) {
      await sql`
        UPDATE webhook_deliveries
        SET status = 'failed', attempts = ${attempts}, last_error = ${error},
          last_status = ${httpStatus}, updated_at = wa_now_ms()
        WHERE id = ${id}
      `;
    },
    async failPending(destination, error) {
      const updated = await sql`
        UPDATE webhook_deliveries SET status = 'failed', last_error = ${error},
          updated_at = wa_now_ms()
        WHERE destination = ${destination} AND status = 'pending'
      `;
      return updated.count;
    },
    async listDeliveries(session, { status, limit, beforeId, numberWebhooksOnly }) {
      const before = beforeId ?? Number.MAX_SAFE_INTEGER;
      const rows = await sql.unsafe<DeliveryRow[]>(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
         WHERE d.session = $1 AND d.destination LIKE $2 AND ($3::text IS NULL OR d.status = $3)
           AND d.id < $4
         ORDER BY d.id DESC LIMIT $5`,
        [session, scopePattern(numberWebhooksOnly), status ?? null, before, limit],
        { prepare: true },
      );
      return rows.map(toDelivery);
    },
    async getDelivery(session, id, { numberWebhooksOnly } = {}) {
      const row = await deliveryOf(session, id, numberWebhooksOnly);
      return row ? toDelivery(row) : null;
    },
    requeue(session, id, { numberWebhooksOnly } = {}) {
      return sql.begin(async (tx) => {
        const [row] = await tx.unsafe<DeliveryRow[]>(
          `UPDATE webhook_deliveries d
           SET status = 'pending', attempts = 0, next_attempt_at = wa_now_ms(),
             updated_at = wa_now_ms()
           FROM events e
           WHERE e.seq = d.event_seq AND d.session = $1 AND d.destination LIKE $2 AND d.id = $3
           RETURNING ${DELIVERY_COLUMNS}`,
          [session, scopePattern(numberWebhooksOnly), id],
          { prepare: true },
        );
        if (row) await notify(tx, CHANNELS.deliveries, [row.destination]);
        return row ? toDelivery(row) : null;
      });
    },
    async eventsAfter(session, after, limit) {
      // The position after the event numbered `after` (an event no longer kept falls back to the
      // rows numbered after it), or the position given. `pending`: committed rows wait behind an
      // open transaction.
      const [txid, seq] = typeof after === "number"
        ? [null, after]
        : [String(after.txid), after.seq];
      const rows = await sql<(EventRow & { pending: boolean })[]>`
        WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
        cursor AS (
          SELECT ${txid}::xid8 AS txid, ${seq}::bigint AS seq WHERE ${txid}::text IS NOT NULL
          UNION ALL
          SELECT txid, seq FROM events WHERE ${txid}::text IS NULL AND seq = ${seq}
        ),
        page AS (
          (SELECT e.seq, e.txid, e.id, e.session, e.event, e.body, e.created_at
           FROM events e, cursor c, horizon h
           WHERE e.session = ${session} AND (e.txid, e.seq) > (c.txid, c.seq) AND e.txid < h.xmin
           ORDER BY e.txid, e.seq LIMIT ${limit})
          UNION ALL
          (SELECT e.seq, e.txid, e.id, e.session, e.event, e.body, e.created_at
           FROM events e, horizon h
           WHERE NOT EXISTS (SELECT 1 FROM cursor) AND e.session = ${session}
             AND e.seq > ${seq} AND e.txid < h.xmin
           ORDER BY e.txid, e.seq LIMIT ${limit})
        ),
        held AS (
          SELECT EXISTS (
            SELECT 1 FROM events e, horizon h WHERE e.session = ${session} AND e.txid >= h.xmin
          ) AS pending
        )
        SELECT p.seq, p.txid::text::bigint AS txid, p.id, p.session, p.event, p.body,
          p.created_at, held.pending
        FROM held LEFT JOIN page p ON true
        ORDER BY p.txid, p.seq
      `;
      return toPage(rows);
    },
    async eventsAfterAll(after, limit, scope = {}) {
      // Each session's next `limit` by its cursor index, then the first `limit` of them all: a
      // number's sessions row says who owns it now, read in the same snapshot as its events.
      const owner = scope.ownerAccountId ?? null;
      const rows = await sql<(EventRow & { pending: boolean })[]>`
        WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
        scope AS (
          SELECT phone_number FROM sessions
          WHERE ${owner}::text IS NULL OR owner_account_id = ${owner}
        ),
        page AS (
          SELECT e.* FROM scope s, horizon h, LATERAL (
            SELECT e.seq, e.txid, e.id, e.session, e.event, e.body, e.created_at
            FROM events e
            WHERE e.session = s.phone_number
              AND (e.txid, e.seq) > (${String(after.txid)}::xid8, ${after.seq}::bigint)
              AND e.txid < h.xmin
            ORDER BY e.txid, e.seq LIMIT ${limit}
          ) e
          ORDER BY e.txid, e.seq LIMIT ${limit}
        ),
        held AS (
          SELECT EXISTS (
            SELECT 1 FROM events e, horizon h, scope s
            WHERE e.session = s.phone_number AND e.txid >= h.xmin
          ) AS pending
        )
        SELECT p.seq, p.txid::text::bigint AS txid, p.id, p.session, p.event, p.body,
          p.created_at, held.pending
        FROM held LEFT JOIN page p ON true
        ORDER BY p.txid, p.seq
      `;
      return toPage(rows);
    },
    async seqOf(id) {
      const [row] = await sql<{ seq: number }[]>`SELECT seq FROM events WHERE id = ${id}`;
      return row ? row.seq : null;
    },
    async positionOf(id) {
      const [row] = await sql<{ session: string; txid: number; seq: number }[]>`
        SELECT session, txid::text::bigint AS txid, seq FROM events WHERE id = ${id}
      `;
      return row ? { session: row.session, position: { txid: row.txid, seq: row.seq } } : null;
    },
    async livePosition() {
      // Before every row not readable yet: those of transactions at or after the horizon.
      const [row] = await sql<{ txid: number }[]>`
        SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS txid
      `;
      return { txid: row.txid, seq: 0 };
    },
    async watch(watcher) {
      if (!listener) throw new Error("This outbox was opened without a listening connection");
      const stops = await Promise.all([
        listener.listen(CHANNELS.events, (session) => watcher.events(session)),
        listener.listen(CHANNELS.webhooks, (phone) => watcher.webhooks(phone)),
        listener.listen(CHANNELS.forgotten, (phone) => watcher.forgotten(phone)),
        listener.listen(CHANNELS.deliveries, (destination) => watcher.deliveries(destination)),
      ]);
      const stopResync = listener.onResync(() => watcher.resync());
      return async () => {
        stopResync();
        await Promise.all(stops.map((stop) => stop()));
      };
    },
    async prune(maxAgeMs) {
      const deleted = await sql`
        DELETE FROM events WHERE created_at < wa_now_ms() - ${maxAgeMs}::bigint AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = events.seq AND d.status = 'pending'
        )
      `;
      return deleted.count;
    },
    async listWebhooks(phoneNumber) {
      const rows = await sql<WebhookRow[]>`
        SELECT url, events, secret, headers FROM webhooks WHERE phone_number = ${phoneNumber}
        ORDER BY id
      `;
      return rows.map(toWebhook);
    },
    async replaceWebhooks(phoneNumber, webhooks) {
      await sql.begin(async (tx) => {
        await tx`DELETE FROM webhooks WHERE phone_number = ${phoneNumber}`;
        for (const hook of webhooks) {
          await tx`
            INSERT INTO webhooks (phone_number, url, events, secret, headers, created_at)
            VALUES (${phoneNumber}, ${hook.url}, ${JSON.stringify(hook.events)},
              ${hook.secret ?? null}, ${hook.headers ? JSON.stringify(hook.headers) : null},
              wa_now_ms())
          `;
        }
        await notify(tx, CHANNELS.webhooks, [phoneNumber]);
      });
    },
    async forgetSession(phoneNumber) {
      await sql.begin(async (tx) => {
        await tx`DELETE FROM webhook_deliveries WHERE session = ${phoneNumber}`;
        await tx`DELETE FROM events WHERE session = ${phoneNumber}`;
        await tx`DELETE FROM webhooks WHERE phone_number = ${phoneNumber}`;
        await notify(tx, CHANNELS.forgotten, [phoneNumber]);
      });
    },
  };
}
