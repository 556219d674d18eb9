/**
 * @module
 * A number changing hands leaks nothing: an event stream the old owner opened ends when the admin
 * frees the number, a start racing the admin's DELETE leaves no orphan Worker, and accounts never
 * see the operator's global webhook (its URL often carries a token).
 */
import assert from "node:assert/strict";
import { startTestApp, waitFor, waitForState } from "./_helpers.ts";

const NUMBER = "4915550009001";
const A = { headers: { "X-Api-Key": "key-of-a-0123456789abcdefghij" } };
const B = { headers: { "X-Api-Key": "key-of-b-0123456789abcdefghij" } };
const ACCOUNTS = {
  API_KEYS: "key-of-a-0123456789abcdefghij=org_a,key-of-b-0123456789abcdefghij=org_b",
  SIMULATOR_SCAN_MS: "0",
};

Deno.test("an event stream the old owner opened ends when the admin frees the number", async () => {
  const server = await startTestApp({ ...ACCOUNTS, SSE_HEARTBEAT_MS: "50" });
  try {
    assert.equal((await server.json("POST", `/${NUMBER}/start`, A)).status, 200);
    await waitForState(
      { json: (m, p, o) => server.json(m, p, { ...o, ...A }) },
      NUMBER,
      "CONNECTED",
    );
    const stream = await server.request("GET", `/${NUMBER}/events`, A);
    assert.equal(stream.status, 200);
    const reading = stream.text();
    assert.equal((await server.json("DELETE", `/${NUMBER}`)).status, 200);
    const seen = await Promise.race([
      reading,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("the old owner's stream stayed open")), 5_000)
      ),
    ]);
    assert.equal((await server.json("POST", `/${NUMBER}/start`, B)).status, 200);
    await waitForState(
      { json: (m, p, o) => server.json(m, p, { ...o, ...B }) },
      NUMBER,
      "CONNECTED",
    );
    await server.json("POST", `/${NUMBER}/send-text`, {
      ...B,
      body: { chatId: "15550000001@c.us", text: "the second owner's words" },
    });
    assert.ok(!seen.includes("the second owner's words"));
  } finally {
    await server.close();
  }
});

Deno.test("a start racing the admin's DELETE leaves a session that can be stopped, no orphan", async () => {
  const server = await startTestApp(ACCOUNTS);
  try {
    await server.json("POST", `/${NUMBER}/start`, A);
    await waitForState(
      { json: (m, p, o) => server.json(m, p, { ...o, ...A }) },
      NUMBER,
      "CONNECTED",
    );
    const [deleted, started] = await Promise.all([
      server.json("DELETE", `/${NUMBER}`),
      new Promise((resolve) => setTimeout(resolve, 0)).then(() =>
        server.json("POST", `/${NUMBER}/start`, A)
      ),
    ]);
    assert.equal(deleted.status, 200);
    assert.equal(started.status, 200);
    // Whatever the order, the session that runs is tracked: it has a record and stops.
    await waitFor("the record", () => server.store.sessions.get(NUMBER));
    await waitForState(
      { json: (m, p, o) => server.json(m, p, { ...o, ...A }) },
      NUMBER,
      "CONNECTED",
    );
    assert.equal((await server.json("POST", `/${NUMBER}/stop`, A)).status, 200);
    assert.equal((await server.json("GET", `/${NUMBER}/state`, A)).body.state, "DISCONNECTED");
  } finally {
    await server.close();
  }
});

Deno.test("accounts see only their number's deliveries, never the operator's global webhook", async () => {
  const server = await startTestApp({
    ...ACCOUNTS,
    WEBHOOK_URL: "http://127.0.0.1:9/operator-hook?token=OPERATOR-SECRET",
    WEBHOOK_MAX_ATTEMPTS: "1",
  });
  try {
    await server.json("POST", `/${NUMBER}/start`, A);
    await waitForState(
      { json: (m, p, o) => server.json(m, p, { ...o, ...A }) },
      NUMBER,
      "CONNECTED",
    );
    const admin = await waitFor("the operator's dead letters", async () => {
      const { body } = await server.json<{ deliveries: { id: number; url: string }[] }>(
        "GET",
        `/${NUMBER}/webhooks/deliveries?status=failed`,
      );
      return body.deliveries.length > 0 ? body.deliveries : null;
    });
    assert.match(admin[0].url, /OPERATOR-SECRET/, "the admin sees them");
    const account = await server.json<{ deliveries: unknown[] }>(
      "GET",
      `/${NUMBER}/webhooks/deliveries`,
      A,
    );
    assert.equal(account.status, 200);
    assert.deepEqual(account.body.deliveries, []);
    const retry = await server.json(
      "POST",
      `/${NUMBER}/webhooks/deliveries/${admin[0].id}/retry`,
      A,
    );
    assert.equal(retry.status, 404, "nor can they replay them");
  } finally {
    await server.close();
  }
});
