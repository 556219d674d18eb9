/**
 * @module
 * A session Worker's side of its link to the main thread. Its spawner (`spawner.ts`) first sends
 * it a port, the main thread's pulse and a heartbeat counter, all in shared memory but the port: the
 * Worker talks to the main thread through the port (batched, see `batched_endpoint.ts`), and wakes
 * at each pulse (`Atomics.waitAsync`) to copy it into its counter, which is what the main thread
 * checks. A Worker stuck in a loop, or dead, stops copying; an idle one keeps no timer.
 */
/// <reference lib="deno.worker" />
import { type BatchedChannel, batchedChannel } from "./batched_endpoint.ts";
import type { HostLink } from "./spawner.ts";

/** Copies every pulse into `beats`, for as long as this Worker's event loop turns. */
async function followPulse(pulse: Int32Array, beats: Int32Array): Promise<never> {
  let seen = Atomics.load(pulse, 0);
  Atomics.store(beats, 0, seen + 1);
  for (;;) {
    const wait = Atomics.waitAsync(pulse, 0, seen);
    if (wait.async) await wait.value;
    seen = Atomics.load(pulse, 0);
    Atomics.store(beats, 0, seen + 1);
  }
}

/**
 * Waits for the link, starts the heartbeat, and hands the channel to `serve`, which must listen
 * on it at once: the port delivers what already waits in it as soon as `serve` returns.
 */
export async function linkToHost(serve: (channel: BatchedChannel) => void): Promise<void> {
  const link = await new Promise<HostLink>((resolve) => {
    self.addEventListener("message", (event: MessageEvent<HostLink>) => resolve(event.data), {
      once: true,
    });
  });
  void followPulse(new Int32Array(link.pulse), new Int32Array(link.beats));
  // Events and answers leave batched per turn, in the order they were made; an answer leaves as
  // soon as the microtasks before it have run.
  serve(batchedChannel(link.port, { answers: true }));
  link.port.start();
}
