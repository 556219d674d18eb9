import assert from "node:assert/strict";
import type { EngineMethod } from "./engine.ts";
import { createSpareWorkers } from "./spare_workers.ts";
import { createSpawner } from "./spawner.ts";
import { createWorkerHost } from "./worker_host.ts";

const FIXTURE = new URL("../tests/fixtures/child_process_worker.ts", import.meta.url);

async function until(condition: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      Deno.kill(target, "SIGKILL");
    } catch {
      // Gone.
    }
  }
}

Deno.test("a whatsapp-web.js start adopts the Worker made ahead, and the next one is made after", async () => {
  const spawner = createSpawner({ threads: 1 });
  const spares = createSpareWorkers({ spawner, url: FIXTURE, replenishMs: 100, beatEveryMs: 100 });
  const pids: number[] = [];
  try {
    spares.keepWarm();
    await until(() => spares.ready, "the spare to load");
    const deaths: string[] = [];
    const host = createWorkerHost({
      engine: "wwebjs",
      name: "adopter",
      heartbeatIntervalMs: 100,
      heartbeatTimeoutMs: 1_000,
      spawner,
      spares,
      onEvent: (event) => event.type === "child_process" && pids.push(event.pid),
      onDeath: (reason) => deaths.push(reason),
    });
    assert.equal(spares.ready, false, "the spare was taken");
    await host.init("wwebjs", {} as never, 10_000);
    assert.equal(pids.length, 1, "the adopted Worker runs the start");
    await until(() => spares.ready, "the next spare");

    // The adopted Worker is supervised like one made for the host: its crash is a death.
    host.call("crash" as EngineMethod, [], 10_000).catch(() => {});
    await until(() => deaths.length === 1, "the crash to be seen");
    assert.match(deaths[0], /Worker crashed: .*fixture crash/);
  } finally {
    spares.close();
    spawner.close();
    pids.forEach(killGroup);
  }
});

Deno.test("a spare nobody takes ends after its idle time, and a spare of another heartbeat pace is not used", async () => {
  const spawner = createSpawner({ threads: 1, idleMs: 50 });
  const spares = createSpareWorkers({ spawner, url: FIXTURE, idleMs: 300, replenishMs: 10_000 });
  try {
    assert.equal(spares.take(500, { onCreated() {}, onDeath() {} }), undefined, "none made yet");
    spares.keepWarm(); // A server keeps it, ...
    await until(() => spares.ready, "the spare to load");
    assert.equal(spares.take(250, { onCreated() {}, onDeath() {} }), undefined, "... not this one");
    await until(() => spawner.threads === 0, "the spawner to end with no Worker left");

    const idle = createSpareWorkers({ spawner, url: FIXTURE, idleMs: 3_000, replenishMs: 0 });
    idle.take(500, { onCreated() {}, onDeath() {} }); // Makes the next one at once.
    await until(() => idle.ready, "a spare");
    await until(() => !idle.ready && spawner.threads === 0, "the untaken spare to end");
  } finally {
    spares.close();
    spawner.close();
  }
});
