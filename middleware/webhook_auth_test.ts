/**
 * Tests of `requireWahaProtected`: the webhook key, WAHA's `X-Webhook-Hmac` over the exact raw
 * bytes, and that the handler can still read (and validate) the JSON body after the check.
 */
import assert from "node:assert/strict";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { createErrorHandler } from "../errors.ts";
import { createLogger } from "../logger.ts";
import type { AppEnv } from "./principal.ts";
import { requireWahaProtected, type WahaProtectedDeps } from "./webhook_auth.ts";
import { createFailureLimiter } from "./rate_limit.ts";
import { signHmac } from "../events/test_receivers.ts";

const KEY = "webhook-key-0123456789abcdef";
const SECRET = "hmac-secret-for-waha";
const URL_ = "http://localhost/api/whatsapp/webhook/message";

/** The webhook route as the real one is declared: zod-openapi, JSON body validated after the guard. */
function createWebhookApp(deps: Partial<WahaProtectedDeps> = {}) {
  const app = new OpenAPIHono<AppEnv>();
  app.onError(createErrorHandler(createLogger("silent")));
  const route = createRoute({
    method: "post",
    path: "/api/whatsapp/webhook/message",
    middleware: [
      requireWahaProtected({
        apiKey: KEY,
        body: { maxBytes: 1024 * 1024, timeoutMs: 5_000 },
        ...deps,
      }),
    ] as const,
    request: {
      body: {
        content: {
          "application/json": {
            schema: z.object({ event: z.string(), session: z.string(), payload: z.unknown() }),
          },
        },
      },
    },
    responses: { 200: { description: "Received" } },
  });
  return app.openapi(route, (c) => c.json({ received: c.req.valid("json") }, 200));
}

function post(
  app: ReturnType<typeof createWebhookApp>,
  body: string,
  headers: Record<string, string>,
) {
  return app.request(URL_, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
}

const EVENT = '{"event": "message", "session": "4915550001",  "payload": {"body": "hi ✓"}}';

Deno.test("requireWahaProtected answers the webhook key with 200 and a wrong or missing one with 401", async () => {
  const app = createWebhookApp();
  const ok = await post(app, EVENT, { "x-api-key": KEY });
  assert.equal(ok.status, 200);
  assert.deepEqual((await ok.json()).received, JSON.parse(EVENT));
  const wrong: Record<string, string>[] = [{ "x-api-key": "webhook-key-0123456789abcdeX" }, {
    "x-api-key": "",
  }, {}];
  for (const headers of wrong) {
    const response = await post(app, EVENT, headers);
    assert.equal(response.status, 401, JSON.stringify(headers));
    assert.equal((await response.json()).code, "UNAUTHORIZED");
  }
});

Deno.test("requireWahaProtected checks X-Webhook-Hmac over the exact raw bytes, then the handler still parses the JSON", async () => {
  const app = createWebhookApp({ hmacSecret: SECRET });
  const signature = await signHmac(SECRET, EVENT);
  const good = await post(app, EVENT, {
    "x-api-key": KEY,
    "x-webhook-hmac": signature,
    "x-webhook-hmac-algorithm": "sha512",
  });
  assert.equal(good.status, 200, await good.clone().text());
  assert.deepEqual((await good.json()).received, JSON.parse(EVENT));

  const upper = await post(app, EVENT, {
    "x-api-key": KEY,
    "x-webhook-hmac": signature.toUpperCase(),
  });
  assert.equal(upper.status, 200, "hex case does not matter");

  const reserialized = JSON.stringify(JSON.parse(EVENT));
  const rows: [string, string, Record<string, string>][] = [
    ["no HMAC", EVENT, { "x-api-key": KEY }],
    ["HMAC of the same JSON with other whitespace", reserialized, {
      "x-api-key": KEY,
      "x-webhook-hmac": signature,
    }],
    ["HMAC with another secret", EVENT, {
      "x-api-key": KEY,
      "x-webhook-hmac": await signHmac("other-secret", EVENT),
    }],
    ["HMAC that is not hex", EVENT, { "x-api-key": KEY, "x-webhook-hmac": "z".repeat(128) }],
    ["HMAC cut short", EVENT, { "x-api-key": KEY, "x-webhook-hmac": signature.slice(0, 64) }],
    ["another algorithm", EVENT, {
      "x-api-key": KEY,
      "x-webhook-hmac": signature,
      "x-webhook-hmac-algorithm": "sha256",
    }],
    ["a good HMAC but a wrong key", EVENT, { "x-api-key": "nope", "x-webhook-hmac": signature }],
  ];
  for (const [name, body, headers] of rows) {
    const response = await post(app, body, headers);
    assert.equal(response.status, 401, name);
  }
});

Deno.test("requireWahaProtected counts its 401s in the shared limiter, lets the right key and HMAC through, and logs no secret", async () => {
  const logs: object[] = [];
  const app = createWebhookApp({
    hmacSecret: SECRET,
    limiter: createFailureLimiter({ maxFailures: 3 }),
    getClientIp: (c) => c.req.header("x-test-client-ip"),
    log: (entry) => logs.push(entry),
  });
  const signature = await signHmac(SECRET, EVENT);
  const from = (ip: string, key: string, hmac = signature) =>
    post(app, EVENT, { "x-api-key": key, "x-webhook-hmac": hmac, "x-test-client-ip": ip });
  for (let i = 0; i < 2; i++) assert.equal((await from("10.0.0.7", "guess-" + i)).status, 401);
  assert.equal((await from("10.0.0.7", KEY, "0".repeat(128))).status, 401, "a bad HMAC counts");
  const blocked = await from("10.0.0.7", "guess-3");
  assert.equal(blocked.status, 429);
  assert.ok(Number(blocked.headers.get("retry-after")) > 0);
  assert.equal((await from("10.0.0.7", KEY, "f".repeat(128))).status, 429);
  assert.equal((await from("10.0.0.7", KEY)).status, 200, "WAHA with the right key gets in");
  assert.equal((await from("10.0.0.8", "guess-4")).status, 401, "another address is not blocked");
  const text = JSON.stringify(logs);
  assert.ok(!text.includes("guess-") && !text.includes(KEY), text);
});
