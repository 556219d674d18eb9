/**
 * HTTP-level tests of `requireAuth` and `requireSingleAccountProtected` through a small Hono app:
 * real keys, a real JWKS served on 127.0.0.1, WorkOS-shaped tokens, an in-memory store.
 */
import assert from "node:assert/strict";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { createErrorHandler } from "../errors.ts";
import { createLogger } from "../logger.ts";
import { openSqliteStore } from "../store/sqlite/store.ts";
import type { AppEnv } from "./principal.ts";
import { createAuthenticator, requireSingleAccountProtected } from "./auth.ts";
import {
  createAuthTestApp,
  createTestSigner,
  startJwksServer,
  TEST_CLIENT_ID,
  workosClaims,
  workosTokens,
} from "../tests/_auth_helpers.ts";

const ADMIN_KEY = "admin-key-0123456789abcdef";
const ORG_A = "org_01JACCOUNTA0000000000000A";
const ORG_B = "org_01JACCOUNTB0000000000000B";
const AUDIENCE = "https://wa-gateway.test";
const BASE = "http://localhost/api/whatsapp";

async function setup(options: { maxNumbersPerAccount?: number } = {}) {
  const signer = await createTestSigner();
  const jwks = await startJwksServer([signer.publicJwk]);
  const store = openSqliteStore(":memory:");
  const authenticator = await createAuthenticator({
    jwksUrl: jwks.url,
    workosClientId: TEST_CLIENT_ID,
    issuers: [],
    audiences: [AUDIENCE],
    algorithms: ["RS256", "ES256"],
    jwksTimeoutMs: 2_000,
    accountKeys: [{ key: "key-of-org-a-0123456789abcdef", accountId: ORG_A }, {
      key: "key-of-org-b-0123456789abcdef",
      accountId: ORG_B,
    }],
  }, { adminKey: ADMIN_KEY });
  const logs: Record<string, unknown>[] = [];
  const app = createAuthTestApp({
    authenticator,
    sessions: store.sessions,
    maxNumbersPerAccount: options.maxNumbersPerAccount,
    log: (entry) => logs.push(entry as Record<string, unknown>),
    getClientIp: (c) => c.req.header("x-test-client-ip"),
  });
  const tokenA = await signer.sign(workosClaims({ orgId: ORG_A, aud: AUDIENCE }));
  const tokenB = await signer.sign(
    workosClaims({ orgId: ORG_B, sub: "user_01JUSERB0000000000000000B", aud: AUDIENCE }),
  );
  const request = (method: string, path: string, headers: Record<string, string> = {}) =>
    app.request(`${BASE}${path}`, { method, headers });
  return {
    signer,
    jwks,
    store,
    app,
    logs,
    tokenA,
    tokenB,
    request,
    bearer: (token: string) => ({ authorization: `Bearer ${token}` }),
    async [Symbol.asyncDispose]() {
      await store.close();
      await jwks.close();
    },
  };
}

Deno.test("requireSingleAccountProtected answers every kind of credential with its exact status", async (t) => {
  await using env = await setup();
  env.store.sessions.claim("4915550001", {
    engine: "simulator",
    ownerAccountId: ORG_A,
    max: 1,
  });
  const bad = await workosTokens(env.signer, { orgId: ORG_A, aud: AUDIENCE });
  const rows: [string, Record<string, string>, number][] = [
    ["no credential", {}, 401],
    ["a Basic authorization header", { authorization: "Basic dXNlcjpwYXNz" }, 401],
    ["a Bearer header without a token", { authorization: "Bearer " }, 401],
    ["a Bearer header with two tokens", { authorization: `Bearer ${bad.good} x` }, 401],
    ["a token that is no JWT", env.bearer("not-a-jwt"), 401],
    ["a bad signature", env.bearer(bad.badSignature), 401],
    ["an expired token", env.bearer(bad.expired), 401],
    ["a token not yet valid", env.bearer(bad.notYetValid), 401],
    ["a wrong issuer", env.bearer(bad.wrongIssuer), 401],
    ["a wrong audience", env.bearer(bad.wrongAudience), 401],
    ["alg none", env.bearer(bad.none), 401],
    ["HS256 signed with the public key as secret", env.bearer(bad.hs256WithPublicKey), 401],
    ["a key id the JWKS does not have", env.bearer(bad.unknownKid), 401],
    ["another account's valid token", env.bearer(env.tokenB), 403],
    ["the owner's token", env.bearer(env.tokenA), 200],
    ["the owner's token with a lowercase scheme", { authorization: `bearer ${env.tokenA}` }, 200],
    ["the admin key", { "x-api-key": ADMIN_KEY }, 200],
    ["a wrong API key", { "x-api-key": "admin-key-0123456789abcdeX" }, 401],
    ["an empty API key", { "x-api-key": "" }, 401],
    ["the owner's account key", { "x-api-key": "key-of-org-a-0123456789abcdef" }, 200],
    ["another account's key", { "x-api-key": "key-of-org-b-0123456789abcdef" }, 403],
    ["both a token and a key", { ...env.bearer(env.tokenA), "x-api-key": ADMIN_KEY }, 401],
  ];
  for (const [name, headers, status] of rows) {
    await t.step(`${name} → ${status}`, async () => {
      const response = await env.request("GET", "/4915550001/state", headers);
      const body = await response.json();
      assert.equal(response.status, status, JSON.stringify(body));
      if (status !== 200) {
        assert.equal(body.statusCode, status);
        assert.equal(body.code, status === 401 ? "UNAUTHORIZED" : "FORBIDDEN");
        assert.equal(typeof body.error, "string");
      }
    });
  }
  await t.step("an expired token says so", async () => {
    const response = await env.request("GET", "/4915550001/state", env.bearer(bad.expired));
    assert.equal((await response.json()).error, "Token has expired");
  });
});

Deno.test("requireAuth gives a WorkOS token the principal { accountId: org_id, userId: sub, role }", async () => {
  await using env = await setup();
  const response = await env.request("GET", "/sessions", env.bearer(env.tokenA));
  assert.equal(response.status, 200);
  assert.deepEqual((await response.json()).principal, {
    kind: "account",
    accountId: ORG_A,
    userId: "user_01JTESTUSER0000000000000A",
    role: "member",
    via: "jwt",
  });
});

Deno.test("requireAuth scopes a token without org_id to its sub", async () => {
  await using env = await setup();
  const token = await env.signer.sign(
    workosClaims({ orgId: null, sub: "user_solo", role: "admin", aud: AUDIENCE }),
  );
  const response = await env.request("GET", "/sessions", env.bearer(token));
  const { principal } = await response.json();
  assert.equal(principal.accountId, "user_solo");
  assert.equal(principal.userId, "user_solo");
  assert.equal(principal.role, "admin");
});

Deno.test("requireAuth gives the admin key an admin principal and an account key its account", async () => {
  await using env = await setup();
  const admin = await (await env.request("GET", "/sessions", { "x-api-key": ADMIN_KEY })).json();
  assert.deepEqual(admin.principal, {
    kind: "admin",
    accountId: null,
    userId: null,
    role: null,
    via: "api_key",
  });
  const keyed =
    await (await env.request("GET", "/sessions", { "x-api-key": "key-of-org-b-0123456789abcdef" }))
      .json();
  assert.deepEqual(keyed.principal, {
    kind: "account",
    accountId: ORG_B,
    userId: null,
    role: null,
    via: "api_key",
  });
});

Deno.test("start claims a new number, and one more number is 403 with a message that says the limit", async () => {
  await using env = await setup();
  const first = await env.request("POST", "/4915550001/start", env.bearer(env.tokenA));
  assert.equal(first.status, 200);
  assert.equal((await env.store.sessions.get("4915550001"))?.ownerAccountId, ORG_A);

  const again = await env.request("POST", "/4915550001/start", env.bearer(env.tokenA));
  assert.equal(again.status, 200, "starting its own number again is fine");

  const second = await env.request("POST", "/4915550002/start", env.bearer(env.tokenA));
  assert.equal(second.status, 403);
  assert.deepEqual(await second.json(), {
    error: `Account "${ORG_A}" already owns 1 number (MAX_NUMBERS_PER_ACCOUNT=1)`,
    code: "FORBIDDEN",
    statusCode: 403,
  });
  assert.equal(
    await env.store.sessions.get("4915550002"),
    null,
    "the refused number is not recorded",
  );

  const viaKey = await env.request("POST", "/4915550002/start", {
    "x-api-key": "key-of-org-a-0123456789abcdef",
  });
  assert.equal(viaKey.status, 403, "the account's key is held to the same limit");
});

Deno.test("a number started by one account answers 403 to another, reads included", async () => {
  await using env = await setup();
  assert.equal(
    (await env.request("POST", "/4915550001/start", env.bearer(env.tokenA))).status,
    200,
  );
  const read = await env.request("GET", "/4915550001/state", env.bearer(env.tokenB));
  assert.equal(read.status, 403);
  assert.equal((await read.json()).error, 'Session "4915550001" belongs to another account');
  const start = await env.request("POST", "/4915550001/start", env.bearer(env.tokenB));
  assert.equal(start.status, 403);
  assert.equal((await env.store.sessions.get("4915550001"))?.ownerAccountId, ORG_A);
  const own = await env.request("GET", "/4915550001/state", env.bearer(env.tokenA));
  assert.equal(own.status, 200);
  const otherNumber = await env.request("POST", "/4915550002/start", env.bearer(env.tokenB));
  assert.equal(otherNumber.status, 200, "account B can still start a number of its own");
});

Deno.test("the admin key acts on any number and claims none", async () => {
  await using env = await setup();
  await env.request("POST", "/4915550001/start", env.bearer(env.tokenA));
  const admin = { "x-api-key": ADMIN_KEY };
  assert.equal((await env.request("GET", "/4915550001/state", admin)).status, 200);
  assert.equal((await env.request("POST", "/4915550009/start", admin)).status, 200);
  assert.equal((await env.store.sessions.get("4915550009"))?.ownerAccountId, null);
});

Deno.test("a number the admin started is the admin's: accounts can neither read nor claim it", async () => {
  await using env = await setup();
  await env.request("POST", "/4915550009/start", { "x-api-key": ADMIN_KEY });
  const read = await env.request("GET", "/4915550009/state", env.bearer(env.tokenA));
  assert.equal(read.status, 403);
  assert.match((await read.json()).error, /has no owner/);
  const claim = await env.request("POST", "/4915550009/start", env.bearer(env.tokenA));
  assert.equal(claim.status, 403, "starting it would hand over a linked account and its history");
  assert.match((await claim.json()).error, /admin may free it with DELETE/);
  assert.equal((await env.request("GET", "/4915550009/state", env.bearer(env.tokenA))).status, 403);
});

Deno.test("an account's request for a number that is not started is 404 before the handler", async () => {
  await using env = await setup();
  const response = await env.request("GET", "/4915550404/state", env.bearer(env.tokenA));
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), {
    error: 'Session "4915550404" not found',
    code: "NOT_FOUND",
    statusCode: 404,
  });
  assert.equal(await env.store.sessions.get("4915550404"), null, "nothing was recorded");
});

Deno.test("GET /sessions lists only the caller's numbers, and all of them for the admin", async () => {
  await using env = await setup();
  await env.request("POST", "/4915550001/start", env.bearer(env.tokenA));
  await env.request("POST", "/4915550002/start", env.bearer(env.tokenB));
  const list = async (headers: Record<string, string>) =>
    (await (await env.request("GET", "/sessions", headers)).json()).sessions;
  assert.deepEqual(await list(env.bearer(env.tokenA)), ["4915550001"]);
  assert.deepEqual(await list({ "x-api-key": "key-of-org-b-0123456789abcdef" }), ["4915550002"]);
  assert.deepEqual(await list({ "x-api-key": ADMIN_KEY }), ["4915550001", "4915550002"]);
});

Deno.test("MAX_NUMBERS_PER_ACCOUNT=2 lets an account start two numbers and refuses the third", async () => {
  await using env = await setup({ maxNumbersPerAccount: 2 });
  assert.equal(
    (await env.request("POST", "/4915550001/start", env.bearer(env.tokenA))).status,
    200,
  );
  assert.equal(
    (await env.request("POST", "/4915550002/start", env.bearer(env.tokenA))).status,
    200,
  );
  const third = await env.request("POST", "/4915550003/start", env.bearer(env.tokenA));
  assert.equal(third.status, 403);
  assert.equal(
    (await third.json()).error,
    `Account "${ORG_A}" already owns 2 numbers (MAX_NUMBERS_PER_ACCOUNT=2)`,
  );
});

Deno.test("failed authentication is logged with a reason and the address, never the credential", async () => {
  await using env = await setup();
  const bad = await workosTokens(env.signer, { orgId: ORG_A, aud: AUDIENCE });
  await env.request("GET", "/sessions", {
    ...env.bearer(bad.expired),
    "x-test-client-ip": "10.1.1.1",
  });
  await env.request("GET", "/sessions", {
    "x-api-key": "guess-123",
    "x-test-client-ip": "10.1.1.1",
  });
  await env.request("GET", "/4915550001/state", env.bearer(env.tokenA));
  assert.equal(env.logs.length, 2, JSON.stringify(env.logs));
  assert.equal(env.logs[0].event, "auth_failed");
  assert.equal(env.logs[0].reason, "ERR_JWT_EXPIRED");
  assert.equal(env.logs[0].scheme, "bearer");
  assert.equal(env.logs[0].ip, "10.1.1.1");
  assert.equal(env.logs[1].reason, "bad_api_key");
  const text = JSON.stringify(env.logs);
  assert.ok(!text.includes(bad.expired.split(".")[2]), "no token in the log");
  assert.ok(!text.includes("guess-123"), "no key in the log");
});

Deno.test("requireSingleAccountProtected leaves a phone number that is not 7–15 digits to the route's validation", async () => {
  await using env = await setup();
  const claims: string[] = [];
  const sessions = {
    get: (phone: string) => env.store.sessions.get(phone),
    previewClaim: (phone: string, input: { ownerAccountId: string; max: number }) => {
      claims.push(phone);
      return env.store.sessions.previewClaim(phone, input);
    },
  };
  const authenticator = await createAuthenticator({
    issuers: [],
    audiences: [],
    algorithms: ["RS256"],
    jwksTimeoutMs: 1_000,
    accountKeys: [{ key: "key-of-org-a-0123456789abcdef", accountId: ORG_A }],
  }, { adminKey: ADMIN_KEY });
  const guard = requireSingleAccountProtected({
    authenticator,
    sessions,
    maxNumbersPerAccount: 1,
    claim: true,
  });
  const route = createRoute({
    method: "post",
    path: "/api/whatsapp/{phoneNumber}/start",
    middleware: [guard] as const,
    request: { params: z.object({ phoneNumber: z.string().regex(/^\d{7,15}$/) }) },
    responses: { 200: { description: "Started" } },
  });
  const app = new OpenAPIHono<AppEnv>();
  app.onError(createErrorHandler(createLogger("silent")));
  app.openapi(
    route,
    (c) => c.json({ phoneNumber: c.req.valid("param").phoneNumber }, 200),
  );
  const headers = { "x-api-key": "key-of-org-a-0123456789abcdef" };
  for (const phone of ["12345", "49155500011234567", "4915abc0001", "..%2F..%2Fetc"]) {
    const response = await app.request(`${BASE}/${phone}/start`, { method: "POST", headers });
    assert.equal(response.status, 400, phone);
  }
  assert.deepEqual(claims, [], "no claim was looked at for an invalid number");
  const ok = await app.request(`${BASE}/4915550001/start`, { method: "POST", headers });
  assert.equal(ok.status, 200);
  assert.deepEqual(claims, ["4915550001"]);
  const anonymous = await app.request(`${BASE}/12345/start`, { method: "POST" });
  assert.equal(anonymous.status, 401, "authentication still comes first");
});
