/**
 * @module
 * A session's lifecycle, one number at a time under its lock: start (an account's claim taking
 * effect in the same turn), stop, restart, logout, remove, the release of a claim whose number
 * never linked, and the end of every Worker at shutdown. `launch` starts a Worker with its engine;
 * `halt` and `retire` end one.
 */
import type { Config } from "../config.ts";
import { badRequest, clientNotReady } from "../errors.ts";
import { describeError, type Logger } from "../logger.ts";
import type { HostResolver } from "../ssrf_guard/address_policy.ts";
import type { SessionRecord, SessionRepository, SessionSettings } from "../store/store.ts";
import type { EngineName, EngineOptions } from "./engine.ts";
import type { EngineEventHandler } from "./engine_events.ts";
import { checkWahaServer, wahaOptionsFor } from "./engines/waha/options.ts";
import type { SessionLeases } from "./leases.ts";
import { claimRefusal, type SessionCaller } from "./ownership.ts";
import { parseProxy, redactProxy, resolveProxy } from "./proxy.ts";
import type { Restarts } from "./restarts.ts";
import type { SavedLogins } from "./saved_logins.ts";
import { createEntry, type SessionEntry } from "./session_entry.ts";
import type { StatusMachine } from "./status_machine.ts";
import { REQUESTED_STARTS_PER_TURN } from "./start_pace.ts";
import { createTurnGate } from "./turn_gate.ts";
import { WorkerDeadError, type WorkerHost, type WorkerHostOptions } from "./worker_host.ts";

const STOP_TIMEOUT_MS = 10_000;
const INIT_TIMEOUT_MS = 180_000;

export interface StartOptions {
  engine?: EngineName;
  /** Admin only: the node to run it on (`{"node": "<id>"}`); else placement chooses. */
  node?: string;
  /** Who starts it: an account claims the number (see `SessionManager.start`). */
  caller?: SessionCaller;
  /** Simulator only (400 for another engine): how its "phone" links. */
  simulator?: { linkAs?: string };
  /**
   * The proxy its Chromium uses from now on, kept with the session (`proxy.ts`); null: none of its
   * own (`PROXY_URL` applies). Absent: unchanged.
   */
  proxy?: string | null;
  /**
   * What the number does with incoming calls from now on, kept with the session; null: the
   * server's `CALLS_AUTO_REJECT` applies. Absent: unchanged.
   */
  calls?: { autoReject: boolean; message?: string | null } | null;
  /** The waha engine only (400 for another): which of `WAHA_URLS` runs it, kept with the session. */
  wahaServer?: string;
}

export interface Lifecycle {
  /**
   * Starts (or keeps running) the number's session. `restoring`: only a session still recorded as
   * started is brought back; one freed or stopped since the restore listed it stays so.
   */
  start(
    phoneNumber: string,
    options: StartOptions,
    restoring?: boolean,
  ): Promise<{ alreadyStarted: boolean }>;
  /** Stops the number here now, its start flag kept (its lease is lost, or handed over). */
  evict(phoneNumber: string, options: { reason: string; graceMs: number }): Promise<void>;
  stop(phoneNumber: string, caller?: SessionCaller): Promise<{ wasRunning: boolean }>;
  restart(phoneNumber: string, caller?: SessionCaller): Promise<void>;
  logout(phoneNumber: string, caller?: SessionCaller): Promise<void>;
  remove(phoneNumber: string): Promise<void>;
  /** Frees a number whose claim expired unlinked: stops it, deletes its record, data and events. */
  releaseClaim(phoneNumber: string, createdBefore: number): Promise<boolean>;
  /** Ends every Worker (the started flags stay for the next boot). */
  endAll(): Promise<void>;
  /** Starts a new Worker for `entry` (under the number's lock). */
  launch(entry: SessionEntry): void;
  /** Has a refused link's Worker log out and end, then deletes what it left of the login. */
  retire(entry: SessionEntry, host: WorkerHost): void;
}

/** What the waha engine needs of the configuration (absent where no WAHA is configured). */
export type WahaSettings = Partial<Pick<Config, "waha" | "auth">>;

export interface LifecycleDeps {
  config:
    & Pick<
      Config,
      | "engine"
      | "engineCallTimeoutMs"
      | "simulatorScanMs"
      | "simulatorCloudDir"
      | "qrMaxRetries"
      | "supervision"
      | "wwebjs"
      | "calls"
    >
    & WahaSettings;
  sessions: SessionRepository;
  /** Resolves a proxy's host when it is set and at every launch; default the system's. */
  resolveHost?: HostResolver;
  log: Logger;
  entries: Map<string, SessionEntry>;
  withLock: <T>(key: string, fn: () => Promise<T>) => Promise<T>;
  status: StatusMachine;
  restarts: Restarts;
  onEngineEvent: EngineEventHandler;
  createHost: (options: WorkerHostOptions) => WorkerHost;
  /** The number's record, once `caller` is known to be allowed to act on it. */
  authorize: (phoneNumber: string, caller?: SessionCaller) => Promise<SessionRecord>;
  /** The number's folder under `DATA_DIR` (throws for an invalid number). */
  sessionDir: (phoneNumber: string) => string;
  isClosing: () => boolean;
  maxNumbersPerAccount?: number;
  forgetNumber?: (phoneNumber: string) => Promise<void>;
  /** This node's leases: a number runs here only while it holds the number's. */
  leases: SessionLeases;
  /** Settles once the calls of `entry` in flight have answered, their events durable (`Calls`). */
  callsSettled?: (entry: SessionEntry, timeoutMs: number) => Promise<void>;
  /** The whatsapp-web.js logins kept in the shared store (a cluster); absent on a single node. */
  logins?: SavedLogins;
}

export function createLifecycle(deps: LifecycleDeps): Lifecycle {
  const { config, sessions, log, entries, withLock, status, restarts, isClosing } = deps;
  const { authorize, sessionDir, leases } = deps;
  const requestedStarts = createTurnGate(REQUESTED_STARTS_PER_TURN);

  function entryFor(phoneNumber: string, engine: EngineName): SessionEntry {
    let entry = entries.get(phoneNumber);
    if (!entry) {
      entry = createEntry(phoneNumber, engine);
      entries.set(phoneNumber, entry);
    }
    entry.engine = engine;
    return entry;
  }

  function engineOptions(entry: SessionEntry): EngineOptions {
    return {
      phoneNumber: entry.phoneNumber,
      sessionDir: sessionDir(entry.phoneNumber),
      qrMaxRetries: config.qrMaxRetries,
      simulatorScanMs: config.simulatorScanMs,
      simulatorCloudDir: config.simulatorCloudDir,
      simulatorLinkAs: entry.linkAs ?? undefined,
      callTimeoutMs: config.engineCallTimeoutMs,
      chromePath: config.wwebjs.chromePath,
      webVersion: config.wwebjs.webVersion,
      webVersionCachePath: config.wwebjs.webVersionCachePath,
      authTimeoutMs: config.wwebjs.authTimeoutMs,
      readyTimeoutMs: config.wwebjs.readyTimeoutMs,
      chromiumNoSandbox: config.wwebjs.noSandbox,
    };
  }

  function launch(entry: SessionEntry): void {
    restarts.cancel(entry);
    entry.qr = null;
    entry.consecutiveTimeouts = 0;
    entry.verified = false;
    status.set(entry, "STARTING", entry.status === "STARTING" ? entry.reason : null);
    Deno.mkdirSync(sessionDir(entry.phoneNumber), { recursive: true });
    const host: WorkerHost = deps.createHost({
      name: `session ${entry.phoneNumber}`,
      engine: entry.engine,
      heartbeatIntervalMs: config.supervision.heartbeatIntervalMs,
      heartbeatTimeoutMs: config.supervision.heartbeatTimeoutMs,
      // Simulator and waha Workers are light and many: below the main thread, so requests are
      // answered while a thousand start. A whatsapp-web.js Worker and its Chromium keep the
      // server's priority: a few per node, and a page starved of CPU misses WhatsApp's deadlines.
      nice: entry.engine === "wwebjs" ? 0 : config.supervision.workerNice,
      onEvent: (event) => deps.onEngineEvent(entry, host, event),
      onDeath: (reason) => restarts.onDeath(entry, host, reason),
    });
    entry.host = host;
    entry.starting = init(entry, host).catch(
      (error) => {
        if (entry.host !== host || error instanceof WorkerDeadError) return;
        log.error("session failed to start", {
          session: entry.phoneNumber,
          error: describeError(error),
        });
        host.terminate("Engine failed to start");
        entry.host = null;
        status.set(entry, "FAILED", `Failed to start: ${error?.message ?? String(error)}`);
      },
    );
  }

  /**
   * Starts the engine in `host`. In a cluster a whatsapp-web.js number first gets the stored login
   * when another node ran it since, and its login is backed up while it runs.
   */
  async function init(entry: SessionEntry, host: WorkerHost): Promise<void> {
    const options = engineOptions(entry);
    // The number's own settings, read at each launch (another node may have changed them).
    const settings = (await sessions.get(entry.phoneNumber))?.settings ?? {};
    if (entry.host !== host) return;
    options.calls = { ...(settings.calls ?? config.calls) };
    if (entry.engine === "waha") options.waha = wahaOptionsFor(config, settings.wahaServer);
    if (entry.engine === "wwebjs") {
      options.proxy = await proxyFor(entry.phoneNumber, settings);
      if (entry.host !== host) return;
    }
    const logins = entry.engine === "wwebjs" ? deps.logins : undefined;
    const fence = leases.fenceOf(entry.phoneNumber);
    if (logins) {
      options.loginBackup = await logins.prepare(entry.phoneNumber, options.sessionDir);
      // Stopped while the login was read: the Worker is already being ended.
      if (entry.host !== host) return;
    }
    await host.init(entry.engine, options, INIT_TIMEOUT_MS);
    await logins?.started(options.sessionDir, fence);
  }

  /**
   * The number's proxy (its own, else `PROXY_URL`), its host resolved and checked again now: a
   * name that pointed outside when a tenant set it may point inside by the time it is used.
   */
  async function proxyFor(phoneNumber: string, settings: SessionSettings) {
    const setting = settings.proxy ??
      (config.wwebjs.proxyUrl ? { url: config.wwebjs.proxyUrl, byAdmin: true } : undefined);
    if (!setting) return undefined;
    try {
      return await resolveProxy(parseProxy(setting.url), {
        byAdmin: setting.byAdmin,
        resolver: deps.resolveHost,
      });
    } catch (error) {
      log.warn("the session's proxy was refused at launch", {
        session: phoneNumber,
        proxy: redactProxy(setting.url),
        refusal: (error as { refusal?: unknown }).refusal,
      });
      throw error;
    }
  }

  /**
   * The settings `options` asks for, checked for `caller` (a proxy on a private host is the
   * admin's only), or null when it changes none. Throws before anything is written.
   */
  async function requestedSettings(
    current: SessionSettings,
    options: StartOptions,
  ): Promise<SessionSettings | null> {
    if (
      options.proxy === undefined && options.calls === undefined &&
      options.wahaServer === undefined
    ) return null;
    const next: SessionSettings = { ...current };
    if (options.wahaServer !== undefined) next.wahaServer = options.wahaServer;
    if (options.calls === null) delete next.calls;
    else if (options.calls) {
      next.calls = { autoReject: options.calls.autoReject, message: options.calls.message ?? null };
    }
    if (options.proxy === null) {
      delete next.proxy;
    } else if (options.proxy !== undefined) {
      const byAdmin = options.caller === undefined || options.caller.kind === "admin";
      await resolveProxy(parseProxy(options.proxy), { byAdmin, resolver: deps.resolveHost });
      next.proxy = { url: options.proxy, byAdmin };
    }
    return next;
  }

  /** Once a Worker was stopped: its last login is saved before the lease goes to another node. */
  async function loginSaved(phoneNumber: string): Promise<void> {
    await deps.logins?.settled(phoneNumber, STOP_TIMEOUT_MS);
  }

  async function halt(entry: SessionEntry): Promise<void> {
    restarts.cancel(entry);
    const host = entry.host;
    entry.host = null;
    entry.qr = null;
    if (host) await host.stop(STOP_TIMEOUT_MS);
  }

  function retire(entry: SessionEntry, host: WorkerHost): void {
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
      status.set(entry, "STOPPED", "Logged out");
    }
    await sessions.setShouldRun(phoneNumber, false);
    // The login is gone from the phone: the copy kept for other nodes goes too.
    await deps.logins?.forget(phoneNumber);
    await leases.release(phoneNumber);
    await Deno.remove(sessionDir(phoneNumber), { recursive: true }).catch(() => {});
  }

  async function startLocked(
    phoneNumber: string,
    options: StartOptions,
    restoring: boolean,
  ): Promise<{ alreadyStarted: boolean }> {
    // Once shutdown began, nothing new may start (a restore still under way included).
    if (isClosing()) throw clientNotReady(phoneNumber, "the server is stopping");
    const existing = await sessions.get(phoneNumber);
    if (restoring && !existing?.shouldRun) return { alreadyStarted: false };
    const engine = options.engine ?? (existing?.engine as EngineName | undefined) ??
      config.engine;
    if (options.simulator && engine !== "simulator") {
      throw badRequest(
        `Invalid body field "simulator": only the simulator engine takes it (this session's engine is "${engine}")`,
      );
    }
    if (options.wahaServer !== undefined && engine !== "waha") {
      throw badRequest(
        `Invalid body field "wahaServer": only the waha engine takes it (this session's engine is "${engine}")`,
      );
    }
    if (engine === "waha") {
      checkWahaServer(config, options.wahaServer ?? existing?.settings?.wahaServer);
    }
    // Checked before the claim, so a refused proxy leaves no claim behind.
    const settings = await requestedSettings(existing?.settings ?? {}, options);
    // A refused link's Worker still logging out holds the session folder: wait for it.
    await entries.get(phoneNumber)?.retiring;
    if (isClosing()) throw clientNotReady(phoneNumber, "the server is stopping");
    const caller = options.caller;
    if (caller?.kind === "account") {
      // The claim takes effect here, not when the request arrived: the number may have been
      // claimed by another account while this request's body was coming in.
      const accountId = caller.accountId!;
      const max = deps.maxNumbersPerAccount ?? 1;
      const outcome = await sessions.claim(phoneNumber, {
        engine,
        ownerAccountId: accountId,
        max,
      });
      const refusal = claimRefusal(outcome, phoneNumber, accountId, max);
      if (refusal) throw refusal;
    }
    await sessions.save({ phoneNumber, engine });
    if (settings) await sessions.setSettings(phoneNumber, settings);
    await sessions.setShouldRun(phoneNumber, true);
    if (isClosing()) throw clientNotReady(phoneNumber, "the server is stopping");
    if (!leases.holds(phoneNumber)) {
      // The number runs where its lease is: taken here, or placed on (or running on) another node.
      if (restoring) {
        if (!await leases.take(phoneNumber)) return { alreadyStarted: false };
      } else {
        const placed = await leases.acquire(phoneNumber, { pin: options.node });
        if (!placed.here) return { alreadyStarted: placed.running };
      }
      if (isClosing()) {
        await leases.release(phoneNumber);
        throw clientNotReady(phoneNumber, "the server is stopping");
      }
    }
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
    launch,
    retire,

    async start(phoneNumber, options, restoring = false) {
      // A restore is paced already (`start_pace.ts`); requests come as a client sends them.
      if (!restoring) await requestedStarts.pass();
      return await withLock(phoneNumber, () => startLocked(phoneNumber, options, restoring));
    },

    async stop(phoneNumber, caller) {
      await authorize(phoneNumber, caller);
      return await withLock(phoneNumber, async () => {
        await authorize(phoneNumber, caller);
        await sessions.setShouldRun(phoneNumber, false);
        const entry = entries.get(phoneNumber);
        if (!entry) {
          await leases.release(phoneNumber);
          return { wasRunning: false };
        }
        const wasRunning = entry.host !== null || entry.restartTimer !== null;
        entry.wanted = false;
        await halt(entry);
        status.set(entry, "STOPPED", "Stopped");
        await loginSaved(phoneNumber);
        await leases.release(phoneNumber);
        return { wasRunning };
      });
    },

    async restart(phoneNumber, caller) {
      await authorize(phoneNumber, caller);
      return await withLock(phoneNumber, async () => {
        const record = await authorize(phoneNumber, caller);
        if (!leases.holds(phoneNumber)) {
          await sessions.setShouldRun(phoneNumber, true);
          if (!(await leases.acquire(phoneNumber)).here) return;
        }
        const entry = entryFor(phoneNumber, record.engine as EngineName);
        await halt(entry);
        await entry.retiring;
        await sessions.setShouldRun(phoneNumber, true);
        entry.wanted = true;
        entry.crashes = [];
        entry.linkAs = null;
        launch(entry);
      });
    },

    async logout(phoneNumber, caller) {
      await authorize(phoneNumber, caller);
      return await withLock(phoneNumber, async () => {
        await authorize(phoneNumber, caller);
        return await logoutLocked(phoneNumber);
      });
    },

    async remove(phoneNumber) {
      await authorize(phoneNumber);
      // One turn of the lock: a start queued meanwhile runs after the record is gone, not between
      // the logout and the delete (where its Worker would outlive the record that tracks it).
      return await withLock(phoneNumber, async () => {
        await logoutLocked(phoneNumber);
        await sessions.delete(phoneNumber);
        entries.delete(phoneNumber);
      });
    },

    releaseClaim(phoneNumber, createdBefore) {
      return withLock(phoneNumber, async () => {
        const record = await sessions.get(phoneNumber);
        const expired = record !== null && record.ownerAccountId !== null &&
          record.linkedAt === null && record.createdAt <= createdBefore;
        if (isClosing() || !expired) return false;
        const entry = entries.get(phoneNumber);
        if (entry) {
          entry.wanted = false;
          // The host is cut off before the first await: a link reported from here on is dropped.
          await halt(entry);
          await entry.retiring;
          // Not announced: the number's events and webhooks are forgotten right after.
          entry.status = "STOPPED";
          entry.reason = "Claim released: the number's phone never linked";
          status.wake(entry);
          entries.delete(phoneNumber);
        }
        await deps.logins?.forget(phoneNumber);
        await leases.release(phoneNumber);
        // The data first: once the record is gone, nothing of the claim may be left.
        await Deno.remove(sessionDir(phoneNumber), { recursive: true }).catch(() => {});
        if (!await sessions.releaseUnlinkedClaim(phoneNumber, createdBefore)) return false;
        await deps.forgetNumber?.(phoneNumber);
        return true;
      });
    },

    async evict(phoneNumber, { reason, graceMs }) {
      // Not under the number's lock: an operation holding it must not delay this. At once
      // (`graceMs` 0: the lease is lost) the Worker is cut off first, so nothing it does from
      // here on reaches the session.
      const entry = entries.get(phoneNumber);
      // Not running here (it stopped or failed on its own): nothing to stop, its status stays.
      if (!entry || (entry.host === null && entry.restartTimer === null)) return;
      restarts.cancel(entry);
      entry.wanted = false;
      const host = entry.host;
      // Not announced: the number goes on elsewhere (or here again), which announces itself.
      // Not WORKING: no new call leaves for the Worker from here on.
      entry.status = "STOPPED";
      entry.reason = reason;
      if (host && graceMs > 0) {
        // A polite stop (a drain, a stop through another node): the calls already with the
        // Worker answer first, and their events are stored while this node still holds the
        // lease, so a send answered 200 keeps its event (the outbox's rule). Cut off first, the
        // Worker's events would be dropped while its answer still went out as a 200.
        await deps.callsSettled?.(entry, Math.floor(graceMs / 2));
      }
      if (entry.host === host) {
        entry.host = null;
        entry.qr = null;
      }
      status.wake(entry);
      if (!host) return;
      if (graceMs > 0) {
        await host.stop(graceMs);
        // Handed over politely (a drain): the next node starts from the login saved at this stop.
        await deps.logins?.settled(phoneNumber, graceMs);
      } else host.terminate(reason);
    },

    async endAll() {
      await Promise.all(
        [...entries.values()].map((entry) =>
          withLock(entry.phoneNumber, async () => {
            await halt(entry);
            await loginSaved(entry.phoneNumber);
            await entry.retiring;
            status.wake(entry);
          })
        ),
      );
    },
  };
}
