/**
 * @module
 * Changing one of your sent messages: revoking it for everyone
 * (`DELETE /{phoneNumber}/messages/{messageId}`) and editing its text
 * (`PUT /{phoneNumber}/messages/{messageId}`).
 */
import { createRoute } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { EditMessageSchema } from "./engine_inputs.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  jsonBody,
  jsonResponse,
  MessageParams,
  SECURED,
  SentMessageSchema,
  SESSION_CALL_ERRORS,
  SuccessSchema,
} from "./schemas.ts";

const deleteRoute = createRoute({
  method: "delete",
  path: "/{phoneNumber}/messages/{messageId}",
  tags: ["Messaging"],
  summary: "Revoke one of your messages for everyone",
  security: SECURED,
  request: { params: MessageParams },
  responses: {
    200: jsonResponse(SuccessSchema, "Revoked"),
    ...errorResponses(...SESSION_CALL_ERRORS),
  },
});

const editRoute = createRoute({
  method: "put",
  path: "/{phoneNumber}/messages/{messageId}",
  tags: ["Messaging"],
  summary: "Edit the text of one of your messages",
  security: SECURED,
  request: { params: MessageParams, ...jsonBody(EditMessageSchema) },
  responses: {
    200: jsonResponse(SentMessageSchema, "Edited"),
    ...errorResponses(...SESSION_CALL_ERRORS),
  },
});

export function createMessageEditRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;

  return createRouter()
    .guard(guards.requireSingleAccountProtected(), deleteRoute, editRoute)
    .openapi(deleteRoute, async (c) => {
      const { phoneNumber, messageId } = c.req.valid("param");
      await manager.session(phoneNumber, c.get("principal")).deleteMessage(messageId);
      return c.json({ success: true, message: `Message "${messageId}" revoked` }, 200);
    })
    .openapi(editRoute, async (c) => {
      const { phoneNumber, messageId } = c.req.valid("param");
      const edit = { messageId, ...c.req.valid("json") };
      return c.json(await manager.session(phoneNumber, c.get("principal")).editMessage(edit), 200);
    });
}
