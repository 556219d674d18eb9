/**
 * Tests of the failed-authentication limiter, alone with a fake clock and behind `requireAuth`.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { ApiError } from "../errors.ts";
import type { AppEnv } from "./principal.ts";
import { createAuthenticator, requireAuth } from "./auth.ts";
import { createFailureLimiter } from "./rate_limit.ts";

Deno.test("createFailureLimiter blocks an address after maxFailures within the window, for blockMs", () => {
  let clock = 1_000_000;
  const limiter = createFailureLimiter({
    maxFailures: 3,
    windowMs: 10_000,
    blockMs: 5_000,
    now: () => clock,
  });
  assert.deepEqual(limiter.fail("a"), { blocked: false });
  assert.deepEqual(limiter.fail("a"), { blocked: false });
  assert.deepEqual(limiter.fail("a"), { blocked: true, retryAfterSeconds: 5 });
  assert.deepEqual(limiter.check("a"), { blocked: true, retryAfterSeconds: 5 });
  assert.deepEqual(limiter.check("b"), { blocked: false }, "another address is unaffected");
  clock += 4_001;
  assert.deepEqual(limiter.check("a"), { blocked: true, retryAfterSeconds: 1 });
  clock += 1_000;
  assert.deepEqual(limiter.check("a"), { blocked: false });
});

Deno.test("createFailureLimiter forgets failures older than the window", () => {
  let clock = 0;
  const limiter = createFailureLimiter({ maxFailures: 3, windowMs: 10_000, now: () => clock });
  limiter.fail("a");
  limiter.fail("a");
  clock += 10_000;
  assert.deepEqual(limiter.fail("a"), { blocked: false }, "a new window starts");
  assert.deepEqual(limiter.fail("a"), { blocked: false });
  assert.equal(limiter.fail("a").blocked, true);
});

Deno.test("createFailureLimiter tracks at most maxEntries addresses", () => {
  let clock = 0;
  const limiter = createFailureLimiter({ maxEntries: 100, windowMs: 1_000, now: () => clock });
  for (let i = 0; i < 1_000; i++) limiter.fail(`10.0.${i >> 8}.${i & 255}`);
  assert.ok(limiter.size <= 100, `${limiter.size} entries`);
  clock += 2_000;
  limiter.fail("10.9.9.9");
  assert.equal(limiter.size, 1, "expired entries are pruned when room is needed");
});

Deno.test("requireAuth answers 429 after repeated failures from one address, and only to that address", async () => {
  const authenticator = await createAuthenticator(
    { issuers: [], audiences: [], algorithms: ["RS256"], jwksTimeoutMs: 1_000, accountKeys: [] },
    { adminKey: "the-admin-key" },
  );
  const limiter = createFailureLimiter({ maxFailures: 5, windowMs: 60_000, blockMs: 60_000 });
  const app = new Hono<AppEnv>();
  app.onError((error, c) => error instanceof ApiError ? error.toResponse() : c.text("", 500));
  app.get(
    "/api/whatsapp/sessions",
    requireAuth({ authenticator, limiter, getClientIp: (c) => c.req.header("x-test-client-ip") }),
    (c) => c.json({ ok: true }, 200),
  );
  const call = async (ip: string, key?: string) =>
    (await app.request("http://localhost/api/whatsapp/sessions", {
      headers: { "x-test-client-ip": ip, ...(key === undefined ? {} : { "x-api-key": key }) },
    })).status;

  // Good credentials are never counted.
  for (let i = 0; i < 20; i++) assert.equal(await call("192.0.2.1", "the-admin-key"), 200);
  for (let i = 0; i < 4; i++) assert.equal(await call("192.0.2.1", `guess-${i}`), 401);
  assert.equal(await call("192.0.2.1", "the-admin-key"), 200, "four failures are not enough");
  assert.equal(await call("192.0.2.1"), 401, "the fifth failure (no credential) blocks");
  const blocked = await app.request("http://localhost/api/whatsapp/sessions", {
    headers: { "x-test-client-ip": "192.0.2.1", "x-api-key": "the-admin-key" },
  });
  assert.equal(blocked.status, 429, "blocked even with the right key: guesses learn nothing");
  assert.equal(blocked.headers.get("retry-after"), "60");
  assert.deepEqual(await blocked.json(), {
    error: "Too many failed authentication attempts, retry in 60 s",
    code: "TOO_MANY_REQUESTS",
    statusCode: 429,
  });
  assert.equal(await call("192.0.2.2", "the-admin-key"), 200, "another address is unaffected");
  assert.equal(await call("192.0.2.2", "guess"), 401);
});
