/**
 * @module
 * The entry point of a spawner: a Worker whose only job is to create session Workers, so that the
 * main thread never does. `new Worker()` blocks the thread that calls it until the new thread has
 * built its runtime (~40–55 ms here, longer on a busy machine); a thousand starts would block the
 * main thread, and every request waiting on it, for a minute (bench/README.md).
 *
 * Each session Worker gets the port the main thread talks to it through, the pulse it answers and
 * the heartbeat counter it answers in (`host_link.ts`); its crash is caught here (unhandled, it
 * would end this spawner and, through it, the process) and reported by id. The protocol is in
 * `spawner.ts`.
 *
 * The pulse: every `beatEveryMs` this thread bumps a counter in shared memory and wakes, with one
 * `Atomics.notify`, every Worker of that pace waiting on it; each copies it into its own counter,
 * which the main thread reads. No Worker keeps a timer (a Deno Worker with a timer armed, even a
 * slow one, cost ~0.7 ms of CPU a second here; one that only waits costs nothing), and the main
 * thread neither sends nor wakes anything.
 */
/// <reference lib="deno.worker" />
import type { HostLink, SpawnerReport, SpawnerRequest } from "./spawner.ts";

/** Each Worker with its pace. */
const workers = new Map<number, { worker: Worker; beatEveryMs: number }>();

interface Pulse {
  counter: Int32Array;
  timer: ReturnType<typeof setInterval>;
  workers: number;
}
/** One pulse per pace, while a Worker of that pace lives. */
const pulses = new Map<number, Pulse>();

function joinPulse(beatEveryMs: number): SharedArrayBuffer {
  let pulse = pulses.get(beatEveryMs);
  if (!pulse) {
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const timer = setInterval(() => {
      Atomics.add(counter, 0, 1);
      Atomics.notify(counter, 0);
    }, beatEveryMs);
    pulse = { counter, timer, workers: 0 };
    pulses.set(beatEveryMs, pulse);
  }
  pulse.workers++;
  return pulse.counter.buffer as SharedArrayBuffer;
}

function leavePulse(beatEveryMs: number): void {
  const pulse = pulses.get(beatEveryMs);
  if (!pulse || --pulse.workers > 0) return;
  clearInterval(pulse.timer);
  pulses.delete(beatEveryMs);
}

function report(message: SpawnerReport): void {
  self.postMessage(message);
}

function spawn(request: Extract<SpawnerRequest, { op: "spawn" }>): void {
  const { id } = request;
  let worker: Worker;
  try {
    worker = new Worker(request.url, { type: "module", name: request.name });
  } catch (error) {
    report({ op: "died", id, reason: `Worker could not be created: ${String(error)}` });
    return;
  }
  workers.set(id, { worker, beatEveryMs: request.beatEveryMs });
  const link: HostLink = {
    port: request.port,
    pulse: joinPulse(request.beatEveryMs),
    beats: request.beats,
  };
  worker.addEventListener("error", (event) => {
    event.preventDefault(); // Otherwise it ends this spawner, and every Worker it created.
    end(id);
    report({ op: "died", id, reason: `Worker crashed: ${event.message}` });
  });
  worker.addEventListener("messageerror", () => {
    end(id);
    report({ op: "died", id, reason: "Worker got an unreadable message" });
  });
  worker.postMessage(link, [request.port]);
  report({ op: "created", id });
}

function end(id: number): void {
  const ended = workers.get(id);
  if (!ended) return;
  workers.delete(id);
  ended.worker.terminate();
  leavePulse(ended.beatEveryMs);
}

self.onmessage = ({ data }: MessageEvent<SpawnerRequest>) => {
  if (data.op === "spawn") spawn(data);
  else end(data.id);
};
