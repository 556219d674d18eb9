/**
 * @module
 * The supervisor of one session's Worker. It has the Worker created (off the main thread, by a
 * spawner: `spawner.ts`), wraps its port with Comlink, and makes its death observable and final:
 * an uncaught error (caught by the spawner so it cannot kill the process), a message error, a
 * heartbeat counter that stopped counting, or our own terminate all reject every pending call at
 * once, call `onDeath` exactly once, and kill the process groups of the Worker's children
 * (Chromium outlives its Worker otherwise).
 */
import * as Comlink from "comlink";
import {
  EngineError,
  type EngineEvent,
  type EngineMethod,
  type EngineName,
  type EngineOptions,
} from "./engine.ts";
import { batchedChannel } from "./batched_endpoint.ts";
import { pulseOf, watch } from "./heartbeat.ts";
import { sharedSpareWorkers, type SpareWorkers } from "./spare_workers.ts";
import { sharedSpawner, type Spawner } from "./spawner.ts";
import { workerUrlFor } from "./worker_source.ts";
// From the Workers' runtime module, whose `lib="deno.worker"` then joins every type-check that
// reaches this file: without it jose's CryptoKey and @types/node's (puppeteer's) disagree under
// `deno test` (tests/swagger_ui_test.ts), as they did before the API moved to worker_api.ts.
import type { CallOutcome, WorkerApi } from "./worker_runtime.ts";

/** The Worker died or was terminated while (or before) the call ran. */
export class WorkerDeadError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "WorkerDeadError";
  }
}

/** The call outlived its deadline; the Worker may still be alive. */
export class CallTimeoutError extends Error {
  constructor(method: string, ms: number) {
    super(`"${method}" did not answer within ${ms} ms`);
    this.name = "CallTimeoutError";
  }
}

export interface WorkerHostOptions {
  /** Shown in Deno's messages about the Worker (the session's number). */
  name: string;
  /** The engine the Worker will run: it picks the Worker's script. */
  engine: EngineName;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** The nice value the Worker's thread starts with (Linux; default 0, the server's own). */
  nice?: number;
  /** How long the Worker may take to load before its first answer (default 30 s). */
  bootTimeoutMs?: number;
  /** Events from the engine, in order. */
  onEvent: (event: EngineEvent) => void;
  /** Called once when the Worker is found dead (not after `terminate`). */
  onDeath: (reason: string) => void;
  /** For tests: another worker module. */
  workerUrl?: URL;
  /** Who creates the Worker (default: the process's shared spawner). */
  spawner?: Spawner;
  /** Where a whatsapp-web.js Worker made ahead is taken from (default: the process's). */
  spares?: SpareWorkers;
  /** How to kill a child's process group (defaults to SIGKILL to `-pid`). */
  killProcessGroup?: (pid: number) => void;
}

export interface WorkerHost {
  readonly alive: boolean;
  /** Loads and starts the engine inside the Worker. */
  init(engine: EngineName, options: EngineOptions, timeoutMs: number): Promise<void>;
  /** The engine's answer; its failures reject with an {@link EngineError} of their kind. */
  call<T>(method: EngineMethod, args: unknown[], timeoutMs: number): Promise<T>;
  /** Stops the engine politely (bounded by `timeoutMs`), then terminates the Worker. */
  stop(timeoutMs: number): Promise<void>;
  /** Ends the Worker now; pending calls reject with {@link WorkerDeadError}. */
  terminate(reason: string): void;
}

function defaultKillProcessGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      Deno.kill(target, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

function unwrap(outcome: CallOutcome): unknown {
  if ("failure" in outcome) throw EngineError.fromFailure(outcome.failure);
  return outcome.value;
}

export function createWorkerHost(options: WorkerHostOptions): WorkerHost {
  const url = options.workerUrl ?? workerUrlFor(options.engine);
  // Loading a Worker's modules (whatsapp-web.js, puppeteer) can take seconds on a busy machine,
  // and a thousand starts queue up for the spawners: the heartbeat's short deadline applies only
  // once the Worker has counted for the first time, the boot deadline from when it exists.
  const bootTimeoutMs = options.bootTimeoutMs ?? 30_000;
  let booted = false;
  let lastBeat = 0;
  let lastBeatAt = Date.now();
  let created = false;
  const adopter = {
    onCreated: () => {
      created = true;
      lastBeatAt = Date.now();
    },
    onDeath: (reason: string) => end(reason, true),
  };
  const spare = options.engine === "wwebjs" && !options.workerUrl
    ? (options.spares ?? sharedSpareWorkers()).take(options.heartbeatIntervalMs, adopter)
    : undefined;
  const worker = spare ?? (options.spawner ?? sharedSpawner(options.nice)).spawn(url, {
    name: options.name,
    pulse: pulseOf(options.heartbeatIntervalMs),
    ...adopter,
  });
  /** The reject functions of the calls in flight: all fail at once when the Worker dies. */
  const pendingCalls = new Set<(error: Error) => void>();
  // Calls leave batched per turn, answers and events arrive batched (see batched_endpoint.ts); a
  // call made while none is in flight leaves at once. Events travel one way, in order with the
  // answers: a Comlink.proxy callback would make the main thread answer every event (~15% of a
  // send).
  const channel = batchedChannel(worker.port, {
    sendAtOnce: () => pendingCalls.size === 0,
    onEvent: (event) => onEvent(event as EngineEvent),
  });
  const remote = Comlink.wrap<WorkerApi>(channel.endpoint);
  // Every property read on a Comlink proxy makes a new proxy (registered with a finalizer): the
  // hot ones are read once.
  const callRemote = remote.call;
  const killGroup = options.killProcessGroup ?? defaultKillProcessGroup;
  const children = new Set<number>();
  let alive = true;
  let deathReason = "";
  const dead = () => Promise.reject(new WorkerDeadError(deathReason));

  function end(reason: string, notify: boolean): void {
    if (!alive) return;
    alive = false;
    deathReason = reason;
    unwatch();
    channel.close();
    worker.end();
    for (const pid of children) killGroup(pid);
    children.clear();
    // After the answers already received have settled their calls: an answer and the event that
    // ends the Worker (a logout) can arrive in one message, the answer first, and its promise
    // chain takes a few microtasks to resolve the call.
    const failing = [...pendingCalls];
    setTimeout(() => {
      for (const fail of failing) fail(new WorkerDeadError(reason));
    }, 0);
    if (notify) options.onDeath(reason);
  }

  worker.port.addEventListener("messageerror", () => {
    end("Worker sent an unreadable message", true);
  });
  worker.port.start();

  // The Worker follows the pulse in shared memory while its event loop turns: reading its count
  // costs the main thread no message (a ping a Worker every 500 ms was ~2,000 messages a second
  // for 1,000; see heartbeat.ts).
  // On a loaded machine, or with many Workers pulsed less often, every deadline is `stretch` times
  // longer (see heartbeat.ts).
  const unwatch = watch(options.heartbeatIntervalMs, (stretch) => {
    const beat = Atomics.load(worker.beats, 0);
    const now = Date.now();
    if (beat !== lastBeat) {
      lastBeat = beat;
      lastBeatAt = now;
      booted = true;
      return;
    }
    if (!created) return; // Still waiting for a spawner: not the Worker's fault.
    const deadline = Math.round((booted ? options.heartbeatTimeoutMs : bootTimeoutMs) * stretch);
    if (now - lastBeatAt > deadline) {
      end(
        booted
          ? `Worker missed its heartbeat (${deadline} ms)`
          : `Worker did not load within ${deadline} ms`,
        true,
      );
    }
  });

  function onEvent(event: EngineEvent): void {
    if (!alive) return;
    booted = true;
    if (event.type === "child_process") children.add(event.pid);
    options.onEvent(event);
  }

  // Pending calls are settled from a set rather than raced against a shared "dead" promise: every
  // race would leave a reaction on it that lives as long as the Worker (~400 bytes a call).
  function withDeadline<T>(work: Promise<T>, method: string, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        pendingCalls.delete(fail);
      };
      const fail = (error: Error) => {
        settle();
        reject(error);
      };
      const timer = setTimeout(() => fail(new CallTimeoutError(method, ms)), ms);
      pendingCalls.add(fail);
      work.then((value) => {
        settle();
        resolve(value);
      }, fail);
    });
  }

  return {
    get alive() {
      return alive;
    },
    init(engine, engineOptions, timeoutMs) {
      if (!alive) return dead();
      return withDeadline(
        remote.init(engine, engineOptions).then(() => {
          booted = true;
        }),
        "init",
        timeoutMs,
      );
    },
    call<T>(method: EngineMethod, args: unknown[], timeoutMs: number): Promise<T> {
      if (!alive) return dead();
      return withDeadline(callRemote(method, args).then(unwrap) as Promise<T>, method, timeoutMs);
    },
    async stop(timeoutMs) {
      if (alive) {
        await withDeadline(remote.stop(), "stop", timeoutMs).catch(() => {});
      }
      end("Worker stopped", false);
    },
    terminate(reason) {
      end(reason, false);
    },
  };
}
