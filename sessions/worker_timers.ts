/**
 * @module
 * Timers for the engines that run in a session's Worker, without Deno's Node layer. In Deno 2.9
 * the global `setTimeout` is Node's: an isolate's first call loads `ext:deno_node/timers.ts` and
 * what it imports (async hooks, errors, `util.inspect`, uv's error codes…), ~12 ms of CPU per
 * Worker, a fifth of what a simulator number's whole start cost it (bench/README.md, "the Node
 * layer behind a Worker's first `setTimeout`"). In a Worker these timers wait on `Atomics.waitAsync`
 * instead, whose timeout V8 keeps in the isolate's own task queue, and end the wait at once when
 * cancelled. Outside a Worker (engines driven by tests on the main thread) they are `setTimeout`:
 * a pending `Atomics.waitAsync` does not keep Deno's event loop alive, while a Worker lives until
 * it is closed.
 *
 * A callback that throws is reported as an uncaught error (`reportError`), as one thrown from
 * `setTimeout` is: in a Worker it ends the Worker, which the main thread sees and restarts.
 */

export interface Timer {
  /** The callback will not run (a no-op once it ran or was cancelled). */
  cancel(): void;
}

const IN_WORKER =
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === "function";

/** Runs `run` once, `ms` from now (at least 1 ms: a later turn of the event loop, never this one). */
export function after(ms: number, run: () => void): Timer {
  if (!IN_WORKER) {
    const id = setTimeout(run, ms);
    return { cancel: () => clearTimeout(id) };
  }
  const cell = new Int32Array(new SharedArrayBuffer(4));
  let done = false;
  // Nothing else stores to the cell, so the wait ends by its timeout or by `cancel`'s notify; a
  // timeout above 0 makes it asynchronous.
  const wait = Atomics.waitAsync(cell, 0, 0, Math.max(1, ms));
  void Promise.resolve(wait.value).then(() => {
    if (done) return;
    done = true;
    try {
      run();
    } catch (error) {
      reportError(error);
    }
  });
  return {
    cancel() {
      if (done) return;
      done = true;
      Atomics.notify(cell, 0);
    },
  };
}

/** Runs `run` every `ms` until cancelled, as `setInterval` does (each wait starts as `run` is called). */
export function every(ms: number, run: () => void): Timer {
  let current: Timer;
  let cancelled = false;
  const tick = () => {
    current = after(ms, () => {
      if (cancelled) return;
      tick();
      run();
    });
  };
  tick();
  return {
    cancel() {
      cancelled = true;
      current.cancel();
    },
  };
}
