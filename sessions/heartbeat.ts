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
 */

const pulses = new Map<number, Int32Array>();

/** The pulse of `periodMs`: a counter in shared memory, bumped every period while watched. */
export function pulseOf(periodMs: number): SharedArrayBuffer {
  let pulse = pulses.get(periodMs);
  if (!pulse) {
    pulse = new Int32Array(new SharedArrayBuffer(4));
    pulses.set(periodMs, pulse);
  }
  return pulse.buffer as SharedArrayBuffer;
}

const sweeps = new Map<
  number,
  { timer: ReturnType<typeof setInterval>; checks: Set<() => void> }
>();

/** Runs `check` every `periodMs` (after the others of that period), then pulses; until unwatched. */
export function watch(periodMs: number, check: () => void): () => void {
  let sweep = sweeps.get(periodMs);
  if (!sweep) {
    const checks = new Set<() => void>();
    const pulse = new Int32Array(pulseOf(periodMs));
    sweep = {
      checks,
      timer: setInterval(() => {
        for (const each of checks) each();
        Atomics.add(pulse, 0, 1);
        Atomics.notify(pulse, 0);
      }, periodMs),
    };
    sweeps.set(periodMs, sweep);
  }
  sweep.checks.add(check);
  const watched = sweep;
  return () => {
    if (!watched.checks.delete(check) || watched.checks.size > 0) return;
    clearInterval(watched.timer);
    sweeps.delete(periodMs);
  };
}
