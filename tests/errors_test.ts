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

Deno.test("every response carries X-Request-Id once, the caller's when it is a sane token", async () => {
  const server = await startTestApp();
  try {
    const sane = ["abc-123", "trace.7:A_b", "x".repeat(128), crypto.randomUUID()];
    for (const id of sane) {
      const response = await server.request("GET", "/health", { headers: { "X-Request-Id": id } });
      assert.equal(response.headers.get("X-Request-Id"), id, "echoed as it is, once");
      await response.body?.cancel();
    }
    const insane = ["<script>alert(1)</script>", "x".repeat(129), "a b", "a=b", "ü", ""];
    for (const id of insane) {
      const response = await server.request("GET", "/nope", { headers: { "X-Request-Id": id } });
      assert.match(response.headers.get("X-Request-Id") ?? "", /^[0-9a-f-]{36}$/, id);
      await response.body?.cancel();
    }
    const ids = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const response = await server.request("GET", "/health");
      ids.add(response.headers.get("X-Request-Id") ?? "");
      await response.body?.cancel();
    }
    assert.equal(ids.size, 2, "a new id for each request that brings none");
    // Errors of every origin carry it too: a guard's 401, a 405, a malformed body's 400.
    const refused = await server.request("GET", "/sessions", {
      anonymous: true,
      headers: { "X-Request-Id": "refused-1" },
    });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get("X-Request-Id"), "refused-1");
    await refused.body?.cancel();
    const wrongMethod = await server.request("PUT", "/sessions", {
      headers: { "X-Request-Id": "method-1" },
    });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get("X-Request-Id"), "method-1");
    await wrongMethod.body?.cancel();
    const malformed = await server.request("POST", "/4915550005003/start", {
      body: "{not json",
      headers: { "X-Request-Id": "malformed-1" },
    });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.headers.get("X-Request-Id"), "malformed-1");
    await malformed.body?.cancel();
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
