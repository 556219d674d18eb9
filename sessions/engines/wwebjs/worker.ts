/**
 * @module
 * The entry point of a whatsapp-web.js number's Worker. The engine (puppeteer and
 * whatsapp-web.js, ~0.4 s of loading) is imported up front, before the Worker links to the main
 * thread: a spare Worker made ahead of the next start (`spare_workers.ts`) is then ready to launch
 * Chromium the moment it is given a number.
 */
/// <reference lib="deno.worker" />
import "./quiet_deprecations.ts";
import { serveEngine } from "../../worker_runtime.ts";
import { createWwebjsEngine } from "./engine.ts";

await serveEngine((name, options) => {
  if (name !== "wwebjs") throw new Error(`This Worker runs whatsapp-web.js, not ${name}`);
  return Promise.resolve(createWwebjsEngine(options));
});
