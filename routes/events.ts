/**
 * @module
 * `GET /:phoneNumber/events`: the number's events as Server-Sent Events. Each SSE message carries
 * the envelope as `data`, its name as `event` and its id as `id`. A new stream starts with the
 * live events; a client that reconnects with `Last-Event-ID` (or `?lastEventId=`) first gets
 * everything after that event that the outbox still retains, and `?since=<ms>` replays the events
 * since a time. An id the outbox does not hold (never, or no longer) or a time before the
 * retention starts the stream with one `stream.gap` event saying events may have been missed,
 * then the retained ones. A comment line every `SSE_HEARTBEAT_MS` keeps proxies from closing a
 * quiet stream.
 *
 * The stream reads the events table from its position, and reads on when woken (any node wrote
 * events of the number), when events were held back behind an open transaction (shortly after),
 * and at each heartbeat (a missed wake-up costs at most that long). It needs no session on this
 * node: any node of a cluster serves any number's stream. Its position only moves forward, so no
 * event is sent twice, and the store's order is commit order, so none is skipped. A read that
 * fails (the database out of reach) is tried again at the next wake-up or heartbeat, the stream
 * kept open; a server that closes ends its streams with a `retry:` hint.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import type { EventsApi } from "../events/pipeline.ts";
import { comparePositions, type StoredEvent } from "../events/outbox.ts";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { createRouter } from "./router.ts";
import { errorResponses, PhoneNumber, SECURED } from "./schemas.ts";

const PAGE = 500;
/** The longest pause before reading again events held back behind an open transaction. */
const HELD_BACK_MAX_MS = 200;
/** The first event of a stream whose resume point is not retained (see the module comment). */
export const GAP_EVENT = "stream.gap";

const eventsRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/events",
  tags: ["Events"],
  summary: "Follow the number's events (Server-Sent Events, resumable with Last-Event-ID)",
  description: "Live events from the moment of the request; `Last-Event-ID` (or `lastEventId`) " +
    "or `since` replays retained events first. A resume point that is no longer retained (or " +
    `never was) starts the stream with one \`${GAP_EVENT}\` event (no id) whose data says so.`,
  security: SECURED,
  request: {
    params: z.object({ phoneNumber: PhoneNumber }),
    query: z.object({
      lastEventId: z.string().max(100).optional().openapi({
        description: "Resume after this event id (same as the Last-Event-ID header, which wins)",
      }),
      since: z.coerce.number().int().nonnegative().optional().openapi({
        description: "Replay the events since this time (Unix ms) before the live ones; " +
          "without it or an event id, the stream starts with the live events",
        example: 1764086400000,
      }),
    }),
  },
  responses: {
    200: {
      description: "An endless text/event-stream of WAHA-shaped envelopes",
      content: { "text/event-stream": { schema: z.string() } },
    },
    ...errorResponses("BAD_REQUEST", "FORBIDDEN", "NOT_FOUND"),
  },
});

export function createEventRoutes(
  deps: { manager: SessionManager; guards: AuthGuards; events: EventsApi },
) {
  const { manager, guards, events } = deps;

  const router = createRouter().guard(guards.requireSingleAccountProtected(), eventsRoute);
  return router.openapi(eventsRoute, async (c) => {
    const { phoneNumber } = c.req.valid("param");
    await manager.authorize(phoneNumber, c.get("principal"));
    const query = c.req.valid("query");
    // Awaited, like the pages below: the outbox may answer asynchronously (PostgreSQL).
    const start = await events.streamStart(phoneNumber, {
      lastEventId: c.req.header("last-event-id") ?? query.lastEventId ?? null,
      since: query.since ?? null,
    });
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
      const unsubscribe = events.subscribe(phoneNumber, {
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
              session: phoneNumber,
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
            page = await events.readStream(phoneNumber, position, PAGE);
          } catch {
            // Read again later from the same position: nothing is lost, the client stays.
            if (!await sleep(events.heartbeatMs) && !ended) await stream.write(": heartbeat\n\n");
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
          if (!await sleep(events.heartbeatMs) && !ended) await stream.write(": heartbeat\n\n");
        }
        if (retryMs !== undefined && !stream.aborted) await stream.write(`retry: ${retryMs}\n\n`);
      } finally {
        unsubscribe();
      }
    });
  });
}
