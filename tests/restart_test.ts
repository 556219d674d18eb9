/**
 * @module
 * Sessions survive the server: a server restarted on the same DATA_DIR brings back the sessions
 * that were started (without a new scan) and leaves stopped ones stopped; the real entry point
 * shuts down cleanly on SIGTERM.
 */
import assert from "node:assert/strict";
import { startServerProcess, startTestApp, waitFor, waitForState } from "./_helpers.ts";

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

Deno.test("the server stops cleanly on SIGTERM and restores its sessions on the next start", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-sigterm-" });
  const env = { DATA_DIR: dataDir, SIMULATOR_SCAN_MS: "100" };
  try {
    const first = await startServerProcess(env);
    await first.call("POST", `/${STARTED}/start`);
    await waitFor(
      "CONNECTED",
      async () => (await first.call("GET", `/${STARTED}/state`)).body?.state === "CONNECTED",
    );
    assert.equal(await first.stop("SIGTERM"), 0, "exit code after SIGTERM");

    const second = await startServerProcess(env, { port: first.port });
    try {
      await waitFor(
        "the restored session",
        async () => (await second.call("GET", `/${STARTED}/state`)).body?.state === "CONNECTED",
        10_000,
      );
    } finally {
      assert.equal(await second.stop("SIGTERM"), 0);
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a second server on a DATA_DIR in use exits 1 saying so, and the first goes on", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-in-use-" });
  const first = await startServerProcess({ DATA_DIR: dataDir });
  try {
    const second = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
      env: {
        PORT: "0",
        HOST: "127.0.0.1",
        DATA_DIR: dataDir,
        WA_ENGINE: "simulator",
        API_KEY: "another-admin-key-0123456789abcdef",
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    assert.equal(second.code, 1);
    assert.match(new TextDecoder().decode(second.stderr), /in use by another process.*DATA_DIR/s);
    assert.equal((await first.call("GET", "/health")).status, 200, "the first server goes on");
  } finally {
    assert.equal(await first.stop(), 0);
    await Deno.remove(dataDir, { recursive: true });
  }
});
