/**
 * @module
 * The metrics of the real engine: whatsapp-web.js in its Worker drives a real headless Chromium on
 * the fake WhatsApp Web. `GET /metrics` shows the memory of the session's Chromium process tree
 * (sampled from `/proc`), and a Chromium killed with SIGKILL is counted as a restart with the
 * reason `chromium_exited` (or `page_crashed`, when its page reports first) before a new one runs:
 * once the session runs, and also while it still starts (a crash then is a crash too, for the
 * restart policy, not a start that failed for good).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeCloud } from "./fake_whatsapp/fake_cloud.ts";
import { ME } from "./fake_whatsapp/cast.ts";
import { chromiumUnder } from "./fake_whatsapp/http_harness.ts";
import { startTestApp, type TestApp, waitFor } from "./_helpers.ts";

const PHONE = ME.split("@")[0];
const TOKEN = "metrics-token-0123456789abcdef";

interface Running {
  server: TestApp;
  /** The session's Chromium profile folder. */
  profile: string;
  /** The gauge `wa_gateway_<name>` of the session, and the whole page. */
  gauge(name: string): Promise<{ value: number | null; text: string }>;
}

/** A wwebjs server with metrics on the fake WhatsApp Web, ended after `body`. */
async function withMeteredServer(body: (running: Running) => Promise<void>): Promise<void> {
  const cloud = await startFakeCloud({ me: ME, pushName: "Gateway Test" });
  const dataDir = await Deno.makeTempDir({ prefix: "metrics_wwebjs_test_" });
  const server = await startTestApp({
    DATA_DIR: dataDir,
    WA_ENGINE: "wwebjs",
    WWEBJS_WEB_VERSION: cloud.webVersion,
    WWEBJS_WEB_CACHE_PATH: cloud.webVersionCachePath,
    METRICS_ENABLED: "true",
    METRICS_TOKEN: TOKEN,
    METRICS_SAMPLE_MS: "1000",
    RESTART_BACKOFF_MIN_MS: "100",
    // The restart counted must be Chromium's: a Worker slow to answer its heartbeat on a busy
    // machine would be restarted (and counted) for that first.
    HEARTBEAT_TIMEOUT_MS: "30000",
  });
  const gauge = async (name: string) => {
    const response = await server.app.request("/metrics", {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    const text = await response.text();
    const line = new RegExp(`^wa_gateway_${name}\\{session="${PHONE}"\\} (\\S+)$`, "m").exec(text);
    return { value: line ? Number(line[1]) : null, text };
  };
  try {
    await body({ server, profile: join(dataDir, "sessions", PHONE), gauge });
  } finally {
    await server.close();
    await cloud.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

/** Waits until one restart of the session is counted; the reasons it was counted under. */
function restartCounted(running: Running): Promise<string[]> {
  return waitFor("the restart to be counted", async () => {
    const { text } = await running.gauge("chromium_pss_bytes");
    const counted = [
      ...text.matchAll(
        /^wa_gateway_session_restarts_total\{reason="(\w+)",outcome="restarted"\} 1$/gm,
      ),
    ].map((match) => match[1]);
    return counted.length > 0 && counted;
  }, 30_000);
}

/** Waits for a Chromium on the session's profile other than `first`. */
function anotherChromium(running: Running, first: number): Promise<number> {
  return waitFor("a new Chromium", () => {
    const pid = chromiumUnder(running.profile);
    return pid !== first && pid;
  }, 60_000);
}

Deno.test("a wwebjs session's Chromium memory is in /metrics, and a killed Chromium counts as a restart", async () => {
  await withMeteredServer(async (running) => {
    const { server, gauge } = running;
    assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
    const first = await waitFor("Chromium to run", () => chromiumUnder(running.profile), 60_000);
    // A headless Chromium with one page holds tens of MB at the least (a sample taken while it
    // still starts may hold less), and less than a few GB.
    const pss = await waitFor(
      "the Chromium memory to be sampled",
      async () => {
        const sampled = (await gauge("chromium_pss_bytes")).value ?? 0;
        return ((await gauge("chromium_processes")).value ?? 0) >= 2 &&
          sampled > 10 * 1024 * 1024 && sampled;
      },
      30_000,
    );
    assert.ok(pss < 4 * 1024 ** 3, `pss ${pss}`);
    assert.ok((await gauge("chromium_rss_bytes")).value! >= pss);

    Deno.kill(first, "SIGKILL");
    // Whichever Chromium reports first: the browser's exit or its page closing.
    const reasons = await restartCounted(running);
    assert.ok(
      reasons.every((reason) => reason === "chromium_exited" || reason === "page_crashed"),
      reasons.join(", "),
    );
    assert.notEqual(await anotherChromium(running, first), first);
  });
});

Deno.test("a Chromium killed while its session starts is a crash: counted, restarted, and the session comes up", async () => {
  await withMeteredServer(async (running) => {
    const { server } = running;
    assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
    // Killed the moment it is there: before puppeteer has connected to it, or at the latest
    // long before WhatsApp Web shows a QR.
    const first = await waitFor("Chromium to run", () => chromiumUnder(running.profile), 60_000, 2);
    Deno.kill(first, "SIGKILL");
    assert.deepEqual(await restartCounted(running), ["chromium_exited"]);
    await anotherChromium(running, first);
    const qr = await waitFor("a QR from the restarted session", async () => {
      const { status, body } = await server.json("GET", `/${PHONE}/state`);
      assert.notEqual(body.status, "FAILED", JSON.stringify(body));
      return status === 200 && body.status === "SCAN_QR_CODE" && body;
    }, 60_000);
    assert.equal(qr.status, "SCAN_QR_CODE");
  });
});
