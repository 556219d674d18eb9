/**
 * @module
 * The outbox: the SQLite repository behind the event pipeline. `events` holds every accepted
 * envelope as the exact JSON that is delivered (its `seq` orders the SSE stream and its resume);
 * `webhook_deliveries` holds one row per event and destination with its state (`pending`,
 * `delivered`, `failed` = dead letter), attempts and next attempt time; `webhooks` holds each
 * number's webhook configuration. A delivery names its destination by key only (`number:<n>:<url>`
 * or `global:<url>`): URL, secret and headers are stored once, in `webhooks` (or the server's
 * configuration), and looked up at each attempt, so a row costs the same whatever the headers, and
 * a retry is sent as the webhook is now. Everything one `append` accepts (the events, the events
 * derived from them and all their deliveries) is written in one transaction, so nothing is
 * acknowledged that a crash could lose, and a derived event never exists without its source or
 * vice versa.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Envelope } from "./envelope.ts";

/** The destination key prefix of webhooks set for a number: `number:<phoneNumber>:<url>`. */
export const NUMBER_DESTINATION = "number:";
/** The destination key prefix of the operator's `WEBHOOK_URL`: `global:<url>`. */
export const GLOBAL_DESTINATION = "global:";

export function numberDestination(phoneNumber: string, url: string): string {
  return `${NUMBER_DESTINATION}${phoneNumber}:${url}`;
}

export function globalDestination(url: string): string {
  return GLOBAL_DESTINATION + url;
}

/** Whose webhook a destination key names (`phoneNumber` null: the operator's) and its URL. */
export function parseDestination(key: string): { phoneNumber: string | null; url: string } | null {
  if (key.startsWith(GLOBAL_DESTINATION)) {
    return { phoneNumber: null, url: key.slice(GLOBAL_DESTINATION.length) };
  }
  if (!key.startsWith(NUMBER_DESTINATION)) return null;
  // A phone number has no colon; the URL after it may have several.
  const colon = key.indexOf(":", NUMBER_DESTINATION.length);
  if (colon < 0) return null;
  return {
    phoneNumber: key.slice(NUMBER_DESTINATION.length, colon),
    url: key.slice(colon + 1),
  };
}

export interface StoredEvent {
  seq: number;
  id: string;
  session: string;
  event: string;
  /** The envelope as the exact JSON text that is delivered and signed. */
  body: string;
  createdAt: number;
}

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface Delivery {
  id: number;
  eventSeq: number;
  eventId: string;
  event: string;
  session: string;
  destination: string;
  /** The destination's URL (from its key). */
  url: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  lastStatus: number | null;
  createdAt: number;
  updatedAt: number;
}

/** A delivery due to be sent, with its body; where and how is its destination's business. */
export interface DueDelivery extends Delivery {
  body: string;
}

export interface WebhookConfig {
  url: string;
  events: string[];
  secret?: string;
  headers?: Record<string, string>;
}

export interface AppendOptions {
  /** The keys of the destinations that want the envelope. */
  destinationsFor: (envelope: Envelope) => readonly string[];
  /** The envelopes that follow a newly stored one (its `state.change`, say); default none. */
  derive?: (envelope: Envelope) => Envelope[];
}

export interface AppendResult {
  /** What was stored, in order (derived events right after their source). */
  events: StoredEvent[];
  destinations: Set<string>;
  /** Ids that were already stored. */
  duplicates: string[];
}

/**
 * Which deliveries a caller may see: the operator's global webhook (`WEBHOOK_URL`, often with a
 * token in it) is the admin's business; accounts see only the webhooks set for their number.
 */
export interface DeliveryScope {
  numberWebhooksOnly?: boolean;
}

export interface DeliveryQuery extends DeliveryScope {
  status?: DeliveryStatus;
  limit: number;
  beforeId?: number;
}

export interface Outbox {
  /**
   * Writes the envelopes, each followed by the ones `derive` makes from it, and for every one a
   * pending delivery per destination that wants it, all in one transaction: if anything throws,
   * nothing is stored. An envelope whose id is already stored is skipped with what it would
   * derive (idempotent re-sends).
   */
  append(envelopes: readonly Envelope[], options: AppendOptions): AppendResult;
  /** The oldest pending delivery of a destination (due or not), or null. */
  head(destination: string): DueDelivery | null;
  /** Destinations that have pending deliveries. */
  pendingDestinations(): string[];
  markDelivered(id: number, httpStatus: number): void;
  markRetry(
    id: number,
    update: { attempts: number; nextAttemptAt: number; error: string; httpStatus: number | null },
  ): void;
  markFailed(
    id: number,
    update: { attempts: number; error: string; httpStatus: number | null },
  ): void;
  /** Fails every pending delivery of a destination (its webhook is gone); returns how many. */
  failPending(destination: string, error: string): number;
  listDeliveries(
    session: string,
    query: DeliveryQuery,
  ): Delivery[];
  /** One delivery of a session, or null. */
  getDelivery(session: string, id: number, scope?: DeliveryScope): Delivery | null;
  /** Puts a delivery back to pending for a new round of attempts; its destination, or null. */
  requeue(session: string, id: number, scope?: DeliveryScope): Delivery | null;
  /** Events of a session after a sequence number, oldest first. */
  eventsAfter(session: string, afterSeq: number, limit: number): StoredEvent[];
  /** The sequence number of an event id, or null when unknown (or pruned). */
  seqOf(id: string): number | null;
  /** Deletes events older than `before` (ms) with no pending delivery; returns how many. */
  prune(before: number): number;
  listWebhooks(phoneNumber: string): WebhookConfig[];
  replaceWebhooks(phoneNumber: string, webhooks: readonly WebhookConfig[]): void;
  /** Deletes everything kept for a number: its events, their deliveries and its webhooks. */
  forgetSession(phoneNumber: string): void;
}

interface DeliveryRow {
  id: number;
  event_seq: number;
  event_id: string;
  event: string;
  session: string;
  destination: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  last_status: number | null;
  created_at: number;
  updated_at: number;
  body?: string;
}

function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    eventSeq: row.event_seq,
    eventId: row.event_id,
    event: row.event,
    session: row.session,
    destination: row.destination,
    url: parseDestination(row.destination)?.url ?? "",
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    lastStatus: row.last_status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const DELIVERY_COLUMNS = `d.id, d.event_seq, e.id AS event_id, e.event, d.session, d.destination,
  d.status, d.attempts, d.next_attempt_at, d.last_error, d.last_status, d.created_at, d.updated_at`;

export function createOutbox(db: DatabaseSync, now: () => number = Date.now): Outbox {
  const insertEvent = db.prepare(
    "INSERT OR IGNORE INTO events (id, session, event, body, created_at) VALUES (?, ?, ?, ?, ?)",
  );
  // The old per-delivery `url`, `secret` and `headers` columns stay NULL (migration 3).
  const insertDelivery = db.prepare(`
    INSERT INTO webhook_deliveries (event_seq, session, destination, status, attempts,
      next_attempt_at, created_at, updated_at)
    VALUES (?, ?, ?, 'pending', 0, ?, ?, ?)
  `);
  const head = db.prepare(`
    SELECT ${DELIVERY_COLUMNS}, e.body
    FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
    WHERE d.destination = ? AND d.status = 'pending'
    ORDER BY d.id LIMIT 1
  `);
  const pendingDestinations = db.prepare(
    "SELECT DISTINCT destination FROM webhook_deliveries WHERE status = 'pending'",
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
  const seqOf = db.prepare("SELECT seq FROM events WHERE id = ?");
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

  return {
    append(envelopes, { destinationsFor, derive }) {
      return transaction(() => {
        const at = now();
        const events: StoredEvent[] = [];
        const destinations = new Set<string>();
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
            id: envelope.id,
            session: envelope.session,
            event: envelope.event,
            body,
            createdAt: at,
          });
          for (const destination of destinationsFor(envelope)) {
            insertDelivery.run(seq, envelope.session, destination, at, at, at);
            destinations.add(destination);
          }
          return true;
        }
        for (const envelope of envelopes) {
          if (!store(envelope)) continue;
          for (const derived of derive?.(envelope) ?? []) store(derived);
        }
        return { events, destinations, duplicates };
      });
    },
    head(destination) {
      const row = head.get(destination) as DeliveryRow | undefined;
      if (!row) return null;
      return { ...toDelivery(row), body: row.body! };
    },
    pendingDestinations() {
      return (pendingDestinations.all() as { destination: string }[]).map((r) => r.destination);
    },
    markDelivered(id, httpStatus) {
      delivered.run(httpStatus, now(), id);
    },
    markRetry(id, { attempts, nextAttemptAt, error, httpStatus }) {
      retry.run(attempts, nextAttemptAt, error, httpStatus, now(), id);
    },
    markFailed(id, { attempts, error, httpStatus }) {
      failed.run(attempts, error, httpStatus, now(), id);
    },
    failPending(destination, error) {
      return Number(failPending.run(error, now(), destination).changes);
    },
    listDeliveries(session, { status, limit, beforeId, numberWebhooksOnly = false }) {
      const before = beforeId ?? Number.MAX_SAFE_INTEGER;
      const scope = numberWebhooksOnly ? `${NUMBER_DESTINATION}%` : "%";
      const found = status
        ? rows(listByStatus, session, scope, status, before, limit)
        : rows(listAll, session, scope, before, limit);
      return found.map(toDelivery);
    },
    getDelivery(session, id, { numberWebhooksOnly = false } = {}) {
      const scope = numberWebhooksOnly ? `${NUMBER_DESTINATION}%` : "%";
      const row = byId.get(session, scope, id) as DeliveryRow | undefined;
      return row ? toDelivery(row) : null;
    },
    requeue(session, id, { numberWebhooksOnly = false } = {}) {
      const scope = numberWebhooksOnly ? `${NUMBER_DESTINATION}%` : "%";
      const row = byId.get(session, scope, id) as DeliveryRow | undefined;
      if (!row) return null;
      const at = now();
      requeue.run(at, at, id);
      return toDelivery({ ...row, status: "pending", attempts: 0, next_attempt_at: at });
    },
    eventsAfter(session, afterSeq, limit) {
      const found = eventsAfter.all(session, afterSeq, limit) as unknown as {
        seq: number;
        id: string;
        session: string;
        event: string;
        body: string;
        created_at: number;
      }[];
      return found.map((r) => ({
        seq: r.seq,
        id: r.id,
        session: r.session,
        event: r.event,
        body: r.body,
        createdAt: r.created_at,
      }));
    },
    seqOf(id) {
      const row = seqOf.get(id) as { seq: number } | undefined;
      return row ? row.seq : null;
    },
    prune(before) {
      return Number(prune.run(before).changes);
    },
    listWebhooks(phoneNumber) {
      const found = webhooksOf.all(phoneNumber) as {
        url: string;
        events: string;
        secret: string | null;
        headers: string | null;
      }[];
      return found.map((r) => ({
        url: r.url,
        events: JSON.parse(r.events),
        ...(r.secret ? { secret: r.secret } : {}),
        ...(r.headers ? { headers: JSON.parse(r.headers) } : {}),
      }));
    },
    forgetSession(phoneNumber) {
      transaction(() => {
        deleteDeliveriesOf.run(phoneNumber);
        deleteEventsOf.run(phoneNumber);
        deleteWebhooks.run(phoneNumber);
      });
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
    },
  };
}
