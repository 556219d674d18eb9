/**
 * @module
 * Webhook headers are bounded. `PUT /:phoneNumber/webhooks` refuses more than 20
 * headers, more than 8 KiB of them, more than 10 webhooks, control characters in values and the
 * headers the server sets or that are hop-by-hop, each with a 400 naming the problem.
 */
import assert from "node:assert/strict";
import { startTestApp, type TestApp } from "./_helpers.ts";

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
