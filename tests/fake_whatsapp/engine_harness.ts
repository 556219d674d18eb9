/**
 * @module
 * Helpers for running the real whatsapp-web.js engine against the fake WhatsApp Web: engine
 * options pointing at a fake cloud's page, an event recorder with waits, a process-group kill, and
 * a whole linked engine on its own cloud for one test.
 */
import type { Engine, EngineEvent, EngineOptions } from "../../sessions/engine.ts";
import { createWwebjsEngine, type WwebjsTuning } from "../../sessions/engines/wwebjs/engine.ts";
import { type FakeCloud, type FakeCloudOptions, startFakeCloud } from "./fake_cloud.ts";

/** The QR decoder is the tests' shared one (kept importable from here as before). */
export { decodeQrDataUrl } from "../qr_decode.ts";

/** Engine options that serve the fake cloud's page to whatsapp-web.js. */
export function fakeEngineOptions(
  cloud: FakeCloud,
  sessionDir: string,
  overrides: Partial<EngineOptions> = {},
): EngineOptions {
  return {
    phoneNumber: cloud.me.split("@")[0],
    sessionDir,
    qrMaxRetries: 0,
    simulatorScanMs: 0,
    webVersion: cloud.webVersion,
    webVersionCachePath: cloud.webVersionCachePath,
    authTimeoutMs: 30_000,
    ...overrides,
  };
}

/** Records engine events and waits for them. */
export class EventRecorder {
  readonly events: EngineEvent[] = [];
  readonly sink = (event: EngineEvent): void => {
    this.events.push(event);
  };

  of<T extends EngineEvent["type"]>(type: T): Extract<EngineEvent, { type: T }>[] {
    return this.events.filter((e) => e.type === type) as Extract<EngineEvent, { type: T }>[];
  }

  /** Resolves with the first event (from index `from`) that matches. */
  async waitFor<T extends EngineEvent>(
    match: (event: EngineEvent) => event is T,
    { timeoutMs = 20_000, from = 0 } = {},
  ): Promise<T> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const found = this.events.slice(from).find(match);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    const seen = this.events.map((e) => e.type + ("status" in e ? `:${e.status}` : "")).join(", ");
    throw new Error(`Timed out waiting for an engine event; saw: ${seen}`);
  }

  status(status: string, from = 0): Promise<Extract<EngineEvent, { type: "status" }>> {
    return this.waitFor(
      (e): e is Extract<EngineEvent, { type: "status" }> =>
        e.type === "status" && e.status === status,
      { from },
    );
  }

  type<T extends EngineEvent["type"]>(
    type: T,
    from = 0,
    timeoutMs = 20_000,
  ): Promise<Extract<EngineEvent, { type: T }>> {
    return this.waitFor(
      (e): e is Extract<EngineEvent, { type: T }> => e.type === type,
      { from, timeoutMs },
    );
  }
}

/** Kills a process group, ignoring one that is already gone. */
export function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      Deno.kill(target, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
}

/**
 * Steps that build on each other: once one fails, the later ones are skipped (reported as
 * ignored) rather than left to time out against a session in an unknown state.
 */
export function dependentSteps(t: Deno.TestContext) {
  let failed = false;
  return (name: string, fn: () => Promise<void>) =>
    t.step({
      name,
      ignore: failed,
      fn: async () => {
        try {
          await fn();
        } catch (error) {
          failed = true;
          throw error;
        }
      },
    });
}

/** What a test gets from {@link withLinkedEngine}. */
export interface LinkedEngine {
  cloud: FakeCloud;
  engine: Engine;
  rec: EventRecorder;
  sessionDir: string;
}

/**
 * Runs `fn` with an engine linked (by QR) to a fresh fake cloud built from `options`; `seed` runs
 * before the engine starts (stored history). Everything is torn down afterwards, and the cloud's
 * `close()` fails the test if the page could not give whatsapp-web.js what it read.
 */
export async function withLinkedEngine(
  options: FakeCloudOptions,
  fn: (linked: LinkedEngine) => Promise<void>,
  { seed, tuning, engineOptions }: {
    seed?: (cloud: FakeCloud) => void;
    tuning?: WwebjsTuning;
    engineOptions?: Partial<EngineOptions>;
  } = {},
): Promise<void> {
  const cloud = await startFakeCloud(options);
  const sessionDir = await Deno.makeTempDir({ prefix: "wwebjs_linked_" });
  const rec = new EventRecorder();
  const engine = createWwebjsEngine(fakeEngineOptions(cloud, sessionDir, engineOptions), tuning);
  let failed = false;
  try {
    seed?.(cloud);
    await engine.start(rec.sink);
    cloud.scanQr((await rec.type("qr")).value);
    await rec.status("WORKING");
    await fn({ cloud, engine, rec, sessionDir });
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await engine.stop().catch(() => {});
    for (const e of rec.of("child_process")) killGroup(e.pid);
    await Deno.remove(sessionDir, { recursive: true }).catch(() => {});
    // The test's own failure is the one reported; what the page lacked is printed beside it.
    if (failed) await cloud.close().catch((error) => console.error(String(error)));
    else await cloud.close();
  }
}
