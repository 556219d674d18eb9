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

const ADMIN = "admin-key-0123456789abcdef";
const K1 = "account-1-key-0123456789abcdef";
const K2 = "account-2-key-0123456789abcdef";

Deno.test("createApiKeyVerifier maps the admin key to the admin and an account key to its account", () => {
  const keys = createApiKeyVerifier({
    adminKey: ADMIN,
    accountKeys: [{ key: K1, accountId: "org_1" }, { key: K2, accountId: "org_2" }],
  });
  assert.equal((keys.verify(ADMIN))?.kind, "admin");
  assert.deepEqual(keys.verify(K2), {
    kind: "account",
    accountId: "org_2",
    userId: null,
    role: null,
    via: "api_key",
  });
  assert.equal(keys.verify("account-3-key-0123456789abcdef"), null);
  assert.equal(keys.verify(`${ADMIN} `), null);
  const principal = keys.verify(K1);
  principal!.accountId = "tampered";
  assert.equal((keys.verify(K1))?.accountId, "org_1", "each call gets its own principal");
});

Deno.test("createApiKeyVerifier refuses a key under 24 characters and a key used twice", () => {
  assert.throws(() => createApiKeyVerifier({ adminKey: "" }), ConfigError);
  assert.throws(
    () => createApiKeyVerifier({ adminKey: ADMIN.slice(0, 23) }),
    /Invalid API_KEY: a key needs at least 24 characters$/,
  );
  assert.doesNotThrow(() => createApiKeyVerifier({ adminKey: ADMIN.slice(0, 24) }));
  assert.throws(
    () =>
      createApiKeyVerifier({
        adminKey: ADMIN,
        accountKeys: [{ key: K1.slice(0, 23), accountId: "org_1" }],
      }),
    /Invalid API_KEYS: the key of account "org_1" is too short/,
  );
  assert.throws(
    () =>
      createApiKeyVerifier({
        adminKey: ADMIN,
        accountKeys: [{ key: ADMIN, accountId: "org_1" }],
      }),
    /API_KEYS/,
  );
  assert.throws(
    () =>
      createApiKeyVerifier({
        adminKey: ADMIN,
        accountKeys: [{ key: K1, accountId: "org_1" }, { key: K1, accountId: "org_2" }],
      }),
    /used twice/,
  );
});
