import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "./config.ts";

Deno.test("loadConfig() works with nothing set, on the documented defaults", () => {
  const config = loadConfig({});
  assert.equal(config.port, 3000);
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.dataDir, "./data");
  assert.equal(config.engine, "wwebjs");
  assert.equal(config.engineCallTimeoutMs, 30_000);
  assert.equal(config.auth.apiKey, undefined);
  assert.deepEqual(config.auth.algorithms, ["RS256", "ES256"]);
  assert.equal(config.auth.maxNumbersPerAccount, 1);
  assert.equal(config.claimTtlMs, 600_000);
  assert.equal(config.webhooks.sender, "main");
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.auth));
});

Deno.test("loadConfig() reads and converts every kind of value", () => {
  const config = loadConfig({
    PORT: "8080",
    WA_ENGINE: "simulator",
    API_KEYS: "account-a-key-0123456789abcdef=org_a, account-b-key-0123456789abcdef=org_b",
    MEDIA_ALLOW_PRIVATE_HOSTS: "127.0.0.1,10.0.0.0/8",
    WEBHOOK_EVENTS: "message, session.status",
    WEBHOOKS_ENABLED: "false",
    WEBHOOK_SENDER: "worker",
    CHROMIUM_NO_SANDBOX: "true",
    EMPTY_IS_UNSET: "",
    ENGINE_CALL_TIMEOUT_MS: "",
  });
  assert.equal(config.port, 8080);
  assert.equal(config.engine, "simulator");
  assert.deepEqual(config.auth.accountKeys, [
    { key: "account-a-key-0123456789abcdef", accountId: "org_a" },
    { key: "account-b-key-0123456789abcdef", accountId: "org_b" },
  ]);
  assert.deepEqual(config.media.allowPrivateHosts, ["127.0.0.1", "10.0.0.0/8"]);
  assert.deepEqual(config.webhooks.events, ["message", "session.status"]);
  assert.equal(config.webhooks.enabled, false);
  assert.equal(config.webhooks.sender, "worker");
  assert.equal(config.wwebjs.noSandbox, true);
  assert.equal(loadConfig({}).wwebjs.noSandbox, false);
  assert.equal(config.engineCallTimeoutMs, 30_000);
});

Deno.test("loadConfig() stops with one line naming the bad variable", () => {
  for (
    const [env, variable] of [
      [{ PORT: "eighty" }, "PORT"],
      [{ PORT: "70000" }, "PORT"],
      [{ WA_ENGINE: "baileys" }, "WA_ENGINE"],
      [{ ENGINE_CALL_TIMEOUT_MS: "-5" }, "ENGINE_CALL_TIMEOUT_MS"],
      [{ JWT_JWKS_URL: "not a url" }, "JWT_JWKS_URL"],
      [{ API_KEYS: "no-equals-sign" }, "API_KEYS"],
      [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
      [{ CLAIM_TTL_MS: "0" }, "CLAIM_TTL_MS"],
      [{ DATABASE_URL: "mysql://db/wa" }, "DATABASE_URL"],
      [{ DATABASE_POOL_SIZE: "0" }, "DATABASE_POOL_SIZE"],
      [{ WEBHOOK_EVENTS: "message,messages" }, "WEBHOOK_EVENTS"],
      [{ WEBHOOK_SENDER: "thread" }, "WEBHOOK_SENDER"],
    ] as const
  ) {
    assert.throws(() => loadConfig(env), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, new RegExp(`^Invalid ${variable}: `));
      assert.ok(!error.message.includes("\n"));
      return true;
    });
  }
});

Deno.test("loadConfig() refuses an API_KEY, an API_KEYS key or a WEBHOOK_API_KEY under 24 characters, naming the variable", () => {
  const short = "k".repeat(23);
  const long = "k".repeat(24);
  for (
    const [env, line] of [
      [{ API_KEY: short }, "Invalid API_KEY: a key needs at least 24 characters"],
      [{ API_KEY: ` ${short} ` }, "Invalid API_KEY: a key needs at least 24 characters"],
      [
        { API_KEYS: `${long}=org_a,${short}=org_b` },
        'Invalid API_KEYS: the key of account "org_b" is too short: a key needs at least 24 characters',
      ],
      [{ WEBHOOK_API_KEY: short }, "Invalid WEBHOOK_API_KEY: a key needs at least 24 characters"],
    ] as const
  ) {
    assert.throws(() => loadConfig(env), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, line);
      assert.ok(!error.message.includes(short), "the key itself is not printed");
      return true;
    }, JSON.stringify(env));
  }
  const config = loadConfig({
    API_KEY: long,
    API_KEYS: `${"a".repeat(24)}=org_a`,
    WEBHOOK_API_KEY: long,
  });
  assert.equal(config.auth.apiKey, long);
  assert.equal(config.auth.accountKeys[0].key, "a".repeat(24));
  assert.equal(config.auth.webhookApiKey, long);
});

Deno.test("the request body limit leaves room for base64 of the largest media", () => {
  const config = loadConfig({ MEDIA_MAX_BYTES: "3000000" });
  assert.ok(config.bodyMaxBytes >= 4_000_000);
  assert.equal(loadConfig({ BODY_MAX_BYTES: "1234" }).bodyMaxBytes, 1234);
});

Deno.test("loadConfig() takes PostgreSQL from DATABASE_URL, with a pool of 5 unless DATABASE_POOL_SIZE says otherwise", () => {
  assert.deepEqual(loadConfig({}).database, { url: undefined, poolSize: 5 });
  const url = "postgresql://wa:secret@db.internal:5432/wa_gateway";
  const node = {
    NODE_URL: "http://node-1.test:3000",
    CLUSTER_SECRET: "cluster-secret-0123456789abcdef",
    AUTH_ENCRYPTION_KEY: "dGVzdC1hdXRoLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE=",
  };
  assert.deepEqual(loadConfig({ DATABASE_URL: url, DATABASE_POOL_SIZE: "12", ...node }).database, {
    url,
    poolSize: 12,
  });
  assert.throws(() => loadConfig({ DATABASE_URL: "mysql://wa:secret@db/wa" }), (error: Error) => {
    assert.equal(
      error.message,
      "Invalid DATABASE_URL: expected a postgres:// or postgresql:// URL",
    );
    return true;
  });
});

Deno.test("loadConfig() refuses an edge node without NODE_ID, DATABASE_URL or CLUSTER_SECRET, naming it", () => {
  const edge = {
    NODE_ROLE: "edge",
    NODE_ID: "edge-1",
    DATABASE_URL: "postgres://wa@127.0.0.1:5432/wa",
    CLUSTER_SECRET: "cluster-secret-0123456789abcdef",
  };
  assert.equal(loadConfig(edge).cluster.role, "edge");
  for (const lacking of ["NODE_ID", "DATABASE_URL", "CLUSTER_SECRET"] as const) {
    const env: Record<string, string> = { ...edge };
    delete env[lacking];
    assert.throws(() => loadConfig(env), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, `Invalid ${lacking}: required with NODE_ROLE=edge`);
      return true;
    });
  }
});

Deno.test("loadConfig() requires NODE_URL and CLUSTER_SECRET of a worker node on DATABASE_URL, in one line each", () => {
  const database = { DATABASE_URL: "postgres://wa@db.test/wa" };
  const secret = { CLUSTER_SECRET: "cluster-secret-0123456789abcdef" };
  const url = { NODE_URL: "http://node-1.test:3000" };
  const key = { AUTH_ENCRYPTION_KEY: "dGVzdC1hdXRoLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE=" };
  const refusal = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.message;
    }
    throw new Error("loadConfig() accepted it");
  };
  assert.match(refusal({ ...database, ...secret, ...key }), /^Missing NODE_URL: [^\n]+$/);
  assert.match(refusal({ ...database, ...url, ...key }), /^Missing CLUSTER_SECRET: [^\n]+$/);
  const config = loadConfig({ ...database, ...url, ...secret, ...key });
  assert.equal(config.cluster.nodeUrl, "http://node-1.test:3000");
  // An edge node hosts no sessions: nobody reaches it for one.
  assert.equal(
    loadConfig({ ...database, ...secret, NODE_ROLE: "edge", NODE_ID: "edge-1" }).cluster.role,
    "edge",
  );
  // Without DATABASE_URL there is one node: nothing changes.
  assert.equal(loadConfig({}).cluster.nodeUrl, undefined);
});

Deno.test("loadConfig() requires AUTH_ENCRYPTION_KEY of a worker node on DATABASE_URL, says how to make one, and refuses one that is not 32 bytes", () => {
  const node = {
    DATABASE_URL: "postgres://wa@db.test/wa",
    NODE_URL: "http://node-1.test:3000",
    CLUSTER_SECRET: "cluster-secret-0123456789abcdef",
  };
  assert.throws(() => loadConfig(node), (error: Error) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /^Missing AUTH_ENCRYPTION_KEY: [^\n]+openssl rand -base64 32/);
    return true;
  });
  assert.throws(
    () => loadConfig({ ...node, AUTH_ENCRYPTION_KEY: "not-a-key-but-long-enough-0123456789" }),
    /Invalid AUTH_ENCRYPTION_KEY: expected 32 random bytes/,
  );
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  const config = loadConfig({ ...node, AUTH_ENCRYPTION_KEY: key, AUTH_BACKUP_INTERVAL_MS: "5000" });
  assert.equal(config.cluster.loginKey, key);
  assert.equal(config.cluster.loginBackupIntervalMs, 5000);
  assert.equal(loadConfig({}).cluster.loginBackupIntervalMs, 60_000);
  // One node keeps its logins in DATA_DIR: no key needed.
  assert.equal(loadConfig({}).cluster.loginKey, undefined);
});

Deno.test("loadConfig() leaves metrics off by default and refuses a METRICS_TOKEN under 24 characters", () => {
  assert.deepEqual(loadConfig({}).metrics, { enabled: false, token: undefined, sampleMs: 15_000 });
  const token = "metrics-token-0123456789abcdef";
  assert.deepEqual(
    loadConfig({ METRICS_ENABLED: "true", METRICS_TOKEN: token, METRICS_SAMPLE_MS: "5000" })
      .metrics,
    { enabled: true, token, sampleMs: 5_000 },
  );
  assert.throws(
    () => loadConfig({ METRICS_TOKEN: "short-token" }),
    (error) =>
      error instanceof ConfigError &&
      error.message === "Invalid METRICS_TOKEN: a key needs at least 24 characters",
  );
  assert.throws(() => loadConfig({ METRICS_SAMPLE_MS: "10" }), /Invalid METRICS_SAMPLE_MS/);
});

Deno.test("loadConfig() leaves calls ringing by default and reads CALLS_AUTO_REJECT with its optional message", () => {
  assert.deepEqual(loadConfig({}).calls, { autoReject: false, message: null });
  assert.deepEqual(loadConfig({ CALLS_AUTO_REJECT: "true" }).calls, {
    autoReject: true,
    message: null,
  });
  assert.deepEqual(
    loadConfig({ CALLS_AUTO_REJECT: "1", CALLS_AUTO_REJECT_MESSAGE: "  Please write instead  " })
      .calls,
    { autoReject: true, message: "Please write instead" },
  );
  assert.equal(loadConfig({ CALLS_AUTO_REJECT_MESSAGE: "   " }).calls.message, null);
  assert.throws(() => loadConfig({ CALLS_AUTO_REJECT: "maybe" }), /CALLS_AUTO_REJECT/);
});
