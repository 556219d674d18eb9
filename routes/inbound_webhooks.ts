/**
 * @module
 * The inbound WAHA webhooks (`POST /webhook/message`, `POST /webhook/state-change`), so that a
 * remote WAHA server can be the backend of a session: its message events (`message`,
 * `message.any`, `message.ack`, `message.reaction`, `message.revoked`, `message.edited` and
 * `poll.vote`), its group events (`group.v2.*`: `inbound_group_events.ts`), those of labels,
 * presence and calls (`inbound_social_events.ts`) and `session.status` are validated (extra
 * fields are kept, malformed ones are a 400), must name a known session (the phone number, else
 * 404), and enter the same pipeline as our workers' events (a `session.status`
 * is stored with its derived `state.change` in one transaction). An event id that was already
 * accepted is acknowledged again without a second event (WAHA retries).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { sessionNotFound } from "../errors.ts";
import { environmentOf, newEventId } from "../events/envelope.ts";
import type { Envelope } from "../events/envelope.ts";
import type { EventsApi } from "../events/pipeline.ts";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { GROUP_EVENT_PAYLOADS } from "./inbound_group_events.ts";
import { createRouter } from "./router.ts";
import { socialEventEnvelopes } from "./inbound_social_events.ts";
import { isPhoneNumber } from "../sessions/phone_number.ts";
import { errorResponses, jsonBody, jsonResponse } from "./schemas.ts";

const optionalText = z.string().nullable().optional();

const MeSchema = z.looseObject({ id: z.string().min(1), pushName: optionalText });

const envelope = <E extends z.ZodType, P extends z.ZodType>(event: E, payload: P) =>
  z.looseObject({
    id: z.string().min(1).max(100).optional().openapi({
      example: "evt_01aaaaaaaaaaaaaaaaaaaaaaaa",
    }),
    timestamp: z.number().int().nonnegative().optional().openapi({ example: 1634567890123 }),
    event,
    session: z.string().min(1).max(100).openapi({
      example: "4915550001234",
      description: "The phone number of one of our sessions",
    }),
    me: MeSchema.nullable().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    payload,
    engine: z.string().max(50).optional().openapi({ example: "WEBJS" }),
    environment: z.looseObject({}).optional(),
  });

const MediaSchema = z.looseObject({
  url: optionalText,
  mimetype: optionalText,
  filename: optionalText,
  error: z.unknown().optional(),
});

const MessagePayloadSchema = z.looseObject({
  id: z.string().min(1),
  timestamp: z.number().nonnegative(),
  from: z.string().min(1),
  fromMe: z.boolean(),
  source: z.string().optional(),
  to: optionalText,
  participant: optionalText,
  body: optionalText,
  hasMedia: z.boolean().optional(),
  media: MediaSchema.nullable().optional(),
  ack: z.number().int().min(-1).max(4).nullable().optional(),
  ackName: optionalText,
  vCards: z.array(z.string()).nullable().optional(),
  replyTo: z.looseObject({}).nullable().optional(),
  _data: z.unknown().optional(),
});

const WAHA_STATUS = z.enum([
  "STOPPED",
  "STARTING",
  "SCAN_QR_CODE",
  "WORKING",
  "FAILED",
  "PASSKEY_REQUIRED",
  "PASSKEY_CONFIRMATION_REQUIRED",
]);

const StatusPayloadSchema = z.looseObject({
  name: z.string().optional(),
  status: WAHA_STATUS,
  statuses: z.array(z.looseObject({ status: WAHA_STATUS, timestamp: z.number() })).optional(),
  data: z.unknown().optional(),
});

/** WAHA's `message.ack` (`WAMessageAckBody`): who sent the message to whom, and how far it got. */
const AckPayloadSchema = z.looseObject({
  id: z.string().min(1),
  from: z.string().min(1),
  to: optionalText,
  participant: optionalText,
  fromMe: z.boolean(),
  ack: z.number().int().min(-1).max(4),
  ackName: z.string().min(1),
});

/** WAHA's `message.reaction` (`WAMessageReaction`): the reaction's own message and what it is. */
const ReactionPayloadSchema = z.looseObject({
  id: z.string().min(1),
  timestamp: z.number().nonnegative(),
  from: z.string().min(1),
  fromMe: z.boolean(),
  to: optionalText,
  participant: optionalText,
  reaction: z.looseObject({
    text: z.string().openapi({ description: "The emoji, or empty when it was taken back" }),
    messageId: z.string().min(1),
  }),
});

/** WAHA's `message.revoked` (`WAMessageRevokedBody`): the message after and before. */
const RevokedPayloadSchema = z.looseObject({
  after: MessagePayloadSchema.nullable().optional(),
  before: MessagePayloadSchema.nullable().optional(),
  revokedMessageId: optionalText,
});

const DestinationSchema = z.looseObject({
  id: z.string().min(1),
  from: optionalText,
  to: optionalText,
  fromMe: z.boolean(),
});

/** WAHA's `poll.vote` (`PollVotePayload`): the vote (its options) and the poll it is for. */
const PollVotePayloadSchema = z.looseObject({
  vote: DestinationSchema.extend({
    participant: optionalText,
    selectedOptions: z.array(z.string()),
    timestamp: z.number().nonnegative(),
  }),
  poll: DestinationSchema,
});

/** WAHA's `message.edited` (`WAMessageEditedBody`): the message with its new body. */
const EditedPayloadSchema = MessagePayloadSchema.extend({ editedMessageId: optionalText });

const MessageEventSchema = z.discriminatedUnion("event", [
  envelope(z.enum(["message", "message.any"]), MessagePayloadSchema),
  envelope(z.literal("message.ack"), AckPayloadSchema),
  envelope(z.literal("message.reaction"), ReactionPayloadSchema),
  envelope(z.literal("message.revoked"), RevokedPayloadSchema),
  envelope(z.literal("poll.vote"), PollVotePayloadSchema),
  ...GROUP_EVENT_PAYLOADS.map(([event, payload]) => envelope(z.literal(event), payload)),
  envelope(z.literal("message.edited"), EditedPayloadSchema),
  ...socialEventEnvelopes(envelope),
]).openapi("WahaMessageEvent");
const StatusEventSchema = envelope(z.literal("session.status"), StatusPayloadSchema)
  .openapi("WahaSessionStatusEvent");

const AcceptedSchema = z.object({
  success: z.boolean(),
  ids: z.array(z.string()).openapi({ description: "The ids of the events accepted" }),
  duplicate: z.boolean().openapi({ description: "The event id was accepted before" }),
}).openapi("InboundAccepted");

const inbound = (path: string, summary: string, schema: z.ZodType) =>
  createRoute({
    method: "post",
    path,
    tags: ["Webhooks"],
    summary,
    security: [{ apiKey: [] }],
    request: jsonBody(schema),
    responses: {
      200: jsonResponse(AcceptedSchema, "Stored and queued for delivery"),
      ...errorResponses("BAD_REQUEST", "NOT_FOUND"),
    },
  });

const messageRoute = inbound(
  "/webhook/message",
  "Accept a WAHA message event for one of our sessions",
  MessageEventSchema,
);
const stateRoute = inbound(
  "/webhook/state-change",
  "Accept a WAHA session.status event for one of our sessions",
  StatusEventSchema,
);

/** Makes an inbound event one of ours: a known session, an id and a timestamp. */
async function normalize(
  manager: SessionManager,
  body: Record<string, unknown>,
): Promise<Envelope> {
  const session = String(body.session);
  if (!isPhoneNumber(session)) throw sessionNotFound(session);
  await manager.info(session);
  const engine = typeof body.engine === "string" ? body.engine : "WAHA";
  return {
    ...body,
    id: typeof body.id === "string" ? body.id : newEventId(),
    timestamp: typeof body.timestamp === "number" ? body.timestamp : Date.now(),
    event: String(body.event),
    session,
    payload: body.payload as Record<string, unknown>,
    engine,
    environment: (body.environment as Record<string, unknown>) ?? environmentOf("", engine),
  };
}

export function createInboundWebhookRoutes(
  deps: { manager: SessionManager; guards: AuthGuards; events: EventsApi },
) {
  const { manager, guards, events } = deps;

  return createRouter()
    .guard(guards.requireWahaProtected, messageRoute, stateRoute)
    .openapi(messageRoute, async (c) => {
      const event = await normalize(manager, c.req.valid("json") as Record<string, unknown>);
      const { ids, duplicates } = await events.accept([event]);
      return c.json({ success: true, ids, duplicate: duplicates.length > 0 }, 200);
    })
    .openapi(stateRoute, async (c) => {
      const body = c.req.valid("json") as z.infer<typeof StatusEventSchema>;
      const event = await normalize(manager, body as Record<string, unknown>);
      // A number the waha engine runs here: WAHA's status is the engine's, and the session's own
      // status change is the event (once, as for the other engines), not WAHA's post.
      const report = { status: body.payload.status, me: body.me, at: body.timestamp };
      if (manager.applyWahaStatus?.(event.session, report)) {
        return c.json({ success: true, ids: [], duplicate: false }, 200);
      }
      // The pipeline stores the derived `state.change` in the same transaction.
      const { ids, duplicates } = await events.accept([event]);
      return c.json({ success: true, ids, duplicate: duplicates.length > 0 }, 200);
    });
}
