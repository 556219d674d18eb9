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

/** The engine `init` loads (null before `init` and after `stop`). */
let engine: Promise<Engine> | null = null;

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
    const loading = loadEngine(name, options);
    engine = loading;
    const loaded = await loading;
    const emit: EngineEventSink = (event: EngineEvent) => {
      // No `id`: Comlink's listener on the other side leaves the message to the supervisor.
      port.postMessage({ engineEvent: event });
    };
    await loaded.start(emit);
  },
  ping(): true {
    return true;
  },
  async call(method: EngineMethod, args: unknown[]): Promise<unknown> {
    // Whether the session may be called is the manager's rule, not the Worker's: a call that
    // arrives while the engine still loads (a pairing code asked for right after start) waits for
    // it, and the engine answers for its own state. `init` always comes first (same port).
    const loaded = await engine!;
    const fn = loaded[method] as (...a: unknown[]) => Promise<unknown>;
    return fn.apply(loaded, args);
  },
  async stop(): Promise<void> {
    const loading = engine;
    engine = null;
    await (await loading?.catch(() => null))?.stop();
  },
};

export type WorkerApi = typeof workerApi;

Comlink.expose(workerApi, port);
