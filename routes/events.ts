/**
 * @module
 * `GET /:phoneNumber/events`: the number's events as Server-Sent Events. Each SSE message carries
 * the envelope as `data`, its name as `event` and its id as `id`; a client that reconnects with
 * `Last-Event-ID` (or `?lastEventId=`) gets everything after that event that the outbox still
 * retains, then the live events. A comment line every `SSE_HEARTBEAT_MS` keeps proxies from
 * closing a quiet stream.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import type { EventsApi } from "../events/pipeline.ts";
import type { StoredEvent } from "../events/outbox.ts";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { createRouter } from "./router.ts";
import { errorResponses, PhoneNumber, SECURED } from "./schemas.ts";

const PAGE = 500;

const eventsRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/events",
  tags: ["Events"],
  summary: "Follow the number's events (Server-Sent Events, resumable with Last-Event-ID)",
  security: SECURED,
  request: {
    params: z.object({ phoneNumber: PhoneNumber }),
    query: z.object({
      lastEventId: z.string().max(100).optional().openapi({
        description: "Resume after this event id (same as the Last-Event-ID header)",
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
    const cursor = c.req.header("last-event-id") ?? c.req.valid("query").lastEventId ?? null;
    return streamSSE(c, async (stream) => {
      const live: StoredEvent[] = [];
      let ended = false;
      let wake: (() => void) | null = null;
      const poke = () => wake?.();
      const unsubscribe = events.subscribe(phoneNumber, {
        event(event) {
          live.push(event);
          poke();
        },
        close() {
          ended = true;
          poke();
        },
      });
      stream.onAbort(() => {
        ended = true;
        poke();
      });
      let last = 0;
      const send = async (event: StoredEvent) => {
        if (event.seq <= last) return;
        last = event.seq;
        await stream.writeSSE({ event: event.event, id: event.id, data: event.body });
      };
      try {
        await stream.write(": connected\n\n");
        // Subscribed first, then the backlog: nothing falls between the two, duplicates are
        // skipped by sequence number.
        let page = await events.eventsAfter(phoneNumber, cursor, PAGE);
        while (!ended) {
          for (const event of page) await send(event);
          if (page.length < PAGE) break;
          page = await events.eventsAfter(phoneNumber, String(last), PAGE);
        }
        while (!ended) {
          while (live.length > 0 && !ended) await send(live.shift()!);
          if (ended) break;
          let timer: ReturnType<typeof setTimeout> | undefined;
          const woken = await new Promise<boolean>((resolve) => {
            wake = () => resolve(true);
            timer = setTimeout(() => resolve(false), events.heartbeatMs);
          });
          clearTimeout(timer);
          wake = null;
          if (!woken && !ended) await stream.write(": heartbeat\n\n");
        }
      } finally {
        unsubscribe();
      }
    });
  });
}
