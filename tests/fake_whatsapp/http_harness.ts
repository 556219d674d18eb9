/**
 * @module
 * The real engine through our own HTTP API for one test: a fresh fake cloud, a webhook receiver
 * that keeps every envelope, and the server (in-process, `startTestApp`) with the wwebjs engine on
 * the cloud's page; the session is started and linked by QR before the test runs, and everything
 * is torn down after it (the cloud's `close()` failing the test if the page lacked anything).
 */
import { type FakeCloud, type FakeCloudOptions, startFakeCloud } from "./fake_cloud.ts";
import { startTestApp, type TestApp, waitFor, waitForState } from "../_helpers.ts";
import { browsersOn } from "../processes.ts";

export interface Receiver {
  received: Record<string, unknown>[];
  url: string;
  close(): Promise<void>;
  /** The first envelope (in arrival order) that matches. */
  waitFor(
    match: (envelope: Record<string, unknown>) => boolean,
    what: string,
  ): Promise<Record<string, unknown>>;
}

/** A webhook receiver on 127.0.0.1 that keeps every envelope it is sent. */
export function startReceiver(): Receiver {
  const received: Record<string, unknown>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    received.push(await req.json());
    return new Response(null, { status: 204 });
  });
  return {
    received,
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    close: () => server.shutdown(),
    waitFor: (match, what) => waitFor(what, () => received.find(match), 20_000),
  };
}

export interface LinkedServer {
  server: TestApp;
  cloud: FakeCloud;
  receiver: Receiver;
  /** The session's phone number (the cloud's account). */
  phone: string;
}

/** The server's settings for the wwebjs engine on a cloud's page. */
export function wwebjsEnv(
  cloud: Pick<FakeCloud, "webVersion" | "webVersionCachePath">,
  extra: Record<string, string> = {},
) {
  return {
    WA_ENGINE: "wwebjs",
    WWEBJS_WEB_VERSION: cloud.webVersion,
    WWEBJS_WEB_CACHE_PATH: cloud.webVersionCachePath,
    SIMULATOR_SCAN_MS: "0",
    ...extra,
  };
}

/** Runs `fn` against a server whose session is linked to a fresh cloud built from `options`. */
export async function withLinkedServer(
  options: FakeCloudOptions,
  fn: (linked: LinkedServer) => Promise<void>,
  { seed, env = {} }: { seed?: (cloud: FakeCloud) => void; env?: Record<string, string> } = {},
): Promise<void> {
  const cloud = await startFakeCloud(options);
  const receiver = startReceiver();
  const phone = cloud.me.split("@")[0];
  let server: TestApp | null = null;
  let failed = false;
  try {
    seed?.(cloud);
    server = await startTestApp(wwebjsEnv(cloud, { WEBHOOK_URL: receiver.url, ...env }));
    const started = await server.json("POST", `/${phone}/start`);
    if (started.status !== 200) throw new Error(`start: ${JSON.stringify(started.body)}`);
    const qr = await waitFor("the QR", () => cloud.currentQr(), 30_000);
    cloud.scanQr(qr);
    await waitForState(server, phone, "CONNECTED", 30_000);
    await fn({ server, cloud, receiver, phone });
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await server?.close();
    await receiver.close();
    if (failed) await cloud.close().catch((error) => console.error(String(error)));
    else await cloud.close();
  }
}

/** The pid of the Chromium browser process whose profile lives under `dir`. */
export function chromiumUnder(dir: string): number | null {
  return browsersOn(dir)[0] ?? null;
}
