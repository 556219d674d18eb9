/**
 * @module
 * PostgreSQL stopped under a running server (`main.ts` on 127.0.0.1, a real PostgreSQL of the
 * test's own): requests that need the database answer `503 STORE_UNAVAILABLE`, naming no host, no
 * port and no database, never a 500; once the database is back, the same
 * requests work again without restarting the server.
 */
import assert from "node:assert/strict";
import { ADMIN_KEY, startServerProcess, waitFor } from "./_helpers.ts";
import { startPostgres } from "./_postgres.ts";

const KEY_A = "account-a-key-0123456789abcdef";
const PHONE = "4915550008101";
const CHAT = "15550000001@c.us";

Deno.test("a server whose PostgreSQL stops answers 503 STORE_UNAVAILABLE, and serves again once it is back", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase();
  const server = await startServerProcess({
    DATABASE_URL: url,
    API_KEYS: `${KEY_A}=org_a`,
    SIMULATOR_SCAN_MS: "50",
  });
  const call = async (
    method: string,
    path: string,
    options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) => {
    const response = await fetch(`${server.base}${path}`, {
      method,
      headers: {
        "X-Api-Key": options.key ?? KEY_A,
        ...(options.body === undefined ? {} : { "Content-Type": "application/json" }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    return { status: response.status, text: await response.text() };
  };
  /** What needs the database: each is answered 503 while it is down, 200 once it is back. */
  const needsStore: [string, () => ReturnType<typeof call>][] = [
    [
      "the account's send (its ownership is read)",
      () => call("POST", `/${PHONE}/send-text`, { body: { chatId: CHAT, text: "hello" } }),
    ],
    ["the admin's send", () =>
      call("POST", `/${PHONE}/send-text`, {
        key: ADMIN_KEY,
        body: { chatId: CHAT, text: "from the admin" },
      })],
    ["a send with an Idempotency-Key", () =>
      call("POST", `/${PHONE}/send-text`, {
        body: { chatId: CHAT, text: "keyed" },
        headers: { "Idempotency-Key": crypto.randomUUID() },
      })],
    ["the sessions list", () => call("GET", "/sessions")],
    ["the webhooks", () => call("GET", `/${PHONE}/webhooks`)],
  ];
  try {
    assert.equal((await call("POST", `/${PHONE}/start`)).status, 200);
    await waitFor("CONNECTED", async () => {
      const { text } = await call("GET", `/${PHONE}/state`);
      return JSON.parse(text).state === "CONNECTED";
    });

    await pg.kill();
    for (const [what, request] of needsStore) {
      const { status, text } = await request();
      assert.equal(status, 503, `${what}: ${text}`);
      const body = JSON.parse(text);
      assert.equal(body.code, "STORE_UNAVAILABLE", what);
      assert.equal(body.statusCode, 503);
      assert.doesNotMatch(text, /127\.0\.0\.1|localhost|postgres|ECONN/i, what);
      assert.ok(!text.includes(String(pg.port)), `${what} names no port`);
    }

    await pg.restart();
    for (const [what, request] of needsStore) {
      const { status, text } = await waitFor(
        `${what} to work again`,
        async () => {
          const answer = await request();
          return answer.status === 503 ? null : answer;
        },
      );
      assert.equal(status, 200, `${what}: ${text}`);
    }
  } finally {
    await server.stop();
  }
});
