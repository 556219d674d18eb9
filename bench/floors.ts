/**
 * @module
 * The floors under `send-text` on this machine: what the two things a send cannot skip cost on
 * their own, measured in one process without HTTP.
 *
 * 1. A round trip to a Worker: a plain `postMessage` echo, and the same call through Comlink on
 *    the batched channel the session Workers use, with 1 and 16 calls in flight. Wall time per
 *    call, and CPU of the calling (main) thread per call from `/proc/thread-self/stat`.
 * 2. Storing a send's event durably before its answer: the real SQLite outbox
 *    (`openSqliteStore`, WAL, `synchronous = NORMAL`) in a temporary `DATA_DIR`, one send's
 *    `message.any` per commit (one request at a time) and 16 per commit (a group commit under
 *    load).
 *
 * `deno run -A bench/floors.ts` prints a Markdown table (also run by `deno task bench`).
 */
import * as Comlink from "comlink";
import { batchedChannel } from "../sessions/batched_endpoint.ts";
import { toEnvelope } from "../events/envelope.ts";
import { textMessageEvent } from "../events/test_events.ts";
import { openSqliteStore } from "../store/sqlite/store.ts";

/** CPU time of the calling thread in microseconds (utime + stime, 10 ms ticks). */
function threadCpuUs(): number {
  const stat = Deno.readTextFileSync("/proc/thread-self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

interface Floor {
  what: string;
  wallUs: number;
  cpuUs: number;
}

async function measure(
  what: string,
  inFlight: number,
  count: number,
  one: () => Promise<unknown> | unknown,
): Promise<Floor> {
  let started = 0;
  const run = async () => {
    while (started < count) {
      started++;
      await one();
    }
  };
  // Warm-up: the JIT, the Worker's first messages.
  started = count - Math.min(count, 2_000);
  await Promise.all(Array.from({ length: inFlight }, run));
  started = 0;
  const cpu = threadCpuUs();
  const began = performance.now();
  await Promise.all(Array.from({ length: inFlight }, run));
  const wallUs = ((performance.now() - began) * 1000) / count;
  return { what, wallUs, cpuUs: (threadCpuUs() - cpu) / count };
}

async function workerFloors(): Promise<Floor[]> {
  const url = new URL("./floors_worker.ts", import.meta.url);
  const plain = new Worker(url, { type: "module", name: "plain" });
  const waiting = new Map<number, () => void>();
  plain.onmessage = (event: MessageEvent<{ id: number }>) => {
    waiting.get(event.data.id)?.();
    waiting.delete(event.data.id);
  };
  let nextId = 0;
  const echo = () =>
    new Promise<void>((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      plain.postMessage({ id, method: "sendText", args: ["15551234567@c.us", "Hello"] });
    });

  const batched = new Worker(url, { type: "module", name: "comlink" });
  let inFlight = 0;
  const channel = batchedChannel(batched, { sendAtOnce: () => inFlight === 0 });
  const remote = Comlink.wrap<{ call(method: string, args: unknown[]): unknown }>(
    channel.endpoint,
  );
  const callRemote = remote.call; // As the session's supervisor does: one proxy, read once.
  const call = async () => {
    const answer = callRemote("sendText", ["15551234567@c.us", "Hello"]);
    inFlight++;
    await answer;
    inFlight--;
  };

  const floors = [
    await measure("Worker round trip, plain postMessage, 1 in flight", 1, 5_000, echo),
    await measure("Worker round trip, plain postMessage, 16 in flight", 16, 40_000, echo),
    await measure("Worker round trip, Comlink + batched endpoint, 1 in flight", 1, 5_000, call),
    await measure("Worker round trip, Comlink + batched endpoint, 16 in flight", 16, 40_000, call),
  ];
  channel.close();
  plain.terminate();
  batched.terminate();
  return floors;
}

async function commitFloors(): Promise<Floor[]> {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-floors-" });
  const store = openSqliteStore(dataDir);
  const { outbox } = store;
  const session = "4915000000001";
  const sent = (n: number) =>
    toEnvelope(textMessageEvent(session, `Hello from the wa-gateway bench ${n}`), "bench");
  let n = 0;
  const commit = (sends: number) => () =>
    outbox.append(Array.from({ length: sends }, () => sent(n++)), { destinationsFor: () => [] });
  try {
    const one = await measure(
      "durable commit of 1 send's event (1 request at a time)",
      1,
      3_000,
      commit(1),
    );
    const group = await measure(
      "durable commit of 16 sends' events (group commit)",
      1,
      500,
      commit(16),
    );
    return [one, {
      ...group,
      what: `${group.what}, per send`,
      wallUs: group.wallUs / 16,
      cpuUs: group.cpuUs / 16,
    }];
  } finally {
    await store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

if (import.meta.main) {
  const floors = [...await workerFloors(), ...await commitFloors()];
  console.log("| floor | wall µs per call | main-thread CPU µs per call |");
  console.log("|---|---:|---:|");
  for (const floor of floors) {
    console.log(`| ${floor.what} | ${floor.wallUs.toFixed(1)} | ${floor.cpuUs.toFixed(1)} |`);
  }
}
