/**
 * Tests of the failed-authentication limiter, alone with a fake clock and behind `requireAuth`.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { createErrorHandler } from "../errors.ts";
import { createLogger } from "../logger.ts";
import type { AppEnv } from "./principal.ts";
import { createAuthenticator, requireAuth } from "./auth.ts";
import { clientKey, createFailureLimiter } from "./rate_limit.ts";

const ipv4 = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

Deno.test("createFailureLimiter blocks an address after maxFailures within the window, for blockMs", () => {
  let clock = 1_000_000;
  const limiter = createFailureLimiter({
    maxFailures: 3,
    windowMs: 10_000,
    blockMs: 5_000,
    now: () => clock,
  });
  assert.deepEqual(limiter.fail("192.0.2.1"), { blocked: false });
  assert.deepEqual(limiter.fail("192.0.2.1"), { blocked: false });
  assert.deepEqual(
    limiter.fail("192.0.2.1"),
    { blocked: true, refused: false, retryAfterSeconds: 5 },
    "the failure that blocks is not itself refused",
  );
  assert.deepEqual(limiter.check("192.0.2.1"), { blocked: true, retryAfterSeconds: 5 });
  assert.deepEqual(limiter.check("192.0.2.2"), { blocked: false }, "another address is unaffected");
  clock += 4_001;
  assert.deepEqual(
    limiter.fail("192.0.2.1"),
    { blocked: true, refused: true, retryAfterSeconds: 1 },
    "a failure while blocked is refused and does not extend the block",
  );
  clock += 1_000;
  assert.deepEqual(limiter.check("192.0.2.1"), { blocked: false });
  assert.deepEqual(limiter.fail("192.0.2.1"), { blocked: false }, "counting starts again");
});

Deno.test("createFailureLimiter forgets failures older than the window", () => {
  let clock = 0;
  const limiter = createFailureLimiter({ maxFailures: 3, windowMs: 10_000, now: () => clock });
  limiter.fail("192.0.2.1");
  limiter.fail("192.0.2.1");
  clock += 10_000;
  assert.deepEqual(limiter.fail("192.0.2.1"), { blocked: false }, "a new window starts");
  assert.deepEqual(limiter.fail("192.0.2.1"), { blocked: false });
  assert.equal(limiter.fail("192.0.2.1").blocked, true);
});

Deno.test("createFailureLimiter tracks at most maxEntries clients and prunes expired ones", () => {
  let clock = 0;
  const limiter = createFailureLimiter({ maxEntries: 100, windowMs: 1_000, now: () => clock });
  for (let i = 0; i < 1_000; i++) limiter.fail(ipv4(i));
  assert.equal(limiter.size, 100);
  clock += 2_000;
  limiter.fail("10.9.9.9");
  assert.equal(limiter.size, 1, "expired entries are pruned");
});

Deno.test("createFailureLimiter never evicts a blocked client, however many others fail", () => {
  let clock = 0;
  const limiter = createFailureLimiter({
    maxFailures: 3,
    maxEntries: 100,
    windowMs: 60_000,
    blockMs: 60_000,
    now: () => clock,
  });
  for (let i = 0; i < 3; i++) limiter.fail("192.0.2.1");
  for (let i = 0; i < 10_000; i++) {
    clock += 1;
    limiter.fail(i % 2 ? ipv4(i) : `2001:db8:${i.toString(16)}::1`);
  }
  assert.equal(limiter.size, 100, "memory stays bounded");
  assert.equal(limiter.check("192.0.2.1").blocked, true, "the blocked client is still blocked");
  assert.equal(limiter.check(ipv4(9_999)).blocked, false);
});

Deno.test("createFailureLimiter, full of blocked clients, refuses a new client's failure without storing it", () => {
  let clock = 0;
  const limiter = createFailureLimiter({
    maxFailures: 2,
    maxEntries: 3,
    windowMs: 60_000,
    blockMs: 10_000,
    now: () => clock,
  });
  for (const address of ["192.0.2.1", "192.0.2.2", "192.0.2.3"]) {
    limiter.fail(address);
    limiter.fail(address);
    clock += 1_000;
  }
  assert.equal(limiter.size, 3);
  assert.deepEqual(
    limiter.fail("198.51.100.1"),
    { blocked: true, refused: true, retryAfterSeconds: 7 },
    "refused until the first block ends",
  );
  assert.equal(limiter.size, 3, "not stored");
  assert.equal(limiter.check("198.51.100.1").blocked, false, "not blocked either");
  assert.equal(limiter.check("192.0.2.1").blocked, true);
  clock += 7_000;
  assert.deepEqual(limiter.fail("198.51.100.1"), { blocked: false }, "counted once there is room");
  assert.equal(limiter.check("192.0.2.1").blocked, false);
  assert.equal(limiter.check("192.0.2.2").blocked, true);
});

Deno.test("clientKey keys IPv6 by its /64 and IPv4-mapped IPv6 as the IPv4 address", () => {
  assert.equal(clientKey("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  assert.equal(clientKey("2001:0DB8:0001:0002:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
  assert.equal(clientKey("[2001:db8:1:2::1]"), "2001:db8:1:2::/64");
  assert.notEqual(clientKey("2001:db8:1:3::1"), clientKey("2001:db8:1:2::1"));
  assert.equal(clientKey("::ffff:203.0.113.9"), "203.0.113.9");
  assert.equal(clientKey("203.0.113.9"), "203.0.113.9");
  assert.notEqual(clientKey("203.0.113.9"), clientKey("203.0.113.10"));
  assert.equal(clientKey(" Not-An-Address "), "not-an-address");
});

Deno.test("createFailureLimiter counts the addresses of one IPv6 /64 together", () => {
  const limiter = createFailureLimiter({ maxFailures: 4 });
  limiter.fail("2001:db8:1:2::1");
  limiter.fail("2001:db8:1:2::2");
  limiter.fail("2001:db8:1:2:aaaa:bbbb:cccc:dddd");
  assert.equal(limiter.fail("2001:db8:1:3::1").blocked, false, "another /64 is another client");
  assert.equal(limiter.fail("2001:db8:1:2::ffff").blocked, true);
  assert.equal(limiter.check("2001:db8:1:2:1234::").blocked, true);
  assert.equal(limiter.size, 2);
});

Deno.test("requireAuth answers 429 to failures from a blocked address and still lets a valid key through", async () => {
  const adminKey = "the-admin-key-0123456789abcdef";
  const authenticator = await createAuthenticator(
    { issuers: [], audiences: [], algorithms: ["RS256"], jwksTimeoutMs: 1_000, accountKeys: [] },
    { adminKey },
  );
  const limiter = createFailureLimiter({ maxFailures: 5, windowMs: 60_000, blockMs: 60_000 });
  const app = new Hono<AppEnv>();
  app.onError(createErrorHandler(createLogger("silent")));
  app.get(
    "/api/whatsapp/sessions",
    requireAuth({ authenticator, limiter, getClientIp: (c) => c.req.header("x-test-client-ip") }),
    (c) => c.json({ ok: true }, 200),
  );
  const request = (ip: string, key?: string) =>
    app.request("http://localhost/api/whatsapp/sessions", {
      headers: { "x-test-client-ip": ip, ...(key === undefined ? {} : { "x-api-key": key }) },
    });
  const call = async (ip: string, key?: string) => (await request(ip, key)).status;

  // Good credentials are never counted.
  for (let i = 0; i < 20; i++) assert.equal(await call("192.0.2.1", adminKey), 200);
  for (let i = 0; i < 4; i++) assert.equal(await call("192.0.2.1", `guess-${i}`), 401);
  assert.equal(await call("192.0.2.1", adminKey), 200, "four failures are not enough");
  assert.equal(await call("192.0.2.1"), 401, "the fifth failure (no credential) blocks");
  const blocked = await request("192.0.2.1", "guess-5");
  assert.equal(blocked.status, 429);
  assert.equal(blocked.headers.get("retry-after"), "60");
  assert.deepEqual(await blocked.json(), {
    error: "Too many failed authentication attempts, retry in 60 s",
    code: "TOO_MANY_REQUESTS",
    statusCode: 429,
  });
  assert.equal(await call("192.0.2.1"), 429, "no credential is a failure too");
  assert.equal(
    await call("192.0.2.1", adminKey),
    200,
    "the valid key passes from a blocked address",
  );
  assert.equal(await call("192.0.2.2", "guess"), 401, "another address is unaffected");
});
