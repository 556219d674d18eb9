/**
 * @module
 * Rows as both stores read them (the same column names in SQLite and PostgreSQL), turned into the
 * records the interfaces speak.
 */
import {
  type Delivery,
  type DeliveryStatus,
  NUMBER_DESTINATION,
  parseDestination,
  type StoredEvent,
  type WebhookConfig,
} from "../events/outbox.ts";
import type { SavedLogin, SessionRecord, SessionSettings } from "./store.ts";

export interface SessionRow {
  phone_number: string;
  engine: string;
  /** SQLite: 0 or 1; PostgreSQL: a boolean. */
  should_run: number | boolean;
  owner_account_id: string | null;
  created_at: number;
  updated_at: number;
  linked_at: number | null;
  /** JSON of `SessionSettings`. */
  settings: string;
}

export function toRecord(row: SessionRow): SessionRecord {
  return {
    phoneNumber: row.phone_number,
    engine: row.engine,
    shouldRun: row.should_run === 1 || row.should_run === true,
    ownerAccountId: row.owner_account_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    linkedAt: row.linked_at,
    settings: parseSettings(row.settings),
  };
}

/** The stored settings; an unreadable value reads as none (the server's defaults apply). */
function parseSettings(json: string | null): SessionSettings {
  if (!json) return {};
  try {
    const value = JSON.parse(json);
    return value && typeof value === "object" ? Object.freeze(value) : {};
  } catch {
    return {};
  }
}

export interface LoginRow {
  phone_number: string;
  epoch: number;
  node_id: string | null;
  blob: Uint8Array;
  size: number;
  saved_at: number;
}

export function toLogin(row: LoginRow): SavedLogin {
  return {
    phoneNumber: row.phone_number,
    epoch: row.epoch,
    nodeId: row.node_id,
    blob: new Uint8Array(row.blob),
    size: row.size,
    savedAt: row.saved_at,
  };
}

export interface DeliveryRow {
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
  due_in_ms?: number;
}

export function toDelivery(row: DeliveryRow): Delivery {
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

export interface EventRow {
  seq: number;
  /** PostgreSQL: the writing transaction's id (as a number); SQLite has none (0). */
  txid?: number;
  id: string;
  session: string;
  event: string;
  body: string;
  created_at: number;
}

export interface WebhookRow {
  url: string;
  events: string;
  secret: string | null;
  headers: string | null;
}

export function toEvent(row: EventRow): StoredEvent {
  return {
    seq: row.seq,
    position: { txid: row.txid ?? 0, seq: row.seq },
    id: row.id,
    session: row.session,
    event: row.event,
    body: row.body,
    createdAt: row.created_at,
  };
}

export function toWebhook(row: WebhookRow): WebhookConfig {
  return {
    url: row.url,
    events: JSON.parse(row.events),
    ...(row.secret ? { secret: row.secret } : {}),
    ...(row.headers ? { headers: JSON.parse(row.headers) } : {}),
  };
}

/** The `LIKE` pattern of the destinations a scope may see. */
export function scopePattern(numberWebhooksOnly = false): string {
  return numberWebhooksOnly ? `${NUMBER_DESTINATION}%` : "%";
}
