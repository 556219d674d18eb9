/**
 * @module
 * Failed logins are limited per client address. Behind a reverse proxy every request comes from
 * the proxy, so `TRUST_PROXY` takes the client from the last `X-Forwarded-For` entry (the one the
 * proxy added); without it the header is ignored, as a client could forge it.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { createLogger } from "../logger.ts";
import { compose } from "../main.ts";

async function serve(env: Record<string, string>) {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-proxy-" });
  const config = loadConfig({
    API_KEY: "the-admin-key-0123456789abcdef",
    LOG_LEVEL: "silent",
    ...env,
    DATA_DIR: dataDir,
  });
  const server = await compose(config, createLogger("silent"));
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, server.app.fetch);
  const attempt = async (forwardedFor: string) => {
    const response = await fetch(`http://127.0.0.1:${http.addr.port}/api/whatsapp/sessions`, {
      headers: { "X-Api-Key": "wrong", "X-Forwarded-For": forwardedFor },
    });
    await response.body?.cancel();
    return response.status;
  };
  return {
    attempt,
    async close() {
      await http.shutdown();
      await server.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

Deno.test("without TRUST_PROXY a forged X-Forwarded-For does not escape the failure limit", async () => {
  const server = await serve({});
  try {
    for (let i = 0; i < 10; i++) assert.equal(await server.attempt(`10.0.0.${i}`), 401);
    assert.equal(await server.attempt("10.0.0.99"), 429, "the socket's address is what counts");
  } finally {
    await server.close();
  }
});

Deno.test("with TRUST_PROXY each client behind the proxy has its own failure limit", async () => {
  const server = await serve({ TRUST_PROXY: "true" });
  try {
    for (let i = 0; i < 10; i++) assert.equal(await server.attempt("203.0.113.7"), 401);
    assert.equal(await server.attempt("203.0.113.7"), 429);
    assert.equal(await server.attempt("198.51.100.20"), 401, "another client is not blocked");
    assert.equal(
      await server.attempt("198.51.100.99, 203.0.113.7"),
      429,
      "the last entry (added by the proxy) is the client, not what the client sent before it",
    );
  } finally {
    await server.close();
  }
});
