/**
 * @module
 * The outbox (`events/outbox.ts`) on SQLite. One connection, one writer: an `append` runs its
 * whole transaction synchronously, so `seq` order is commit order and the stream's order (every
 * position's `txid` is 0). Every method resolves a value computed synchronously (`promised.ts`):
 * the send path's group commit costs what it did before the interface became asynchronous.
 *
 * One process serves the database (`database.ts` refuses a second), so `watch` reports this
 * process's own commits, right after each, and the destination leases left by a previous run are
 * released when the outbox opens: they were this node's.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Envelope } from "../../events/envelope.ts";
import {
  type DeliveryQueue,
  laneOf,
  type Outbox,
  type OutboxWatcher,
  StaleFenceError,
  type StoredEvent,
} from "../../events/outbox.ts";
import { promised, type Synchronous } from "./promised.ts";
import {
  type DeliveryRow,
  type EventRow,
  scopePattern,
  toDelivery,
  toEvent,
  toWebhook,
  type WebhookRow,
} from "../rows.ts";

const DELIVERY_COLUMNS = `d.id, d.event_seq, e.id AS event_id, e.event, d.session, d.destination,
  d.status, d.attempts, d.next_attempt_at, d.last_error, d.last_status, d.created_at, d.updated_at`;

/**
 * How long, at most, the receivers' acceptances (`markDelivered`) wait for the next write to join
 * before they are written alone.
 */
const MARKS_WITHIN_MS = 25;

/** The outbox on SQLite, and what its store does before it closes the database. */
export interface SqliteOutbox extends Outbox {
  /** Writes the acceptances not written yet (`markDelivered`) now. */
  settle(): void;
}

export function createOutbox(db: DatabaseSync, now: () => number = Date.now): SqliteOutbox {
  const insertEvent = db.prepare(
    "INSERT OR IGNORE INTO events (id, session, event, body, created_at) VALUES (?, ?, ?, ?, ?)",
  );
  // The old per-delivery `url`, `secret` and `headers` columns stay NULL (migration 3). The lane
  // is the one the session's pending deliveries to the destination are in, if any (found through
  // the session's few pending rows, not the destination's backlog), else the session's own.
  const insertDelivery = db.prepare(`
    INSERT INTO webhook_deliveries (event_seq, session, destination, lane, status, attempts,
      next_attempt_at, created_at, updated_at)
    VALUES (?1, ?2, ?3, coalesce((
      SELECT p.lane FROM webhook_deliveries p INDEXED BY webhook_deliveries_session
      WHERE p.session = ?2 AND p.status = 'pending' AND p.destination = ?3
      ORDER BY p.id DESC LIMIT 1
    ), ?4), 'pending', 0, ?5, ?5, ?5)
    RETURNING lane
  `);
  // The oldest pending deliveries of a destination (in a lane), a statement per limit: the limit
  // is written into the SQL, because a bound `LIMIT ?` has SQLite plan the query again at every
  // call (73 µs a read against 4.6 µs, measured in bench/README.md).
  const heads = new Map<string, StatementSync>();
  function headsStatement(inLane: boolean, limit: number): StatementSync {
    const key = `${inLane} ${limit}`;
    let statement = heads.get(key);
    if (!statement) {
      statement = db.prepare(`
        SELECT ${DELIVERY_COLUMNS}, e.body
        FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
        WHERE d.destination = ? ${inLane ? "AND d.lane = ?" : ""} AND d.status = 'pending'
        ORDER BY d.id LIMIT ${Math.trunc(limit)}
      `);
      heads.set(key, statement);
    }
    return statement;
  }
  const pendingLanes = db.prepare(
    "SELECT DISTINCT lane FROM webhook_deliveries WHERE destination = ? AND status = 'pending'",
  );
  const pendingDestinations = db.prepare(
    "SELECT DISTINCT destination FROM webhook_deliveries WHERE status = 'pending'",
  );
  const pendingCount = db.prepare(
    "SELECT COUNT(*) AS count FROM webhook_deliveries WHERE status = 'pending'",
  );
  const delivered = db.prepare(`
    UPDATE webhook_deliveries
    SET status = 'delivered', attempts = attempts + 1, last_status = ?, last_error = NULL,
      updated_at = ?
    WHERE id = ?
  `);
  const retry = db.prepare(`
    UPDATE webhook_deliveries
    SET attempts = ?, next_attempt_at = ?, last_error = ?, last_status = ?, updated_at = ?
    WHERE id = ?
  `);
  const failed = db.prepare(`
    UPDATE webhook_deliveries
    SET status = 'failed', attempts = ?, last_error = ?, last_status = ?, updated_at = ?
    WHERE id = ?
  `);
  const failPending = db.prepare(`
    UPDATE webhook_deliveries SET status = 'failed', last_error = ?, updated_at = ?
    WHERE destination = ? AND status = 'pending'
  `);
  const listByStatus = db.prepare(`
    SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
    WHERE d.session = ? AND d.destination LIKE ? AND d.status = ? AND d.id < ?
    ORDER BY d.id DESC LIMIT ?
  `);
  const listAll = db.prepare(`
    SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
    WHERE d.session = ? AND d.destination LIKE ? AND d.id < ? ORDER BY d.id DESC LIMIT ?
  `);
  const byId = db.prepare(`
    SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
    WHERE d.session = ? AND d.destination LIKE ? AND d.id = ?
  `);
  const requeue = db.prepare(`
    UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?,
      updated_at = ?
    WHERE id = ?
  `);
  const eventsAfter = db.prepare(`
    SELECT seq, id, session, event, body, created_at FROM events
    WHERE session = ? AND seq > ? ORDER BY seq LIMIT ?
  `);
  // Through `sessions`, whose row says who owns the number now (`Outbox.eventsAfterAll`).
  const eventsAfterAll = db.prepare(`
    SELECT seq, id, session, event, body, created_at FROM events
    WHERE seq > ? AND session IN (SELECT phone_number FROM sessions) ORDER BY seq LIMIT ?
  `);
  const eventsAfterOwned = db.prepare(`
    SELECT seq, id, session, event, body, created_at FROM events
    WHERE seq > ? AND session IN (SELECT phone_number FROM sessions WHERE owner_account_id = ?)
    ORDER BY seq LIMIT ?
  `);
  const seqOf = db.prepare("SELECT seq FROM events WHERE id = ?");
  const positionOf = db.prepare("SELECT seq, session FROM events WHERE id = ?");
  const lastSeq = db.prepare("SELECT coalesce(max(seq), 0) AS seq FROM events");
  const fenceOf = db.prepare("SELECT node_id, epoch FROM sessions WHERE phone_number = ?");
  const addDestination = db.prepare(
    "INSERT OR IGNORE INTO webhook_destinations (destination) VALUES (?)",
  );
  const takeDestination = db.prepare(`
    UPDATE webhook_destinations SET node_id = ?, lease_until = ?
    WHERE destination = ? AND (node_id IS NULL OR node_id = ? OR lease_until < ?)
  `);
  const addPendingDestinations = db.prepare(`
    INSERT OR IGNORE INTO webhook_destinations (destination)
    SELECT DISTINCT destination FROM webhook_deliveries WHERE status = 'pending'
  `);
  const takePending = db.prepare(`
    UPDATE webhook_destinations SET node_id = ?, lease_until = ?
    WHERE (node_id IS NULL OR node_id = ? OR lease_until < ?) AND destination IN (
      SELECT destination FROM webhook_deliveries WHERE status = 'pending'
    )
    RETURNING destination
  `);
  const leaseOf = db.prepare(
    "SELECT node_id, lease_until FROM webhook_destinations WHERE destination = ?",
  );
  const releaseDestinations = db.prepare(
    "UPDATE webhook_destinations SET node_id = NULL, lease_until = NULL WHERE node_id = ?",
  );
  const releaseAll = db.prepare(
    "UPDATE webhook_destinations SET node_id = NULL, lease_until = NULL",
  );

  const prune = db.prepare(`
    DELETE FROM events WHERE created_at < ? AND NOT EXISTS (
      SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = events.seq AND d.status = 'pending'
    )
  `);
  const webhooksOf = db.prepare(
    "SELECT url, events, secret, headers FROM webhooks WHERE phone_number = ? ORDER BY id",
  );
  const deleteWebhooks = db.prepare("DELETE FROM webhooks WHERE phone_number = ?");
  const deleteDeliveriesOf = db.prepare("DELETE FROM webhook_deliveries WHERE session = ?");
  const deleteEventsOf = db.prepare("DELETE FROM events WHERE session = ?");
  const insertWebhook = db.prepare(
    "INSERT INTO webhooks (phone_number, url, events, secret, headers, created_at) " +
      "VALUES (?, ?, ?, ?, ?, ?)",
  );

  releaseAll.run();
  const watchers = new Set<OutboxWatcher>();
  /** Tells the watchers of a commit; one that throws does not stop the others. */
  function report(tell: (watcher: OutboxWatcher) => void): void {
    for (const watcher of watchers) {
      try {
        tell(watcher);
      } catch {
        // A watcher's own failure is its business.
      }
    }
  }

  /**
   * The receivers' acceptances not written yet: `markDelivered` holds them (id → status, time) for
   * the next write, an `append`'s transaction or, within `MARKS_WITHIN_MS`, one of their own; every
   * other method writes them first, so nothing reads a delivery as pending that was marked.
   * Under a steady stream of events they cost no commit of their own (a commit is most of a
   * write's cost here). A crash loses at most those held: they are sent again (at least once).
   */
  const heldMarks = new Map<number, { httpStatus: number; at: number }>();
  let heldTimer: ReturnType<typeof setTimeout> | null = null;

  /** Writes the held acceptances, inside the caller's transaction. */
  function writeHeldMarks(): void {
    for (const [id, { httpStatus, at }] of heldMarks) delivered.run(httpStatus, at, id);
  }

  /** The held acceptances are committed: hold nothing. */
  function marksWritten(): void {
    heldMarks.clear();
    if (heldTimer !== null) clearTimeout(heldTimer);
    heldTimer = null;
  }

  /** Writes the held acceptances now, in a transaction of their own. */
  function settleMarks(): void {
    if (heldMarks.size === 0 || !db.isOpen) return;
    transaction(writeHeldMarks);
    marksWritten();
  }

  function transaction<T>(work: () => T): T {
    db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      db.exec("COMMIT");
      return result;
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }

  function rows(statement: StatementSync, ...args: (string | number)[]): DeliveryRow[] {
    return statement.all(...args) as unknown as DeliveryRow[];
  }

  function due(row: DeliveryRow) {
    return {
      ...toDelivery(row),
      body: row.body!,
      dueInMs: Math.max(0, row.next_attempt_at - now()),
    };
  }

  /** The oldest `limit` pending deliveries of a destination, in `lane` (absent: in any lane). */
  function headsOf(destination: string, lane: number | undefined, limit: number) {
    const found = lane === undefined
      ? rows(headsStatement(false, limit), destination)
      : rows(headsStatement(true, limit), destination, lane);
    return found.map(due);
  }

  /** What `nextDelivery` returns once the lease is the node's. */
  function served(destination: string, lane: number | undefined, limit: number) {
    const [delivery = null, ...later] = headsOf(destination, lane, Math.max(1, limit));
    return { held: true as const, delivery, later };
  }

  function byIdIn(session: string, id: number, numberWebhooksOnly?: boolean) {
    return byId.get(session, scopePattern(numberWebhooksOnly), id) as DeliveryRow | undefined;
  }

  const outbox: Synchronous<Outbox> = {
    append(envelopes, { destinationsFor, derive, fence, lanes = 1 }) {
      const withMarks = heldMarks.size > 0;
      const result = transaction(() => {
        // Rolled back with the append if it fails, and then still held.
        if (withMarks) writeHeldMarks();
        if (fence) {
          const stale: string[] = [];
          for (const session of new Set(envelopes.map((envelope) => envelope.session))) {
            const lease = fence(session);
            if (!lease) continue;
            const row = fenceOf.get(session) as
              | { node_id: string | null; epoch: number }
              | undefined;
            if (row?.node_id !== lease.nodeId || Number(row.epoch) !== lease.epoch) {
              stale.push(session);
            }
          }
          if (stale.length > 0) throw new StaleFenceError(stale);
        }
        const at = now();
        const events: StoredEvent[] = [];
        const destinations = new Set<string>();
        const queues = new Map<string, DeliveryQueue>();
        const duplicates: string[] = [];
        /** Stores one envelope and its deliveries; false when its id is already stored. */
        function store(envelope: Envelope): boolean {
          const body = JSON.stringify(envelope);
          const result = insertEvent.run(envelope.id, envelope.session, envelope.event, body, at);
          if (result.changes === 0) {
            duplicates.push(envelope.id);
            return false;
          }
          const seq = Number(result.lastInsertRowid);
          events.push({
            seq,
            position: { txid: 0, seq },
            id: envelope.id,
            session: envelope.session,
            event: envelope.event,
            body,
            createdAt: at,
          });
          const ownLane = laneOf(envelope.session, lanes);
          for (const destination of destinationsFor(envelope)) {
            const { lane } = insertDelivery.get(
              seq,
              envelope.session,
              destination,
              ownLane,
              at,
            ) as { lane: number };
            destinations.add(destination);
            queues.set(`${lane} ${destination}`, { destination, lane: Number(lane) });
          }
          return true;
        }
        for (const envelope of envelopes) {
          if (!store(envelope)) continue;
          for (const derived of derive?.(envelope) ?? []) store(derived);
        }
        return { events, destinations, queues: [...queues.values()], duplicates };
      });
      if (withMarks) marksWritten();
      for (const session of new Set(result.events.map((event) => event.session))) {
        report((watcher) => watcher.events(session));
      }
      for (const destination of result.destinations) {
        report((watcher) => watcher.deliveries(destination, true));
      }
      return result;
    },
    head(destination) {
      return headsOf(destination, undefined, 1)[0] ?? null;
    },
    nextDelivery(destination, { nodeId, ttlMs, renewBelowMs }, { lane, limit = 1 } = {}) {
      if (renewBelowMs !== undefined) {
        const row = leaseOf.get(destination) as
          | { node_id: string | null; lease_until: number | null }
          | undefined;
        if (row?.node_id === nodeId && (row.lease_until ?? 0) - now() >= renewBelowMs) {
          return served(destination, lane, limit);
        }
      }
      const held = transaction(() => {
        const at = now();
        addDestination.run(destination);
        return takeDestination.run(nodeId, at + ttlMs, destination, nodeId, at).changes > 0;
      });
      if (!held) return { held: false };
      return served(destination, lane, limit);
    },
    pendingLanes(destination) {
      return (pendingLanes.all(destination) as { lane: number }[]).map((row) => Number(row.lane));
    },
    leasePending({ nodeId, ttlMs }) {
      return transaction(() => {
        const at = now();
        addPendingDestinations.run();
        const rows = takePending.all(nodeId, at + ttlMs, nodeId, at) as { destination: string }[];
        return rows.map((row) => row.destination);
      });
    },
    releaseDestinations(nodeId) {
      releaseDestinations.run(nodeId);
    },
    pendingDestinations() {
      return (pendingDestinations.all() as { destination: string }[]).map((r) => r.destination);
    },
    pendingCount() {
      return Number((pendingCount.get() as { count: number }).count);
    },
    markDelivered(marks) {
      const at = now();
      for (const { id, httpStatus } of marks) heldMarks.set(id, { httpStatus, at });
      if (heldMarks.size === 0) return;
      heldTimer ??= setTimeout(() => {
        heldTimer = null;
        try {
          settleMarks();
        } catch {
          // Still held: the next write or read writes them, or the store's close.
        }
      }, MARKS_WITHIN_MS);
    },
    markRetry(id, { attempts, delayMs, error, httpStatus }) {
      const at = now();
      retry.run(attempts, at + delayMs, error, httpStatus, at, id);
    },
    markFailed(id, { attempts, error, httpStatus }) {
      failed.run(attempts, error, httpStatus, now(), id);
    },
    failPending(destination, error) {
      return Number(failPending.run(error, now(), destination).changes);
    },
    listDeliveries(session, { status, limit, beforeId, numberWebhooksOnly }) {
      const before = beforeId ?? Number.MAX_SAFE_INTEGER;
      const scope = scopePattern(numberWebhooksOnly);
      const found = status
        ? rows(listByStatus, session, scope, status, before, limit)
        : rows(listAll, session, scope, before, limit);
      return found.map(toDelivery);
    },
    getDelivery(session, id, { numberWebhooksOnly } = {}) {
      const row = byIdIn(session, id, numberWebhooksOnly);
      return row ? toDelivery(row) : null;
    },
    requeue(session, id, { numberWebhooksOnly } = {}) {
      const row = byIdIn(session, id, numberWebhooksOnly);
      if (!row) return null;
      const at = now();
      requeue.run(at, at, id);
      report((watcher) => watcher.deliveries(row.destination));
      return toDelivery({ ...row, status: "pending", attempts: 0, next_attempt_at: at });
    },
    eventsAfter(session, after, limit) {
      // One writer: `seq` order is commit order, nothing is ever held back.
      const seq = typeof after === "number" ? after : after.seq;
      const found = eventsAfter.all(session, seq, limit) as unknown as EventRow[];
      return { events: found.map(toEvent), pending: false };
    },
    eventsAfterAll(after, limit, scope = {}) {
      const owner = scope.ownerAccountId;
      const found =
        (owner === undefined
          ? eventsAfterAll.all(after.seq, limit)
          : eventsAfterOwned.all(after.seq, owner, limit)) as unknown as EventRow[];
      return { events: found.map(toEvent), pending: false };
    },
    seqOf(id) {
      const row = seqOf.get(id) as { seq: number } | undefined;
      return row ? row.seq : null;
    },
    positionOf(id) {
      const row = positionOf.get(id) as { seq: number; session: string } | undefined;
      return row ? { session: row.session, position: { txid: 0, seq: row.seq } } : null;
    },
    livePosition() {
      return { txid: 0, seq: Number((lastSeq.get() as { seq: number }).seq) };
    },
    watch(watcher) {
      watchers.add(watcher);
      return () => {
        watchers.delete(watcher);
        return Promise.resolve();
      };
    },
    prune(maxAgeMs) {
      return Number(prune.run(now() - maxAgeMs).changes);
    },
    listWebhooks(phoneNumber) {
      return (webhooksOf.all(phoneNumber) as unknown as WebhookRow[]).map(toWebhook);
    },
    forgetSession(phoneNumber) {
      transaction(() => {
        deleteDeliveriesOf.run(phoneNumber);
        deleteEventsOf.run(phoneNumber);
        deleteWebhooks.run(phoneNumber);
      });
      report((watcher) => watcher.forgotten(phoneNumber));
    },
    replaceWebhooks(phoneNumber, webhooks) {
      transaction(() => {
        deleteWebhooks.run(phoneNumber);
        const at = now();
        for (const hook of webhooks) {
          insertWebhook.run(
            phoneNumber,
            hook.url,
            JSON.stringify(hook.events),
            hook.secret ?? null,
            hook.headers ? JSON.stringify(hook.headers) : null,
            at,
          );
        }
      });
      report((watcher) => watcher.webhooks(phoneNumber));
    },
  };
  // Every method but these writes the held acceptances first.
  const writesHeld = new Set<string>(["append", "markDelivered", "watch"]);
  const settled = Object.fromEntries(
    Object.entries(outbox).map(([name, method]) => [
      name,
      writesHeld.has(name) ? method : (...args: never[]) => {
        settleMarks();
        return (method as (...args: never[]) => unknown)(...args);
      },
    ]),
  ) as unknown as Synchronous<Outbox>;
  return { ...promised(settled), settle: settleMarks };
}
