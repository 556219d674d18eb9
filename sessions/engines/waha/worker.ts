/**
 * @module
 * The entry point of a waha-engine number's Worker: an HTTP client of a WAHA server, no browser.
 */
/// <reference lib="deno.worker" />
import { serveEngine } from "../../worker_runtime.ts";
import { createWahaEngine } from "./engine.ts";

await serveEngine((name, options) => {
  if (name !== "waha") throw new Error(`This Worker runs the waha engine, not ${name}`);
  return Promise.resolve(createWahaEngine(options));
});
