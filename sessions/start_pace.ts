/**
 * @module
 * Many sessions started at once (a boot's restore, a node's take-over of vacant numbers), each
 * engine at its own pace: dozens of Chromiums loading at once would starve the main thread, and
 * with it every request, on a small machine, while simulator Workers are light.
 */
import type { EngineName } from "./engine.ts";

/**
 * Sessions of each engine started at the same time. A whatsapp-web.js session launches a Chromium
 * (hundreds of ms of CPU, ~170 MB): a few at a time. A simulator session is a Worker made off the
 * main thread (`spawner.ts`); more at once keep both cores busy.
 */
export const START_CONCURRENCY: Record<EngineName, number> = {
  wwebjs: 4,
  simulator: 32,
  // A light Worker here, the session itself on the WAHA server.
  waha: 32,
};

/**
 * Start requests begun per turn of the event loop (`turn_gate.ts`): each is a few ms of the main
 * thread's work, and a client starting a fleet sends dozens at once.
 */
export const REQUESTED_STARTS_PER_TURN = 4;

/** How many sessions of `engine` start at the same time (an unknown one: the slowest pace). */
export function startConcurrencyOf(engine: string): number {
  return START_CONCURRENCY[engine as EngineName] ?? Math.min(...Object.values(START_CONCURRENCY));
}

/**
 * Runs `start` on every item, the items of each engine {@link startConcurrencyOf} at a time and
 * the engines side by side, until all are done or `isClosing()`. Each start is a task of its own,
 * so requests waiting meanwhile get through (a restore of 50 once held the first answer ~1.3 s).
 * `start` handles its own failures.
 */
export async function startAtEnginePace<T extends { engine: string }>(
  items: readonly T[],
  start: (item: T) => Promise<void>,
  isClosing: () => boolean = () => false,
): Promise<void> {
  const startAll = async (engine: string): Promise<void> => {
    const queue = items.filter((item) => item.engine === engine);
    let next = 0;
    const startNext = async (): Promise<void> => {
      for (let item = queue[next++]; item && !isClosing(); item = queue[next++]) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (isClosing()) return;
        await start(item);
      }
    };
    const limit = Math.min(startConcurrencyOf(engine), queue.length);
    await Promise.all(Array.from({ length: limit }, startNext));
  };
  await Promise.all([...new Set(items.map((item) => item.engine))].map(startAll));
}
