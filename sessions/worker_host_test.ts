import assert from "node:assert/strict";
import type { EngineEvent, EngineMethod, EngineOptions } from "./engine.ts";
import { CallTimeoutError, createWorkerHost, WorkerDeadError } from "./worker_host.ts";

const FIXTURE = new URL("../tests/fixtures/child_process_worker.ts", import.meta.url);
const OPTIONS = {} as EngineOptions;

function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z"; // a zombie is dead, not yet reaped
  } catch {
    return false;
  }
}

async function until(check: () => boolean, ms = 3_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

function startFixture(onDeath: (reason: string) => void = () => {}) {
  const events: EngineEvent[] = [];
  const host = createWorkerHost({
    engine: "simulator",
    name: "fixture",
    heartbeatIntervalMs: 100,
    // Generous: a loaded machine can hold a thread back for hundreds of ms.
    heartbeatTimeoutMs: 2_000,
    workerUrl: FIXTURE,
    onEvent: (event) => events.push(event),
    onDeath,
  });
  return { host, events };
}

Deno.test("createWorkerHost() kills the Worker's child process group when the Worker crashes", async () => {
  const deaths: string[] = [];
  const { host, events } = startFixture((reason) => deaths.push(reason));
  await host.init("simulator", OPTIONS, 30_000);
  await until(() => events.length > 0);
  const pid = (events[0] as { pid: number }).pid;
  assert.ok(isAlive(pid), "the child runs while the Worker lives");

  const pending = host.call("crash" as EngineMethod, [], 60_000);
  await assert.rejects(pending, WorkerDeadError);
  assert.equal(deaths.length, 1);
  assert.match(deaths[0], /fixture crash/);
  assert.ok(await until(() => !isAlive(pid)), "the child died with its Worker");
  assert.equal(host.alive, false);
  await assert.rejects(host.call("getProfile", [], 1_000), WorkerDeadError);
});

Deno.test("createWorkerHost() rejects calls past their deadline and ends quietly on stop", async () => {
  const deaths: string[] = [];
  const { host, events } = startFixture((reason) => deaths.push(reason));
  await host.init("simulator", OPTIONS, 30_000);
  await until(() => events.length > 0);
  const pid = (events[0] as { pid: number }).pid;
  await assert.rejects(host.call("getProfile", [], 150), CallTimeoutError);
  assert.equal(host.alive, true, "a slow call does not end the Worker");
  const pending = host.call("getProfile", [], 60_000);
  await host.stop(1_000);
  await assert.rejects(pending, WorkerDeadError, "a pending call fails at once on stop");
  assert.ok(await until(() => !isAlive(pid)));
  assert.deepEqual(deaths, [], "a stop is not a death");
});

Deno.test("createWorkerHost() answers a call whose result cannot be cloned with an error, not silence", async () => {
  const { host, events } = startFixture();
  await host.init("simulator", OPTIONS, 30_000);
  await until(() => events.length > 0);
  const pid = (events[0] as { pid: number }).pid;
  await assert.rejects(
    host.call("unclonable" as EngineMethod, [], 5_000),
    /Unserializable return value/,
  );
  assert.equal(host.alive, true, "the Worker goes on");
  await host.stop(1_000);
  assert.ok(await until(() => !isAlive(pid)));
});

Deno.test("createWorkerHost() finds a Worker stuck in a loop dead by its heartbeat, and fails its calls", async () => {
  const deaths: string[] = [];
  const events: EngineEvent[] = [];
  const host = createWorkerHost({
    engine: "simulator",
    name: "spinner",
    heartbeatIntervalMs: 100,
    heartbeatTimeoutMs: 1_000,
    workerUrl: FIXTURE,
    onEvent: (event) => events.push(event),
    onDeath: (reason) => deaths.push(reason),
  });
  try {
    await host.init("simulator", OPTIONS, 30_000);
    const spinning = host.call("spin" as EngineMethod, [], 60_000);
    await assert.rejects(spinning, WorkerDeadError);
    // 1,000 ms on an idle machine; longer while other tests load it (see heartbeat.ts).
    assert.equal(deaths.length, 1);
    assert.match(deaths[0], /^Worker missed its heartbeat \((\d+) ms\)$/);
    assert.ok(Number(/\d+/.exec(deaths[0])![0]) >= 1_000, deaths[0]);
    assert.equal(host.alive, false);
  } finally {
    host.terminate("test over");
    for (const event of events) {
      if (event.type === "child_process") Deno.kill(-event.pid, "SIGKILL");
    }
  }
});
