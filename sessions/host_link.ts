/**
 * @module
 * A session Worker's side of its link to the main thread. Its spawner (`spawner.ts`) first sends
 * it a port and a heartbeat counter in shared memory: the Worker talks to the main thread through
 * the port (batched, see `batched_endpoint.ts`), and bumps the counter on a timer for as long as
 * its event loop turns, which is what the main thread checks (no message, no answer to wait for).
 * A Worker stuck in a loop, or dead, stops counting.
 */
/// <reference lib="deno.worker" />
import { type BatchedChannel, batchedChannel } from "./batched_endpoint.ts";
import type { HostLink } from "./spawner.ts";

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
  const beats = new Int32Array(link.beats);
  Atomics.add(beats, 0, 1);
  setInterval(() => Atomics.add(beats, 0, 1), link.beatEveryMs);
  // Events and answers leave batched per turn, in the order they were made; an answer leaves as
  // soon as the microtasks before it have run.
  serve(batchedChannel(link.port, { answers: true }));
  link.port.start();
}
