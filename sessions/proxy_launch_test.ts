/**
 * @module
 * A number's proxy as the manager handles it: checked for the caller when it is set (a refused one
 * leaves no claim), kept in the store, and resolved and checked again at every launch, so a name
 * that pointed outside when a tenant set it cannot aim the Chromium inside later.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { ApiError } from "../errors.ts";
import { createLogger } from "../logger.ts";
import { openSqliteStore } from "../store/sqlite/store.ts";
import type { EngineOptions } from "./engine.ts";
import { createSessionManager } from "./manager.ts";
import type { WorkerHost } from "./worker_host.ts";

const PHONE = "4915550001234";
const TENANT = { kind: "account" as const, accountId: "account-a" };

async function setUp() {
  const launches: EngineOptions[] = [];
  const dns = { address: "198.51.99.7" };
  const store = openSqliteStore(":memory:");
  const dataDir = await Deno.makeTempDir();
  const manager = createSessionManager({
    config: loadConfig({ WA_ENGINE: "wwebjs", LOG_LEVEL: "silent", DATA_DIR: dataDir }),
    sessions: store.sessions,
    log: createLogger("silent"),
    resolveHost: () => Promise.resolve([{ address: dns.address, family: 4 }]),
    createHost: (): WorkerHost => {
      let up = true;
      return {
        get alive() {
          return up;
        },
        init: (_engine, options) => {
          launches.push(options);
          return Promise.resolve();
        },
        call: () => Promise.resolve(undefined as never),
        stop: () => Promise.resolve(void (up = false)),
        terminate: () => void (up = false),
      };
    },
  });
  return {
    manager,
    store,
    launches,
    dns,
    async [Symbol.asyncDispose]() {
      await manager.shutdown();
      store.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

async function until(what: string, ok: () => Promise<boolean> | boolean) {
  for (let i = 0; i < 200; i++) {
    if (await ok()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never: ${what}`);
}

Deno.test("a tenant's proxy on a private host is refused before the number is claimed", async () => {
  await using env = await setUp();
  env.dns.address = "10.0.0.8";
  await assert.rejects(
    env.manager.start(PHONE, { caller: TENANT, proxy: "http://proxy.example.com:3128" }),
    (error: unknown) => error instanceof ApiError && error.status === 403,
  );
  assert.equal(await env.store.sessions.get(PHONE), null, "no claim was left behind");
  assert.equal(env.launches.length, 0);
});

Deno.test("a tenant's proxy is launched by the address checked, and refused at the next launch once its name points inside", async () => {
  await using env = await setUp();
  await env.manager.start(PHONE, { caller: TENANT, proxy: "http://u:p@proxy.example.com:3128" });
  await until("the first launch", () => env.launches.length === 1);
  assert.deepEqual(env.launches[0].proxy, {
    server: "http://198.51.99.7:3128",
    credentials: { username: "u", password: "p" },
  });
  assert.equal(
    (await env.manager.info(PHONE)).proxy,
    "http://u:***@proxy.example.com:3128",
  );

  env.dns.address = "127.0.0.1";
  await env.manager.restart(PHONE, TENANT);
  await until(
    "the launch to fail",
    async () => (await env.manager.info(PHONE)).status === "FAILED",
  );
  assert.equal(env.launches.length, 1, "no Worker was given the inside address");
  assert.match(
    String((await env.manager.info(PHONE)).reason),
    /This proxy's host is not allowed/,
  );
});

Deno.test("the admin may set a private proxy, and null removes it so PROXY_URL applies", async () => {
  await using env = await setUp();
  env.dns.address = "10.0.0.8";
  await env.manager.start(PHONE, { proxy: "socks5://proxy.internal:1080" });
  await until("the launch", () => env.launches.length === 1);
  assert.equal(env.launches[0].proxy?.server, "socks5://10.0.0.8:1080");
  await env.manager.start(PHONE, { proxy: null });
  assert.deepEqual((await env.store.sessions.get(PHONE))?.settings, {});
  await env.manager.restart(PHONE);
  await until("the second launch", () => env.launches.length === 2);
  assert.equal(env.launches[1].proxy, undefined, "no PROXY_URL here: no proxy");
});
