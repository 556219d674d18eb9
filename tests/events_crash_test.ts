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
import { ADMIN_KEY, type ServerProcess, startServerProcess, waitFor } from "./_helpers.ts";

const PHONE = "4915550007777";

/** The ids in the outbox; only once the server is gone (it holds the database while it runs). */
function acceptedEventIds(dataDir: string): string[] {
  const db = new DatabaseSync(join(dataDir, "wa-gateway.db"));
  try {
    return (db.prepare("SELECT id FROM events").all() as { id: string }[]).map((r) => r.id);
  } finally {
    db.close();
  }
}

/**
 * The ids of the number's stored events, read from its event stream (`since=0` replays what is
 * stored, then follows): resolves once at least `atLeast` have come, or rejects after `timeoutMs`.
 */
async function streamedEventIds(
  server: ServerProcess,
  atLeast: number,
  timeoutMs: number,
): Promise<Set<string>> {
  const ids = new Set<string>();
  const response = await fetch(`${server.base}/${PHONE}/events?since=0`, {
    headers: { "X-Api-Key": ADMIN_KEY },
    signal: AbortSignal.timeout(timeoutMs),
  });
  assert.equal(response.status, 200);
  const lines = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  try {
    while (ids.size < atLeast) {
      const { value, done } = await lines.read();
      if (done) break;
      rest += value;
      const complete = rest.split("\n");
      rest = complete.pop()!;
      for (const line of complete) if (line.startsWith("id: ")) ids.add(line.slice(4));
    }
  } finally {
    await lines.cancel();
  }
  assert.ok(ids.size >= atLeast, `${ids.size} events streamed`);
  return ids;
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
    const env = {
      SIMULATOR_SCAN_MS: "0",
      DATA_DIR: dataDir,
      LOG_LEVEL: "silent",
      WEBHOOK_URL: receiver.url,
      WEBHOOK_RETRY_BASE_MS: "50",
      WEBHOOK_RETRY_MAX_MS: "500",
    };
    let server: ServerProcess | null = await startServerProcess(env);
    try {
      assert.equal((await server.call("POST", `/${PHONE}/start`)).status, 200);
      await waitFor(
        "the session",
        async () => (await server!.call("GET", `/${PHONE}/state`)).body?.state === "CONNECTED",
        20_000,
      );

      // Each text to the echo contact makes four events: message.any and message.ack for ours,
      // message and message.any for the echo.
      const sends = 250;
      for (let batch = 0; batch < sends; batch += 10) {
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            server!.call("POST", `/${PHONE}/send-text`, {
              chatId: "15550000000@c.us",
              text: `crash ${batch + i}`,
            }).then(({ status }) => assert.equal(status, 200))),
        );
      }
      // The echoes to be accepted.
      const streamed = await streamedEventIds(server, 1_000, 20_000);
      await waitFor("a part of the deliveries", () => seen.size >= 200, 20_000);
      assert.ok(seen.size < streamed.size, "delivery is still under way");

      await server.stop("SIGKILL");
      server = null;
      const accepted = acceptedEventIds(dataDir);
      assert.ok(accepted.length >= 1_000, `${accepted.length} events accepted`);
      const stored = new Set(accepted);
      assert.ok([...streamed].every((id) => stored.has(id)), "every streamed event was stored");
      const missingBefore = accepted.filter((id) => !seen.has(id)).length;
      assert.ok(missingBefore > 0, "some events were not delivered before the kill");

      slow = false;
      server = await startServerProcess(env);
      await waitFor(
        "every accepted event at the receiver",
        () => accepted.every((id) => seen.has(id)),
        40_000,
        100,
      );
      await server.stop();
      server = null;
    } finally {
      await server?.stop("SIGKILL");
      await receiver.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
