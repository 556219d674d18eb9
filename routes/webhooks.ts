/**
 * @module
 * A number's outgoing webhooks: the configuration (`GET/PUT /:phoneNumber/webhooks`), the
 * deliveries with their state (`GET /:phoneNumber/webhooks/deliveries?status=failed` lists the
 * dead letters) and their replay (`POST /:phoneNumber/webhooks/deliveries/:id/retry`).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { EventsApi } from "../events/pipeline.ts";
import { EMITTED_EVENTS, eventNameProblem } from "../events/event_names.ts";
import type { Delivery } from "../events/outbox.ts";
import {
  headersProblem,
  MAX_HEADER_BYTES,
  MAX_HEADERS,
  MAX_WEBHOOKS,
} from "../events/webhook_headers.ts";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  IdempotencyHeaders,
  jsonBody,
  jsonResponse,
  PhoneNumber,
  SECURED,
} from "./schemas.ts";

const WebhookInputSchema = z.object({
  url: z.url({ protocol: /^https?$/ }).max(2048).openapi({
    example: "https://example.com/wa-events",
  }),
  events: z.array(
    z.string().min(1).max(64).superRefine((name, ctx) => {
      const problem = eventNameProblem(name);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  ).min(1).max(50).default(["*"]).openapi({
    example: ["message", "session.status"],
    description: `Event names, or "*" for all. Sent: ${EMITTED_EVENTS.join(", ")}; WAHA's ` +
      "other names are accepted (a WAHA configuration keeps working) but not sent yet",
  }),
  secret: z.string().min(1).max(512).optional().openapi({
    description: "Signs each delivery: X-Webhook-Hmac is the hex HMAC-SHA512 of the body",
  }),
  headers: z.record(z.string(), z.string()).superRefine((headers, ctx) => {
    const problem = headersProblem(headers);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }).optional().openapi({
    example: { Authorization: "Bearer receiver-token" },
    description: `Sent with every delivery: at most ${MAX_HEADERS} headers and ` +
      `${MAX_HEADER_BYTES} bytes of names and values in all; no hop-by-hop header, Host, ` +
      "Content-Length, Content-Type or X-Webhook-*, no control characters in values",
  }),
}).openapi("WebhookInput");

const WebhookSchema = z.object({
  url: z.string(),
  events: z.array(z.string()),
  hasSecret: z.boolean().openapi({ description: "The secret itself is never shown" }),
  headers: z.record(z.string(), z.string()).optional(),
}).openapi("Webhook");

const WebhookListSchema = z.object({ webhooks: z.array(WebhookSchema) }).openapi("WebhookList");

const DeliverySchema = z.object({
  id: z.number().int(),
  eventId: z.string().openapi({ example: "evt_01jq3v9t1k2m3n4p5q6r7s8t9v" }),
  event: z.string(),
  url: z.string(),
  status: z.enum(["pending", "delivered", "failed"]),
  attempts: z.number().int(),
  nextAttemptAt: z.number().int().openapi({ description: "Unix milliseconds" }),
  lastError: z.string().nullable(),
  lastStatus: z.number().int().nullable(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
}).openapi("WebhookDelivery");

const PhoneParams = z.object({ phoneNumber: PhoneNumber });
const DeliveryParams = z.object({
  phoneNumber: PhoneNumber,
  id: z.coerce.number().int().positive().openapi({ param: { name: "id", in: "path" } }),
});
const DeliveryQuery = z.object({
  status: z.enum(["pending", "delivered", "failed"]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().positive().optional().openapi({
    description: "Only deliveries with a smaller id (the next page)",
  }),
});

function toDeliveryBody(delivery: Delivery) {
  return {
    id: delivery.id,
    eventId: delivery.eventId,
    event: delivery.event,
    url: delivery.url,
    status: delivery.status,
    attempts: delivery.attempts,
    nextAttemptAt: delivery.nextAttemptAt,
    lastError: delivery.lastError,
    lastStatus: delivery.lastStatus,
    createdAt: delivery.createdAt,
    updatedAt: delivery.updatedAt,
  };
}

const errors = errorResponses("BAD_REQUEST", "FORBIDDEN", "NOT_FOUND");

const getRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/webhooks",
  tags: ["Webhooks"],
  summary: "The number's webhooks",
  security: SECURED,
  request: { params: PhoneParams },
  responses: { 200: jsonResponse(WebhookListSchema, "The webhooks"), ...errors },
});

const putRoute = createRoute({
  method: "put",
  path: "/{phoneNumber}/webhooks",
  tags: ["Webhooks"],
  summary: "Replace the number's webhooks",
  description: "URLs pass the same address rules as fetched media (WEBHOOK_ALLOW_PRIVATE_HOSTS)",
  security: SECURED,
  request: {
    params: PhoneParams,
    ...jsonBody(
      z.object({
        webhooks: z.array(WebhookInputSchema).max(
          MAX_WEBHOOKS,
          `at most ${MAX_WEBHOOKS} webhooks per number`,
        ),
      }).openapi("Webhooks"),
    ),
  },
  responses: { 200: jsonResponse(WebhookListSchema, "The webhooks as saved"), ...errors },
});

const deliveriesRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/webhooks/deliveries",
  tags: ["Webhooks"],
  summary: "Deliveries, newest first; status=failed lists the dead letters",
  security: SECURED,
  request: { params: PhoneParams, query: DeliveryQuery },
  responses: {
    200: jsonResponse(
      z.object({ deliveries: z.array(DeliverySchema) }).openapi("WebhookDeliveries"),
      "The deliveries",
    ),
    ...errors,
  },
});

const retryRoute = createRoute({
  method: "post",
  path: "/{phoneNumber}/webhooks/deliveries/{id}/retry",
  tags: ["Webhooks"],
  summary: "Deliver again (a dead letter, usually), with a fresh round of attempts",
  description: "Sent with the webhook's current URL, secret and headers; 404 when the " +
    "webhook was removed (the delivery stays failed, saying so)",
  security: SECURED,
  request: { params: DeliveryParams, headers: IdempotencyHeaders },
  responses: {
    200: jsonResponse(z.object({ delivery: DeliverySchema }), "Queued again"),
    ...errors,
  },
});

export function createWebhookRoutes(
  deps: { manager: SessionManager; guards: AuthGuards; events: EventsApi },
) {
  const { manager, guards, events } = deps;
  const routes = [getRoute, putRoute, deliveriesRoute, retryRoute];

  const list = async (phoneNumber: string) => ({
    webhooks: (await events.getWebhooks(phoneNumber)).map((hook) => ({
      url: hook.url,
      events: hook.events,
      hasSecret: hook.secret !== undefined,
      ...(hook.headers ? { headers: hook.headers } : {}),
    })),
  });

  return createRouter()
    .guard(guards.requireSingleAccountProtected(), ...routes)
    .openapi(getRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      await manager.authorize(phoneNumber, c.get("principal"));
      return c.json(await list(phoneNumber), 200);
    })
    .openapi(putRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const principal = c.get("principal");
      await manager.authorize(phoneNumber, principal);
      await events.setWebhooks(phoneNumber, c.req.valid("json").webhooks, {
        requestId: c.get("requestId"),
        // The URL checks wait on DNS, which the caller may control: the number must still be
        // the caller's when the webhooks are written.
        confirm: () => manager.authorize(phoneNumber, principal),
      });
      return c.json(await list(phoneNumber), 200);
    })
    .openapi(deliveriesRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      await manager.authorize(phoneNumber, c.get("principal"));
      const { status, limit, before } = c.req.valid("query");
      const deliveries = await events.listDeliveries(phoneNumber, {
        status,
        limit,
        beforeId: before,
        numberWebhooksOnly: c.get("principal").kind !== "admin",
      });
      return c.json({ deliveries: deliveries.map(toDeliveryBody) }, 200);
    })
    .openapi(retryRoute, async (c) => {
      const { phoneNumber, id } = c.req.valid("param");
      await manager.authorize(phoneNumber, c.get("principal"));
      const scope = { numberWebhooksOnly: c.get("principal").kind !== "admin" };
      return c.json(
        { delivery: toDeliveryBody(await events.retryDelivery(phoneNumber, id, scope)) },
        200,
      );
    });
}
