/**
 * @module
 * The session manager: one entry per phone number, each with its own Worker. It owns the status
 * machine (STOPPED → STARTING → SCAN_QR_CODE → WORKING, plus FAILED and CONFLICT), serialises
 * start/stop/restart per number, answers calls to a session that is not WORKING at once with 409,
 * and brings crashed sessions back with exponential backoff until they crash too often.
 *
 * It also holds a number to its own phone: a session whose linked account is another number is
 * logged out at once and FAILED (nothing of that account leaves it), and an account's claim on a
 * number that never linked is released after `CLAIM_TTL_MS` (`claim_sweeper.ts`).
 */
import { join } from "node:path";
import type { Config } from "../config.ts";
import {
  badRequest,
  clientNotReady,
  notFound,
  notImplemented,
  sessionNotFound,
  timeout,
} from "../errors.ts";
import { describeError, type Logger } from "../logger.ts";
import type { SessionRecord, SessionRepository } from "../store/store.ts";
import {
  type ContractState,
  type Engine,
  engineErrorKind,
  type EngineEvent,
  type EngineMethod,
  type EngineName,
  type EngineOptions,
  type Me,
  type MessageDto,
  type SessionStatus,
  toContractState,
} from "./engine.ts";
import { startClaimSweeper } from "./claim_sweeper.ts";
import { createKeyedLock } from "./keyed_lock.ts";
import { assertMayAct, claimRefusal, type SessionCaller } from "./ownership.ts";
import { linkProblem } from "./linked_number.ts";
import { qrToDataUrl, qrToTerminal } from "./qr.ts";
import { decideRestart } from "./restart_policy.ts";
import {
  CallTimeoutError,
  createWorkerHost,
  WorkerDeadError,
  type WorkerHost,
  type WorkerHostOptions,
} from "./worker_host.ts";

const PHONE = /^\d{7,15}$/;
/** Consecutive call timeouts after which a session's Worker is considered wedged. */
const WEDGED_AFTER_TIMEOUTS = 3;
const STOP_TIMEOUT_MS = 10_000;
const INIT_TIMEOUT_MS = 180_000;
/** Sessions started at the same time when the server boots. */
const RESTORE_CONCURRENCY = 4;

export interface StatusChange {
  status: SessionStatus;
  /** Unix milliseconds. */
  timestamp: number;
}

/** What happened in a session, for the event pipeline (webhooks, streams). */
export type SessionEventData =
  | {
    type: "session.status";
    status: SessionStatus;
    reason: string | null;
    /** The last three statuses, oldest first, as WAHA reports them. */
    statuses: StatusChange[];
  }
  | { type: "message"; message: MessageDto }
  | { type: "message.any"; message: MessageDto }
  | { type: "message.ack"; messageId: string; chatId: string; ack: number };

export interface SessionEvent {
  session: string;
  engine: EngineName;
  me: Me | null;
  /** Unix milliseconds. */
  timestamp: number;
  data: SessionEventData;
}

export interface SessionInfo {
  phoneNumber: string;
  engine: EngineName;
  state: ContractState;
  status: SessionStatus;
  reason: string | null;
  me: Me | null;
  ownerAccountId: string | null;
}

/** The parts of the server's configuration the manager uses. */
export type SessionManagerConfig = Pick<
  Config,
  | "dataDir"
  | "engine"
  | "engineCallTimeoutMs"
  | "simulatorScanMs"
  | "claimTtlMs"
  | "qrMaxRetries"
  | "logQr"
  | "supervision"
  | "wwebjs"
>;

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
  forgetNumber?: (phoneNumber: string) => void;
}

export interface StartOptions {
  engine?: EngineName;
  /** Who starts it: an account claims the number (see `SessionManager.start`). */
  caller?: SessionCaller;
  /** Simulator only (400 for another engine): how its "phone" links. */
  simulator?: { linkAs?: string };
}

/** The engine calls a route makes on a session: the engine contract minus the lifecycle. */
export type SessionCallName = Exclude<EngineMethod, "logout" | "requestPairingCode">;

/**
 * A session as the routes use it: every engine capability, typed by the engine contract (so
 * `session.sendText(input)` is checked end to end). Each call checks, as it is made, that the
 * session is WORKING and that the caller may still act on the number.
 */
export type SessionClient = Pick<Engine, SessionCallName>;

interface Entry {
  phoneNumber: string;
  engine: EngineName;
  status: SessionStatus;
  reason: string | null;
  statuses: StatusChange[];
  me: Me | null;
  /** What the current QR encodes. */
  qr: string | null;
  /** The current QR drawn as a PNG data URL, once somebody asked for it. */
  qrImage: { value: string; dataUrl: Promise<string> } | null;
  host: WorkerHost | null;
  /** Whether the session should be running (started and not stopped). */
  wanted: boolean;
  crashes: number[];
  consecutiveTimeouts: number;
  restartTimer: ReturnType<typeof setTimeout> | null;
  waiters: Set<() => void>;
  /** Settles once the engine of the latest launch has started, or failed to. */
  starting: Promise<void>;
  /** The linked account of the current launch is this number's: its events may leave. */
  verified: boolean;
  /** Settles once the Worker of a refused link has logged out and ended (see `refuseLink`). */
  retiring: Promise<void>;
  /** The simulator's `linkAs` of the start that launched it. */
  linkAs: string | null;
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
  getQr(
    phoneNumber: string,
    options?: { waitMs?: number; caller?: SessionCaller },
  ): Promise<string>;
  requestPairingCode(
    phoneNumber: string,
    options?: { phoneForCode?: string; caller?: SessionCaller },
  ): Promise<string>;
  info(phoneNumber: string, caller?: SessionCaller): SessionInfo;
  list(filter?: { ownerAccountId?: string }): SessionInfo[];
  countByStatus(): Record<SessionStatus, number>;
  /** The number's engine calls, made for `caller` (see `SessionClient`). */
  session(phoneNumber: string, caller?: SessionCaller): SessionClient;
  /** Throws unless `caller` may act on the number now (for writes outside the manager). */
  authorize(phoneNumber: string, caller: SessionCaller | undefined): void;
  /** Starts every session that was running when the server stopped. */
  restore(): Promise<void>;
  /** Stops every Worker, keeping each session's started flag for the next boot. */
  shutdown(): Promise<void>;
}

export function assertPhoneNumber(phoneNumber: string): void {
  if (!PHONE.test(phoneNumber)) {
    throw badRequest(`Invalid phoneNumber "${phoneNumber}": expected 7 to 15 digits`);
  }
}

export function createSessionManager(deps: SessionManagerDeps): SessionManager {
  const { config, sessions, log } = deps;
  const createHost = deps.createHost ?? createWorkerHost;
  const entries = new Map<string, Entry>();
  const lock = createKeyedLock();
  let closing = false;
  /** Engine calls waiting for their answer, over every session (see `flushEvents`). */
  let callsInFlight = 0;

  const withLock = lock.run;

  function sessionDir(phoneNumber: string): string {
    assertPhoneNumber(phoneNumber);
    return join(config.dataDir, "sessions", phoneNumber);
  }

  function emit(entry: Entry, data: SessionEventData): void {
    if (!deps.onEvent) return;
    try {
      deps.onEvent({
        session: entry.phoneNumber,
        engine: entry.engine,
        me: entry.me,
        timestamp: Date.now(),
        data,
      });
    } catch (error) {
      log.error("event handler failed", {
        session: entry.phoneNumber,
        error: describeError(error),
      });
    }
  }

  /** `again`: announce the status even when it is unchanged (WAHA repeats it for each new QR). */
  function setStatus(
    entry: Entry,
    status: SessionStatus,
    reason: string | null = null,
    again = false,
  ): void {
    if (entry.status === status && entry.reason === reason && !again) return;
    entry.status = status;
    entry.reason = reason;
    if (status !== "SCAN_QR_CODE" && status !== "STARTING") entry.qr = null;
    entry.statuses = [...entry.statuses, { status, timestamp: Date.now() }].slice(-3);
    log.info("session status", { session: entry.phoneNumber, status, reason });
    emit(entry, { type: "session.status", status, reason, statuses: entry.statuses });
    for (const wake of entry.waiters) wake();
  }

  function entryFor(phoneNumber: string, engine: EngineName): Entry {
    let entry = entries.get(phoneNumber);
    if (!entry) {
      entry = {
        phoneNumber,
        engine,
        status: "STOPPED",
        reason: null,
        statuses: [],
        me: null,
        qr: null,
        qrImage: null,
        host: null,
        wanted: false,
        crashes: [],
        consecutiveTimeouts: 0,
        restartTimer: null,
        waiters: new Set(),
        starting: Promise.resolve(),
        verified: false,
        retiring: Promise.resolve(),
        linkAs: null,
      };
      entries.set(phoneNumber, entry);
    }
    entry.engine = engine;
    return entry;
  }

  function engineOptions(entry: Entry): EngineOptions {
    return {
      phoneNumber: entry.phoneNumber,
      sessionDir: sessionDir(entry.phoneNumber),
      qrMaxRetries: config.qrMaxRetries,
      simulatorScanMs: config.simulatorScanMs,
      simulatorLinkAs: entry.linkAs ?? undefined,
      chromePath: config.wwebjs.chromePath,
      webVersion: config.wwebjs.webVersion,
      webVersionCachePath: config.wwebjs.webVersionCachePath,
      authTimeoutMs: config.wwebjs.authTimeoutMs,
      readyTimeoutMs: config.wwebjs.readyTimeoutMs,
      chromiumNoSandbox: config.wwebjs.noSandbox,
    };
  }

  function launch(entry: Entry): void {
    clearRestart(entry);
    entry.qr = null;
    entry.consecutiveTimeouts = 0;
    entry.verified = false;
    setStatus(entry, "STARTING", entry.status === "STARTING" ? entry.reason : null);
    Deno.mkdirSync(sessionDir(entry.phoneNumber), { recursive: true });
    const host: WorkerHost = createHost({
      name: `session ${entry.phoneNumber}`,
      heartbeatIntervalMs: config.supervision.heartbeatIntervalMs,
      heartbeatTimeoutMs: config.supervision.heartbeatTimeoutMs,
      onEvent: (event) => onEngineEvent(entry, host, event),
      onDeath: (reason) => onDeath(entry, host, reason),
    });
    entry.host = host;
    entry.starting = host.init(entry.engine, engineOptions(entry), INIT_TIMEOUT_MS).catch(
      (error) => {
        if (entry.host !== host || error instanceof WorkerDeadError) return;
        log.error("session failed to start", {
          session: entry.phoneNumber,
          error: describeError(error),
        });
        host.terminate("Engine failed to start");
        entry.host = null;
        setStatus(entry, "FAILED", `Failed to start: ${error?.message ?? String(error)}`);
      },
    );
  }

  function clearRestart(entry: Entry): void {
    if (entry.restartTimer !== null) clearTimeout(entry.restartTimer);
    entry.restartTimer = null;
  }

  function onEngineEvent(entry: Entry, host: WorkerHost, event: EngineEvent): void {
    if (entry.host !== host) return;
    switch (event.type) {
      case "status":
        if (event.status === "WORKING") {
          onLinked(entry, host, event.me);
          return;
        }
        if (event.status === "STOPPED" || event.status === "FAILED") {
          // The engine gave up on its own (QR never scanned, auth failure).
          host.terminate(event.reason ?? event.status);
          entry.host = null;
          if (event.status === "STOPPED") {
            entry.wanted = false;
            sessions.setShouldRun(entry.phoneNumber, false);
          }
        }
        setStatus(entry, event.status, event.reason ?? null);
        return;
      case "qr":
        entry.qr = event.value;
        // A QR means the session waits for a scan, whatever status event follows it.
        setStatus(entry, "SCAN_QR_CODE", null, true);
        if (config.logQr === "terminal") {
          qrToTerminal(event.value).then((drawing) =>
            console.log(`Scan this QR code with WhatsApp for ${entry.phoneNumber}:\n${drawing}`)
          );
        }
        return;
      case "pairing_code":
        return;
      case "message":
      case "message.any":
        // Nothing of an account that was not found to be this number's leaves the session.
        if (entry.verified) emit(entry, { type: event.type, message: event.message });
        return;
      case "message.ack":
        if (!entry.verified) return;
        emit(entry, {
          type: "message.ack",
          messageId: event.messageId,
          chatId: event.chatId,
          ack: event.ack,
        });
        return;
      case "logged_out":
        host.terminate("Logged out");
        entry.host = null;
        entry.wanted = false;
        entry.me = null;
        sessions.setShouldRun(entry.phoneNumber, false);
        setStatus(entry, "STOPPED", event.reason);
        return;
      case "fatal":
        log.warn("session engine failed", { session: entry.phoneNumber, reason: event.reason });
        host.terminate(event.reason);
        onDeath(entry, host, event.reason);
        return;
      case "child_process":
        return;
    }
  }

  /** The engine says it is linked and connected: as the number's own phone, or refused. */
  function onLinked(entry: Entry, host: WorkerHost, me: Me | undefined): void {
    // A reconnect may leave `me` out; within one launch the account cannot change.
    const account = me ?? (entry.verified ? entry.me : null);
    const problem = linkProblem(entry.phoneNumber, account);
    if (problem) {
      refuseLink(entry, host, problem);
      return;
    }
    entry.me = account;
    entry.verified = true;
    entry.consecutiveTimeouts = 0;
    sessions.markLinked(entry.phoneNumber);
    setStatus(entry, "WORKING");
  }

  /**
   * Another number's phone linked: the session is FAILED at once, its Worker cut off (its events
   * and calls go nowhere from here) and told to log out, so the phone's linked device is removed
   * and the login deleted. It is not restarted; the number stays its owner's, to start again.
   */
  function refuseLink(entry: Entry, host: WorkerHost, reason: string): void {
    log.warn("session linked by another number's phone: logging it out", {
      session: entry.phoneNumber,
      reason,
    });
    clearRestart(entry);
    entry.host = null;
    entry.qr = null;
    entry.wanted = false;
    entry.verified = false;
    entry.me = null;
    sessions.setShouldRun(entry.phoneNumber, false);
    setStatus(entry, "FAILED", reason);
    const dir = sessionDir(entry.phoneNumber);
    const previous = entry.retiring;
    entry.retiring = (async () => {
      await previous;
      await host.call("logout", [], config.engineCallTimeoutMs).catch((error) =>
        log.warn("logout of a refused link failed", {
          session: entry.phoneNumber,
          error: describeError(error),
        })
      );
      await host.stop(STOP_TIMEOUT_MS);
      // Whatever the engine left of the other phone's login goes too.
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();
  }

  function onDeath(entry: Entry, host: WorkerHost, reason: string): void {
    if (entry.host !== host) return;
    entry.host = null;
    entry.qr = null;
    if (!entry.wanted || closing) {
      setStatus(entry, "STOPPED", reason);
      return;
    }
    const decision = decideRestart(config.supervision, entry.crashes, Date.now());
    entry.crashes = decision.crashes;
    if (decision.action === "give_up") {
      setStatus(entry, "FAILED", `${reason}; ${decision.reason}`);
      return;
    }
    const delay = decision.delayMs;
    log.warn("session crashed, restarting", { session: entry.phoneNumber, reason, delayMs: delay });
    setStatus(entry, "STARTING", `${reason}; restarting in ${delay} ms`);
    entry.restartTimer = setTimeout(() => {
      entry.restartTimer = null;
      withLock(entry.phoneNumber, () => {
        if (entry.wanted && !entry.host && !closing) launch(entry);
        return Promise.resolve();
      });
    }, delay);
  }

  /** Unlinks the device (through the engine when it is connected) and deletes the login. */
  async function logoutLocked(phoneNumber: string): Promise<void> {
    const entry = entries.get(phoneNumber);
    await entry?.retiring;
    if (entry?.host && entry.status === "WORKING") {
      await entry.host.call("logout", [], config.engineCallTimeoutMs).catch((error) =>
        log.warn("logout through the engine failed", {
          session: phoneNumber,
          error: describeError(error),
        })
      );
    }
    if (entry) {
      entry.wanted = false;
      entry.me = null;
      await halt(entry);
      setStatus(entry, "STOPPED", "Logged out");
    }
    sessions.setShouldRun(phoneNumber, false);
    await Deno.remove(sessionDir(phoneNumber), { recursive: true }).catch(() => {});
  }

  async function halt(entry: Entry): Promise<void> {
    clearRestart(entry);
    const host = entry.host;
    entry.host = null;
    entry.qr = null;
    if (host) await host.stop(STOP_TIMEOUT_MS);
  }

  /** The number's record, once `caller` is known to be allowed to act on it. */
  function recordOrThrow(phoneNumber: string, caller?: SessionCaller): SessionRecord {
    assertPhoneNumber(phoneNumber);
    const record = sessions.get(phoneNumber);
    assertMayAct(phoneNumber, record, caller);
    if (!record) throw sessionNotFound(phoneNumber);
    return record;
  }

  async function call(
    phoneNumber: string,
    method: SessionCallName,
    args: unknown[],
    caller: SessionCaller | undefined,
  ): Promise<unknown> {
    const entry = entries.get(phoneNumber);
    // Checked here, right before the call leaves: the request's body (and its media) may have
    // taken seconds to arrive, and the number may have changed hands meanwhile.
    const record = recordOrThrow(phoneNumber, caller);
    if (!entry) throw clientNotReady(record.phoneNumber, "STOPPED");
    if (entry.status !== "WORKING" || !entry.host) {
      throw clientNotReady(phoneNumber, entry.status);
    }
    callsInFlight++;
    try {
      const result = await entry.host.call(method, args, config.engineCallTimeoutMs);
      entry.consecutiveTimeouts = 0;
      return result;
    } catch (error) {
      throw mapCallError(entry, method, error);
    } finally {
      callsInFlight--;
      await deps.flushEvents?.(callsInFlight === 0);
    }
  }

  function infoOf(record: SessionRecord): SessionInfo {
    const entry = entries.get(record.phoneNumber);
    const status = entry?.status ?? "STOPPED";
    return {
      phoneNumber: record.phoneNumber,
      engine: (entry?.engine ?? record.engine) as EngineName,
      state: toContractState(status),
      status,
      reason: entry?.reason ?? null,
      me: entry?.me ?? null,
      ownerAccountId: record.ownerAccountId,
    };
  }

  /** The QR `value` as a PNG data URL, drawn once per QR however often it is asked for. */
  function drawQr(entry: Entry, value: string): Promise<string> {
    if (entry.qrImage?.value === value) return entry.qrImage.dataUrl;
    const image = { value, dataUrl: qrToDataUrl(value) };
    entry.qrImage = image;
    // A failed drawing is not kept: the next request tries again.
    image.dataUrl.catch(() => {
      if (entry.qrImage === image) entry.qrImage = null;
    });
    return image.dataUrl;
  }

  function waitFor(entry: Entry, done: () => boolean, ms: number): Promise<void> {
    if (done() || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        entry.waiters.delete(check);
        resolve();
      };
      const check = () => {
        if (done()) finish();
      };
      const timer = setTimeout(finish, ms);
      entry.waiters.add(check);
    });
  }

  function mapCallError(entry: Entry, method: string, error: unknown): Error {
    if (error instanceof WorkerDeadError) return clientNotReady(entry.phoneNumber, entry.status);
    if (error instanceof CallTimeoutError) {
      entry.consecutiveTimeouts++;
      if (entry.consecutiveTimeouts >= WEDGED_AFTER_TIMEOUTS && entry.host) {
        const host = entry.host;
        const reason = `${entry.consecutiveTimeouts} calls in a row timed out`;
        host.terminate(reason);
        onDeath(entry, host, reason);
      }
      return timeout(
        `Session "${entry.phoneNumber}" did not answer "${method}" within ${config.engineCallTimeoutMs} ms`,
      );
    }
    const message = (error as Error)?.message ?? String(error);
    switch (engineErrorKind(error)) {
      case "NOT_FOUND":
        return notFound(message);
      case "NOT_IMPLEMENTED":
        return notImplemented(message);
      case "BAD_REQUEST":
        return badRequest(message);
      case "NOT_READY":
        // The engine lost its connection before the manager heard of it.
        return clientNotReady(entry.phoneNumber, entry.status);
    }
    return error instanceof Error ? error : new Error(message);
  }

  /** Frees a number whose claim expired unlinked: stops it, deletes its record, data and events. */
  function releaseClaim(phoneNumber: string, createdBefore: number): Promise<boolean> {
    return withLock(phoneNumber, async () => {
      const record = sessions.get(phoneNumber);
      const expired = record !== null && record.ownerAccountId !== null &&
        record.linkedAt === null && record.createdAt <= createdBefore;
      if (closing || !expired) return false;
      const entry = entries.get(phoneNumber);
      if (entry) {
        entry.wanted = false;
        // The host is cut off before the first await: a link reported from here on is dropped.
        await halt(entry);
        await entry.retiring;
        // Not announced: the number's events and webhooks are forgotten right after.
        entry.status = "STOPPED";
        entry.reason = "Claim released: the number's phone never linked";
        for (const wake of entry.waiters) wake();
        entries.delete(phoneNumber);
      }
      // The data first: once the record is gone, nothing of the claim may be left.
      await Deno.remove(sessionDir(phoneNumber), { recursive: true }).catch(() => {});
      if (!sessions.releaseUnlinkedClaim(phoneNumber, createdBefore)) return false;
      deps.forgetNumber?.(phoneNumber);
      return true;
    });
  }

  const sweeper = startClaimSweeper({
    ttlMs: config.claimTtlMs,
    sessions,
    release: releaseClaim,
    log,
  });

  /**
   * Starts (or keeps running) the number's session. `restoring`: only a session still recorded as
   * started is brought back; one freed or stopped since the restore listed it stays so.
   */
  async function startLocked(
    phoneNumber: string,
    options: StartOptions,
    restoring: boolean,
  ): Promise<{ alreadyStarted: boolean }> {
    // Once shutdown began, nothing new may start (a restore still under way included).
    if (closing) throw clientNotReady(phoneNumber, "the server is stopping");
    if (restoring && !sessions.get(phoneNumber)?.shouldRun) return { alreadyStarted: false };
    const existing = sessions.get(phoneNumber);
    const engine = options.engine ?? (existing?.engine as EngineName | undefined) ??
      config.engine;
    if (options.simulator && engine !== "simulator") {
      throw badRequest(
        `Invalid body field "simulator": only the simulator engine takes it (this session's engine is "${engine}")`,
      );
    }
    // A refused link's Worker still logging out holds the session folder: wait for it.
    await entries.get(phoneNumber)?.retiring;
    if (closing) throw clientNotReady(phoneNumber, "the server is stopping");
    const caller = options.caller;
    if (caller?.kind === "account") {
      // The claim takes effect here, not when the request arrived: the number may have been
      // claimed by another account while this request's body was coming in.
      const accountId = caller.accountId!;
      const max = deps.maxNumbersPerAccount ?? 1;
      const outcome = sessions.claim(phoneNumber, { engine, ownerAccountId: accountId, max });
      const refusal = claimRefusal(outcome, phoneNumber, accountId, max);
      if (refusal) throw refusal;
    }
    sessions.save({ phoneNumber, engine });
    sessions.setShouldRun(phoneNumber, true);
    const entry = entryFor(phoneNumber, engine);
    entry.wanted = true;
    const running = entry.host !== null || entry.restartTimer !== null;
    if (running && entry.status !== "FAILED") return { alreadyStarted: true };
    entry.crashes = [];
    entry.linkAs = options.simulator?.linkAs ?? null;
    launch(entry);
    return { alreadyStarted: false };
  }

  return {
    start(phoneNumber, options = {}) {
      assertPhoneNumber(phoneNumber);
      return withLock(phoneNumber, () => startLocked(phoneNumber, options, false));
    },

    stop(phoneNumber, caller) {
      recordOrThrow(phoneNumber, caller);
      return withLock(phoneNumber, async () => {
        recordOrThrow(phoneNumber, caller);
        sessions.setShouldRun(phoneNumber, false);
        const entry = entries.get(phoneNumber);
        if (!entry) return { wasRunning: false };
        const wasRunning = entry.host !== null || entry.restartTimer !== null;
        entry.wanted = false;
        await halt(entry);
        setStatus(entry, "STOPPED", "Stopped");
        return { wasRunning };
      });
    },

    restart(phoneNumber, caller) {
      recordOrThrow(phoneNumber, caller);
      return withLock(phoneNumber, async () => {
        const record = recordOrThrow(phoneNumber, caller);
        const entry = entryFor(phoneNumber, record.engine as EngineName);
        await halt(entry);
        await entry.retiring;
        sessions.setShouldRun(phoneNumber, true);
        entry.wanted = true;
        entry.crashes = [];
        entry.linkAs = null;
        launch(entry);
      });
    },

    logout(phoneNumber, caller) {
      recordOrThrow(phoneNumber, caller);
      return withLock(phoneNumber, () => {
        recordOrThrow(phoneNumber, caller);
        return logoutLocked(phoneNumber);
      });
    },

    remove(phoneNumber) {
      recordOrThrow(phoneNumber);
      // One turn of the lock: a start queued meanwhile runs after the record is gone, not between
      // the logout and the delete (where its Worker would outlive the record that tracks it).
      return withLock(phoneNumber, async () => {
        await logoutLocked(phoneNumber);
        sessions.delete(phoneNumber);
        entries.delete(phoneNumber);
      });
    },

    async getQr(phoneNumber, { waitMs = 10_000, caller } = {}) {
      recordOrThrow(phoneNumber, caller);
      const entry = entries.get(phoneNumber);
      if (!entry || !entry.wanted) {
        throw clientNotReady(phoneNumber, entry?.status ?? "STOPPED");
      }
      await waitFor(
        entry,
        () => entry.qr !== null || (entry.status !== "STARTING" && entry.status !== "SCAN_QR_CODE"),
        waitMs,
      );
      // The wait may have been long enough for the number to change hands.
      recordOrThrow(phoneNumber, caller);
      if (entry.status === "WORKING") {
        throw clientNotReady(phoneNumber, "WORKING: already connected, no QR to scan");
      }
      if (entry.qr === null) throw clientNotReady(phoneNumber, entry.status);
      return await drawQr(entry, entry.qr);
    },

    async requestPairingCode(phoneNumber, { phoneForCode, caller } = {}) {
      recordOrThrow(phoneNumber, caller);
      const entry = entries.get(phoneNumber);
      if (!entry?.host || (entry.status !== "SCAN_QR_CODE" && entry.status !== "STARTING")) {
        throw clientNotReady(phoneNumber, entry?.status ?? "STOPPED");
      }
      try {
        return await entry.host.call<string>(
          "requestPairingCode",
          [phoneForCode ?? phoneNumber],
          config.engineCallTimeoutMs,
        );
      } catch (error) {
        throw mapCallError(entry, "requestPairingCode", error);
      }
    },

    info(phoneNumber, caller) {
      return infoOf(recordOrThrow(phoneNumber, caller));
    },

    authorize(phoneNumber, caller) {
      recordOrThrow(phoneNumber, caller);
    },

    session(phoneNumber, caller) {
      return new Proxy({} as SessionClient, {
        get: (_, method) => (...args: unknown[]) =>
          call(phoneNumber, method as SessionCallName, args, caller),
      });
    },

    list(filter) {
      return sessions.list(filter).map(infoOf);
    },

    countByStatus() {
      const counts: Record<SessionStatus, number> = {
        STOPPED: 0,
        STARTING: 0,
        SCAN_QR_CODE: 0,
        WORKING: 0,
        FAILED: 0,
        CONFLICT: 0,
      };
      for (const record of sessions.list()) {
        counts[entries.get(record.phoneNumber)?.status ?? "STOPPED"]++;
      }
      return counts;
    },

    async restore() {
      const toStart = sessions.list().filter((record) => record.shouldRun);
      // A few at a time: dozens of Workers (and Chromiums) loading at once would starve the
      // main thread, and with it every request, on a small machine.
      let next = 0;
      const restoreNext = async (): Promise<void> => {
        for (let record = toStart[next++]; record && !closing; record = toStart[next++]) {
          // `new Worker()` blocks this thread ~25-30 ms: a task of its own per session lets the
          // requests waiting meanwhile through (else a restore of 50 held the first answer ~1.3 s).
          await new Promise((resolve) => setTimeout(resolve, 0));
          if (closing) return;
          try {
            await withLock(
              record.phoneNumber,
              () => startLocked(record.phoneNumber, { engine: record.engine as EngineName }, true),
            );
            await entries.get(record.phoneNumber)?.starting;
          } catch (error) {
            log.error("could not restore session", {
              session: record.phoneNumber,
              error: describeError(error),
            });
          }
        }
      };
      await Promise.all(Array.from({ length: RESTORE_CONCURRENCY }, restoreNext));
      if (toStart.length > 0) log.info("sessions restored", { count: toStart.length });
    },

    async shutdown() {
      closing = true;
      sweeper.stop();
      await Promise.all(
        [...entries.values()].map((entry) =>
          withLock(entry.phoneNumber, async () => {
            await halt(entry);
            await entry.retiring;
            for (const wake of entry.waiters) wake();
          })
        ),
      );
    },
  };
}
