/**
 * @module
 * Every attempt of a delivery, a retried dead letter's included, is sent as its webhook is
 * configured at that moment, on a real server (`main.ts`) with receivers on 127.0.0.1: a new
 * secret signs the retry, new headers reach the next attempt of a pending delivery, a removed
 * webhook's deliveries fail unsent saying why (and its dead letters cannot be retried), and a
 * delivery left pending by the previous version is sent with the current configuration after the
 * upgrade. A receiver answering 400 makes a dead letter at once (other 4xx are not retried).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Answer, startReceiver, verifyHmac } from "../events/test_receivers.ts";
import { MIGRATIONS } from "../store/migrations.ts";
import { openDatabase } from "../store/sqlite/database.ts";
import { type ServerProcess, startServerProcess, waitFor } from "./_helpers.ts";

const PHONE = "4915550004101";
const OLD_SECRET = "the-old-secret-0123456789";
const NEW_SECRET = "the-new-secret-0123456789";
const REMOVED = "The webhook was removed: the delivery was not sent";

interface DeliveryBody {
  id: number;
  eventId: string;
  event: string;
  status: string;
  attempts: number;
  lastError: string | null;
  lastStatus: number | null;
}

/** A real server on a fresh DATA_DIR (or the given one); `work` runs with it and the data dir. */
async function withServer(
  env: Record<string, string>,
  work: (server: ServerProcess) => Promise<void>,
): Promise<void> {
  const dataDir = env.DATA_DIR ?? await Deno.makeTempDir({ prefix: "wa-gateway-retry-" });
  const server = await startServerProcess({
    SIMULATOR_SCAN_MS: "50",
    WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
    WEBHOOK_RETRY_BASE_MS: "20",
    ...env,
    DATA_DIR: dataDir,
  });
  try {
    await work(server);
  } finally {
    await server.stop();
    if (!env.DATA_DIR) await Deno.remove(dataDir, { recursive: true });
  }
}

async function connect(server: ServerProcess): Promise<void> {
  assert.equal((await server.call("POST", `/${PHONE}/start`)).status, 200);
  await waitFor(
    "CONNECTED",
    async () => (await server.call("GET", `/${PHONE}/state`)).body?.state === "CONNECTED",
  );
}

async function putWebhooks(server: ServerProcess, webhooks: unknown[]): Promise<void> {
  const { status, body } = await server.call("PUT", `/${PHONE}/webhooks`, { webhooks });
  assert.equal(status, 200, JSON.stringify(body));
}

async function send(server: ServerProcess, text: string): Promise<void> {
  const { status, body } = await server.call("POST", `/${PHONE}/send-text`, {
    chatId: "15550000000@c.us",
    text,
  });
  assert.equal(status, 200, JSON.stringify(body));
}

async function deliveries(server: ServerProcess, status?: string): Promise<DeliveryBody[]> {
  const query = status ? `?status=${status}` : "";
  const { body } = await server.call("GET", `/${PHONE}/webhooks/deliveries${query}`);
  return (body?.deliveries ?? []) as DeliveryBody[];
}

/** Answers 200 when `accept` says so, else `status` (400: a dead letter at once). */
function answerIf(
  accept: (body: string, headers: Headers) => boolean | Promise<boolean>,
  status: number,
): Answer {
  return async (_attempt, item) =>
    await accept(item.body, item.headers)
      ? new Response("ok")
      : new Response("refused", { status });
}

Deno.test("a dead letter retried after its webhook's secret changed is signed with the new secret", async () => {
  const receiver = startReceiver(answerIf(
    (body, headers) => verifyHmac(NEW_SECRET, body, headers.get("x-webhook-hmac") ?? ""),
    400,
  ));
  try {
    await withServer({}, async (server) => {
      await connect(server);
      await putWebhooks(server, [{
        url: receiver.url,
        events: ["message.any"],
        secret: OLD_SECRET,
      }]);
      await send(server, "signed again");
      const [dead] = await waitFor("a dead letter", async () => {
        const failed = await deliveries(server, "failed");
        return failed.length > 0 ? failed : null;
      });
      assert.equal(dead.lastStatus, 400);
      assert.equal(dead.attempts, 1);

      await putWebhooks(server, [{
        url: receiver.url,
        events: ["message.any"],
        secret: NEW_SECRET,
      }]);
      const retried = await server.call("POST", `/${PHONE}/webhooks/deliveries/${dead.id}/retry`);
      assert.equal(retried.status, 200, JSON.stringify(retried.body));
      const replay = await waitFor(
        "the retried delivery",
        () => receiver.received.find((r) => r.json.id === dead.eventId),
      );
      const signature = replay.headers.get("x-webhook-hmac")!;
      assert.ok(await verifyHmac(NEW_SECRET, replay.body, signature), "signed with the new secret");
      assert.ok(!await verifyHmac(OLD_SECRET, replay.body, signature));
      await waitFor(
        "the delivery to be recorded",
        async () =>
          (await deliveries(server)).find((d) => d.id === dead.id)?.status === "delivered",
      );
    });
  } finally {
    await receiver.close();
  }
});

Deno.test("a dead letter retried after its webhook was removed is not sent and says why", async () => {
  const receiver = startReceiver(() => new Response("no", { status: 400 }));
  try {
    await withServer({}, async (server) => {
      await connect(server);
      await putWebhooks(server, [{ url: receiver.url, events: ["message.any"] }]);
      await send(server, "nowhere to go");
      // The send's and its echo's (the echo contact answers 20 ms later): nothing more comes.
      const [dead] = await waitFor("two dead letters", async () => {
        const failed = await deliveries(server, "failed");
        return failed.length >= 2 ? failed : null;
      });
      await waitFor(
        "no delivery pending",
        async () => (await deliveries(server, "pending")).length === 0,
      );
      await putWebhooks(server, []);
      const hits = receiver.hits;

      const retried = await server.call("POST", `/${PHONE}/webhooks/deliveries/${dead.id}/retry`);
      assert.equal(retried.status, 404);
      assert.equal(retried.body?.code, "NOT_FOUND");
      assert.equal(
        retried.body?.error,
        `Delivery ${dead.id} of session "${PHONE}" cannot be retried: its webhook was removed`,
      );
      const after = (await deliveries(server)).find((d) => d.id === dead.id)!;
      assert.equal(after.status, "failed");
      assert.equal(after.lastError, REMOVED);
      assert.equal(receiver.hits, hits, "nothing was sent");
    });
  } finally {
    await receiver.close();
  }
});

Deno.test("the pending deliveries of a removed webhook fail unsent, saying the webhook was removed", async () => {
  const receiver = startReceiver(() => new Response("busy", { status: 503 }));
  try {
    // A minute's backoff after the first attempt: the deliveries are still pending when removed.
    await withServer({ WEBHOOK_RETRY_BASE_MS: "60000" }, async (server) => {
      await connect(server);
      await putWebhooks(server, [{ url: receiver.url, events: ["*"] }]);
      await send(server, "waiting for a retry");
      await waitFor(
        "a first attempt",
        async () => (await deliveries(server, "pending")).some((d) => d.attempts === 1),
      );
      const hits = receiver.hits;
      await putWebhooks(server, []);

      const failed = await waitFor("the pending deliveries to fail", async () => {
        const [pending, failed] = [
          await deliveries(server, "pending"),
          await deliveries(
            server,
            "failed",
          ),
        ];
        return pending.length === 0 && failed.length > 0 ? failed : null;
      });
      for (const delivery of failed) assert.equal(delivery.lastError, REMOVED);
      assert.equal(receiver.hits, hits, "nothing more was sent");
    });
  } finally {
    await receiver.close();
  }
});

Deno.test("headers changed by PUT are used by the next attempt of a pending delivery", async () => {
  const tokens: string[] = [];
  // Only the new header is accepted: until it arrives the delivery keeps being retried.
  const receiver = startReceiver(answerIf((_body, headers) => {
    tokens.push(headers.get("x-token") ?? "");
    return headers.get("x-token") === "new-token";
  }, 503));
  try {
    await withServer(
      { WEBHOOK_MAX_ATTEMPTS: "1000", WEBHOOK_RETRY_MAX_MS: "200" },
      async (server) => {
        await connect(server);
        const hook = { url: receiver.url, events: ["message.any"] };
        await putWebhooks(server, [{ ...hook, headers: { "X-Token": "old-token" } }]);
        await send(server, "new headers");
        await waitFor("a first attempt", () => receiver.hits > 0);
        await putWebhooks(server, [{ ...hook, headers: { "X-Token": "new-token" } }]);

        const delivered = await waitFor("a delivery", () => receiver.received[0]);
        assert.equal(delivered.headers.get("x-token"), "new-token");
        assert.equal(tokens[0], "old-token", "the first attempt had the old header");
        const [first] = await waitFor("the delivery to be recorded", async () => {
          const done = (await deliveries(server)).filter((d) =>
            d.eventId === delivered.json.id && d.status === "delivered"
          );
          return done.length > 0 ? done : null;
        });
        assert.ok(first.attempts > 1, `delivered on attempt ${first.attempts}`);
      },
    );
  } finally {
    await receiver.close();
  }
});

Deno.test("a delivery left pending by the previous version is sent with its webhook's current secret and headers", async () => {
  const receiver = startReceiver();
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-upgrade-" });
  const path = join(dataDir, "wa-gateway.db");
  try {
    // The previous version's schema and rows: the delivery carries its own copy of URL, secret
    // and headers, since changed on the webhook.
    const old = openDatabase(path, MIGRATIONS.filter((m) => m.version <= 2));
    const body = JSON.stringify({
      id: "evt_01upgradeupgradeupgradeup",
      timestamp: Date.now(),
      event: "message",
      session: PHONE,
      payload: { body: "from before the upgrade" },
      engine: "WEBJS",
      environment: {},
    });
    const at = Date.now();
    old.prepare(
      "INSERT INTO events (id, session, event, body, created_at) VALUES (?, ?, 'message', ?, ?)",
    ).run("evt_01upgradeupgradeupgradeup", PHONE, body, at);
    old.prepare(`
      INSERT INTO webhook_deliveries (event_seq, session, destination, url, secret, headers,
        status, attempts, next_attempt_at, created_at, updated_at)
      VALUES (1, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)
    `).run(
      PHONE,
      `number:${PHONE}:${receiver.url}`,
      receiver.url,
      OLD_SECRET,
      JSON.stringify({ "X-Token": "old-token" }),
      at,
      at,
      at,
    );
    old.prepare(
      "INSERT INTO webhooks (phone_number, url, events, secret, headers, created_at) " +
        "VALUES (?, ?, '[\"*\"]', ?, ?, ?)",
    ).run(PHONE, receiver.url, NEW_SECRET, JSON.stringify({ "X-Token": "new-token" }), at);
    old.close();

    await withServer({ DATA_DIR: dataDir }, async () => {
      const delivered = await waitFor("the pending delivery", () => receiver.received[0]);
      assert.equal(delivered.body, body);
      assert.ok(
        await verifyHmac(NEW_SECRET, delivered.body, delivered.headers.get("x-webhook-hmac")!),
        "signed with the webhook's current secret",
      );
      assert.equal(delivered.headers.get("x-token"), "new-token");
    });
    const upgraded = openDatabase(path);
    try {
      const row = upgraded.prepare("SELECT url, secret, headers FROM webhook_deliveries").get();
      assert.deepEqual({ ...row }, { url: null, secret: null, headers: null });
    } finally {
      upgraded.close();
    }
  } finally {
    await receiver.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
