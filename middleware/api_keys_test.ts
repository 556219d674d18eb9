/**
 * Tests of the API key verifier and the constant-time comparison under it.
 */
import assert from "node:assert/strict";
import { ConfigError } from "../config.ts";
import { createApiKeyVerifier } from "./api_keys.ts";
import { equalBytes, timingSafeEqualStrings } from "./constant_time.ts";

Deno.test("timingSafeEqualStrings tells equal strings from different ones of any length", async () => {
  assert.equal(await timingSafeEqualStrings("secret", "secret"), true);
  assert.equal(await timingSafeEqualStrings("secret", "secreT"), false);
  assert.equal(await timingSafeEqualStrings("secret", "secret-but-longer"), false);
  assert.equal(await timingSafeEqualStrings("", ""), true);
  assert.equal(await timingSafeEqualStrings("ключ", "ключ"), true);
});

Deno.test("equalBytes compares whole arrays and refuses different lengths", () => {
  assert.equal(equalBytes(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])), true);
  assert.equal(equalBytes(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4])), false);
  assert.equal(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3])), false);
});

Deno.test("createApiKeyVerifier maps the admin key to the admin and an account key to its account", async () => {
  const keys = await createApiKeyVerifier({
    adminKey: "admin",
    accountKeys: [{ key: "k1", accountId: "org_1" }, { key: "k2", accountId: "org_2" }],
  });
  assert.equal((await keys.verify("admin"))?.kind, "admin");
  assert.deepEqual(await keys.verify("k2"), {
    kind: "account",
    accountId: "org_2",
    userId: null,
    role: null,
    via: "api_key",
  });
  assert.equal(await keys.verify("k3"), null);
  assert.equal(await keys.verify("admin "), null);
  const principal = await keys.verify("k1");
  principal!.accountId = "tampered";
  assert.equal((await keys.verify("k1"))?.accountId, "org_1", "each call gets its own principal");
});

Deno.test("createApiKeyVerifier refuses an empty admin key and a key used twice", async () => {
  await assert.rejects(createApiKeyVerifier({ adminKey: "" }), ConfigError);
  await assert.rejects(
    createApiKeyVerifier({
      adminKey: "admin",
      accountKeys: [{ key: "admin", accountId: "org_1" }],
    }),
    /API_KEYS/,
  );
  await assert.rejects(
    createApiKeyVerifier({
      adminKey: "admin",
      accountKeys: [{ key: "k", accountId: "org_1" }, { key: "k", accountId: "org_2" }],
    }),
    /used twice/,
  );
});
