/**
 * @module
 * The entry point of a session's Worker: it loads one engine and exposes it to the main thread
 * through Comlink. Calls arrive as `call(method, args)` with plain data; events leave one way as
 * `{ engineEvent }` messages on the Worker's own port (no answer per event, unlike a callback), so
 * an event emitted before a call returns reaches the main thread before that call's answer.
 */
/// <reference lib="deno.worker" />
import * as Comlink from "comlink";
import { batchedEndpoint, comlinkErrorForUnclonable, isComlinkAnswer } from "./batched_endpoint.ts";
import {
  type Engine,
  EngineError,
  type EngineEvent,
  type EngineEventSink,
  type EngineMethod,
  type EngineName,
  type EngineOptions,
} from "./engine.ts";

async function loadEngine(name: EngineName, options: EngineOptions): Promise<Engine> {
  if (name === "simulator") {
    const { createSimulatorEngine } = await import("./engines/simulator/engine.ts");
    return createSimulatorEngine(options);
  }
  // whatsapp-web.js's node-fetch loads Node's deprecated `punycode`: one DeprecationWarning on
  // stderr per session start, about a library's internals, that an operator can do nothing about.
  const { default: process } = await import("node:process");
  Object.assign(process, { noDeprecation: true }); // Documented by Node, missing from its types.
  const { createWwebjsEngine } = await import("./engines/wwebjs/engine.ts");
  return createWwebjsEngine(options);
}

let engine: Engine | null = null;

// Events and answers leave batched per turn (see batched_endpoint.ts), in the order they were made;
// an answer leaves as soon as the microtasks before it have run.
const port = batchedEndpoint(self, {
  isUrgent: isComlinkAnswer,
  replaceUnclonable: comlinkErrorForUnclonable,
});

// whatsapp-web.js starts promises it never awaits (a destroy() after CONFLICT, a re-injection on
// navigation); one of them failing must not kill the session. Uncaught errors still do.
self.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  console.error(JSON.stringify({
    time: new Date().toISOString(),
    level: "warn",
    msg: "unhandled rejection in session worker",
    worker: self.name,
    error: String((event.reason as Error)?.message ?? event.reason),
  }));
});

const workerApi = {
  async init(name: EngineName, options: EngineOptions): Promise<void> {
    engine = await loadEngine(name, options);
    const emit: EngineEventSink = (event: EngineEvent) => {
      // No `id`: Comlink's listener on the other side leaves the message to the supervisor.
      port.postMessage({ engineEvent: event });
    };
    await engine.start(emit);
  },
  ping(): true {
    return true;
  },
  call(method: EngineMethod, args: unknown[]): Promise<unknown> {
    // A call can arrive while the engine still loads (a pairing code asked for right after start).
    if (!engine) throw new EngineError("NOT_READY", "The session's engine is still starting");
    const fn = engine[method] as (...a: unknown[]) => Promise<unknown>;
    return fn.apply(engine, args);
  },
  async stop(): Promise<void> {
    await engine?.stop();
    engine = null;
  },
};

export type WorkerApi = typeof workerApi;

Comlink.expose(workerApi, port);
