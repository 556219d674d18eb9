/**
 * @module
 * The one error path: an unexpected failure answers 500 without internals, every response
 * carries a request id, and engine errors keep their meaning across the Worker boundary.
 */
import assert from "node:assert/strict";
import { createLogger } from "../logger.ts";
import { createSessionRoutes } from "../routes/sessions.ts";
import { createTestApp, passGuards, startTestApp, stubManager, waitForState } from "./_helpers.ts";

Deno.test("an unexpected error answers 500 INTERNAL_ERROR without leaking its details, which the log has", async () => {
  const lines: Record<string, unknown>[] = [];
  const manager = stubManager({
    info: () => {
      throw new Error("database password is hunter2 at /srv/secret.ts:42");
    },
  });
  const app = createTestApp(createSessionRoutes({ manager, guards: passGuards() }), {
    log: createLogger("error", { sink: (_level, line) => lines.push(line) }),
  });
  const response = await app.request("/api/whatsapp/4915550005001/state", {
    headers: { "X-Request-Id": "boom-1" },
  });
  const text = await response.text();
  assert.equal(response.status, 500);
  assert.deepEqual(JSON.parse(text), {
    error: "Internal server error",
    code: "INTERNAL_ERROR",
    statusCode: 500,
  });
  assert.ok(!text.includes("hunter2") && !text.includes("secret.ts"));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].requestId, "boom-1");
  assert.match(String(lines[0].error), /hunter2/);
});

Deno.test("every response carries X-Request-Id, the caller's when it is a sane token", async () => {
  const server = await startTestApp();
  try {
    const mine = await server.request("GET", "/health", { headers: { "X-Request-Id": "abc-123" } });
    assert.equal(mine.headers.get("X-Request-Id"), "abc-123");
    await mine.body?.cancel();
    const odd = await server.request("GET", "/nope", {
      headers: { "X-Request-Id": "<script>alert(1)</script>" },
    });
    assert.match(odd.headers.get("X-Request-Id") ?? "", /^[0-9a-f-]{36}$/);
    await odd.body?.cancel();
    const refused = await server.request("GET", "/sessions", {
      anonymous: true,
      headers: { "X-Request-Id": "refused-1" },
    });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get("X-Request-Id"), "refused-1", "errors carry it too");
    await refused.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("engine errors keep their status across the Worker boundary: 404 for a missing chat", async () => {
  const server = await startTestApp({ SIMULATOR_SCAN_MS: "0" });
  try {
    await server.json("POST", "/4915550005002/start");
    await waitForState(server, "4915550005002", "CONNECTED");
    const { status, body } = await server.json("GET", "/4915550005002/chat/15551234567@c.us");
    assert.equal(status, 404);
    assert.equal(body.code, "NOT_FOUND");
    assert.match(String(body.error), /15551234567@c\.us/);
  } finally {
    await server.close();
  }
});
