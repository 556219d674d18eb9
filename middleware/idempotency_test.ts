import assert from "node:assert/strict";
import { Hono } from "hono";
import { ApiError, createErrorHandler } from "../errors.ts";
import { createLogger } from "../logger.ts";
import { openSqliteStore } from "../store/sqlite/store.ts";
import { ADMIN_PRINCIPAL } from "../tests/_helpers.ts";
import { idempotency } from "./idempotency.ts";
import type { AppEnv } from "./principal.ts";

/** An app whose one route runs `work` behind the middleware on a memory store. */
function appWith(work: () => Promise<Response>, options: { waitMs?: number } = {}) {
  const store = openSqliteStore(":memory:");
  const runs = { count: 0 };
  const app = new Hono<AppEnv>();
  app.onError(createErrorHandler(createLogger("silent")));
  app.post(
    "/send",
    async (c, next) => {
      c.set("principal", ADMIN_PRINCIPAL);
      await next();
    },
    idempotency({ store: store.idempotency, waitMs: options.waitMs ?? 10_000, pollMs: 10 }),
    async () => {
      runs.count++;
      return await work();
    },
  );
  const post = (key: string, body = "{}") =>
    app.request("/send", {
      method: "POST",
      headers: { "Idempotency-Key": key, "Content-Type": "application/json" },
      body,
    });
  return { post, runs, close: () => store.close() };
}

Deno.test("idempotency() answers 409 IDEMPOTENCY_KEY_IN_USE to a duplicate that waited its bound for the first", async () => {
  let finish!: () => void;
  let began!: () => void;
  const gate = new Promise<void>((resolve) => finish = resolve);
  const started = new Promise<void>((resolve) => began = resolve);
  const { post, runs, close } = appWith(async () => {
    began();
    await gate;
    return Response.json({ ok: true });
  }, { waitMs: 50 });
  try {
    const first = post("k");
    await started;
    const duplicate = await post("k");
    assert.equal(duplicate.status, 409);
    assert.equal((await duplicate.json()).code, "IDEMPOTENCY_KEY_IN_USE");
    assert.equal(duplicate.headers.get("Retry-After"), "1");
    finish();
    assert.equal((await first).status, 200);
    const replay = await post("k");
    assert.equal(replay.headers.get("Idempotent-Replayed"), "true");
    assert.equal(runs.count, 1);
  } finally {
    await close();
  }
});

Deno.test("idempotency() keeps no 5xx answer, nor a thrown error: the retry runs again", async () => {
  let answer: () => Response = () => Response.json({ error: "boom" }, { status: 500 });
  const { post, runs, close } = appWith(() => Promise.resolve(answer()));
  try {
    assert.equal((await post("k")).status, 500);
    answer = () => {
      throw new ApiError("TIMEOUT", "the engine did not answer");
    };
    assert.equal((await post("k")).status, 504);
    answer = () => Response.json({ sent: true });
    const ok = await post("k");
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("Idempotent-Replayed"), null);
    assert.equal(runs.count, 3);
    const replay = await post("k");
    assert.deepEqual(await replay.json(), { sent: true });
    assert.equal(runs.count, 3);
  } finally {
    await close();
  }
});

Deno.test("idempotency() keeps a 4xx that the same request would get again, and replays it", async () => {
  const { post, runs, close } = appWith(() =>
    Promise.resolve(Response.json({ code: "NOT_FOUND" }, { status: 404 }))
  );
  try {
    assert.equal((await post("k", '{"a":1}')).status, 404);
    const replay = await post("k", '{"a":1}');
    assert.equal(replay.status, 404);
    assert.equal(replay.headers.get("Idempotent-Replayed"), "true");
    assert.equal((await post("k", '{"a":2}')).status, 422, "another body, same key");
    assert.equal(runs.count, 1);
  } finally {
    await close();
  }
});
