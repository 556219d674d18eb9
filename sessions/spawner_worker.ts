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
 */
/// <reference lib="deno.worker" />
import type { HostLink, SpawnerReport, SpawnerRequest } from "./spawner.ts";

const workers = new Map<number, Worker>();

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
  workers.set(id, worker);
  const link: HostLink = { port: request.port, pulse: request.pulse, beats: request.beats };
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
  workers.get(id)?.terminate();
  workers.delete(id);
}

self.onmessage = ({ data }: MessageEvent<SpawnerRequest>) => {
  if (data.op === "spawn") spawn(data);
  else end(data.id);
};
