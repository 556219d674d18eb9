/**
 * @module
 * The event streams, as Server-Sent Events: `GET /:phoneNumber/events`, one number's, and
 * `GET /events`, every number the caller may see in one stream (an account's numbers, evaluated as
 * events flow: a number it claims later appears, one that changes hands stops; the admin's: all),
 * so that a page following many numbers holds one connection, not one per number. Each SSE message
 * carries the envelope as `data`, its name as `event` and its id as `id`. A new stream starts with
 * the live events; a client that reconnects with `Last-Event-ID` (or `?lastEventId=`) first gets
 * everything after that event that the outbox still retains, and `?since=<ms>` replays the events
 * since a time. An id the outbox does not hold for the stream (never, no longer, or another's
 * number) or a time before the retention starts the stream with one `stream.gap` event saying
 * events may have been missed, then the retained ones. A comment line every `SSE_HEARTBEAT_MS`
 * keeps proxies from closing a quiet stream; a server that closes ends its streams with a `retry:`
 * hint. Neither needs a session on this node: any node of a cluster serves any stream. The loop
 * itself is `event_stream.ts`.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { EventsApi } from "../events/pipeline.ts";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { GAP_EVENT, streamEvents } from "./event_stream.ts";
import { createRouter } from "./router.ts";
import { errorResponses, PhoneNumber, SECURED } from "./schemas.ts";

export { GAP_EVENT };

const ResumeQuery = z.object({
  lastEventId: z.string().max(100).optional().openapi({
    description: "Resume after this event id (same as the Last-Event-ID header, which wins)",
  }),
  since: z.coerce.number().int().nonnegative().optional().openapi({
    description: "Replay the events since this time (Unix ms) before the live ones; " +
      "without it or an event id, the stream starts with the live events",
    example: 1764086400000,
  }),
});

const STREAM_RESPONSE = {
  description: "An endless text/event-stream of WAHA-shaped envelopes",
  content: { "text/event-stream": { schema: z.string() } },
};

const RESUME_RULES = "Live events from the moment of the request; `Last-Event-ID` (or " +
  "`lastEventId`) or `since` replays retained events first. A resume point that is no longer " +
  `retained (or never was) starts the stream with one \`${GAP_EVENT}\` event (no id) whose data ` +
  "says so.";

const eventsRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/events",
  tags: ["Events"],
  summary: "Follow the number's events (Server-Sent Events, resumable with Last-Event-ID)",
  description: RESUME_RULES,
  security: SECURED,
  request: { params: z.object({ phoneNumber: PhoneNumber }), query: ResumeQuery },
  responses: {
    200: STREAM_RESPONSE,
    ...errorResponses("BAD_REQUEST", "FORBIDDEN", "NOT_FOUND"),
  },
});

const allEventsRoute = createRoute({
  method: "get",
  path: "/events",
  tags: ["Events"],
  summary: "Follow the events of every number you may see, in one stream (Server-Sent Events)",
  description: "An account's numbers (the numbers it owns as each event is read: one it " +
    "claims later joins the stream, one that changes hands leaves it); the admin's: every " +
    "number. Each envelope names its number in `session`. " + RESUME_RULES +
    " An event id of a number the caller may not see counts as unknown.",
  security: SECURED,
  request: { query: ResumeQuery },
  responses: { 200: STREAM_RESPONSE, ...errorResponses("BAD_REQUEST") },
});

export function createEventRoutes(
  deps: { manager: SessionManager; guards: AuthGuards; events: EventsApi },
) {
  const { manager, guards, events } = deps;

  return createRouter()
    .guard(guards.requireSingleAccountProtected(), eventsRoute)
    .guard(guards.requireAuth, allEventsRoute)
    .openapi(eventsRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      await manager.authorize(phoneNumber, c.get("principal"));
      const query = c.req.valid("query");
      // Awaited, like the pages: the outbox may answer asynchronously (PostgreSQL).
      const start = await events.streamStart(phoneNumber, {
        lastEventId: c.req.header("last-event-id") ?? query.lastEventId ?? null,
        since: query.since ?? null,
      });
      return streamEvents(c, {
        start,
        read: (after, limit) => events.readStream(phoneNumber, after, limit),
        subscribe: (subscriber) => events.subscribe(phoneNumber, subscriber),
        heartbeatMs: events.heartbeatMs,
        session: phoneNumber,
      });
    })
    .openapi(allEventsRoute, async (c) => {
      const principal = c.get("principal");
      const scope = principal.kind === "admin" ? {} : { ownerAccountId: principal.accountId! };
      const query = c.req.valid("query");
      const mayRead = (phoneNumber: string) =>
        manager.authorize(phoneNumber, principal).then(() => true, () => false);
      const start = await events.streamStartAll(mayRead, {
        lastEventId: c.req.header("last-event-id") ?? query.lastEventId ?? null,
        since: query.since ?? null,
      });
      return streamEvents(c, {
        start,
        read: (after, limit) => events.readStreams(after, limit, scope),
        subscribe: (subscriber) => events.subscribeAll(subscriber),
        heartbeatMs: events.heartbeatMs,
      });
    });
}
