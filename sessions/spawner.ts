/**
 * @module
 * Session Workers created off the main thread. `new Worker()` blocks its caller until the new
 * thread has built its runtime (~40–55 ms here): called from the main thread, a thousand starts
 * kept it blocked for most of a minute and every request waited behind them (bench/README.md). So
 * the main thread asks a spawner (a small Worker, `spawner_worker.ts`) to create each session
 * Worker, and talks to it through a `MessageChannel` port it hands over with the request; a
 * heartbeat counter in shared memory, which the Worker keeps up with the main thread's pulse,
 * replaces the ping messages (one `Atomics.load` per check).
 *
 * A few spawners (one per core by default) create Workers side by side; each request goes to the
 * one with the fewest still waiting. They end once no Worker of theirs is left for a while (an
 * idle Worker keeps the process alive), and come back with the next request.
 *
 * A spawner may first lower its own thread's priority (`nice`, Linux): a thread is made with its
 * maker's nice value, so every Worker it creates, and the threads and processes those create, run
 * below the main thread. The light engines' Workers do (`WORKER_NICE`, 19 by default): a thousand
 * starting at once held `/health` behind them, the kernel giving the main thread one slice among
 * all of them (bench/README.md).
 */

/** What the main thread asks a spawner. */
export type SpawnerRequest =
  | {
    op: "spawn";
    id: number;
    url: string;
    name: string;
    port: MessagePort;
    pulse: SharedArrayBuffer;
    beats: SharedArrayBuffer;
  }
  | { op: "end"; id: number }
  /** First: the spawner lowers its thread's priority to `nice` (Linux's 0–19; 0: unchanged). */
  | { op: "init"; nice: number };

/** What a spawner tells the main thread about a Worker it created. */
export type SpawnerReport =
  | { op: "created"; id: number }
  | { op: "died"; id: number; reason: string };

/** What the session Worker gets from its spawner, first (`host_link.ts`). */
export interface HostLink {
  port: MessagePort;
  /** The main thread's pulse: a counter it bumps every heartbeat period, waited on with `Atomics`. */
  pulse: SharedArrayBuffer;
  /** The Worker's own counter: where it copies each pulse it wakes up to. */
  beats: SharedArrayBuffer;
}

export interface SpawnOptions {
  /** Shown in Deno's messages about the Worker. */
  name: string;
  /** The pulse the Worker follows (`worker_host.ts` bumps it every heartbeat period). */
  pulse: SharedArrayBuffer;
  /** The Worker exists (its thread runs); its modules may still be loading. */
  onCreated(): void;
  /** The Worker crashed, or could not be created, or its spawner died (never after `end`). */
  onDeath(reason: string): void;
}

export interface SpawnedWorker {
  /** The Worker's end of the conversation: what it posts arrives here, and the other way round. */
  readonly port: MessagePort;
  /** Slot 0 is the Worker's heartbeat count: it follows the pulse once the Worker's entry runs. */
  readonly beats: Int32Array;
  /** Ends the Worker (and closes the port). */
  end(): void;
}

export interface Spawner {
  /** How many spawners are up now. */
  readonly threads: number;
  /** A Worker running `url` (which may still be on its way: the port works at once). */
  spawn(url: URL | Promise<URL>, options: SpawnOptions): SpawnedWorker;
  /** Ends every spawner now, and every Worker they created. */
  close(): void;
}

export interface SpawnerOptions {
  /** Spawners working side by side (default: the cores, at most 4). */
  threads?: number;
  /** How long spawners with no Worker left stay up (default 5 s). */
  idleMs?: number;
  /**
   * The nice value of the spawners' threads, which every Worker they create starts with (Linux;
   * default 0: as the main thread).
   */
  nice?: number;
}

interface SpawnerThread {
  worker: Worker;
  /** The ids of the Workers it was asked for and has not answered about yet. */
  waiting: Set<number>;
  /** Its Workers still alive, by id. */
  children: Map<number, SpawnOptions>;
}

export function createSpawner(options: SpawnerOptions = {}): Spawner {
  const threads = options.threads ?? Math.min(Math.max(navigator.hardwareConcurrency, 1), 4);
  const idleMs = options.idleMs ?? 5_000;
  const init: SpawnerRequest = { op: "init", nice: options.nice ?? 0 };
  const url = new URL("./spawner_worker.ts", import.meta.url);
  let pool: SpawnerThread[] = [];
  let nextId = 1;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;

  function startThread(): SpawnerThread {
    const thread: SpawnerThread = {
      worker: new Worker(url, { type: "module", name: "session spawner" }),
      waiting: new Set(),
      children: new Map(),
    };
    thread.worker.postMessage(init);
    thread.worker.onmessage = ({ data }: MessageEvent<SpawnerReport>) => {
      thread.waiting.delete(data.id);
      const child = thread.children.get(data.id);
      if (!child) return;
      if (data.op === "created") {
        child.onCreated();
        return;
      }
      thread.children.delete(data.id);
      child.onDeath(data.reason);
      maybeIdle();
    };
    thread.worker.onerror = (event) => {
      event.preventDefault();
      lose(thread, `Worker's spawner crashed: ${event.message}`);
    };
    return thread;
  }

  /** A spawner that died takes its Workers with it: each is reported dead. */
  function lose(thread: SpawnerThread, reason: string): void {
    pool = pool.filter((t) => t !== thread);
    thread.worker.terminate();
    const children = [...thread.children.values()];
    thread.children.clear();
    for (const child of children) child.onDeath(reason);
    maybeIdle();
  }

  function pick(): SpawnerThread {
    if (pool.length < threads) {
      // A new spawner only when every one up is busy: one suffices for a start now and then.
      const idle = pool.find((t) => t.waiting.size === 0);
      if (idle) return idle;
      const thread = startThread();
      pool.push(thread);
      return thread;
    }
    return pool.reduce((best, t) => (t.waiting.size < best.waiting.size ? t : best));
  }

  function maybeIdle(): void {
    if (pool.some((t) => t.children.size > 0)) return;
    clearTimeout(idleTimer);
    const timer = setTimeout(() => {
      idleTimer = undefined;
      if (pool.some((t) => t.children.size > 0)) return;
      for (const thread of pool) thread.worker.terminate();
      pool = [];
    }, idleMs);
    Deno.unrefTimer(timer);
    idleTimer = timer;
  }

  return {
    get threads() {
      return pool.length;
    },
    spawn(workerUrl, spawnOptions) {
      const id = nextId++;
      const channel = new MessageChannel();
      const beats = new SharedArrayBuffer(4);
      let ended = false;
      let thread: SpawnerThread | undefined;
      const child: SpawnOptions = {
        ...spawnOptions,
        onCreated: () => {
          if (!ended) spawnOptions.onCreated();
        },
        onDeath: (reason) => {
          if (ended) return;
          ended = true;
          channel.port1.close();
          spawnOptions.onDeath(reason);
        },
      };
      // The port works at once: what the main thread posts waits in it for the Worker.
      Promise.resolve(workerUrl).then((url) => {
        if (ended) return;
        clearTimeout(idleTimer);
        idleTimer = undefined;
        thread = pick();
        thread.children.set(id, child);
        thread.waiting.add(id);
        const request: SpawnerRequest = {
          op: "spawn",
          id,
          url: url.href,
          name: spawnOptions.name,
          port: channel.port2,
          pulse: spawnOptions.pulse,
          beats,
        };
        thread.worker.postMessage(request, [channel.port2]);
      }, (error) => child.onDeath(`Worker could not be created: ${String(error)}`));
      return {
        port: channel.port1,
        beats: new Int32Array(beats),
        end() {
          if (ended) return;
          ended = true;
          channel.port1.close();
          if (thread?.children.delete(id)) {
            thread.worker.postMessage({ op: "end", id } satisfies SpawnerRequest);
            maybeIdle();
          }
        },
      };
    },
    close() {
      clearTimeout(idleTimer);
      for (const thread of pool) thread.worker.terminate();
      pool = [];
    },
  };
}

const shared = new Map<number, Spawner>();

/** The process's spawner for Workers of nice value `nice` (one per value), made on first use. */
export function sharedSpawner(nice = 0): Spawner {
  let spawner = shared.get(nice);
  if (!spawner) {
    spawner = createSpawner({ nice });
    shared.set(nice, spawner);
  }
  return spawner;
}
