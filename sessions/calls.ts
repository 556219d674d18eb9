/**
 * @module
 * The engine-call path. A call reaches a session's Worker only while the session is WORKING: this
 * is the one place that rule lives (`assertReady`), checked as the call leaves, and asked by a
 * route before it fetches media for a send (`SessionClient.assertReady`). Every call is bounded by
 * `ENGINE_CALL_TIMEOUT_MS` (504), and three timeouts in a row mean the Worker is wedged: it is
 * killed and restarted through the restart policy (no engine keeps a timeout or wedge rule of its
 * own). An engine's failure becomes an `ApiError` in `mapCallError`. An answer is returned once the
 * events emitted before it are durable (`flushEvents`).
 */
import { badRequest, clientNotReady, notFound, notImplemented, timeout } from "../errors.ts";
import type { SessionMetrics } from "../metrics/hooks.ts";
import { type Engine, EngineError, type EngineMethod } from "./engine.ts";
import type { SessionEntry } from "./session_entry.ts";
import { CallTimeoutError, WorkerDeadError, type WorkerHost } from "./worker_host.ts";

/** Consecutive call timeouts after which a session's Worker is considered wedged. */
const WEDGED_AFTER_TIMEOUTS = 3;

/** The engine calls a route makes on a session: the engine contract minus the lifecycle. */
export type SessionCallName = Exclude<EngineMethod, "logout" | "requestPairingCode">;

/**
 * A session as the routes use it: every engine capability, typed by the engine contract (so
 * `session.sendText(input)` is checked end to end). Each call checks, as it is made, that the
 * session is WORKING and that the caller may still act on the number.
 */
export type SessionClient = Pick<Engine, SessionCallName> & {
  /**
   * Rejects (`409`, or `403`/`404` for the caller) unless a call made now would reach the engine:
   * for work worth doing only for a connected session, such as fetching a send's media.
   */
  assertReady(): Promise<void>;
};

/** A session whose calls may leave now. */
export type ReadyEntry = SessionEntry & { host: WorkerHost };

export interface Calls {
  /** The session, if it is WORKING; else throws 409 CLIENT_NOT_READY. */
  assertReady(phoneNumber: string, entry: SessionEntry | undefined): ReadyEntry;
  /** One engine call on a WORKING session. */
  call(
    phoneNumber: string,
    entry: SessionEntry | undefined,
    method: SessionCallName,
    args: unknown[],
  ): Promise<unknown>;
  /**
   * Settles once the calls of `entry` in flight now have answered and their events are durable,
   * or after `timeoutMs`, whichever is first.
   */
  settled(entry: SessionEntry, timeoutMs: number): Promise<void>;
  /** One call to `host`, the Worker of `entry`, whatever its status (the caller checked it). */
  request<T>(
    entry: SessionEntry,
    host: WorkerHost,
    method: EngineMethod,
    args: unknown[],
  ): Promise<T>;
}

export interface CallsDeps {
  /** `ENGINE_CALL_TIMEOUT_MS`. */
  timeoutMs: number;
  /** Ends a wedged Worker and treats it as a crash (`Restarts.kill`). */
  kill: (entry: SessionEntry, host: WorkerHost, reason: string) => void;
  /**
   * Resolves once the events handed out so far are durable. `alone` is true when no other call is
   * in flight (see `SessionManagerDeps.flushEvents`).
   */
  flushEvents?: (alone: boolean) => Promise<void>;
  /** Told each call's method, time and outcome (`METRICS_ENABLED`). */
  metrics?: Pick<SessionMetrics, "engineCall">;
}

export function createCalls(deps: CallsDeps): Calls {
  const { timeoutMs, metrics } = deps;
  /** Engine calls waiting for their answer, over every session (see `flushEvents`). */
  let callsInFlight = 0;
  /** Each session's calls in flight, settling once answered with their events durable. */
  const inFlight = new WeakMap<SessionEntry, Set<Promise<unknown>>>();

  function assertReady(phoneNumber: string, entry: SessionEntry | undefined): ReadyEntry {
    if (!entry) throw clientNotReady(phoneNumber, "STOPPED");
    if (entry.status !== "WORKING" || !entry.host) {
      throw clientNotReady(phoneNumber, entry.status);
    }
    return entry as ReadyEntry;
  }

  async function request<T>(
    entry: SessionEntry,
    host: WorkerHost,
    method: EngineMethod,
    args: unknown[],
  ): Promise<T> {
    const started = metrics ? performance.now() : 0;
    try {
      const result = await host.call<T>(method, args, timeoutMs);
      entry.consecutiveTimeouts = 0;
      metrics?.engineCall(method, (performance.now() - started) / 1000, "ok");
      return result;
    } catch (error) {
      const outcome = error instanceof CallTimeoutError ? "timeout" : "error";
      metrics?.engineCall(method, (performance.now() - started) / 1000, outcome);
      throw mapCallError(entry, method, error);
    }
  }

  function mapCallError(entry: SessionEntry, method: string, error: unknown): Error {
    if (error instanceof WorkerDeadError) return clientNotReady(entry.phoneNumber, entry.status);
    if (error instanceof CallTimeoutError) {
      entry.consecutiveTimeouts++;
      if (entry.consecutiveTimeouts >= WEDGED_AFTER_TIMEOUTS && entry.host) {
        deps.kill(entry, entry.host, `${entry.consecutiveTimeouts} calls in a row timed out`);
      }
      return timeout(
        `Session "${entry.phoneNumber}" did not answer "${method}" within ${timeoutMs} ms`,
      );
    }
    if (!(error instanceof EngineError)) {
      return error instanceof Error ? error : new Error(String(error));
    }
    switch (error.kind) {
      case "NOT_FOUND":
        return notFound(error.message);
      case "NOT_IMPLEMENTED":
        return notImplemented(error.message);
      case "BAD_REQUEST":
        return badRequest(error.message);
      case "NOT_READY":
        // The engine lost its connection before the manager heard of it.
        return clientNotReady(entry.phoneNumber, entry.status);
    }
  }

  return {
    assertReady,
    request,
    async call(phoneNumber, entry, method, args) {
      const ready = assertReady(phoneNumber, entry);
      callsInFlight++;
      const work = (async () => {
        try {
          return await request(ready, ready.host, method, args);
        } finally {
          callsInFlight--;
          await deps.flushEvents?.(callsInFlight === 0);
        }
      })();
      const calls = inFlight.get(ready) ?? new Set();
      inFlight.set(ready, calls);
      const done = work.then(() => {}, () => {});
      calls.add(done);
      try {
        return await work;
      } finally {
        calls.delete(done);
      }
    },
    async settled(entry, timeoutMs) {
      const calls = [...inFlight.get(entry) ?? []];
      if (calls.length === 0) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(calls),
        new Promise((resolve) => timer = setTimeout(resolve, timeoutMs)),
      ]);
      clearTimeout(timer);
    },
  };
}

/**
 * The client of one number's session: `authorize` runs before every call and readiness check
 * (ownership is checked when the call takes effect, not when the request arrived).
 */
export function createSessionClient(
  phoneNumber: string,
  deps: { calls: Calls; authorize: () => Promise<unknown>; entry: () => SessionEntry | undefined },
): SessionClient {
  const { calls, authorize } = deps;
  const assertReady = async () => {
    await authorize();
    calls.assertReady(phoneNumber, deps.entry());
  };
  return new Proxy({} as SessionClient, {
    get: (_, name) =>
      name === "assertReady" ? assertReady : async (...args: unknown[]) => {
        // Checked here, right before the call leaves: the request's body (and its media) may
        // have taken seconds to arrive, and the number may have changed hands meanwhile.
        await authorize();
        return await calls.call(phoneNumber, deps.entry(), name as SessionCallName, args);
      },
  });
}
