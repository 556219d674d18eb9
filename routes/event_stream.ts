/**
 * @module
 * The loop behind both event streams (`routes/events.ts`: one number's, and every number the
 * caller may see): Server-Sent Events read from the outbox from a position, woken when events may
 * have been committed, with the gap event, the heartbeat and the `retry:` hint of a closing server.
 *
 * The stream reads the events table from its position, and reads on when woken (any node wrote
 * events of its numbers), when events were held back behind an open transaction (shortly after),
 * and at each heartbeat (a missed wake-up costs at most that long). Its position only moves
 * forward, so no event is sent twice, and the store's order is commit order, so none is skipped.
 * A read that fails (the database out of reach) is tried again at the next wake-up or heartbeat,
 * the stream kept open.
 */
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { comparePositions, type EventPage, type EventPosition } from "../events/outbox.ts";
import type { StoredEvent } from "../events/outbox.ts";
import type { StreamStart, StreamSubscriber } from "../events/pipeline.ts";

const PAGE = 500;
/** The longest pause before reading again events held back behind an open transaction. */
const HELD_BACK_MAX_MS = 200;
/** The first event of a stream whose resume point is not retained. */
export const GAP_EVENT = "stream.gap";

export interface EventSource {
  start: StreamStart;
  /** The stream's events after a position, oldest first. */
  read(after: EventPosition, limit: number): Promise<EventPage>;
  /** Starts waking the stream; returns the function that stops. */
  subscribe(subscriber: StreamSubscriber): () => void;
  heartbeatMs: number;
  /** The `session` of the gap event's envelope (a stream of many numbers has none). */
  session?: string;
}

/** Answers the request with the stream of `source`'s events. */
export function streamEvents(c: Context, source: EventSource): Response {
  const { start, heartbeatMs } = source;
  return streamSSE(c, async (stream) => {
    let ended = false;
    /** Set when the server closes: the client reconnects after this long. */
    let retryMs: number | undefined;
    /** Woken since the last read began: read again before waiting. */
    let dirty = false;
    let wake: (() => void) | null = null;
    const poke = () => {
      dirty = true;
      wake?.();
    };
    // Subscribed before the first read: an event committed meanwhile wakes it, or is read.
    const unsubscribe = source.subscribe({
      wake: poke,
      close(options) {
        ended = true;
        retryMs = options?.retryMs;
        poke();
      },
    });
    stream.onAbort(() => {
      ended = true;
      poke();
    });
    let position = start.after;
    const since = start.since ?? 0;
    const send = async (event: StoredEvent) => {
      if (comparePositions(event.position, position) <= 0) return;
      position = event.position;
      if (event.createdAt < since) return;
      await stream.writeSSE({ event: event.event, id: event.id, data: event.body });
    };
    /** Resolves true when woken, false after `ms`. */
    const sleep = async (ms: number) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const woken = await new Promise<boolean>((resolve) => {
        wake = () => resolve(true);
        timer = setTimeout(() => resolve(false), ms);
      });
      clearTimeout(timer);
      wake = null;
      return woken;
    };
    try {
      await stream.write(": connected\n\n");
      if (start.gap) {
        // No id: a client that reconnects after it still names the event it last had.
        await stream.writeSSE({
          event: GAP_EVENT,
          data: JSON.stringify({
            event: GAP_EVENT,
            ...(source.session === undefined ? {} : { session: source.session }),
            timestamp: Date.now(),
            payload: { message: start.gap },
          }),
        });
      }
      let heldBackPause = 5;
      while (!ended) {
        dirty = false;
        let page;
        try {
          page = await source.read(position, PAGE);
        } catch {
          // Read again later from the same position: nothing is lost, the client stays.
          if (!await sleep(heartbeatMs) && !ended) await stream.write(": heartbeat\n\n");
          continue;
        }
        for (const event of page.events) {
          if (ended) break;
          await send(event);
        }
        if (ended) break;
        if (page.events.length === PAGE) continue;
        if (page.pending) {
          await sleep(heldBackPause);
          heldBackPause = Math.min(heldBackPause * 2, HELD_BACK_MAX_MS);
          continue;
        }
        heldBackPause = 5;
        if (dirty) continue;
        if (!await sleep(heartbeatMs) && !ended) await stream.write(": heartbeat\n\n");
      }
      if (retryMs !== undefined && !stream.aborted) await stream.write(`retry: ${retryMs}\n\n`);
    } finally {
      unsubscribe();
    }
  });
}
