/**
 * @module
 * The outbox: what the event pipeline stores, as the interface both stores implement
 * (`store/sqlite/outbox.ts`, `store/postgres/outbox.ts`). `events` holds every accepted envelope as
 * the exact JSON that is delivered (its order is the SSE stream's and its resume's);
 * `webhook_deliveries` holds one row per event and destination with its state (`pending`,
 * `delivered`, `failed` = dead letter), attempts and next attempt time; `webhooks` holds each
 * number's webhook configuration. A delivery names its destination by key only (`number:<n>:<url>`
 * or `global:<url>`): URL, secret and headers are stored once, in `webhooks` (or the server's
 * configuration), and looked up at each attempt, so a row costs the same whatever the headers, and
 * a retry is sent as the webhook is now. Everything one `append` accepts (the events, the events
 * derived from them and all their deliveries) is written in one transaction, so nothing is
 * acknowledged that a crash could lose, and a derived event never exists without its source or
 * vice versa.
 *
 * Each delivery is given a lane when it is queued (`laneOf`: a stable hash of its session, modulo
 * `AppendOptions.lanes`, `WEBHOOK_LANES`); a destination's lanes are served side by side, each
 * oldest first, so the deliveries of one number to one destination still go one at a time, in
 * order. A delivery whose session already has deliveries pending to the same destination joins
 * their lane instead, so a changed lane count (or the upgrade that added lanes, which put every
 * pending delivery in lane 0) never lets a number's new deliveries overtake its older ones.
 *
 * Several nodes may share one outbox (PostgreSQL). Then the stream's order is the position
 * (`EventPosition`: the writing transaction, then `seq`), an owner's writes carry its lease
 * (`Fence`) and a stale one is refused, one node at a time serves a destination (a lease on it,
 * `nextDelivery`), and `watch` tells every node what any node changed.
 */
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

/** A destination's lane: the deliveries it serves one at a time, oldest first. */
export interface DeliveryQueue {
  destination: string;
  lane: number;
}

/**
 * The lane of a session's deliveries among `lanes` (FNV-1a of the session, so every node and
 * every run agrees); 0 when there is one lane.
 */
export function laneOf(session: string, lanes: number): number {
  if (lanes <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < session.length; i++) {
    hash ^= session.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % lanes;
}

/**
 * Where an event stands in its session's stream: ordered by `txid`, then `seq`. `txid` is the
 * writing transaction's id on PostgreSQL (commit order, see `store/postgres/outbox.ts`) and 0 on
 * SQLite, whose one writer commits in `seq` order. Streams compare positions, never `seq` alone.
 */
export interface EventPosition {
  txid: number;
  seq: number;
}

/** The start of every stream: before any event. */
export const FIRST_POSITION: EventPosition = Object.freeze({ txid: 0, seq: 0 });

/** Negative, zero or positive as `a` stands before, at or after `b` in a stream. */
export function comparePositions(a: EventPosition, b: EventPosition): number {
  return a.txid - b.txid || a.seq - b.seq;
}

/**
 * An owner's lease of a number (the cluster's node and the lease's epoch, its fencing token):
 * events written with it are stored only while the number's `sessions` row still names this node
 * and epoch.
 */
export interface Fence {
  nodeId: string;
  epoch: number;
}

/**
 * An append refused because the lease it carried is no longer the number's (another node took it
 * over, or the number was stopped): nothing of the batch was stored.
 */
export class StaleFenceError extends Error {
  constructor(readonly sessions: readonly string[]) {
    super(`Events refused: this node no longer holds the lease of ${sessions.join(", ")}`);
    this.name = "StaleFenceError";
  }
}

export interface StoredEvent {
  /**
   * The event's row number: unique, and the name an older client may resume after. It is not
   * the stream's order with several writers: `position` is.
   */
  seq: number;
  position: EventPosition;
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
  /** How long until it is due (0: now), by the database's clock. */
  dueInMs: number;
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
  /**
   * The lease each session's events are written under (null or absent: not fenced). When one
   * of them is stale the append stores nothing and throws `StaleFenceError` naming the sessions.
   */
  fence?: (session: string) => Fence | null | undefined;
  /**
   * Lanes per destination (`WEBHOOK_LANES`; default 1, one delivery in flight per destination):
   * a delivery's lane is `laneOf(session, lanes)`, unless its session has deliveries pending to
   * the destination, whose lane it joins.
   */
  lanes?: number;
}

export interface AppendResult {
  /** What was stored, in order (derived events right after their source). */
  events: StoredEvent[];
  destinations: Set<string>;
  /** The lanes the new deliveries joined, each once. */
  queues: DeliveryQueue[];
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

/** Whose sessions a read of many covers (`Outbox.eventsAfterAll`): absent, every session. */
export interface SessionScope {
  ownerAccountId?: string;
}

/** A page of a session's events (`Outbox.eventsAfter`). */
export interface EventPage {
  events: StoredEvent[];
  /**
   * Later events are committed but held back because an older transaction is still open
   * (PostgreSQL; never on SQLite): read again shortly, they follow these.
   */
  pending: boolean;
}

/** A node's claim on serving a destination's deliveries (`Outbox.nextDelivery`). */
export interface DestinationLease {
  nodeId: string;
  /** How long the lease holds after each renewal (the database's clock). */
  ttlMs: number;
  /**
   * Renew only when less than this is left (default: always), so an attempt after a read that
   * did not renew still ends before the lease can; spares a write per delivery.
   */
  renewBelowMs?: number;
}

/** What `Outbox.nextDelivery` found. */
export type NextDelivery =
  /** Another node serves the destination now. */
  | { held: false }
  /**
   * The lease is this node's (taken or renewed); the oldest pending delivery, or null, and the
   * ones after it that the read's `limit` allowed (oldest first; empty without a limit).
   */
  | { held: true; delivery: DueDelivery | null; later: DueDelivery[] };

/** A delivery its receiver accepted (`Outbox.markDelivered`). */
export interface DeliveredMark {
  id: number;
  httpStatus: number;
}

/** What any node changed, as `Outbox.watch` reports it (a wake-up, read the tables for what). */
export interface OutboxWatcher {
  /** Events of the session were committed. */
  events(session: string): void;
  /** The number's webhooks were replaced. */
  webhooks(phoneNumber: string): void;
  /** Everything of the number was deleted (`forgetSession`). */
  forgotten(phoneNumber: string): void;
  /**
   * Deliveries to the destination were queued or made due again. `byAppend`: queued by an
   * `append` of this process (SQLite), whose caller has the lanes (`AppendResult.queues`) and
   * wakes its dispatcher itself.
   */
  deliveries(destination: string, byAppend?: boolean): void;
  /**
   * Changes may have gone unreported (PostgreSQL: the listening connection was lost and is back):
   * read again whatever is followed.
   */
  resync(): void;
}

export interface Outbox {
  /**
   * Writes the envelopes, each followed by the ones `derive` makes from it, and for every one a
   * pending delivery per destination that wants it, all in one transaction: if anything throws,
   * nothing is stored. An envelope whose id is already stored is skipped with what it would
   * derive (idempotent re-sends). Resolves once it is committed.
   */
  append(envelopes: readonly Envelope[], options: AppendOptions): Promise<AppendResult>;
  /** The oldest pending delivery of a destination (due or not), or null. */
  head(destination: string): Promise<DueDelivery | null>;
  /**
   * Takes or renews the node's lease on a destination, when it is free, expired or already the
   * node's, and returns its oldest pending delivery (due or not) in `lane` (absent: in any lane)
   * with, when `limit` is more than 1, up to `limit` − 1 of the pending deliveries after it in the
   * same order (`later`); `held: false` while another node's lease holds. One short transaction:
   * no lock is held afterwards, during the POST. The lease is the destination's, whatever the
   * lane.
   */
  nextDelivery(
    destination: string,
    lease: DestinationLease,
    options?: { lane?: number; limit?: number },
  ): Promise<NextDelivery>;
  /** The lanes of a destination that have pending deliveries (due or not). */
  pendingLanes(destination: string): Promise<number[]>;
  /**
   * Takes or renews the node's leases on the destinations that have pending deliveries and are
   * free, expired or already its own; returns the destinations it holds now.
   */
  leasePending(lease: DestinationLease): Promise<string[]>;
  /** Gives up the node's destination leases (a node that stops), so others take them at once. */
  releaseDestinations(nodeId: string): Promise<void>;
  /** Destinations that have pending deliveries. */
  pendingDestinations(): Promise<string[]>;
  /** How many deliveries are pending, all destinations (the backlog, for the metrics). */
  pendingCount(): Promise<number>;
  /**
   * Marks deliveries delivered, each with the status its receiver answered, together. A store may
   * hold the marks for its next write (SQLite: an append's transaction, or within 25 ms), never
   * past any other call: nothing reads them as pending afterwards.
   */
  markDelivered(marks: readonly DeliveredMark[]): Promise<void>;
  /** Records a failed attempt; the next is due `delayMs` from now (the database's clock). */
  markRetry(
    id: number,
    update: { attempts: number; delayMs: number; error: string; httpStatus: number | null },
  ): Promise<void>;
  markFailed(
    id: number,
    update: { attempts: number; error: string; httpStatus: number | null },
  ): Promise<void>;
  /** Fails every pending delivery of a destination (its webhook is gone); returns how many. */
  failPending(destination: string, error: string): Promise<number>;
  listDeliveries(session: string, query: DeliveryQuery): Promise<Delivery[]>;
  /** One delivery of a session, or null. */
  getDelivery(session: string, id: number, scope?: DeliveryScope): Promise<Delivery | null>;
  /** Puts a delivery back to pending, due now, for a new round of attempts; null when unknown. */
  requeue(session: string, id: number, scope?: DeliveryScope): Promise<Delivery | null>;
  /**
   * Events of a session that follow a position (or the event numbered `after`; 0: from the first
   * retained) in the stream's order, oldest first. That order is commit order: an event
   * committed after a reader read past its place cannot exist, so a reader that resumes after
   * any event it was given gets every later event exactly once (with several writers, see
   * `EventPage.pending`).
   */
  eventsAfter(session: string, after: number | EventPosition, limit: number): Promise<EventPage>;
  /**
   * The events of every session (or, with `ownerAccountId`, of every session that account owns)
   * after a position, in the stream's order, oldest first: one stream of many numbers. Who owns
   * what is read with the events, in the same snapshot, so a number claimed since the last read
   * shows up and one that changed hands does not; a session without a `sessions` row (being
   * forgotten) shows up in none. `pending` as in `eventsAfter`, for the same sessions.
   */
  eventsAfterAll(after: EventPosition, limit: number, scope?: SessionScope): Promise<EventPage>;
  /** The sequence number of an event id, or null when unknown (or pruned). */
  seqOf(id: string): Promise<number | null>;
  /** The session and stream position of an event id, or null when unknown (or pruned). */
  positionOf(id: string): Promise<{ session: string; position: EventPosition } | null>;
  /**
   * The position a live stream starts from: every event it reads after it is one not yet
   * readable when this was asked (committed later, or held back behind an open transaction).
   */
  livePosition(): Promise<EventPosition>;
  /**
   * Reports what any node changes (on SQLite, this process: it is the only writer) until the
   * returned function is called; resolves once reports flow.
   */
  watch(watcher: OutboxWatcher): Promise<() => Promise<void>>;
  /**
   * Deletes events older than `maxAgeMs` (by the database's clock) with no pending delivery;
   * returns how many.
   */
  prune(maxAgeMs: number): Promise<number>;
  listWebhooks(phoneNumber: string): Promise<WebhookConfig[]>;
  replaceWebhooks(phoneNumber: string, webhooks: readonly WebhookConfig[]): Promise<void>;
  /** Deletes everything kept for a number: its events, their deliveries and its webhooks. */
  forgetSession(phoneNumber: string): Promise<void>;
}
