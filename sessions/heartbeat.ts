/**
 * @module
 * The main thread's side of the session Workers' heartbeat. One timer per heartbeat period checks
 * every Worker watched at that period (not a timer each), then bumps that period's pulse and wakes,
 * with one `Atomics.notify`, every Worker waiting on it (`host_link.ts`): by the next check each
 * live Worker has copied the pulse into its own counter. No message is sent and no Worker keeps a
 * timer (a Deno Worker with a timer armed, even a slow one, cost ~0.7 ms of CPU a second here; one
 * that only waits costs nothing).
 *
 * The pulse comes from the thread that checks: pulsed from a spawner busy creating Workers, it
 * stopped for seconds and every Worker looked dead. When the main thread is held up, so are its
 * checks, and the Workers have answered the last pulse by the time it looks.
 *
 * Two things stretch the time a Worker is given, both told to each check as one factor:
 * - **The count of Workers.** Waking one waiter costs the main thread ~17 µs and the Worker ~70 µs
 *   (`bench/heartbeat_notify.ts`), so a pulse every 500 ms to 1,000 Workers was 1.7 % of the main
 *   thread and 15 % of a core in all. The pulse comes at most once every `perWorkerMs` × Workers
 *   (2 ms: 2 s at 1,000), which bounds its cost to ~4 % of a core however many there are, and the
 *   deadline grows with it (the same count of missed pulses).
 * - **The machine's load.** A Worker that shares two cores with sixty runnable threads gets a
 *   thirtieth of a core: its second of work takes thirty, and it is slow, not hung. The deadline is
 *   multiplied by the runnable threads per core (`procs_running` in `/proc/stat`, the highest of
 *   the last few checks), never by less than 1 nor more than 10 (in a container `/proc/stat` may
 *   count the host's threads). A Worker looping for ever is still found, later on a loaded machine.
 */

/** Runnable threads on the whole machine now, or undefined where that cannot be read. */
export type RunnableReader = () => number | undefined;

export interface HeartbeatOptions {
  /** The least time between pulses per Worker watched (default 2 ms). */
  perWorkerMs?: number;
  /** Default: `procs_running` from `/proc/stat`. */
  runnable?: RunnableReader;
  /** Default: `navigator.hardwareConcurrency`. */
  cores?: number;
  /** Default: `setTimeout`. */
  schedule?: (run: () => void, ms: number) => unknown;
  /** Default: `clearTimeout`. */
  cancel?: (timer: unknown) => void;
}

/**
 * Told at each check: how many times the idle machine's deadline a Worker may take now (1 with a
 * few Workers on an idle machine).
 */
export type Check = (stretch: number) => void;

export interface Heartbeat {
  /** The pulse of `periodMs`: a counter in shared memory, bumped at every check of that period. */
  pulseOf(periodMs: number): SharedArrayBuffer;
  /** Runs `check` at each pulse of `periodMs` (after the others), then pulses; until unwatched. */
  watch(periodMs: number, check: Check): () => void;
}

/** How many recent checks' load readings count (a deadline spans a few checks). */
const LOAD_MEMORY = 8;
/** The most the load stretches a deadline. */
const MAX_LOAD_STRETCH = 10;

export function readRunnable(): number | undefined {
  try {
    const stat = Deno.readTextFileSync("/proc/stat");
    const match = /^procs_running (\d+)$/m.exec(stat);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // Not Linux, or not allowed to read /proc: no stretch for the load.
  }
}

export function createHeartbeat(options: HeartbeatOptions = {}): Heartbeat {
  const perWorkerMs = options.perWorkerMs ?? 2;
  const runnable = options.runnable ?? readRunnable;
  const cores = Math.max(1, options.cores ?? navigator.hardwareConcurrency ?? 1);
  const schedule = options.schedule ?? ((run, ms) => setTimeout(run, ms));
  const cancel = options.cancel ??
    ((timer: unknown) => clearTimeout(timer as ReturnType<typeof setTimeout>));

  const pulses = new Map<number, Int32Array>();
  function pulseOf(periodMs: number): SharedArrayBuffer {
    let pulse = pulses.get(periodMs);
    if (!pulse) {
      pulse = new Int32Array(new SharedArrayBuffer(4));
      pulses.set(periodMs, pulse);
    }
    return pulse.buffer as SharedArrayBuffer;
  }

  const loads: number[] = [];
  function loadStretch(): number {
    const now = runnable();
    if (now !== undefined) {
      loads.push(now / cores);
      if (loads.length > LOAD_MEMORY) loads.shift();
    }
    return Math.min(MAX_LOAD_STRETCH, Math.max(1, ...loads));
  }

  interface Sweep {
    checks: Set<Check>;
    timer: unknown;
    /** The interval just waited, and the one before it (a deadline spans both). */
    intervals: [number, number];
  }
  const sweeps = new Map<number, Sweep>();

  function intervalFor(periodMs: number, watched: number): number {
    return Math.max(periodMs, watched * perWorkerMs);
  }

  function arm(periodMs: number, sweep: Sweep): void {
    const interval = intervalFor(periodMs, sweep.checks.size);
    sweep.intervals = [interval, sweep.intervals[0]];
    sweep.timer = schedule(() => {
      const stretch = Math.max(...sweep.intervals) / periodMs * loadStretch();
      for (const each of sweep.checks) each(stretch);
      const pulse = pulses.get(periodMs)!;
      Atomics.add(pulse, 0, 1);
      Atomics.notify(pulse, 0);
      if (sweeps.get(periodMs) === sweep) arm(periodMs, sweep);
    }, interval);
  }

  function watch(periodMs: number, check: Check): () => void {
    let sweep = sweeps.get(periodMs);
    if (!sweep) {
      pulseOf(periodMs);
      sweep = { checks: new Set(), timer: 0, intervals: [periodMs, periodMs] };
      sweeps.set(periodMs, sweep);
      sweep.checks.add(check);
      arm(periodMs, sweep);
    } else sweep.checks.add(check);
    const watched = sweep;
    return () => {
      if (!watched.checks.delete(check) || watched.checks.size > 0) return;
      cancel(watched.timer);
      sweeps.delete(periodMs);
    };
  }

  return { pulseOf, watch };
}

const shared = createHeartbeat();

/** The process's pulse of `periodMs` (see `Heartbeat.pulseOf`). */
export const pulseOf = shared.pulseOf;

/** Watches on the process's heartbeat (see `Heartbeat.watch`). */
export const watch = shared.watch;
