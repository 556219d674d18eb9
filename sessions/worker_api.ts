/**
 * @module
 * What a session's Worker offers the main thread through Comlink: `init`, `call` and
 * `stop` over one engine. An engine's failure comes back as data, `{ failure: { kind, message } }`,
 * rather than as a thrown error, whose kind Comlink would not carry (it keeps an error's name and
 * message only); anything else thrown (a bug) still reaches the caller as an error.
 */
import {
  type Engine,
  EngineError,
  type EngineEventSink,
  type EngineFailure,
  type EngineMethod,
  type EngineName,
  type EngineOptions,
} from "./engine.ts";

/** The answer of `call`: the engine's value, or its failure. */
export type CallOutcome = { value: unknown } | { failure: EngineFailure };

export interface WorkerApiDeps {
  loadEngine(name: EngineName, options: EngineOptions): Promise<Engine>;
  /** Where the engine's events go (one way, in order with the answers). */
  emit: EngineEventSink;
}

export function createWorkerApi(deps: WorkerApiDeps) {
  /** The engine `init` loads (null before `init` and after `stop`). */
  let engine: Promise<Engine> | null = null;
  return {
    async init(name: EngineName, options: EngineOptions): Promise<void> {
      const loading = deps.loadEngine(name, options);
      engine = loading;
      await (await loading).start(deps.emit);
    },
    async call(method: EngineMethod, args: unknown[]): Promise<CallOutcome> {
      try {
        // Whether the session may be called is the manager's rule, not the Worker's: a call that
        // arrives while the engine still loads (a pairing code asked for right after start) waits
        // for it, and the engine answers for its own state. `init` always comes first (one port).
        if (!engine) throw new EngineError("NOT_READY", "The session's engine is not loaded");
        const loaded = await engine;
        const fn = loaded[method] as (...a: unknown[]) => Promise<unknown>;
        return { value: await fn.apply(loaded, args) };
      } catch (error) {
        if (error instanceof EngineError) return { failure: error.toFailure() };
        throw error;
      }
    },
    async stop(): Promise<void> {
      const loading = engine;
      engine = null;
      await (await loading?.catch(() => null))?.stop();
    },
  };
}

export type WorkerApi = ReturnType<typeof createWorkerApi>;
