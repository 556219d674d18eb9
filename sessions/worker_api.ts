/**
 * @module
 * What a session's Worker offers the main thread through Comlink: `init`, `ping`, `call` and
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
  let engine: Engine | null = null;
  return {
    async init(name: EngineName, options: EngineOptions): Promise<void> {
      engine = await deps.loadEngine(name, options);
      await engine.start(deps.emit);
    },
    ping(): true {
      return true;
    },
    async call(method: EngineMethod, args: unknown[]): Promise<CallOutcome> {
      try {
        // A call can arrive while the engine still loads (a pairing code asked for right after
        // start).
        if (!engine) throw new EngineError("NOT_READY", "The session's engine is still starting");
        const fn = engine[method] as (...a: unknown[]) => Promise<unknown>;
        return { value: await fn.apply(engine, args) };
      } catch (error) {
        if (error instanceof EngineError) return { failure: error.toFailure() };
        throw error;
      }
    },
    async stop(): Promise<void> {
      await engine?.stop();
      engine = null;
    },
  };
}

export type WorkerApi = ReturnType<typeof createWorkerApi>;
