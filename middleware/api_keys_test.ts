/**
 * Tests of the API key verifier and the constant-time comparison under it.
 */
import assert from "node:assert/strict";
import { ConfigError } from "../config.ts";
import { createApiKeyVerifier } from "./api_keys.ts";
import { equalBytes, equalToSecret } from "./constant_time.ts";

Deno.test("equalBytes compares whole arrays and refuses different lengths", () => {
  assert.equal(equalBytes(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])), true);
  assert.equal(equalBytes(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4])), false);
  assert.equal(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3])), false);
});

Deno.test("equalToSecret tells a secret from every other string, shorter, longer or empty", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  const secret = bytes("s3cret-key");
  assert.equal(equalToSecret(bytes("s3cret-key"), secret), true);
  for (const other of ["s3cret-keY", "s3cret-ke", "s3cret-key!", "", "s3cret-key\0"]) {
    assert.equal(equalToSecret(bytes(other), secret), false, JSON.stringify(other));
  }
});

Deno.test("createApiKeyVerifier maps the admin key to the admin and an account key to its account", () => {
  const keys = createApiKeyVerifier({
    adminKey: "admin",
    accountKeys: [{ key: "k1", accountId: "org_1" }, { key: "k2", accountId: "org_2" }],
  });
  assert.equal((keys.verify("admin"))?.kind, "admin");
  assert.deepEqual(keys.verify("k2"), {
    kind: "account",
    accountId: "org_2",
    userId: null,
    role: null,
    via: "api_key",
  });
  assert.equal(keys.verify("k3"), null);
  assert.equal(keys.verify("admin "), null);
  const principal = keys.verify("k1");
  principal!.accountId = "tampered";
  assert.equal((keys.verify("k1"))?.accountId, "org_1", "each call gets its own principal");
});

Deno.test("createApiKeyVerifier refuses an empty admin key and a key used twice", () => {
  assert.throws(() => createApiKeyVerifier({ adminKey: "" }), ConfigError);
  assert.throws(
    () =>
      createApiKeyVerifier({
        adminKey: "admin",
        accountKeys: [{ key: "admin", accountId: "org_1" }],
      }),
    /API_KEYS/,
  );
  assert.throws(
    () =>
      createApiKeyVerifier({
        adminKey: "admin",
        accountKeys: [{ key: "k", accountId: "org_1" }, { key: "k", accountId: "org_2" }],
      }),
    /used twice/,
  );
});
