/**
 * @module
 * The entry point of a session's Worker: it loads one engine and exposes it to the main thread
 * through Comlink (`worker_api.ts`). Calls arrive as `call(method, args)` with plain data; events
 * leave one way on the same channel (no answer per event, unlike a callback), so an event emitted
 * before a call returns reaches the main thread before that call's answer.
 */
/// <reference lib="deno.worker" />
import * as Comlink from "comlink";
import { batchedChannel } from "./batched_endpoint.ts";
import type { Engine, EngineName, EngineOptions } from "./engine.ts";
import { createWorkerApi } from "./worker_api.ts";

export type { CallOutcome, WorkerApi } from "./worker_api.ts";

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

// Events and answers leave batched per turn (see batched_endpoint.ts), in the order they were made;
// an answer leaves as soon as the microtasks before it have run.
const channel = batchedChannel(self, { answers: true });

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

Comlink.expose(
  createWorkerApi({ loadEngine, emit: (event) => channel.postEvent(event) }),
  channel.endpoint,
);
