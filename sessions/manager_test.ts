import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { ApiError } from "../errors.ts";
import { createLogger } from "../logger.ts";
import { openSqliteStore } from "../store/sqlite/store.ts";
import { createSessionManager } from "./manager.ts";
import { START_CONCURRENCY } from "./start_pace.ts";
import { WorkerDeadError, type WorkerHost, type WorkerHostOptions } from "./worker_host.ts";
import { decodeQrDataUrl } from "../tests/qr_decode.ts";

/**
 * A stand-in Worker host. `holdInit`: its engine does not finish starting until the host is
 * stopped (as a real engine still loading when the server stops).
 */
function stubHost(options: { holdInit?: boolean; onStop?: () => void } = {}): WorkerHost {
  let up = true;
  let endInit = () => {};
  const down = () => {
    up = false;
    endInit();
    options.onStop?.();
  };
  return {
    get alive() {
      return up;
    },
    init: () =>
      options.holdInit
        ? new Promise((_, reject) => endInit = () => reject(new WorkerDeadError("stopped")))
        : Promise.resolve(),
    call: () => Promise.resolve(undefined as never),
    stop: () => Promise.resolve(down()),
    terminate: down,
  };
}

/**
 * A manager over an in-memory store in which `started` numbers are marked to run; disposing it
 * shuts the manager down and deletes its data.
 */
async function managerWith(
  createHost: (options: WorkerHostOptions) => WorkerHost,
  started: string[] = [],
) {
  const store = openSqliteStore(":memory:");
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
    async [Symbol.asyncDispose]() {
      await manager.shutdown();
      await store.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

const numbers = (count: number, first: number) =>
  Array.from({ length: count }, (_, i) => `49155500${first + i}`);

Deno.test("restore() starts a few sessions at a time; shutdown() during it leaves none running and starts none after", async () => {
  const alive = new Set<string>();
  const created: string[] = [];
  let batchCreated = () => {};
  const firstBatch = new Promise<void>((resolve) => batchCreated = resolve);
  await using env = await managerWith((options) => {
    alive.add(options.name);
    created.push(options.name);
    if (created.length === START_CONCURRENCY.simulator) batchCreated();
    return stubHost({ holdInit: true, onStop: () => alive.delete(options.name) });
  }, numbers(2 * START_CONCURRENCY.simulator, 1000));
  const restoring = env.manager.restore();
  await firstBatch;
  // None of these engines finishes starting: whatever else the restore would start, it starts
  // within the next turns of the event loop.
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(alive.size, START_CONCURRENCY.simulator, "restoring a few at a time");
  await env.manager.shutdown();
  assert.equal(alive.size, 0);
  await restoring;
  assert.deepEqual([...alive], [], "nothing was started after shutdown");
  assert.equal(created.length, START_CONCURRENCY.simulator);
  assert.ok(
    (await env.store.sessions.list()).every((record) => record.shouldRun),
    "every session stays marked started for the next boot",
  );
});

Deno.test("getQr draws the engine's current QR as a PNG, and a new QR as a new one", async () => {
  let showQr: (value: string) => void = () => {};
  await using env = await managerWith((options) => {
    showQr = (value) => options.onEvent({ type: "qr", value });
    return stubHost();
  });
  const { manager } = env;
  await manager.start("4915550001", {});
  showQr("2@first,key,identity,1");
  const first = await manager.getQr("4915550001");
  assert.equal(decodeQrDataUrl(first), "2@first,key,identity,1");
  assert.equal(await manager.getQr("4915550001"), first, "the same QR, the same image");
  showQr("2@second,key,identity,1");
  assert.equal(decodeQrDataUrl(await manager.getQr("4915550001")), "2@second,key,identity,1");
});

Deno.test("restore() lets other tasks run between the Workers it creates", async () => {
  // These hosts start at once, so without a pause between them the whole restore would run
  // before any request is looked at.
  const order: string[] = [];
  await using env = await managerWith((options) => {
    order.push(`create ${options.name}`);
    return stubHost();
  }, numbers(12, 2000));
  const restoring = env.manager.restore();
  setTimeout(() => order.push("a request"), 0);
  await restoring;
  assert.equal(order.filter((step) => step.startsWith("create")).length, 12);
  const request = order.indexOf("a request");
  assert.ok(
    request >= 0 && request <= START_CONCURRENCY.simulator,
    `the request ran after at most the first batch of Workers: ${order.join(", ")}`,
  );
});

Deno.test("session().assertReady() checks the caller, then that the session is WORKING", async () => {
  const phone = "4915550001";
  let report: WorkerHostOptions["onEvent"] = () => {};
  await using env = await managerWith((options) => {
    report = options.onEvent;
    return stubHost();
  });
  const owner = { kind: "account" as const, accountId: "account-a" };
  const stranger = { kind: "account" as const, accountId: "account-b" };
  await env.manager.start(phone, { caller: owner });
  const refused = (status: number) => (error: unknown) =>
    error instanceof ApiError && error.status === status;

  await assert.rejects(env.manager.session(phone, stranger).assertReady(), refused(403));
  await assert.rejects(env.manager.session(phone, owner).assertReady(), refused(409));
  report({ type: "status", status: "WORKING", me: { id: `${phone}@c.us`, pushName: "A" } });
  await env.manager.session(phone, owner).assertReady();
  await assert.rejects(env.manager.session(phone, stranger).assertReady(), refused(403));
});

Deno.test("a polite evict lets a call already with the Worker answer with its events handed out first, and refuses new calls", async () => {
  const phone = "4915550010";
  let report: WorkerHostOptions["onEvent"] = () => {};
  let answer: ((value: unknown) => void) | null = null;
  const emitted: string[] = [];
  const store = openSqliteStore(":memory:");
  const dataDir = await Deno.makeTempDir();
  const manager = createSessionManager({
    config: loadConfig({ WA_ENGINE: "simulator", LOG_LEVEL: "silent", DATA_DIR: dataDir }),
    sessions: store.sessions,
    log: createLogger("silent"),
    onEvent: (event) => emitted.push(event.data.type),
    createHost: (options) => {
      report = options.onEvent;
      return {
        ...stubHost(),
        call: () => new Promise((resolve) => answer = resolve as (value: unknown) => void),
      };
    },
  });
  try {
    await manager.start(phone, {});
    report({ type: "status", status: "WORKING", me: { id: `${phone}@c.us`, pushName: "A" } });
    const sending = manager.session(phone).sendText({ chatId: "15550000001@c.us", text: "hi" });
    for (let i = 0; i < 100 && answer === null; i++) await new Promise((r) => setTimeout(r, 1));
    assert.ok(answer, "the send reached the Worker");
    const evicting = manager.evict(phone, { reason: "Handed over", graceMs: 2_000 });
    await assert.rejects(
      manager.session(phone).sendText({ chatId: "15550000001@c.us", text: "late" }),
      (error: unknown) => error instanceof ApiError && error.status === 409,
    );
    // The Worker sends: the message's event first, then the answer (its port's order).
    const message = {
      id: "true_15550000001@c.us_3EB0AA",
      chatId: "15550000001@c.us",
      from: `${phone}@c.us`,
      to: "15550000001@c.us",
      author: null,
      type: "chat",
      timestamp: 1,
      hasMedia: false,
      media: null,
      ack: 1,
      quotedMsgId: null,
      fromMe: true,
      body: "hi",
    };
    report({ type: "message.any", message } as Parameters<typeof report>[0]);
    (answer as (value: unknown) => void)({ messageId: message.id, timestamp: 1 });
    assert.deepEqual(await sending, { messageId: message.id, timestamp: 1 });
    await evicting;
    assert.ok(emitted.includes("message.any"), "the answered send's event was handed out");
  } finally {
    await manager.shutdown();
    await store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
