/**
 * Tests of `createAuthGuards`, the composition `main.ts` uses: built from `config.auth`, one
 * authenticator and limiter shared by the guards the routes pick.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { ConfigError, loadConfig } from "../config.ts";
import { createErrorHandler } from "../errors.ts";
import { createLogger } from "../logger.ts";
import { claimRefusal } from "../sessions/ownership.ts";
import { openSqliteStore } from "../store/sqlite/store.ts";
import type { AppEnv } from "./principal.ts";
import { createAuthGuards } from "./auth_guards.ts";
import {
  createTestSigner,
  startJwksServer,
  TEST_CLIENT_ID,
  workosClaims,
} from "../tests/_auth_helpers.ts";

const BODY = { mediaMaxBytes: 4 * 1024 * 1024, timeoutMs: 5_000 };

Deno.test("createAuthGuards wires config.auth into the guards the routes use", async () => {
  const signer = await createTestSigner();
  await using jwks = await startJwksServer([signer.publicJwk]);
  const config = loadConfig({
    WORKOS_CLIENT_ID: TEST_CLIENT_ID,
    JWT_JWKS_URL: jwks.url,
    API_KEYS: "account-a-key-0123456789abcdef=org_01JTESTORG00000000000000A",
    MAX_NUMBERS_PER_ACCOUNT: "1",
  });
  const store = openSqliteStore(":memory:");
  try {
    const guards = createAuthGuards(config.auth, {
      adminKey: "generated-admin-key-0123456789",
      sessions: store.sessions,
      body: BODY,
      getClientIp: (c) => c.req.header("x-test-client-ip"),
      limiter: { maxFailures: 2 },
    });
    await guards.ready;
    const app = new Hono<AppEnv>().basePath("/api/whatsapp");
    app.onError(createErrorHandler(createLogger("silent")));
    app.get("/sessions", guards.requireAuth, (c) => c.json(c.var.principal, 200));
    app.delete("/:phoneNumber", guards.requireAdmin, (c) => c.json({ ok: true }, 200));
    // The manager claims when the start takes effect; this stands in for it.
    app.post(
      "/:phoneNumber/start",
      guards.requireSingleAccountProtected({ claim: true }),
      async (c) => {
        const { phoneNumber } = c.req.param();
        const accountId = c.var.principal.accountId!;
        const input = { engine: "simulator", ownerAccountId: accountId, max: 1 };
        const outcome = await store.sessions.claim(phoneNumber, input);
        const refusal = claimRefusal(outcome, phoneNumber, accountId, 1);
        if (refusal) throw refusal;
        return c.json({ ok: true }, 200);
      },
    );
    app.get(
      "/:phoneNumber/state",
      guards.requireSingleAccountProtected(),
      (c) => c.json({ ok: true }, 200),
    );
    app.post("/webhook/message", guards.requireWahaProtected, (c) => c.json({ ok: true }, 200));
    const call = (method: string, path: string, headers: Record<string, string>) =>
      app.request(`http://localhost/api/whatsapp${path}`, { method, headers });

    const token = await signer.sign(workosClaims());
    const bearer = { authorization: `Bearer ${token}` };
    assert.equal((await call("GET", "/sessions", bearer)).status, 200);
    assert.equal((await call("POST", "/4915550001/start", bearer)).status, 200);
    assert.equal(
      (await store.sessions.get("4915550001"))?.ownerAccountId,
      "org_01JTESTORG00000000000000A",
    );
    assert.equal(
      (await call("POST", "/4915550002/start", { "x-api-key": "account-a-key-0123456789abcdef" }))
        .status,
      403,
    );
    assert.equal(
      (await call("GET", "/4915550001/state", { "x-api-key": "account-a-key-0123456789abcdef" }))
        .status,
      200,
    );
    assert.equal((await call("DELETE", "/4915550001", bearer)).status, 403, "admin only");
    assert.equal(
      (await call("DELETE", "/4915550001", { "x-api-key": "generated-admin-key-0123456789" }))
        .status,
      200,
    );
    assert.equal(
      (await call("POST", "/webhook/message", { "x-api-key": "generated-admin-key-0123456789" }))
        .status,
      200,
      "without WEBHOOK_API_KEY the webhooks take the admin key",
    );
    assert.equal((await call("POST", "/webhook/message", bearer)).status, 401);

    const ip = { "x-test-client-ip": "198.51.100.9" };
    assert.equal((await call("GET", "/sessions", { ...ip, "x-api-key": "x" })).status, 401);
    assert.equal((await call("POST", "/webhook/message", { ...ip, "x-api-key": "y" })).status, 401);
    assert.equal(
      (await call("DELETE", "/4915550001", { ...ip, "x-api-key": "z" })).status,
      429,
      "one limiter is shared by every guard",
    );
    assert.equal(
      (await call("POST", "/webhook/message", {
        ...ip,
        "x-api-key": "generated-admin-key-0123456789",
      }))
        .status,
      200,
      "a valid key still passes from the blocked address",
    );
  } finally {
    await store.close();
  }
});

Deno.test("createAuthGuards gives the webhooks their own key when WEBHOOK_API_KEY is set", async () => {
  const config = loadConfig({ WEBHOOK_API_KEY: "the-webhook-key-0123456789" });
  const store = openSqliteStore(":memory:");
  try {
    const guards = createAuthGuards(config.auth, {
      adminKey: "admin-key-0123456789abcdef",
      sessions: store.sessions,
      body: BODY,
    });
    await guards.ready;
    const app = new Hono<AppEnv>();
    app.onError(createErrorHandler(createLogger("silent")));
    app.post("/hook", guards.requireWahaProtected, (c) => c.json({ ok: true }, 200));
    const call = async (key: string) =>
      (await app.request("/hook", { method: "POST", headers: { "x-api-key": key } })).status;
    assert.equal(await call("the-webhook-key-0123456789"), 200);
    assert.equal(await call("admin-key-0123456789abcdef"), 401);
  } finally {
    await store.close();
  }
});

Deno.test("createAuthGuards rejects ready with a ConfigError on bad settings, without crashing when nobody awaits", async () => {
  const store = openSqliteStore(":memory:");
  try {
    const deps = {
      adminKey: "admin-key-0123456789abcdef",
      sessions: store.sessions,
      body: BODY,
    };
    const bad = loadConfig({ JWT_PUBLIC_KEY: "not a key", JWT_ISSUER: "https://idp.example.com" });
    const guards = createAuthGuards(bad.auth, deps);
    await assert.rejects(
      guards.ready,
      (error: Error) => error instanceof ConfigError && /JWT_PUBLIC_KEY/.test(error.message),
    );
    createAuthGuards(bad.auth, deps); // never awaited: must not be an unhandled rejection
    await new Promise((resolve) => setTimeout(resolve, 10));
  } finally {
    await store.close();
  }
});
