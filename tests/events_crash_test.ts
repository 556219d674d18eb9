/**
 * @module
 * Crash safety of the event pipeline: a server in a subprocess is killed with SIGKILL while it is
 * delivering about 1,000 simulator events to a slow receiver; after a restart on the same
 * `DATA_DIR` the receiver has every event id that the first server accepted, at least once.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { delay, startReceiver } from "../events/test_receivers.ts";
import { ADMIN_KEY, freePort, waitFor } from "./_helpers.ts";

const PHONE = "4915550007777";
const ROOT = new URL("..", import.meta.url).pathname;

function spawnServer(env: Record<string, string>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function api(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}/api/whatsapp${path}`, {
    method,
    headers: body === undefined
      ? { "X-Api-Key": ADMIN_KEY }
      : { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

function acceptedEventIds(dataDir: string): string[] {
  const db = new DatabaseSync(join(dataDir, "wa-gateway.db"));
  try {
    return (db.prepare("SELECT id FROM events").all() as { id: string }[]).map((r) => r.id);
  } finally {
    db.close();
  }
}

Deno.test({
  name: "a server killed with SIGKILL mid-delivery delivers every accepted event after restart",
  sanitizeResources: true,
  sanitizeOps: true,
  async fn() {
    let slow = true;
    const seen = new Set<string>();
    const receiver = startReceiver(async (_attempt, received) => {
      if (slow) await delay(5);
      seen.add(received.json.id);
      return new Response("ok");
    });
    const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-crash-" });
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = {
      WA_ENGINE: "simulator",
      SIMULATOR_SCAN_MS: "0",
      DATA_DIR: dataDir,
      API_KEY: ADMIN_KEY,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "silent",
      WEBHOOK_URL: receiver.url,
      WEBHOOK_RETRY_BASE_MS: "50",
      WEBHOOK_RETRY_MAX_MS: "500",
      NO_COLOR: "1",
    };
    let child: Deno.ChildProcess | null = spawnServer(env);
    try {
      await waitFor(
        "the server",
        async () => (await api(base, "GET", "/health")).status === 200,
        30_000,
      );
      assert.equal((await api(base, "POST", `/${PHONE}/start`)).status, 200);
      await waitFor(
        "the session",
        async () => (await api(base, "GET", `/${PHONE}/state`)).body?.state === "CONNECTED",
        20_000,
      );

      // Each text to the echo contact makes four events: message.any and message.ack for ours,
      // message and message.any for the echo.
      const sends = 250;
      for (let batch = 0; batch < sends; batch += 10) {
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            api(base, "POST", `/${PHONE}/send-text`, {
              chatId: "15550000000@c.us",
              text: `crash ${batch + i}`,
            }).then(({ status }) => assert.equal(status, 200))),
        );
      }
      await waitFor(
        "the echoes to be accepted",
        () => acceptedEventIds(dataDir).length >= 1_000,
        20_000,
      );
      await waitFor("a part of the deliveries", () => seen.size >= 200, 20_000);
      assert.ok(seen.size < acceptedEventIds(dataDir).length, "delivery is still under way");

      child.kill("SIGKILL");
      await child.status;
      child = null;
      const accepted = acceptedEventIds(dataDir);
      assert.ok(accepted.length >= 1_000, `${accepted.length} events accepted`);
      const missingBefore = accepted.filter((id) => !seen.has(id)).length;
      assert.ok(missingBefore > 0, "some events were not delivered before the kill");

      slow = false;
      child = spawnServer(env);
      await waitFor(
        "every accepted event at the receiver",
        () => accepted.every((id) => seen.has(id)),
        40_000,
        100,
      );
      child.kill("SIGTERM");
      await child.status;
      child = null;
    } finally {
      if (child) {
        child.kill("SIGKILL");
        await child.status;
      }
      await receiver.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
