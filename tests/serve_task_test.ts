/**
 * @module
 * The production start, `deno task serve` (what the Dockerfile's CMD runs), under its narrowed
 * permissions: no `--allow-all`, no FFI, writes only to `DATA_DIR` (taken from the environment).
 * A real server process started through the task, with `DATA_DIR` in a temporary folder, serves
 * Swagger UI's files, runs a simulator session that sends and serves media, and starts a
 * whatsapp-web.js session whose Chromium reaches the fake WhatsApp Web's QR, without the admin
 * key in Chromium's environment.
 */
import assert from "node:assert/strict";
import { ADMIN_KEY, freePort, waitFor } from "./_helpers.ts";
import { startFakeCloud } from "./fake_whatsapp/fake_cloud.ts";
import { ME, PIXEL_PNG } from "./fake_whatsapp/cast.ts";
import { decodeQrDataUrl } from "./qr_decode.ts";
import { isChromiumOn, processes } from "./processes.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const SIMULATED = "4915550003201";
const LINKED = ME.split("@")[0];

/** The pids of the Chromium processes whose profile lives under `dir`. */
const chromiumUnder = (dir: string) =>
  processes().filter((p) => isChromiumOn(p, dir)).map((p) => p.pid);

Deno.test("the serve task grants neither all permissions nor FFI, and write access only to DATA_DIR", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const flags: string[] = config.tasks.serve.split(/\s+/).filter((f: string) => f.startsWith("-"));
  for (const forbidden of ["-A", "--allow-all", "--allow-ffi"]) {
    assert.ok(!flags.some((f) => f === forbidden || f.startsWith(`${forbidden}=`)), forbidden);
  }
  assert.deepEqual(flags.filter((f) => f.startsWith("--allow-write")), ["--allow-write=$DATA_DIR"]);
});

Deno.test("a server started with `deno task serve` runs a simulator session and a wwebjs session to its QR", async () => {
  const cloud = await startFakeCloud({ me: ME, pushName: "Serve Task" });
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-serve-" });
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "serve"],
    cwd: ROOT,
    env: {
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      API_KEY: ADMIN_KEY,
      WA_ENGINE: "simulator",
      SIMULATOR_SCAN_MS: "50",
      LOG_LEVEL: "warn",
      WWEBJS_WEB_VERSION: cloud.webVersion,
      WWEBJS_WEB_CACHE_PATH: cloud.webVersionCachePath,
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Read as it comes (a full pipe would stall the server); shown when an assertion fails.
  const log = new Response(child.stderr).text();
  const base = `http://127.0.0.1:${port}/api/whatsapp`;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined
        ? { "X-Api-Key": ADMIN_KEY }
        : { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const type = response.headers.get("content-type") ?? "";
    return {
      status: response.status,
      body: type.includes("json") ? await response.json() : await response.arrayBuffer(),
    };
  };
  let stopped = false;
  try {
    await waitFor(
      "the server to answer",
      async () => (await call("GET", "/health").catch(() => null))?.status === 200,
      30_000,
    );

    const css = await fetch(`${base}/swagger/assets/swagger-ui-dist/swagger-ui.css`);
    assert.equal(css.status, 200, "Swagger UI's files are read from node_modules");
    await css.body?.cancel();

    assert.equal((await call("POST", `/${SIMULATED}/start`)).status, 200);
    await waitFor(
      "the simulator session to connect",
      async () => (await call("GET", `/${SIMULATED}/state`)).body.state === "CONNECTED",
    );
    const text = await call("POST", `/${SIMULATED}/send-text`, {
      chatId: "15550000001@c.us",
      text: "sent under narrowed permissions",
    });
    assert.equal(text.status, 200, JSON.stringify(text.body));
    const image = await call("POST", `/${SIMULATED}/send-image`, {
      chatId: "15550000001@c.us",
      imageUrl: `data:image/png;base64,${PIXEL_PNG}`,
    });
    assert.equal(image.status, 200, JSON.stringify(image.body));
    const media = await call(
      "GET",
      `/${SIMULATED}/messages/15550000001@c.us/${image.body.messageId}/media`,
    );
    assert.equal(media.status, 200);
    assert.equal(new Uint8Array(media.body).toBase64(), PIXEL_PNG);

    const started = await call("POST", `/${LINKED}/start`, { engine: "wwebjs" });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const qr = await waitFor("the wwebjs session's QR", async () => {
      const { status, body } = await call("GET", `/${LINKED}/qr`);
      if (status === 200) return body.qrCode as string;
      const state = await call("GET", `/${LINKED}/state`);
      if (state.body.status === "FAILED") {
        throw new Error(`the session failed: ${state.body.reason}`);
      }
      return null;
    }, 30_000);
    assert.equal(decodeQrDataUrl(qr), cloud.currentQr());

    const browsers = chromiumUnder(dataDir);
    assert.ok(browsers.length > 0, "Chromium runs with its profile in DATA_DIR");
    const environ = Deno.readTextFileSync(`/proc/${Math.min(...browsers)}/environ`);
    assert.ok(!environ.includes(ADMIN_KEY), "the admin key is not in Chromium's environment");

    child.kill("SIGTERM");
    stopped = true;
    assert.equal((await child.status).code, 0, "a clean shutdown through the task");
  } catch (error) {
    // SIGTERM reaches the server through `deno task`; SIGKILL would stop only the task runner.
    if (!stopped) child.kill("SIGTERM");
    await child.status;
    throw new Error(`${error}\n--- server log ---\n${await log}`, { cause: error });
  } finally {
    await log.catch(() => "");
    // A Chromium left behind by a failed run is ours: its profile is in our DATA_DIR.
    for (const pid of chromiumUnder(dataDir)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
    await cloud.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
