/**
 * @module
 * The store: the interfaces every other part talks to, and `openStore(config)`, which opens one of
 * its two implementations. Without `DATABASE_URL` it is SQLite in `DATA_DIR` (`store/sqlite/`, one
 * node); with it, PostgreSQL (`store/postgres/`, shared by the nodes of a cluster). Every method
 * returns a Promise, so callers are written once for both; SQLite's resolve values it computed
 * synchronously. The two are held to one test suite (`store_suite.ts`).
 *
 * Times are Unix milliseconds of the database's clock (`now()`): a deadline the store computes
 * (a claim's age, retention, a retry's due time) is compared in SQL with that clock, never with
 * one node's.
 */
import type { Outbox } from "../events/outbox.ts";

export { StoreRefusedError, StoreUnavailableError } from "./errors.ts";

export interface SessionRecord {
  phoneNumber: string;
  engine: string;
  /** Started and not stopped: bring it back when the server boots. */
  shouldRun: boolean;
  ownerAccountId: string | null;
  /** Unix milliseconds (the database's clock). */
  createdAt: number;
  updatedAt: number;
  /** When a phone of this number first linked (Unix ms); null while it never has. */
  linkedAt: number | null;
  /** What the number's owner chose for it (its proxy, calls), kept across restarts and nodes. */
  settings: SessionSettings;
}

/**
 * A number's own settings, each absent until set (then the server's default applies). Stored as
 * JSON in the session's row: plain data only.
 */
export interface SessionSettings {
  /** The proxy its Chromium uses (`url` may hold a password: never shown as it is). */
  proxy?: { url: string; byAdmin: boolean };
  /** Calls to the number: rejected at once when `autoReject`, `message` sent to the caller. */
  calls?: { autoReject: boolean; message: string | null };
  /** The waha engine: which of `WAHA_URLS` runs the number (by name); absent: `WAHA_URL`. */
  wahaServer?: string;
}

/**
 * `claimed`: the number is now the account's; `owned`: it already was; `taken`: another account
 * owns it; `admin`: the admin started it without an owner; `limit`: the account owns enough.
 */
export type ClaimOutcome = "claimed" | "owned" | "taken" | "admin" | "limit";

export interface SessionRepository {
  /** The number's record (a copy the caller may keep), or null. */
  get(phoneNumber: string): Promise<SessionRecord | null>;
  list(filter?: { ownerAccountId?: string }): Promise<SessionRecord[]>;
  /** Creates the session, or updates its engine; keeps an existing owner. */
  save(
    input: { phoneNumber: string; engine: string; ownerAccountId?: string | null },
  ): Promise<SessionRecord>;
  /**
   * With `fence` (a write the number's session made on its own, not a caller's request), the
   * write only happens while the fence's lease is the number's latest (`isFenceHeld`).
   */
  setShouldRun(phoneNumber: string, shouldRun: boolean, fence?: Fence | null): Promise<void>;
  /** Replaces the number's settings (no-op for an unknown number). */
  setSettings(phoneNumber: string, settings: SessionSettings): Promise<void>;
  /** Records that the number's own phone linked (the first time only); `fence` as above. */
  markLinked(phoneNumber: string, fence?: Fence | null): Promise<void>;
  /** Accounts' claims whose number never linked, oldest first (the admin's numbers are not claims). */
  listUnlinkedClaims(): Promise<SessionRecord[]>;
  /**
   * Deletes the number if it is still an account's claim that never linked and was made at or
   * before `createdBefore` (Unix ms, the database's clock); true when it did.
   */
  releaseUnlinkedClaim(phoneNumber: string, createdBefore: number): Promise<boolean>;
  countOwnedBy(ownerAccountId: string): Promise<number>;
  /**
   * Atomically gives an unowned number to an account, unless the account already owns `max`
   * numbers (claims of one account are serialised, so concurrent ones cannot pass the limit).
   * `owned`: it was already this account's; `taken`: another account owns it.
   */
  claim(
    phoneNumber: string,
    input: { engine: string; ownerAccountId: string; max: number },
  ): Promise<ClaimOutcome>;
  /** What `claim` would answer now, writing nothing (`claimed`: it would be claimed). */
  previewClaim(
    phoneNumber: string,
    input: { ownerAccountId: string; max: number },
  ): Promise<ClaimOutcome>;
  delete(phoneNumber: string): Promise<void>;
}

/**
 * A node's lease on a number, as its writes carry it (the fencing token). The database accepts a
 * fenced write while `sessions.epoch = epoch AND (node_id = nodeId OR node_id IS NULL)`: the
 * lease is still this node's, or it released it and nobody took the number since (a take bumps
 * the epoch, so a write of an older holder is refused from then on).
 */
export interface Fence {
  nodeId: string;
  epoch: number;
}

/** A number's lease as its holder knows it. */
export interface Lease {
  phoneNumber: string;
  epoch: number;
}

/** The node that holds a number's live lease. */
export interface LeaseOwner {
  nodeId: string;
  /** Its `NODE_URL`, null when it has none (a single node). */
  url: string | null;
  epoch: number;
}

export type NodeRole = "worker" | "edge";

/** A node of the cluster as its heartbeat row says. Times: Unix ms of the database's clock. */
export interface NodeRecord {
  id: string;
  url: string | null;
  role: NodeRole;
  /** `NODE_MAX_SESSIONS`. */
  capacity: number;
  /** Live leases it holds now, and numbers placed on it that it has yet to take. */
  sessions: number;
  draining: boolean;
  version: string | null;
  startedAt: number;
  heartbeatAt: number;
  /** It renewed within its lease TTL (by the database's clock). */
  live: boolean;
}

/** A number that should run and has no live lease. */
export interface VacantSession {
  phoneNumber: string;
  /** The engine it runs (a take-over starts whatsapp-web.js numbers fewer at a time). */
  engine: string;
  /** Its last holder (null: released, or never taken). */
  nodeId: string | null;
  epoch: number;
  /** The node a start placed it on, which takes it first. */
  placedNode: string | null;
  /** How long ago its lease ran out (database ms); null when released or never taken. */
  expiredMs: number | null;
}

/**
 * Nodes and the leases by which they own numbers (`cluster/`). Every deadline is computed in the
 * statement with the database's clock. A number may be taken when it should run and its lease is
 * released, or ran out more than `marginMs` ago; each take bumps its epoch.
 */
export interface ClusterRepository {
  /**
   * Registers the node, or refreshes its row at a restart (live for `ttlMs`, not draining).
   * `exclusive`: this node is the database's only one (SQLite): every lease left in it belonged
   * to a server that is gone, and is released.
   */
  join(node: NodeInput, options: { ttlMs: number; exclusive?: boolean }): Promise<void>;
  /**
   * The heartbeat, in one transaction: the node's row is live for another `ttlMs` (with its
   * session count and draining flag), and each of `leases` that is still the node's is renewed
   * for `ttlMs`. Answers the renewed ones, with whether their number should still run.
   */
  heartbeat(
    nodeId: string,
    input: { ttlMs: number; draining: boolean; leases: Lease[] },
  ): Promise<(Lease & { shouldRun: boolean })[]>;
  /**
   * Takes the number for the node (compare-and-set): its new epoch, or null when it may not be
   * taken (it runs elsewhere, should not run, or is gone). `epoch`: the node's own lease of that
   * epoch may be taken back whatever its expiry (it stopped the number itself).
   */
  take(
    phoneNumber: string,
    nodeId: string,
    options: { ttlMs: number; marginMs: number; epoch?: number },
  ): Promise<number | null>;
  /** Gives the lease up (only while it is still `fence`'s); `placedNode` for the next start. */
  release(phoneNumber: string, fence: Fence, placedNode?: string | null): Promise<boolean>;
  /** Records where a start placed the number and wakes the nodes (the placed one takes it). */
  place(phoneNumber: string, nodeId: string | null): Promise<void>;
  /** Numbers that should run with no live lease (released, or ran out over `marginMs` ago). */
  vacant(options: { marginMs: number }): Promise<VacantSession[]>;
  /** The live lease holder of the number, or null. */
  owner(phoneNumber: string): Promise<LeaseOwner | null>;
  /** Every number's live lease holder. */
  owners(): Promise<Map<string, LeaseOwner>>;
  nodes(): Promise<NodeRecord[]>;
  /** Removes the node's row (a clean exit, after its leases were released). */
  leave(nodeId: string): Promise<void>;
  /**
   * Calls `listener` when a node placed or released a number (PostgreSQL: NOTIFY `wa_sessions`,
   * and after the listening connection reconnected; SQLite: directly). Returns the unsubscribe.
   */
  onWake(listener: () => void): () => void;
}

export interface NodeInput {
  id: string;
  url: string | null;
  role: NodeRole;
  capacity: number;
  version: string | null;
}

/** The admin API key of an install that configured no credential. */
export interface AdminKey {
  key: string;
  /** True when this call generated it (print it once). */
  generated: boolean;
  /** Where it is kept, for the operator: a file, or the database's table. */
  location: string;
}

/**
 * What `IdempotencyRepository.begin` found for a principal's key. `reserved`: the key is now this
 * request's (run it, then `complete` or `release`); `done`: the same request was answered before
 * (replay `status` and `response`); `in_flight`: the same request is being served right now;
 * `mismatch`: the key was used for another request.
 */
export type IdempotencyOutcome =
  | { kind: "reserved" }
  | { kind: "done"; status: number; response: string }
  | { kind: "in_flight" }
  | { kind: "mismatch" };

/**
 * The first answer to a request sent with an `Idempotency-Key`, per principal and key (table
 * `idempotency_keys`). Ages are judged by the database's clock, so every node agrees on them.
 */
export interface IdempotencyRepository {
  /**
   * Reserves `key` for the request hashed `requestHash`, unless the principal used it within
   * `ttlMs`; a reservation still unanswered after `abandonedMs` (its server died serving it) is
   * taken over.
   */
  begin(
    principal: string,
    key: string,
    requestHash: string,
    limits: { ttlMs: number; abandonedMs: number },
  ): Promise<IdempotencyOutcome>;
  /** Keeps the answer of a reservation (`begin` answered `reserved`). */
  complete(
    principal: string,
    key: string,
    requestHash: string,
    answer: { status: number; response: string },
  ): Promise<void>;
  /** Drops an unanswered reservation, so the key can be used again (the request failed). */
  release(principal: string, key: string, requestHash: string): Promise<void>;
  /** Deletes keys older than `ttlMs`; how many. */
  sweep(ttlMs: number): Promise<number>;
}

/** A number's saved whatsapp-web.js login (`LoginRepository`). Times: the database's clock. */
export interface SavedLogin {
  phoneNumber: string;
  /** The lease epoch it was saved under: the run of the number whose login it is. */
  epoch: number;
  /** The node that saved it (null: carried over by `migrate-to-postgres`). */
  nodeId: string | null;
  /** The sealed archive (`sessions/login_cipher.ts`). */
  blob: Uint8Array;
  /** The archive's size before sealing (compressed bytes). */
  size: number;
  savedAt: number;
}

/**
 * The numbers' saved logins (table `saved_logins`), so a number goes on without a new scan on the
 * next node that runs it. A login belongs to the account that owned the number when it was saved:
 * it is read back only while that account still owns it.
 */
export interface LoginRepository {
  /**
   * Keeps the number's login, saved under `fence`: written only while the fence's lease is the
   * number's latest (a node woken from a pause cannot overwrite what the new owner saved), and
   * never over a login of a later epoch. Answers when it was saved, or null when refused.
   */
  save(
    phoneNumber: string,
    login: { blob: Uint8Array; size: number },
    fence: Fence,
  ): Promise<number | null>;
  /** The number's login, unless the number is gone or another account owns it since. */
  get(phoneNumber: string): Promise<SavedLogin | null>;
  /** When each of the numbers' logins was last saved (numbers without one are left out). */
  savedAt(phoneNumbers: string[]): Promise<Map<string, number>>;
  remove(phoneNumber: string): Promise<void>;
}

export type StoreKind = "sqlite" | "postgres";

export interface Store {
  readonly kind: StoreKind;
  sessions: SessionRepository;
  /** Nodes and their leases on numbers (one node on SQLite). */
  cluster: ClusterRepository;
  /** Events, their webhook deliveries and the numbers' webhooks (`events/outbox.ts`). */
  outbox: Outbox;
  /** First answers to requests sent with an `Idempotency-Key`. */
  idempotency: IdempotencyRepository;
  /** The numbers' saved whatsapp-web.js logins (used in a cluster). */
  logins: LoginRepository;
  /**
   * The generated admin key: made once and kept by the store (SQLite: a file in `DATA_DIR`;
   * PostgreSQL: the database, so every node of a cluster has the same one).
   */
  adminKey(): Promise<AdminKey>;
  /** The database's clock, Unix ms (SQLite: this machine's). */
  now(): Promise<number>;
  close(): Promise<void>;
}

export interface StoreConfig {
  dataDir: string;
  database: { url?: string; poolSize: number };
}

/** Opens PostgreSQL when `database.url` is set, else SQLite in `dataDir`. */
export async function openStore(config: StoreConfig): Promise<Store> {
  // Imported on demand: a node on PostgreSQL loads no `node:sqlite`, and the reverse.
  if (config.database.url) {
    const { openPostgresStore } = await import("./postgres/store.ts");
    return await openPostgresStore(config.database.url, { poolSize: config.database.poolSize });
  }
  const { openSqliteStore } = await import("./sqlite/store.ts");
  return openSqliteStore(config.dataDir);
}
