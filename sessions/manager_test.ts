import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { createLogger } from "../logger.ts";
import { openStore } from "../store/store.ts";
import { createSessionManager } from "./manager.ts";
import type { WorkerHost, WorkerHostOptions } from "./worker_host.ts";
import { decodeQrDataUrl } from "../tests/qr_decode.ts";

/** A stand-in Worker host whose engine takes `initMs` to start (0: at once). */
function stubHost(initMs = 0, onStop: () => void = () => {}): WorkerHost {
  let up = true;
  const down = () => {
    up = false;
    onStop();
  };
  return {
    get alive() {
      return up;
    },
    init: () =>
      initMs > 0 ? new Promise((resolve) => setTimeout(resolve, initMs)) : Promise.resolve(),
    call: () => Promise.resolve(undefined as never),
    stop: () => Promise.resolve(down()),
    terminate: down,
  };
}

/** A manager over an in-memory store in which `started` numbers are marked to run. */
async function managerWith(
  createHost: (options: WorkerHostOptions) => WorkerHost,
  started: string[] = [],
) {
  const store = openStore(":memory:");
  for (const phoneNumber of started) {
    store.sessions.save({ phoneNumber, engine: "simulator" });
    store.sessions.setShouldRun(phoneNumber, true);
  }
  const dataDir = await Deno.makeTempDir();
  const config = loadConfig({ WA_ENGINE: "simulator", LOG_LEVEL: "silent", DATA_DIR: dataDir });
  const manager = createSessionManager({
    config,
    sessions: store.sessions,
    log: createLogger("silent"),
    createHost,
  });
  return {
    manager,
    store,
    async close() {
      await manager.shutdown();
      store.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

const numbers = (count: number, first: number) =>
  Array.from({ length: count }, (_, i) => `49155500${first + i}`);

Deno.test("shutdown() during a restore leaves no session running, none started after it", async () => {
  const alive = new Set<string>();
  const { manager, store, close } = await managerWith((options) => {
    alive.add(options.name);
    return stubHost(100, () => alive.delete(options.name));
  }, numbers(8, 1000));
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
  await close();
});

Deno.test("getQr draws the engine's current QR as a PNG, and a new QR as a new one", async () => {
  let showQr: (value: string) => void = () => {};
  const { manager, close } = await managerWith((options) => {
    showQr = (value) => options.onEvent({ type: "qr", value });
    return stubHost();
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
    await close();
  }
});

Deno.test("restore() lets other tasks run between the Workers it creates", async () => {
  // Creating a Worker blocks the main thread (~25-30 ms here); these hosts start at once, so
  // without a pause between them the whole restore would run before any request is looked at.
  const order: string[] = [];
  const { manager, close } = await managerWith((options) => {
    order.push(`create ${options.name}`);
    return stubHost();
  }, numbers(12, 2000));
  const restoring = manager.restore();
  setTimeout(() => order.push("a request"), 0);
  await restoring;
  assert.equal(order.filter((step) => step.startsWith("create")).length, 12);
  const request = order.indexOf("a request");
  assert.ok(
    request >= 0 && request <= 4,
    `the request ran after at most the first batch of Workers: ${order.join(", ")}`,
  );
  await close();
});
