/**
 * @module
 * Which script a session's Worker runs. A simulator number's Worker runs
 * `engines/simulator/worker.ts` bundled into one script, in memory, the first time one is needed
 * (~150 ms, once per process): a Worker that loads 14 modules one by one spends ~40 ms of CPU more
 * than one that loads their bundle, which a thousand starts feel (bench/README.md). Bundling needs
 * Deno's unstable `Deno.bundle` (`"unstable": ["bundle"]` in deno.json); without it, or if it fails,
 * the Worker loads the modules themselves, as before, and one warning says why.
 *
 * A whatsapp-web.js number's Worker runs `engines/wwebjs/worker.ts` as it is: its cost is puppeteer
 * and the library, which stay npm packages resolved by Deno, and a spare Worker pays it ahead of
 * the next start (`spare_workers.ts`).
 */
import type { EngineName } from "./engine.ts";

const SIMULATOR_ENTRY = new URL("./engines/simulator/worker.ts", import.meta.url);
/** The waha engine's Worker entry (an HTTP client of WAHA, no npm package): bundled too. */
const WAHA_ENTRY = new URL("./engines/waha/worker.ts", import.meta.url);
/** The whatsapp-web.js Worker's entry. */
export const WWEBJS_ENTRY = new URL("./engines/wwebjs/worker.ts", import.meta.url);

interface BundleResult {
  success: boolean;
  errors: { text: string }[];
  outputFiles?: { text(): string }[];
}
type Bundle = (options: {
  entrypoints: string[];
  platform: "deno";
  format: "esm";
  write: false;
}) => Promise<BundleResult>;

/** The bundled script of `entry` as a `blob:` URL; throws when bundling is unavailable or fails. */
export async function bundleWorker(entry: URL): Promise<URL> {
  const bundle = (Deno as unknown as { bundle?: Bundle }).bundle;
  if (!bundle) throw new Error('Deno.bundle is not enabled (unstable feature "bundle")');
  const result = await bundle({
    entrypoints: [entry.href],
    platform: "deno",
    format: "esm",
    write: false,
  });
  const script = result.outputFiles?.[0]?.text();
  if (!result.success || script === undefined) {
    throw new Error(result.errors.map((e) => e.text).join("; ") || "no output");
  }
  return new URL(URL.createObjectURL(new Blob([script], { type: "text/javascript" })));
}

const bundles = new Map<EngineName, Promise<URL>>();

/** `entry` bundled once per process; the entry itself when bundling fails (one warning). */
function bundled(engine: EngineName, entry: URL): Promise<URL> {
  let url = bundles.get(engine);
  if (!url) {
    url = bundleWorker(entry).catch((error) => {
      console.error(JSON.stringify({
        time: new Date().toISOString(),
        level: "warn",
        msg: `${engine} Workers load their modules one by one: bundling them failed`,
        error: String(error?.message ?? error),
      }));
      return entry;
    });
    bundles.set(engine, url);
  }
  return url;
}

/** The URL of the script a Worker for `engine` runs. */
export function workerUrlFor(engine: EngineName): Promise<URL> {
  if (engine === "simulator") return bundled("simulator", SIMULATOR_ENTRY);
  if (engine === "waha") return bundled("waha", WAHA_ENTRY);
  return Promise.resolve(WWEBJS_ENTRY);
}
