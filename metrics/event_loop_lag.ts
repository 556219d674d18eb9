/**
 * @module
 * The main thread's event-loop lag, measured by a timer: how much later than asked a 500 ms
 * timeout fires. On Deno 2.9 `perf_hooks.monitorEventLoopDelay` (prom-client's source) reports
 * microseconds through a 300 ms block of the thread, so it cannot be used; a late timer is what a
 * request waiting behind the same work feels. The timer is unref'd: it keeps no process alive.
 */

const INTERVAL_MS = 500;

/** Calls `observe` with each sample's lag in seconds until the returned function is called. */
export function startEventLoopLag(
  observe: (seconds: number) => void,
  intervalMs = INTERVAL_MS,
): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const arm = () => {
    const due = performance.now() + intervalMs;
    const next = setTimeout(() => {
      observe(Math.max(0, performance.now() - due) / 1000);
      if (!stopped) arm();
    }, intervalMs);
    Deno.unrefTimer(next);
    timer = next;
  };
  arm();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
