import assert from "node:assert/strict";
import { createLoginCipher, LoginCipherError, parseAuthKey } from "./login_cipher.ts";

const KEY = btoa(String.fromCharCode(...new Uint8Array(32).map((_, i) => i * 7)));
const OTHER = btoa(String.fromCharCode(...new Uint8Array(32).map((_, i) => 255 - i)));
const ARCHIVE = new TextEncoder().encode("a login archive, in clear");

Deno.test("an auth key is 32 bytes in base64, URL-safe base64 or hex, and nothing else", () => {
  const bytes = parseAuthKey(KEY)!;
  assert.equal(bytes.length, 32);
  assert.deepEqual(
    parseAuthKey(KEY.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")),
    bytes,
  );
  assert.deepEqual(
    parseAuthKey([...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")),
    bytes,
  );
  assert.equal(parseAuthKey("too short"), null);
  assert.equal(parseAuthKey(btoa("sixteen bytes!!!")), null);
  assert.equal(parseAuthKey("a".repeat(63)), null);
});

Deno.test("a sealed login opens with its key for its number, and with nothing else", async () => {
  const cipher = await createLoginCipher(KEY);
  const sealed = await cipher.seal("15550001111", ARCHIVE);
  assert.deepEqual(await cipher.open("15550001111", sealed), ARCHIVE);
  assert.equal(
    new TextDecoder().decode(sealed).includes("login archive"),
    false,
    "the archive is not readable in the blob",
  );
  await assert.rejects(
    (await createLoginCipher(OTHER)).open("15550001111", sealed),
    LoginCipherError,
  );
  await assert.rejects(cipher.open("15550002222", sealed), LoginCipherError, "another number's");
  const altered = sealed.slice();
  altered[altered.length - 20] ^= 1;
  await assert.rejects(cipher.open("15550001111", altered), LoginCipherError);
  await assert.rejects(cipher.open("15550001111", ARCHIVE), LoginCipherError);
});

Deno.test("two seals of one login differ (a fresh nonce each time)", async () => {
  const cipher = await createLoginCipher(KEY);
  const [a, b] = [await cipher.seal("1555", ARCHIVE), await cipher.seal("1555", ARCHIVE)];
  assert.notDeepEqual(a, b);
});

Deno.test("a cipher refuses a key that is not 32 bytes, saying how to make one", async () => {
  await assert.rejects(createLoginCipher("secret"), /openssl rand -base64 32/);
});
