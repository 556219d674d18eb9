/**
 * @module
 * Simulator and waha Workers run below the server's main thread (`WORKER_NICE`, Linux): the
 * kernel answers requests first while hundreds of them start.
 */
import assert from "node:assert/strict";
import { startTestApp, waitForState } from "./_helpers.ts";

/** The nice value of each of this process's Worker threads (Deno names them `worker…`), by id. */
function workerThreads(): Map<string, number> {
  const nices = new Map<string, number>();
  for (const task of Deno.readDirSync("/proc/self/task")) {
    try {
      const comm = Deno.readTextFileSync(`/proc/self/task/${task.name}/comm`);
      if (!comm.startsWith("worker")) continue;
      const stat = Deno.readTextFileSync(`/proc/self/task/${task.name}/stat`);
      nices.set(task.name, Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return nices;
}

/** The nice values of the Worker threads made since `before`. */
function newWorkerNices(before: Map<string, number>): number[] {
  return [...workerThreads()].filter(([tid]) => !before.has(tid)).map(([, nice]) => nice);
}

function ownNice(): number {
  const stat = Deno.readTextFileSync("/proc/thread-self/stat");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}

const linux = Deno.build.os === "linux";

Deno.test("a simulator number's Worker runs at WORKER_NICE, below the main thread", {
  ignore: !linux,
}, async () => {
  const before = workerThreads();
  const server = await startTestApp({ WORKER_NICE: "12", SIMULATOR_SCAN_MS: "0" });
  try {
    assert.equal((await server.json("POST", "/4915550099001/start")).status, 200);
    await waitForState(server, "4915550099001", "CONNECTED");
    const nices = newWorkerNices(before);
    assert.ok(nices.includes(Math.max(12, ownNice())), `${nices}`);
    assert.equal(ownNice() < 12, true, "the main thread keeps its own priority");
  } finally {
    await server.close();
  }
});

Deno.test("WORKER_NICE=0 leaves a simulator number's Worker at the server's priority", {
  ignore: !linux,
}, async () => {
  const before = workerThreads();
  const server = await startTestApp({ WORKER_NICE: "0", SIMULATOR_SCAN_MS: "0" });
  try {
    assert.equal((await server.json("POST", "/4915550099002/start")).status, 200);
    await waitForState(server, "4915550099002", "CONNECTED");
    const nices = newWorkerNices(before);
    assert.ok(nices.length > 0 && nices.every((nice) => nice === ownNice()), `${nices}`);
  } finally {
    await server.close();
  }
});
