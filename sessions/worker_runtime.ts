/**
 * @module
 * What every session Worker runs: it links to the main thread (`host_link.ts`), loads one engine
 * and exposes it through Comlink (`worker_api.ts`). Calls arrive as `call(method, args)` with plain
 * data; events leave one way on the same channel (no answer per event, unlike a callback), so an
 * event emitted before a call returns reaches the main thread before that call's answer.
 */
/// <reference lib="deno.worker" />
import * as Comlink from "comlink";
import type { Engine, EngineName, EngineOptions } from "./engine.ts";
import { linkToHost } from "./host_link.ts";
import { createWorkerApi } from "./worker_api.ts";

export type { CallOutcome, WorkerApi } from "./worker_api.ts";

export type EngineLoader = (name: EngineName, options: EngineOptions) => Promise<Engine>;

export async function serveEngine(loadEngine: EngineLoader): Promise<void> {
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
  await linkToHost((channel) => {
    Comlink.expose(
      createWorkerApi({ loadEngine, emit: (event) => channel.postEvent(event) }),
      channel.endpoint,
    );
  });
}
