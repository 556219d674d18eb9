/**
 * @module
 * An engine that cannot do something answers `501 NOT_IMPLEMENTED` through HTTP, naming the
 * capability and the engine: the real session manager, and each route group alone on the app's
 * shell, over a stand-in Worker host whose engine is connected but refuses every capability call
 * the way engine.ts's `notImplemented` does.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { createLogger } from "../logger.ts";
import { createMediaResolver } from "../media/media_input.ts";
import { createChatRoutes } from "../routes/chats.ts";
import { createGroupRoutes } from "../routes/groups.ts";
import { createProfileRoutes } from "../routes/profile.ts";
import { type EngineMethod, notImplemented } from "../sessions/engine.ts";
import { createSessionManager } from "../sessions/manager.ts";
import type { WorkerHost, WorkerHostOptions } from "../sessions/worker_host.ts";
import { openSqliteStore } from "../store/sqlite/store.ts";
import { createTestApp, passGuards } from "./_helpers.ts";

const PHONE = "4915550005001";

function connectedHostRefusing(options: WorkerHostOptions): WorkerHost {
  let alive = true;
  return {
    get alive() {
      return alive;
    },
    init() {
      options.onEvent({
        type: "status",
        status: "WORKING",
        me: { id: `${PHONE}@c.us`, pushName: "x" },
      });
      return Promise.resolve();
    },
    call<T>(method: EngineMethod): Promise<T> {
      return Promise.reject(notImplemented(method, "wwebjs"));
    },
    stop() {
      alive = false;
      return Promise.resolve();
    },
    terminate() {
      alive = false;
    },
  };
}

Deno.test("a capability the engine lacks answers 501 naming the capability and the engine", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-501-" });
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: "silent", API_KEY: "k".repeat(32) });
  const store = openSqliteStore(dataDir);
  const log = createLogger("silent");
  const manager = createSessionManager({
    config,
    sessions: store.sessions,
    log,
    createHost: connectedHostRefusing,
  });
  const deps = { manager, guards: passGuards(), media: createMediaResolver(config.media) };
  try {
    await manager.start(PHONE, { engine: "wwebjs" });
    assert.equal((await manager.info(PHONE)).status, "WORKING");
    for (
      const [router, method, path, capability] of [
        [createProfileRoutes(deps), "GET", "profile", "getProfile"],
        [createChatRoutes(deps), "GET", "chats", "listChats"],
        [createGroupRoutes(deps), "POST", "group/120363000000000001@g.us/leave", "leaveGroup"],
      ] as const
    ) {
      const app = createTestApp(router);
      const response = await app.request(`/api/whatsapp/${PHONE}/${path}`, { method });
      assert.equal(response.status, 501, path);
      assert.deepEqual(await response.json(), {
        error: `"${capability}" is not supported by the wwebjs engine`,
        code: "NOT_IMPLEMENTED",
        statusCode: 501,
      });
    }
  } finally {
    await manager.shutdown();
    await store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
