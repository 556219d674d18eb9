import assert from "node:assert/strict";
import { batchedChannel } from "./batched_endpoint.ts";
import { pulseOf, watch } from "./heartbeat.ts";
import { createSpawner, type SpawnedWorker, type Spawner } from "./spawner.ts";

const FIXTURE = new URL("../tests/fixtures/linked_worker.ts", import.meta.url);

interface Linked {
  worker: SpawnedWorker;
  send(command: string, value?: unknown): void;
  events: unknown[];
  created: Promise<void>;
  died: Promise<string>;
}

function link(spawner: Spawner, url: URL | Promise<URL> = FIXTURE): Linked {
  const events: unknown[] = [];
  let created!: () => void;
  let died!: (reason: string) => void;
  const linked = {
    events,
    created: new Promise<void>((resolve) => (created = resolve)),
    died: new Promise<string>((resolve) => (died = resolve)),
  } as Linked;
  // The main thread's pulse, as a host's heartbeat keeps it going, until the Worker ends.
  const unwatch = watch(50, () => {});
  const spawned = spawner.spawn(url, {
    name: "linked fixture",
    pulse: pulseOf(50),
    onCreated: () => created(),
    onDeath: (reason) => {
      unwatch();
      died(reason);
    },
  });
  linked.worker = {
    ...spawned,
    end() {
      unwatch();
      spawned.end();
    },
  };
  const channel = batchedChannel(linked.worker.port, { onEvent: (event) => events.push(event) });
  linked.worker.port.start();
  linked.send = (command, value) => channel.endpoint.postMessage([command, value], []);
  return linked;
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("a spawned Worker talks through its port and counts its heartbeat", async () => {
  const spawner = createSpawner({ threads: 1 });
  try {
    const linked = link(spawner);
    linked.send("echo", "first, sent before the Worker existed");
    await linked.created;
    await until(() => linked.events.length === 1, "the echo");
    assert.deepEqual(linked.events, ["first, sent before the Worker existed"]);
    const before = Atomics.load(linked.worker.beats, 0);
    assert.ok(before >= 1, "the Worker counts once it is linked");
    await until(() => Atomics.load(linked.worker.beats, 0) >= before + 3, "three more beats");
    linked.worker.end();
  } finally {
    spawner.close();
  }
});

Deno.test("a Worker that crashes is reported dead by its spawner, and the others live on", async () => {
  const spawner = createSpawner({ threads: 1 });
  try {
    const crasher = link(spawner);
    const steady = link(spawner);
    crasher.send("crash");
    assert.match(await crasher.died, /Worker crashed: .*linked fixture crash/);
    steady.send("echo", "still here");
    await until(() => steady.events.length === 1, "the steady Worker's echo");
    assert.equal(spawner.threads, 1, "the spawner itself survived");
    steady.worker.end();
  } finally {
    spawner.close();
  }
});

Deno.test("a Worker busy in a loop stops counting until the loop ends", async () => {
  const spawner = createSpawner({ threads: 1 });
  try {
    const linked = link(spawner);
    linked.send("echo", "up");
    await until(() => linked.events.length === 1, "the Worker to be up");
    linked.send("spin", 600);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const during = Atomics.load(linked.worker.beats, 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(Atomics.load(linked.worker.beats, 0), during, "no beat while it spins");
    await until(() => Atomics.load(linked.worker.beats, 0) > during, "a beat after the loop");
    linked.worker.end();
  } finally {
    spawner.close();
  }
});

Deno.test("a burst of starts is spread over the spawners, which end once idle and come back", async () => {
  const spawner = createSpawner({ threads: 2, idleMs: 100 });
  try {
    const burst = Array.from({ length: 6 }, () => link(spawner));
    await Promise.all(burst.map((linked) => linked.created));
    assert.equal(spawner.threads, 2);
    for (const linked of burst) linked.worker.end();
    await until(() => spawner.threads === 0, "the spawners to end");
    const next = link(spawner);
    next.send("echo", "after the pause");
    await until(() => next.events.length === 1, "the echo after the pause");
    assert.equal(spawner.threads, 1, "one spawner is enough for one start");
    next.worker.end();
  } finally {
    spawner.close();
  }
});

Deno.test("a Worker whose script does not exist is reported dead, not left waiting", async () => {
  const spawner = createSpawner({ threads: 1 });
  try {
    const missing = link(spawner, new URL("./no_such_worker.ts", import.meta.url));
    assert.match(await missing.died, /Worker crashed/);
    const missingUrl = link(spawner, Promise.reject(new Error("no bundle")));
    assert.match(await missingUrl.died, /could not be created: Error: no bundle/);
  } finally {
    spawner.close();
  }
});

Deno.test("a spawner asked to lower its priority makes Workers that run below the main thread", {
  ignore: Deno.build.os !== "linux",
}, async () => {
  const ownNice = () => {
    const stat = Deno.readTextFileSync("/proc/thread-self/stat");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
  };
  const lowered = createSpawner({ threads: 1, nice: 7 });
  const plain = createSpawner({ threads: 1 });
  try {
    const below = link(lowered);
    const beside = link(plain);
    below.send("nice");
    beside.send("nice");
    await until(() => below.events.length === 1 && beside.events.length === 1, "both answers");
    assert.deepEqual(below.events, [Math.max(ownNice(), 7)]);
    assert.deepEqual(beside.events, [ownNice()], "the main thread's own priority otherwise");
    below.worker.end();
    beside.worker.end();
  } finally {
    lowered.close();
    plain.close();
  }
});
