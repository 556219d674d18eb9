/**
 * @module
 * Engine failures keep their meaning from inside a real session Worker to the HTTP answer: each
 * kind of engine error crosses the boundary as data and becomes its status, a bug becomes a `500`
 * without its details, and an answer that cannot be cloned becomes an error instead of silence.
 * The real manager, Worker host, channel, Worker API and app, over a fixture engine
 * (`tests/fixtures/failing_engine_worker.ts`) that answers `sendText` by the text it is given.
 */
import assert from "node:assert/strict";
import type { MiddlewareHandler } from "hono";
import { loadConfig } from "../config.ts";
import { createLogger, type LogSink } from "../logger.ts";
import { createMediaResolver } from "../media/media_input.ts";
import type { AuthGuards } from "../middleware/guards.ts";
import type { AppEnv } from "../middleware/principal.ts";
import { createApp } from "../routes/app.ts";
import { createSessionManager } from "../sessions/manager.ts";
import { createWorkerHost } from "../sessions/worker_host.ts";
import { openSqliteStore } from "../store/sqlite/store.ts";

const PHONE = "4915550005101";
const FIXTURE = new URL("./fixtures/failing_engine_worker.ts", import.meta.url);

async function startFixtureApp() {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-engine-errors-" });
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: "error", API_KEY: "k".repeat(32) });
  const store = openSqliteStore(dataDir);
  const lines: Record<string, unknown>[] = [];
  const sink: LogSink = (_level, line) => lines.push(line);
  const log = createLogger("error", { sink });
  const manager = createSessionManager({
    config,
    sessions: store.sessions,
    log,
    createHost: (options) => createWorkerHost({ ...options, workerUrl: FIXTURE }),
  });
  const pass: MiddlewareHandler<AppEnv> = async (_c, next) => {
    await next();
  };
  const guards: AuthGuards = {
    requireAuth: pass,
    requireSingleAccountProtected: () => pass,
    requireSessionInBody: () => pass,
    requireWahaProtected: pass,
    requireAdmin: pass,
  };
  const app = createApp({
    manager,
    guards,
    log,
    version: "test",
    startedAt: Date.now(),
    media: createMediaResolver(config.media),
  });
  await manager.start(PHONE, { engine: "simulator" });
  for (let i = 0; i < 400 && (await manager.info(PHONE)).status !== "WORKING"; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.equal((await manager.info(PHONE)).status, "WORKING");
  return {
    lines,
    async send(text: string) {
      const response = await app.request(`/api/whatsapp/${PHONE}/send-text`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ chatId: "15551234567@c.us", text }),
      });
      return { status: response.status, body: await response.json() };
    },
    async [Symbol.asyncDispose]() {
      await manager.shutdown();
      await store.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

Deno.test("each kind of engine error thrown in a session's Worker answers its status through HTTP", async () => {
  await using fixture = await startFixtureApp();
  const expected = [
    ["NOT_FOUND", 404, "Refused with NOT_FOUND"],
    ["NOT_IMPLEMENTED", 501, "Refused with NOT_IMPLEMENTED"],
    ["BAD_REQUEST", 400, "Refused with BAD_REQUEST"],
    // The engine lost its connection before the manager heard of it.
    ["NOT_READY", 409, `Session "${PHONE}" is not connected (status WORKING)`],
  ] as const;
  for (const [kind, status, error] of expected) {
    const code = kind === "NOT_READY" ? "CLIENT_NOT_READY" : kind;
    assert.deepEqual(await fixture.send(kind), {
      status,
      body: { error, code, statusCode: status },
    });
  }
  assert.deepEqual(await fixture.send("hello"), {
    status: 200,
    body: { messageId: "sent hello", timestamp: 1 },
  });
});

Deno.test("a bug in a session's Worker answers 500 without its details, and the log has them", async () => {
  await using fixture = await startFixtureApp();
  const { status, body } = await fixture.send("bug");
  assert.equal(status, 500);
  assert.deepEqual(body, {
    error: "Internal server error",
    code: "INTERNAL_ERROR",
    statusCode: 500,
  });
  const logged = fixture.lines.find((line) => line.msg === "unhandled error");
  assert.match(String(logged?.error), /fixture bug in \/srv\/engine\.ts:42/);
});

Deno.test("an engine answer that cannot be cloned answers 500 at once, not a timeout", async () => {
  await using fixture = await startFixtureApp();
  const { status, body } = await fixture.send("unclonable");
  assert.equal(status, 500);
  assert.equal(body.code, "INTERNAL_ERROR");
  const logged = fixture.lines.find((line) => line.msg === "unhandled error");
  assert.match(String(logged?.error), /Unserializable return value/);
  assert.equal((await fixture.send("after")).status, 200, "the session goes on");
});
