import assert from "node:assert/strict";
import { Hono } from "hono";
import { ApiError } from "../errors.ts";
import { limitBody } from "./body_limit.ts";

const LIMIT = 1_000;

/** An app whose one route reads the whole body and says how long it was. */
function appWithLimit() {
  const app = new Hono();
  let reached = 0;
  app.use("*", limitBody(LIMIT));
  app.all("/echo", async (c) => {
    reached++;
    return c.json({ length: (await c.req.text()).length });
  });
  app.onError((error, c) =>
    error instanceof ApiError ? c.json(error.toBody(), error.status as 413) : c.text("bug", 500)
  );
  return { app, reached: () => reached };
}

function stream(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 100) controller.enqueue(bytes.slice(i, i + 100));
      controller.close();
    },
  });
}

Deno.test("limitBody() refuses a declared Content-Length over the limit before the route reads it", async () => {
  const { app, reached } = appWithLimit();
  const response = await app.request("/echo", {
    method: "POST",
    headers: { "content-length": String(LIMIT + 1) },
    body: "x".repeat(LIMIT + 1),
  });
  assert.equal(response.status, 413);
  assert.equal((await response.json()).code, "PAYLOAD_TOO_LARGE");
  assert.equal(reached(), 0);
});

Deno.test("limitBody() lets a declared Content-Length within the limit through whole", async () => {
  const { app } = appWithLimit();
  const response = await app.request("/echo", {
    method: "POST",
    headers: { "content-length": String(LIMIT) },
    body: "x".repeat(LIMIT),
  });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { length: LIMIT });
});

Deno.test("limitBody() counts a body without a declared length as it is read", async () => {
  const { app } = appWithLimit();
  const over = await app.request("/echo", { method: "POST", body: stream("x".repeat(LIMIT + 1)) });
  assert.equal(over.status, 413);
  const within = await app.request("/echo", { method: "POST", body: stream("x".repeat(LIMIT)) });
  assert.equal(within.status, 200);
  assert.deepEqual(await within.json(), { length: LIMIT });
});

Deno.test("limitBody() behind Deno.serve: 413 for a declared or a chunked body over the limit, 200 within", async () => {
  const { app } = appWithLimit();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}/echo`;
  try {
    const declared = await fetch(url, { method: "POST", body: "x".repeat(LIMIT + 1) });
    assert.equal(declared.status, 413);
    await declared.body?.cancel();
    const chunked = await fetch(url, { method: "POST", body: stream("x".repeat(LIMIT * 3)) });
    assert.equal(chunked.status, 413);
    await chunked.body?.cancel();
    const within = await fetch(url, { method: "POST", body: "x".repeat(LIMIT) });
    assert.deepEqual(await within.json(), { length: LIMIT });
    const get = await fetch(url);
    assert.deepEqual(await get.json(), { length: 0 });
  } finally {
    await server.shutdown();
  }
});
