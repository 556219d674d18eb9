/**
 * @module
 * What a person does to one message besides answering it, under
 * `/{phoneNumber}/messages/{messageId}`: forward it to another chat (`POST …/forward`), star and
 * unstar it (`PUT`/`DELETE …/star`), pin it in its chat for 24 hours, 7 days or 30 days and unpin
 * it (`POST`/`DELETE …/pin`).
 */
import { createRoute } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { ForwardMessageSchema, PinMessageSchema } from "./engine_inputs.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  IdempotencyHeaders,
  jsonBody,
  jsonResponse,
  MessageParams,
  SECURED,
  SESSION_CALL_ERRORS,
  SuccessSchema,
} from "./schemas.ts";

const path = (action: string) => `/{phoneNumber}/messages/{messageId}/${action}`;
const responses = {
  200: jsonResponse(SuccessSchema, "Done"),
  ...errorResponses(...SESSION_CALL_ERRORS),
};

/** A route on one message that takes no body. */
function markRoute(method: "put" | "delete", action: string, summary: string) {
  return createRoute({
    method,
    path: path(action),
    tags: ["Messaging"],
    summary,
    security: SECURED,
    request: { params: MessageParams },
    responses,
  });
}

// Forwarding sends a message: it takes an Idempotency-Key.
const forwardRoute = createRoute({
  method: "post",
  path: path("forward"),
  tags: ["Messaging"],
  summary: "Forward a message to another chat",
  security: SECURED,
  request: {
    params: MessageParams,
    headers: IdempotencyHeaders,
    ...jsonBody(ForwardMessageSchema),
  },
  responses,
});
const starRoute = markRoute("put", "star", "Star a message");
const unstarRoute = markRoute("delete", "star", "Unstar a message");
const pinRoute = createRoute({
  method: "post",
  path: path("pin"),
  tags: ["Messaging"],
  summary: "Pin a message in its chat for 24 hours, 7 days or 30 days",
  security: SECURED,
  request: { params: MessageParams, ...jsonBody(PinMessageSchema) },
  responses,
});
const unpinRoute = markRoute("delete", "pin", "Unpin a message");

export function createMessageMarkRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  const routes = [forwardRoute, starRoute, unstarRoute, pinRoute, unpinRoute];

  return createRouter()
    .guard(guards.requireSingleAccountProtected(), ...routes)
    .openapi(forwardRoute, async (c) => {
      const { phoneNumber, messageId } = c.req.valid("param");
      const { chatId } = c.req.valid("json");
      await manager.session(phoneNumber, c.get("principal")).forwardMessage({ messageId, chatId });
      return c.json({ success: true, message: `Message forwarded to "${chatId}"` }, 200);
    })
    .openapi(starRoute, async (c) => {
      const { phoneNumber, messageId } = c.req.valid("param");
      await manager.session(phoneNumber, c.get("principal")).starMessage(messageId);
      return c.json({ success: true, message: `Message "${messageId}" starred` }, 200);
    })
    .openapi(unstarRoute, async (c) => {
      const { phoneNumber, messageId } = c.req.valid("param");
      await manager.session(phoneNumber, c.get("principal")).unstarMessage(messageId);
      return c.json({ success: true, message: `Message "${messageId}" unstarred` }, 200);
    })
    .openapi(pinRoute, async (c) => {
      const { phoneNumber, messageId } = c.req.valid("param");
      const { duration } = c.req.valid("json");
      await manager.session(phoneNumber, c.get("principal")).pinMessage({ messageId, duration });
      return c.json({ success: true, message: `Message "${messageId}" pinned` }, 200);
    })
    .openapi(unpinRoute, async (c) => {
      const { phoneNumber, messageId } = c.req.valid("param");
      await manager.session(phoneNumber, c.get("principal")).unpinMessage(messageId);
      return c.json({ success: true, message: `Message "${messageId}" unpinned` }, 200);
    });
}
