/**
 * @module
 * The waha engine's settings: `WA_ENGINE=waha` needs a WAHA server, `WAHA_URLS` is `name=url`
 * pairs, and the engine is given WAHA's URL, key and our inbound endpoints (with our webhook key
 * and HMAC secret) under `WEBHOOK_PUBLIC_URL`.
 */
import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../config.ts";
import { wahaOptionsFor } from "../sessions/engines/waha/options.ts";

const BASE = { API_KEY: "test-admin-key-0123456789abcdef" };

Deno.test("WA_ENGINE=waha needs WAHA_URL or WAHA_URLS", () => {
  assert.throws(() => loadConfig({ ...BASE, WA_ENGINE: "waha" }), ConfigError);
  assert.equal(
    loadConfig({ ...BASE, WA_ENGINE: "waha", WAHA_URL: "http://waha:3000" }).engine,
    "waha",
  );
  assert.equal(
    loadConfig({ ...BASE, WA_ENGINE: "waha", WAHA_URLS: "a=http://waha-a:3000" }).engine,
    "waha",
  );
});

Deno.test("WAHA_URLS takes name=url pairs, and nothing else", () => {
  const config = loadConfig({
    ...BASE,
    WAHA_URLS: "one=http://waha-1:3000, two=https://waha-2.example.com",
  });
  assert.deepEqual(config.waha.servers, [
    { name: "one", url: "http://waha-1:3000" },
    { name: "two", url: "https://waha-2.example.com" },
  ]);
  for (
    const bad of ["http://waha:3000", "=http://waha:3000", "one=", "one=ftp://waha", "a b=http://x"]
  ) {
    assert.throws(() => loadConfig({ ...BASE, WAHA_URLS: bad }), /WAHA_URLS/, bad);
  }
});

Deno.test("the engine is given its WAHA server and our inbound endpoints", () => {
  const config = loadConfig({
    ...BASE,
    WAHA_URL: "http://waha:3000",
    WAHA_API_KEY: "waha-key",
    WAHA_URLS: "two=http://waha-2:3000",
    WEBHOOK_PUBLIC_URL: "https://gw.example.com/",
    WEBHOOK_HMAC_SECRET: "hmac-secret",
  });
  assert.deepEqual(wahaOptionsFor(config, undefined), {
    url: "http://waha:3000",
    apiKey: "waha-key",
    pollMs: 2000,
    webhook: {
      messageUrl: "https://gw.example.com/api/whatsapp/webhook/message",
      statusUrl: "https://gw.example.com/api/whatsapp/webhook/state-change",
      apiKey: BASE.API_KEY,
      hmacKey: "hmac-secret",
    },
  });
  assert.equal(wahaOptionsFor(config, "two").url, "http://waha-2:3000");
  const noPublicUrl = loadConfig({ ...BASE, WAHA_URL: "http://waha:3000" });
  assert.equal(wahaOptionsFor(noPublicUrl, undefined).webhook, undefined);
});
