import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { createLogger } from "../logger.ts";
import { openStore } from "../store/store.ts";
import { createSessionManager } from "./manager.ts";
import type { WorkerHost, WorkerHostOptions } from "./worker_host.ts";
import { decodeQrDataUrl } from "../tests/qr_decode.ts";

/** A stand-in Worker host whose engine takes `initMs` to start; records which hosts are up. */
function stubHosts(initMs: number) {
  const alive = new Set<string>();
  const createHost = (options: WorkerHostOptions): WorkerHost => {
    let up = true;
    alive.add(options.name);
    const down = () => {
      up = false;
      alive.delete(options.name);
    };
    return {
      get alive() {
        return up;
      },
      init: () => new Promise((resolve) => setTimeout(resolve, initMs)),
      call: () => Promise.resolve(undefined as never),
      stop: () => Promise.resolve(down()),
      terminate: down,
    };
  };
  return { alive, createHost };
}

Deno.test("shutdown() during a restore leaves no session running, none started after it", async () => {
  const store = openStore(":memory:");
  for (let i = 0; i < 8; i++) {
    store.sessions.save({ phoneNumber: `49155500${1000 + i}`, engine: "simulator" });
    store.sessions.setShouldRun(`49155500${1000 + i}`, true);
  }
  const { alive, createHost } = stubHosts(100);
  const dataDir = await Deno.makeTempDir();
  const config = loadConfig({ WA_ENGINE: "simulator", LOG_LEVEL: "silent", DATA_DIR: dataDir });
  const manager = createSessionManager({
    config,
    sessions: store.sessions,
    log: createLogger("silent"),
    createHost,
  });
  const restoring = manager.restore();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(alive.size > 0 && alive.size < 8, `restoring a few at a time (${alive.size} up)`);
  await manager.shutdown();
  assert.equal(alive.size, 0);
  await restoring;
  assert.deepEqual([...alive], [], "nothing was started after shutdown");
  assert.ok(
    store.sessions.list().every((record) => record.shouldRun),
    "every session stays marked started for the next boot",
  );
  store.close();
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("getQr draws the engine's current QR as a PNG, and a new QR as a new one", async () => {
  const store = openStore(":memory:");
  const dataDir = await Deno.makeTempDir();
  let showQr: (value: string) => void = () => {};
  const createHost = (options: WorkerHostOptions): WorkerHost => {
    showQr = (value) => options.onEvent({ type: "qr", value });
    return {
      alive: true,
      init: () => Promise.resolve(),
      call: () => Promise.resolve(undefined as never),
      stop: () => Promise.resolve(),
      terminate: () => {},
    };
  };
  const config = loadConfig({ WA_ENGINE: "simulator", LOG_LEVEL: "silent", DATA_DIR: dataDir });
  const manager = createSessionManager({
    config,
    sessions: store.sessions,
    log: createLogger("silent"),
    createHost,
  });
  try {
    await manager.start("4915550001", {});
    showQr("2@first,key,identity,1");
    const first = await manager.getQr("4915550001");
    assert.equal(decodeQrDataUrl(first), "2@first,key,identity,1");
    assert.equal(await manager.getQr("4915550001"), first, "the same QR, the same image");
    showQr("2@second,key,identity,1");
    assert.equal(decodeQrDataUrl(await manager.getQr("4915550001")), "2@second,key,identity,1");
  } finally {
    await manager.shutdown();
    store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("restore() lets other tasks run between the Workers it creates", async () => {
  const store = openStore(":memory:");
  for (let i = 0; i < 12; i++) {
    store.sessions.save({ phoneNumber: `49155500${2000 + i}`, engine: "simulator" });
    store.sessions.setShouldRun(`49155500${2000 + i}`, true);
  }
  // Creating a Worker blocks the main thread (~25-30 ms here); these hosts start at once, so
  // without a pause between them the whole restore would run before any request is looked at.
  const order: string[] = [];
  const createHost = (options: WorkerHostOptions): WorkerHost => {
    order.push(`create ${options.name}`);
    return {
      alive: true,
      init: () => Promise.resolve(),
      call: () => Promise.resolve(undefined as never),
      stop: () => Promise.resolve(),
      terminate: () => {},
    };
  };
  const dataDir = await Deno.makeTempDir();
  const config = loadConfig({ WA_ENGINE: "simulator", LOG_LEVEL: "silent", DATA_DIR: dataDir });
  const manager = createSessionManager({
    config,
    sessions: store.sessions,
    log: createLogger("silent"),
    createHost,
  });
  const restoring = manager.restore();
  setTimeout(() => order.push("a request"), 0);
  await restoring;
  assert.equal(order.filter((step) => step.startsWith("create")).length, 12);
  const request = order.indexOf("a request");
  assert.ok(
    request >= 0 && request <= 4,
    `the request ran after at most the first batch of Workers: ${order.join(", ")}`,
  );
  await manager.shutdown();
  store.close();
  await Deno.remove(dataDir, { recursive: true });
});
