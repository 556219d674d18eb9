/**
 * @module
 * Webhook headers are bounded and stored once. `PUT /:phoneNumber/webhooks` refuses more than 20
 * headers, more than 8 KiB of them, more than 10 webhooks, control characters in values and the
 * headers the server sets or that are hop-by-hop, each with a 400 naming the problem. Ten webhooks
 * at the limits and one send, on a real server, write delivery rows holding none of the header
 * bytes (the attack this replays wrote 76.6 MiB of delivery rows for one send), while every
 * receiver still gets its headers.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startReceiver } from "../events/test_receivers.ts";
import { openDatabase } from "../store/sqlite/database.ts";
import { startServerProcess, startTestApp, type TestApp, waitFor } from "./_helpers.ts";

const PHONE = "4915550004001";
const HEADER_COUNT = 20;
const HEADER_BYTES = 8 * 1024;

/** Twenty headers of exactly 8 KiB of names and values, each value marked with `tag`. */
function headersAtTheLimit(tag: string): Record<string, string> {
  const names = Array.from(
    { length: HEADER_COUNT },
    (_, j) => `X-Test-${String(j).padStart(2, "0")}`,
  );
  let left = HEADER_BYTES - names.join("").length;
  const headers: Record<string, string> = {};
  names.forEach((name, j) => {
    const length = j === names.length - 1 ? left : Math.floor(left / (names.length - j));
    headers[name] = `header-value-${tag}-${j}-`.padEnd(length, "x");
    left -= length;
  });
  return headers;
}

function byteCount(headers: Record<string, string>): number {
  return Object.entries(headers).reduce(
    (sum, [name, value]) => sum + name.length + value.length,
    0,
  );
}

async function withApp(work: (server: TestApp) => Promise<void>): Promise<void> {
  const server = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1" });
  try {
    await server.manager.start(PHONE);
    await work(server);
  } finally {
    await server.close();
  }
}

async function putWebhooks(server: TestApp, webhooks: unknown[]) {
  return await server.json<{ error: string; code: string }>("PUT", `/${PHONE}/webhooks`, {
    body: { webhooks },
  });
}

Deno.test("PUT /:phoneNumber/webhooks refuses each header limit with a 400 naming the field and the limit", async () => {
  await withApp(async (server) => {
    const url = "http://127.0.0.1:9/hook";
    const atLimit = headersAtTheLimit("a");
    assert.equal(byteCount(atLimit), HEADER_BYTES);
    const cases: [string, unknown[], string][] = [
      [
        "21 headers",
        [{ url, headers: { ...atLimit, "X-One-More": "1" } }],
        'Invalid body field "webhooks.0.headers": at most 20 headers per webhook',
      ],
      [
        "8 KiB + 1 byte",
        [{ url, headers: { ...atLimit, "X-Test-19": atLimit["X-Test-19"] + "x" } }],
        'Invalid body field "webhooks.0.headers": at most 8192 bytes (8 KiB) of header names ' +
        "and values per webhook",
      ],
      [
        "11 webhooks",
        Array.from({ length: 11 }, (_, i) => ({ url: `http://127.0.0.1:9/h${i}` })),
        'Invalid body field "webhooks": at most 10 webhooks per number',
      ],
    ];
    for (const [what, webhooks, message] of cases) {
      const { status, body } = await putWebhooks(server, webhooks);
      assert.equal(status, 400, what);
      assert.equal(body.code, "BAD_REQUEST", what);
      assert.equal(body.error, message, what);
    }
    const { body } = await server.json<{ webhooks: unknown[] }>("GET", `/${PHONE}/webhooks`);
    assert.deepEqual(body.webhooks, [], "nothing was saved");
  });
});

Deno.test("PUT /:phoneNumber/webhooks refuses a header that could split or reroute the request, naming it", async () => {
  await withApp(async (server) => {
    const cases: [Record<string, string>, string][] = [
      [{ "X-Token": "a\r\nX-Injected: 1" }, 'the value of header "X-Token" contains a control'],
      [{ "X-Token": "line\nbreak" }, 'the value of header "X-Token" contains a control'],
      [{ Host: "internal.example" }, 'header "Host" cannot be set: the server sets it'],
      [
        { "Transfer-Encoding": "chunked" },
        'header "Transfer-Encoding" cannot be set: it is a hop-by-hop header',
      ],
      [{ "X-Webhook-Hmac": "forged" }, 'header "X-Webhook-Hmac" cannot be set: the server sets it'],
      [{ "content-length": "0" }, 'header "content-length" cannot be set: the server sets it'],
      [{ connection: "close" }, 'header "connection" cannot be set: it is a hop-by-hop header'],
      [{ "Bad Name": "x" }, '"Bad Name" is not an HTTP header name'],
    ];
    for (const [headers, message] of cases) {
      const { status, body } = await putWebhooks(server, [{
        url: "http://127.0.0.1:9/hook",
        headers,
      }]);
      assert.equal(status, 400, JSON.stringify(headers));
      assert.ok(
        body.error.startsWith(`Invalid body field "webhooks.0.headers": ${message}`),
        body.error,
      );
    }
    const tab = await putWebhooks(server, [{
      url: "http://127.0.0.1:9/hook",
      headers: { "X-Token": "a\tb" },
    }]);
    assert.equal(tab.status, 200, "a tab is allowed in a value");
  });
});

Deno.test("ten webhooks at the limits and one send write delivery rows that hold none of the header bytes", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-webhook-limits-" });
  const receiver = startReceiver();
  try {
    const server = await startServerProcess({
      DATA_DIR: dataDir,
      SIMULATOR_SCAN_MS: "50",
      WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
    });
    const webhooks = Array.from({ length: 10 }, (_, i) => ({
      url: `http://127.0.0.1:${receiver.port}/h${i}`,
      events: ["*"],
      secret: `secret-of-hook-${i}-0123456789`,
      headers: headersAtTheLimit(`hook${i}`),
    }));
    try {
      assert.equal((await server.call("POST", `/${PHONE}/start`)).status, 200);
      await waitFor(
        "CONNECTED",
        async () => (await server.call("GET", `/${PHONE}/state`)).body?.state === "CONNECTED",
      );
      const put = await server.call("PUT", `/${PHONE}/webhooks`, { webhooks });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const sent = await server.call("POST", `/${PHONE}/send-text`, {
        chatId: "15550000000@c.us",
        text: "one send",
      });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      // The echo contact answers 20 ms after the send: both events reach every webhook.
      await waitFor(
        "the send and its echo at every webhook",
        () =>
          webhooks.every((_, i) =>
            ["one send", "echo: one send"].every((body) =>
              receiver.received.some((r) =>
                r.headers.get("x-test-00")?.startsWith(`header-value-hook${i}-0-`) &&
                r.json.event === "message.any" && r.json.payload.body === body
              )
            )
          ),
      );
      await waitFor("no delivery pending", async () => {
        const { body } = await server.call("GET", `/${PHONE}/webhooks/deliveries?status=pending`);
        return (body?.deliveries as unknown[] | undefined)?.length === 0;
      });
    } finally {
      assert.equal(await server.stop(), 0);
    }

    // Every header arrived as configured: they are stored once, in the webhooks table.
    const atFirst = receiver.received.find((r) => r.headers.has("x-test-19"))!;
    const tag = atFirst.headers.get("x-test-00")!.match(/^header-value-(hook\d)-/)![1];
    for (const [name, value] of Object.entries(headersAtTheLimit(tag))) {
      assert.equal(atFirst.headers.get(name), value, name);
    }

    const db = openDatabase(join(dataDir, "wa-gateway.db"));
    try {
      const rows = db.prepare(`
        SELECT d.event_seq, d.url, d.secret, d.headers,
          length(d.destination) + length(d.session) + length(d.status) +
          coalesce(length(d.url), 0) + coalesce(length(d.secret), 0) +
          coalesce(length(d.headers), 0) + coalesce(length(d.last_error), 0) AS text_bytes,
          d.destination || coalesce(d.url, '') || coalesce(d.secret, '') ||
          coalesce(d.headers, '') || coalesce(d.last_error, '') AS text
        FROM webhook_deliveries d
      `).all() as {
        event_seq: number;
        url: string | null;
        secret: string | null;
        headers: string | null;
        text_bytes: number;
        text: string;
      }[];
      const events = new Set(rows.map((row) => row.event_seq));
      assert.ok(events.size >= 2, `deliveries of ${events.size} events`);
      assert.equal(rows.length, events.size * 10, "one row per event and webhook");
      for (const row of rows) {
        assert.equal(row.url, null);
        assert.equal(row.secret, null);
        assert.equal(row.headers, null);
        assert.ok(!row.text.includes("header-value-"), "no header value in a delivery row");
        assert.ok(!row.text.includes("secret-of-hook-"), "no secret in a delivery row");
      }
      for (const seq of events) {
        const bytes = rows.filter((row) => row.event_seq === seq)
          .reduce((sum, row) => sum + row.text_bytes, 0);
        // The ten rows of one event: their destination keys and states, a few hundred bytes
        // (with the headers copied in, as before, they were over 80 KiB).
        assert.ok(bytes < 1_500, `the deliveries of event ${seq} hold ${bytes} bytes of text`);
      }
    } finally {
      db.close();
    }
  } finally {
    await receiver.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
