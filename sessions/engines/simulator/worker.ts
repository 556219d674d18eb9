/**
 * @module
 * The entry point of a simulator number's Worker: the simulator imported up front, so that the
 * whole Worker is one module graph that `worker_source.ts` bundles into a single script (a Worker
 * loading 14 modules one by one spent ~40 ms of CPU more than one loading their bundle).
 */
/// <reference lib="deno.worker" />
import { serveEngine } from "../../worker_runtime.ts";
import { createSimulatorEngine } from "./engine.ts";

await serveEngine((name, options) => {
  if (name !== "simulator") throw new Error(`This Worker runs the simulator, not ${name}`);
  return Promise.resolve(createSimulatorEngine(options));
});
