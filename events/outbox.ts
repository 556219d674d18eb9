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

export interface StoredEvent {
  /**
   * The event's row number: unique, and the position a stream resumes after. It follows the
   * stream's order on one writer; the stream's order itself is the store's (`eventsAfter`).
   */
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

/** A page of a session's events (`Outbox.eventsAfter`). */
export interface EventPage {
  events: StoredEvent[];
  /**
   * Later events are committed but held back because an older transaction is still open
   * (PostgreSQL; never on SQLite): read again shortly, they follow these.
   */
  pending: boolean;
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
  /** Destinations that have pending deliveries. */
  pendingDestinations(): Promise<string[]>;
  markDelivered(id: number, httpStatus: number): Promise<void>;
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
   * Events of a session that follow the event `afterSeq` (0: from the first retained) in the
   * stream's order, oldest first. That order is commit order: an event committed after a reader
   * read past its place cannot exist, so a reader that resumes after any event it was given gets
   * every later event exactly once (with several writers, see `EventPage.pending`).
   */
  eventsAfter(session: string, afterSeq: number, limit: number): Promise<EventPage>;
  /** The sequence number of an event id, or null when unknown (or pruned). */
  seqOf(id: string): Promise<number | null>;
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
