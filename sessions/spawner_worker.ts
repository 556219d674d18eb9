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
 * `spawner.ts`. Asked first, it lowers its thread's priority (`renice`), and creates no Worker
 * before that is done: each starts with its maker's nice value.
 */
/// <reference lib="deno.worker" />
import type { HostLink, SpawnerReport, SpawnerRequest } from "./spawner.ts";

const workers = new Map<number, Worker>();

type SpawnRequest = Extract<SpawnerRequest, { op: "spawn" }>;

function report(message: SpawnerReport): void {
  self.postMessage(message);
}

function spawn(request: SpawnRequest): void {
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

/** This thread's id in the kernel (`/proc/thread-self` → `<pid>/task/<tid>`), or null. */
function threadId(): number | null {
  try {
    return Number(Deno.readLinkSync("/proc/thread-self").split("/").pop()) || null;
  } catch {
    return null; // Not Linux, or not allowed to read /proc.
  }
}

/** Lowers this thread's priority to `nice`; where it cannot (no `renice`, no /proc), nothing. */
async function lowerPriority(nice: number): Promise<void> {
  const tid = threadId();
  if (tid === null) return;
  try {
    await new Deno.Command("renice", {
      args: ["-n", String(nice), "-p", String(tid)],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
  } catch {
    // Best effort: the Workers run at the main thread's priority.
  }
}

function serve(request: SpawnerRequest): void {
  if (request.op === "spawn") spawn(request);
  else if (request.op === "end") end(request.id);
}

/** The requests that came while the priority was being lowered, served in order once it is. */
let waiting: SpawnerRequest[] | null = null;

self.onmessage = ({ data }: MessageEvent<SpawnerRequest>) => {
  if (data.op === "init") {
    if (data.nice <= 0) return;
    waiting = [];
    void lowerPriority(data.nice).then(() => {
      const requests = waiting ?? [];
      waiting = null;
      for (const request of requests) serve(request);
    });
  } else if (waiting) {
    waiting.push(data);
  } else {
    serve(data);
  }
};
