import assert from "node:assert/strict";
import { ApiError } from "../errors.ts";
import { createCalls } from "./calls.ts";
import { createEntry, type SessionEntry } from "./session_entry.ts";
import { CallTimeoutError, type WorkerHost } from "./worker_host.ts";

const PHONE = "4915550001";

/** A Worker host whose calls answer as `answer` says (a value, or a thrown error). */
function scriptedHost(answer: (method: string) => unknown): WorkerHost {
  return {
    alive: true,
    init: () => Promise.resolve(),
    call: <T>(method: string) => {
      try {
        return Promise.resolve(answer(method) as T);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    stop: () => Promise.resolve(),
    terminate: () => {},
  };
}

function workingEntry(host: WorkerHost): SessionEntry {
  const entry = createEntry(PHONE, "simulator");
  entry.status = "WORKING";
  entry.host = host;
  return entry;
}

Deno.test("assertReady() refuses a session that is not WORKING with 409 naming its status", () => {
  const calls = createCalls({ timeoutMs: 1_000, kill: () => {} });
  const waiting = createEntry(PHONE, "simulator");
  waiting.status = "SCAN_QR_CODE";
  waiting.host = scriptedHost(() => null);
  for (const [entry, status] of [[waiting, "SCAN_QR_CODE"], [undefined, "STOPPED"]] as const) {
    assert.throws(
      () => calls.assertReady(PHONE, entry),
      (error: unknown) =>
        error instanceof ApiError && error.status === 409 && error.code === "CLIENT_NOT_READY" &&
        error.message.includes(`status ${status}`),
    );
  }
  calls.assertReady(PHONE, workingEntry(scriptedHost(() => null)));
});

Deno.test("call() on a session that is not WORKING never reaches its Worker", async () => {
  const reached: string[] = [];
  const calls = createCalls({ timeoutMs: 1_000, kill: () => {} });
  const entry = workingEntry(scriptedHost((method) => reached.push(method)));
  entry.status = "CONFLICT";
  await assert.rejects(calls.call(PHONE, entry, "getProfile", []), /status CONFLICT/);
  assert.deepEqual(reached, []);
});

Deno.test("call() kills a Worker after three timeouts in a row, and an answer starts the count again", async () => {
  const kills: string[] = [];
  let hang = true;
  const host = scriptedHost((method) => {
    if (hang) throw new CallTimeoutError(method, 1_000);
    return "answer";
  });
  const calls = createCalls({ timeoutMs: 1_000, kill: (_, __, reason) => kills.push(reason) });
  const entry = workingEntry(host);
  const timedOut = (error: unknown) => error instanceof ApiError && error.code === "TIMEOUT";

  for (let i = 0; i < 2; i++) {
    await assert.rejects(calls.call(PHONE, entry, "getProfile", []), timedOut);
  }
  hang = false;
  assert.equal(await calls.call(PHONE, entry, "getProfile", []), "answer");
  hang = true;
  for (let i = 0; i < 2; i++) {
    await assert.rejects(calls.call(PHONE, entry, "getProfile", []), timedOut);
  }
  assert.deepEqual(kills, [], "two in a row, twice, is not wedged");

  await assert.rejects(calls.call(PHONE, entry, "getProfile", []), timedOut);
  assert.deepEqual(kills, ["3 calls in a row timed out"]);
});

Deno.test("call() answers once the events are durable, saying whether other calls were in flight", async () => {
  const flushes: boolean[] = [];
  let release: () => void = () => {};
  const slow = new Promise<void>((resolve) => release = resolve);
  const host: WorkerHost = {
    ...scriptedHost(() => null),
    call: <T>(
      method: string,
    ) => (method === "getProfile" ? slow.then(() => "slow" as T) : Promise.resolve("fast" as T)),
  };
  const calls = createCalls({
    timeoutMs: 1_000,
    kill: () => {},
    flushEvents: (alone) => {
      flushes.push(alone);
      return Promise.resolve();
    },
  });
  const entry = workingEntry(host);
  const first = calls.call(PHONE, entry, "getProfile", []);
  assert.equal(await calls.call(PHONE, entry, "listContacts", []), "fast");
  release();
  assert.equal(await first, "slow");
  assert.deepEqual(flushes, [false, true]);
});
