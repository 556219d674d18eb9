/**
 * @module
 * Sessions survive the server: a server restarted on the same DATA_DIR brings back the sessions
 * that were started (without a new scan) and leaves stopped ones stopped; the real entry point
 * shuts down cleanly on SIGTERM.
 */
import assert from "node:assert/strict";
import { ADMIN_KEY, freePort, startTestApp, waitFor, waitForState } from "./_helpers.ts";

const STARTED = "4915550003001";
const STOPPED = "4915550003002";

Deno.test("a server restarted on the same DATA_DIR brings its started sessions back", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-restart-" });
  try {
    const first = await startTestApp({ DATA_DIR: dataDir, SIMULATOR_SCAN_MS: "100" });
    try {
      await first.json("POST", `/${STARTED}/start`);
      await first.json("POST", `/${STOPPED}/start`);
      await waitForState(first, STARTED, "CONNECTED");
      await waitForState(first, STOPPED, "CONNECTED");
      await first.json("POST", `/${STOPPED}/stop`);
    } finally {
      await first.close();
    }

    // A long scan time: coming back CONNECTED quickly proves no new QR was needed.
    const second = await startTestApp({ DATA_DIR: dataDir, SIMULATOR_SCAN_MS: "60000" });
    try {
      await second.manager.restore();
      await waitForState(second, STARTED, "CONNECTED", 5_000);
      const stopped = await second.json("GET", `/${STOPPED}/state`);
      assert.equal(stopped.body.state, "DISCONNECTED");
      const list = await second.json<{ sessions: { phoneNumber: string }[] }>("GET", "/sessions");
      assert.deepEqual(list.body.sessions.map((s) => s.phoneNumber).sort(), [STARTED, STOPPED]);
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

async function runServer(dataDir: string, port: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
    env: {
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      WA_ENGINE: "simulator",
      SIMULATOR_SCAN_MS: "100",
      API_KEY: ADMIN_KEY,
      LOG_LEVEL: "warn",
    },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const base = `http://127.0.0.1:${port}/api/whatsapp`;
  await waitFor("the server to listen", async () => {
    const response = await fetch(`${base}/health`).catch(() => null);
    await response?.body?.cancel();
    return response?.ok;
  }, 20_000);
  const call = async (method: string, path: string) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { "X-Api-Key": ADMIN_KEY },
    });
    return { status: response.status, body: await response.json() };
  };
  return { child, call };
}

Deno.test("the server stops cleanly on SIGTERM and restores its sessions on the next start", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-sigterm-" });
  try {
    const port = freePort();
    const first = await runServer(dataDir, port);
    await first.call("POST", `/${STARTED}/start`);
    await waitFor(
      "CONNECTED",
      async () => (await first.call("GET", `/${STARTED}/state`)).body.state === "CONNECTED",
    );
    first.child.kill("SIGTERM");
    const status = await first.child.status;
    await first.child.stderr.cancel();
    assert.equal(status.code, 0, "exit code after SIGTERM");

    const second = await runServer(dataDir, port);
    try {
      await waitFor(
        "the restored session",
        async () => (await second.call("GET", `/${STARTED}/state`)).body.state === "CONNECTED",
        10_000,
      );
    } finally {
      second.child.kill("SIGTERM");
      assert.equal((await second.child.status).code, 0);
      await second.child.stderr.cancel();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
