/**
 * @module
 * Messaging routes: sending texts (and, with safe media handling, images, files, video, voice and
 * audio). Each answers `{ messageId, timestamp }`.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SentMessage } from "../sessions/engine.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  Jid,
  jsonBody,
  jsonResponse,
  MessageId,
  PhoneParams,
  SECURED,
  SentMessageSchema,
  SESSION_CALL_ERRORS,
} from "./schemas.ts";

const SendTextSchema = z.object({
  chatId: Jid,
  text: z.string().min(1).max(65_536).openapi({ example: "Hello from wa-gateway" }),
  quotedMsgId: MessageId.optional(),
}).openapi("SendText");

export function createMessageRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  const owned = guards.requireSingleAccountProtected();

  const sendTextRoute = createRoute({
    method: "post",
    path: "/{phoneNumber}/send-text",
    tags: ["Messaging"],
    summary: "Send a text message",
    security: SECURED,
    middleware: [owned] as const,
    request: { params: PhoneParams, ...jsonBody(SendTextSchema) },
    responses: {
      200: jsonResponse(SentMessageSchema, "Sent"),
      ...errorResponses(...SESSION_CALL_ERRORS),
    },
  });

  return createRouter()
    .openapi(sendTextRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const sent = await manager.call<SentMessage>(phoneNumber, "sendText", c.req.valid("json"));
      return c.json(sent, 200);
    });
}
