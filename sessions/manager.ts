/**
 * @module
 * The session manager: one entry per phone number, each with its own Worker, behind the
 * `SessionManager` interface the routes use. This module composes its parts, each with one job:
 * the status machine (`status_machine.ts`), the lifecycle under a per-number lock
 * (`lifecycle.ts`), what the engines report (`engine_events.ts`), the engine-call path with the
 * WORKING rule and the call timeout (`calls.ts`), crash restarts (`restarts.ts`), the QR and
 * pairing code (`link_codes.ts`) and the boot-time restore (`restore.ts`).
 *
 * It also holds a number to its own phone: a session whose linked account is another number is
 * logged out at once and FAILED (nothing of that account leaves it), and an account's claim on a
 * number that never linked is released after `CLAIM_TTL_MS` (`claim_sweeper.ts`).
 */
import { join } from "node:path";
import type { Config } from "../config.ts";
import { sessionNotFound } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { SessionMetrics } from "../metrics/hooks.ts";
import type { HostResolver } from "../ssrf_guard/address_policy.ts";
import type { SessionRecord, SessionRepository } from "../store/store.ts";
import {
  type ContractState,
  type EngineName,
  type Me,
  SESSION_STATUSES,
  type SessionStatus,
  toContractState,
} from "./engine.ts";
import { createCalls, createSessionClient, type SessionClient } from "./calls.ts";
import { startClaimSweeper } from "./claim_sweeper.ts";
import { createEngineEventHandler, type EngineEventHandler } from "./engine_events.ts";
import { createKeyedLock } from "./keyed_lock.ts";
import { createLifecycle, type StartOptions, type WahaSettings } from "./lifecycle.ts";
import { redactProxy } from "./proxy.ts";
import { localLeases, type SessionLeases } from "./leases.ts";
import { createLinkCodes } from "./link_codes.ts";
import { assertMayAct, type SessionCaller } from "./ownership.ts";
import { assertPhoneNumber } from "./phone_number.ts";
import { createRestarts } from "./restarts.ts";
import { restoreSessions } from "./restore.ts";
import type { SavedLogins } from "./saved_logins.ts";
import type { SessionEntry } from "./session_entry.ts";
import { createEmitter, type SessionEvent } from "./session_events.ts";
import { createStatusMachine } from "./status_machine.ts";
import { createWorkerHost, type WorkerHost, type WorkerHostOptions } from "./worker_host.ts";

export type { SessionCallName, SessionClient } from "./calls.ts";
export type { StartOptions } from "./lifecycle.ts";
export type { SessionEvent, SessionEventData, StatusChange } from "./session_events.ts";

export interface SessionInfo {
  phoneNumber: string;
  engine: EngineName;
  state: ContractState;
  status: SessionStatus;
  reason: string | null;
  me: Me | null;
  ownerAccountId: string | null;
  /**
   * In a cluster, the node that runs it (its live lease holder; null when it runs nowhere).
   * Left out on a single node.
   */
  node?: string | null;
  /**
   * In a cluster, for a whatsapp-web.js number: when its login was last saved in the shared store
   * (ISO 8601), null before the first save. Left out otherwise.
   */
  loginSavedAt?: string | null;
  /** The number's own proxy, its password shown as `***`; null: none (`PROXY_URL` applies). */
  proxy: string | null;
  /** The number's own call setting; null: none (`CALLS_AUTO_REJECT` applies). */
  calls: { autoReject: boolean; message: string | null } | null;
}

/** The parts of the server's configuration the manager uses. */
export type SessionManagerConfig =
  & Pick<
    Config,
    | "dataDir"
    | "engine"
    | "engineCallTimeoutMs"
    | "simulatorScanMs"
    | "simulatorCloudDir"
    | "claimTtlMs"
    | "qrMaxRetries"
    | "logQr"
    | "supervision"
    | "wwebjs"
    | "calls"
  >
  & WahaSettings;

export interface SessionManagerDeps {
  config: SessionManagerConfig;
  sessions: SessionRepository;
  log: Logger;
  onEvent?: (event: SessionEvent) => void;
  /**
   * Resolves once the events handed to `onEvent` so far are durable. Awaited when a call's answer
   * is in, before it is returned: what the engine emitted before answering (a sent message's `message.any`)
   * reaches the Worker's port, and so `onEvent`, before the answer does. `alone` is true when no
   * other call is in flight: there is no one to share the write with, so it need not wait.
   */
  flushEvents?: (alone: boolean) => Promise<void>;
  createHost?: (options: WorkerHostOptions) => WorkerHost;
  /** `MAX_NUMBERS_PER_ACCOUNT`: how many numbers an account may claim by starting them. */
  maxNumbersPerAccount?: number;
  /**
   * Called when a claim was released (its number never linked): the number's stored events and
   * webhooks must go, or the next owner's events would reach the old claimant's webhooks.
   */
  forgetNumber?: (phoneNumber: string) => Promise<void>;
  /** The database's clock (`Store.now`), for a claim's age; default this machine's. */
  now?: () => Promise<number>;
  /** This node's leases on numbers (`cluster/ownership.ts`); default: every number runs here. */
  leases?: SessionLeases;
  /** A cluster's whatsapp-web.js logins, kept in the shared store (`saved_logins.ts`). */
  logins?: SavedLogins;
  /** Engine call times, restarts and Chromium's pid, for the metrics (`METRICS_ENABLED`). */
  metrics?: SessionMetrics;
  /** Resolves a proxy's host (`proxy.ts`); default the system's. */
  resolveHost?: HostResolver;
}

/**
 * The session manager's operations. Those that take a `caller` check, when they take effect, that
 * the caller may act on the number (`sessions/ownership.ts`): `403` when it changed hands since the
 * request arrived, `404` when it was deleted. Without a caller (internal use) nothing is checked.
 */
export interface SessionManager {
  /**
   * Starts the number; an account caller claims it first (a number nobody owns becomes its own,
   * within `maxNumbersPerAccount`), in the same turn of the number's lock as the start.
   */
  start(phoneNumber: string, options?: StartOptions): Promise<{ alreadyStarted: boolean }>;
  stop(phoneNumber: string, caller?: SessionCaller): Promise<{ wasRunning: boolean }>;
  restart(phoneNumber: string, caller?: SessionCaller): Promise<void>;
  logout(phoneNumber: string, caller?: SessionCaller): Promise<void>;
  /** Logs out, deletes the session's data and forgets the number (and its owner). */
  remove(phoneNumber: string): Promise<void>;
  /**
   * The QR to scan, as a PNG data URL; with `raw`, the value it encodes (WAHA's
   * `GET /api/{session}/auth/qr?format=raw`).
   */
  getQr(
    phoneNumber: string,
    options?: { waitMs?: number; caller?: SessionCaller; raw?: boolean },
  ): Promise<string>;
  requestPairingCode(
    phoneNumber: string,
    options?: { phoneForCode?: string; caller?: SessionCaller },
  ): Promise<string>;
  info(phoneNumber: string, caller?: SessionCaller): Promise<SessionInfo>;
  list(filter?: { ownerAccountId?: string }): Promise<SessionInfo[]>;
  countByStatus(): Promise<Record<SessionStatus, number>>;
  /** The number's engine calls, made for `caller` (see `SessionClient`). */
  session(phoneNumber: string, caller?: SessionCaller): SessionClient;
  /** Rejects unless `caller` may act on the number now (for writes outside the manager). */
  authorize(phoneNumber: string, caller: SessionCaller | undefined): Promise<void>;
  /** Starts every session that was running when the server stopped. */
  restore(): Promise<void>;
  /** Starts a number whose lease this node just took (a take-over). */
  adopt(phoneNumber: string): Promise<void>;
  /** Stops the number here now, keeping its start flag (lease lost, self-stop, drain). */
  evict(phoneNumber: string, options: { reason: string; graceMs: number }): Promise<void>;
  /** Stops every Worker, keeping each session's started flag for the next boot. */
  shutdown(): Promise<void>;
  /**
   * A WAHA server's `session.status` for a number the waha engine runs here, applied as that
   * engine's own report: the session's status follows WAHA's (a FAILED or STOPPED session is a
   * crash, for the restart policy), unless WAHA made it before the last one applied (`at`: the
   * posts can arrive out of order). False when the number is no waha-engine session of this
   * node: the event is then stored as it came. (An edge node runs no sessions: it has none.)
   */
  applyWahaStatus?(phoneNumber: string, report: WahaStatusReport): boolean;
}

/** What a WAHA `session.status` webhook says. */
export interface WahaStatusReport {
  status: string;
  me?: { id: string; pushName?: string | null } | null;
  /** When WAHA made the post (its envelope's `timestamp`, ms), when it says. */
  at?: number;
}

export function createSessionManager(deps: SessionManagerDeps): SessionManager {
  const { config, sessions, log } = deps;
  const leases = deps.leases ?? localLeases();
  const entries = new Map<string, SessionEntry>();
  const withLock = createKeyedLock().run;
  let closing = false;
  const isClosing = () => closing;

  function sessionDir(phoneNumber: string): string {
    assertPhoneNumber(phoneNumber);
    return join(config.dataDir, "sessions", phoneNumber);
  }

  /** The number's record, once `caller` is known to be allowed to act on it. */
  async function authorize(phoneNumber: string, caller?: SessionCaller): Promise<SessionRecord> {
    assertPhoneNumber(phoneNumber);
    // After a pause, nothing is served for a number before this node knows its leases still hold.
    await leases.confirm();
    const record = await sessions.get(phoneNumber);
    assertMayAct(phoneNumber, record, caller);
    if (!record) throw sessionNotFound(phoneNumber);
    return record;
  }

  // The parts reach each other through these deps; `restarts` and the engine events call into
  // `lifecycle` only later (a crash, a refused link), once it exists.
  const emit = createEmitter(log, deps.onEvent);
  const status = createStatusMachine({ log, emit });
  const restarts = createRestarts({
    policy: config.supervision,
    log,
    status,
    isClosing,
    withLock,
    launch: (entry) => lifecycle.launch(entry),
    metrics: deps.metrics,
  });
  const calls = createCalls({
    timeoutMs: config.engineCallTimeoutMs,
    kill: restarts.kill,
    flushEvents: deps.flushEvents,
    metrics: deps.metrics,
  });
  const handleEngineEvent = createEngineEventHandler({
    logQr: config.logQr,
    sessions,
    log,
    status,
    emit,
    restarts,
    retire: (entry, host) => lifecycle.retire(entry, host),
    fenceOf: (phoneNumber) => leases.fenceOf(phoneNumber),
    logins: deps.logins,
  });
  const metrics = deps.metrics;
  // Chromium's pid, for its memory: read here so the engine events need not know of metrics.
  const onEngineEvent: EngineEventHandler = metrics
    ? (entry, host, event) => {
      if (event.type === "child_process" && entry.host === host) {
        metrics.childProcess(entry.phoneNumber, event.pid);
      }
      handleEngineEvent(entry, host, event);
    }
    : handleEngineEvent;
  const lifecycle = createLifecycle({
    config,
    sessions,
    resolveHost: deps.resolveHost,
    log,
    entries,
    withLock,
    status,
    restarts,
    onEngineEvent,
    createHost: deps.createHost ?? createWorkerHost,
    authorize,
    sessionDir,
    isClosing,
    maxNumbersPerAccount: deps.maxNumbersPerAccount,
    forgetNumber: deps.forgetNumber,
    leases,
    callsSettled: calls.settled,
    logins: deps.logins,
  });
  const linkCodes = createLinkCodes({ entries, status, calls, authorize });
  const sweeper = startClaimSweeper({
    ttlMs: config.claimTtlMs,
    sessions,
    release: lifecycle.releaseClaim,
    log,
    now: deps.now,
  });

  function infoOf(
    record: SessionRecord,
    owners: Map<string, string>,
    saved: Map<string, number>,
  ): SessionInfo {
    const entry = entries.get(record.phoneNumber);
    const here = leases.holds(record.phoneNumber) && entry?.host;
    const status = entry?.status ?? "STOPPED";
    return {
      phoneNumber: record.phoneNumber,
      engine: (entry?.engine ?? record.engine) as EngineName,
      state: toContractState(status),
      status,
      reason: entry?.reason ?? null,
      me: entry?.me ?? null,
      ownerAccountId: record.ownerAccountId,
      ...(leases.clustered
        ? { node: here && leases.nodeId ? leases.nodeId : owners.get(record.phoneNumber) ?? null }
        : {}),
      ...(deps.logins && (entry?.engine ?? record.engine) === "wwebjs"
        ? { loginSavedAt: isoOrNull(saved.get(record.phoneNumber)) }
        : {}),
      proxy: record.settings.proxy ? redactProxy(record.settings.proxy.url) : null,
      calls: record.settings.calls ?? null,
    };
  }

  /**
   * When the logins were last saved: this node knows for the numbers it runs (it saves them);
   * the store is asked for the others.
   */
  async function savedLogins(records: SessionRecord[]): Promise<Map<string, number>> {
    const logins = deps.logins;
    if (!logins) return new Map();
    const wwebjs = records.filter((r) =>
      (entries.get(r.phoneNumber)?.engine ?? r.engine) === "wwebjs"
    );
    const known = new Map<string, number>();
    const missing: string[] = [];
    for (const { phoneNumber } of wwebjs) {
      const at = leases.holds(phoneNumber) && entries.get(phoneNumber)?.host
        ? logins.lastSaved(phoneNumber)
        : undefined;
      if (at !== undefined) known.set(phoneNumber, at);
      else missing.push(phoneNumber);
    }
    if (missing.length === 0) return known;
    for (const [phoneNumber, at] of await logins.lastSavedOf(missing)) known.set(phoneNumber, at);
    return known;
  }

  /** Who runs what, for info: no lookup when this node runs the number (or there is no cluster). */
  async function ownersFor(phoneNumbers: string[]): Promise<Map<string, string>> {
    if (!leases.clustered) return new Map();
    const missing = phoneNumbers.some((phoneNumber) =>
      !(leases.holds(phoneNumber) && entries.get(phoneNumber)?.host)
    );
    return missing ? await leases.owners() : new Map();
  }

  return {
    start(phoneNumber, options = {}) {
      assertPhoneNumber(phoneNumber);
      return lifecycle.start(phoneNumber, options);
    },
    stop: lifecycle.stop,
    restart: lifecycle.restart,
    logout: lifecycle.logout,
    remove: lifecycle.remove,
    getQr: linkCodes.getQr,
    requestPairingCode: linkCodes.requestPairingCode,

    async info(phoneNumber, caller) {
      const record = await authorize(phoneNumber, caller);
      return infoOf(record, await ownersFor([phoneNumber]), await savedLogins([record]));
    },

    async authorize(phoneNumber, caller) {
      await authorize(phoneNumber, caller);
    },

    session(phoneNumber, caller) {
      return createSessionClient(phoneNumber, {
        calls,
        authorize: () => authorize(phoneNumber, caller),
        entry: () => entries.get(phoneNumber),
      });
    },

    async list(filter) {
      const records = await sessions.list(filter);
      const owners = await ownersFor(records.map((record) => record.phoneNumber));
      const saved = await savedLogins(records);
      return records.map((record) => infoOf(record, owners, saved));
    },

    async countByStatus() {
      const counts = Object.fromEntries(SESSION_STATUSES.map((status) => [status, 0])) as Record<
        SessionStatus,
        number
      >;
      for (const record of await sessions.list()) {
        counts[entries.get(record.phoneNumber)?.status ?? "STOPPED"]++;
      }
      return counts;
    },

    async restore() {
      return await restoreSessions({
        records: (await sessions.list()).filter((record) => record.shouldRun),
        start: async (record) => {
          const options = { engine: record.engine as EngineName };
          await lifecycle.start(record.phoneNumber, options, true);
          await entries.get(record.phoneNumber)?.starting;
        },
        isClosing,
        log,
      });
    },

    async adopt(phoneNumber) {
      await lifecycle.start(phoneNumber, {}, true);
      const entry = entries.get(phoneNumber);
      // Stopped or deleted meanwhile: the lease goes back.
      if (!entry?.host) await leases.release(phoneNumber);
      await entry?.starting;
    },

    evict: lifecycle.evict,

    applyWahaStatus(phoneNumber, report) {
      const entry = entries.get(phoneNumber);
      if (!entry || entry.engine !== "waha") return false;
      // WAHA posts each status as it changes, but the posts travel side by side: a SCAN_QR_CODE
      // still in flight when the scan's WORKING lands would take the number back. One made before
      // the last applied is stale, and dropped (each arrives once: nothing else to keep of it).
      if (report.at !== undefined) {
        if (entry.wahaStatusAt !== null && report.at < entry.wahaStatusAt) return true;
        entry.wahaStatusAt = report.at;
      }
      const host = entry.host;
      // Not running here (stopped, or restarting): WAHA reports what our stop did.
      if (!host) return true;
      switch (report.status) {
        case "WORKING":
          onEngineEvent(entry, host, {
            type: "status",
            status: "WORKING",
            me: report.me ? { id: report.me.id, pushName: report.me.pushName ?? "" } : undefined,
          });
          return true;
        case "STARTING":
        case "SCAN_QR_CODE":
          // The QR itself comes from the engine, which asks WAHA for it.
          if (entry.status !== "SCAN_QR_CODE" || report.status !== "SCAN_QR_CODE") {
            onEngineEvent(entry, host, { type: "status", status: report.status });
          }
          return true;
        case "FAILED":
        case "STOPPED":
          // While starting, WAHA stops the session it updates before starting it again.
          if (entry.status !== "STARTING") {
            onEngineEvent(entry, host, {
              type: "fatal",
              reason: `The WAHA server reports the session ${report.status}`,
            });
          }
          return true;
        default:
          return true;
      }
    },

    async shutdown() {
      closing = true;
      sweeper.stop();
      await lifecycle.endAll();
    },
  };
}

function isoOrNull(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}
