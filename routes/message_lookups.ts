/**
 * @module
 * Reading from WhatsApp through a session: whether a number is on WhatsApp
 * (`GET /{phoneNumber}/check-number/{phone}`, with its chat id) and a message's media as bytes
 * with its content type and file name (`GET /{phoneNumber}/messages/{chatId}/{messageId}/media`).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { downloadHeaders } from "./download_headers.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  jsonResponse,
  MediaParams,
  PhoneDigits,
  PhoneParams,
  SECURED,
  SESSION_CALL_ERRORS,
} from "./schemas.ts";

const CheckNumberSchema = z.object({
  exists: z.boolean().openapi({ example: true }),
  chatId: z.string().optional().openapi({
    example: "15550000001@c.us",
    description: "The chat id to use, when the number is on WhatsApp",
  }),
}).openapi("NumberCheck");

const CheckNumberParams = PhoneParams.extend({
  phone: PhoneDigits.openapi({
    param: { name: "phone", in: "path" },
    example: "+15550000001",
    description: "The number, as people write it: +49 170 123-4567, 00491701234567, …",
  }),
});

const checkRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/check-number/{phone}",
  tags: ["Messaging"],
  summary: "Whether a number is on WhatsApp, and its chat id",
  security: SECURED,
  request: { params: CheckNumberParams },
  responses: {
    200: jsonResponse(CheckNumberSchema, "The answer"),
    ...errorResponses(...SESSION_CALL_ERRORS),
  },
});

const mediaRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/messages/{chatId}/{messageId}/media",
  tags: ["Messaging"],
  summary: "The media of a message, as bytes with its content type",
  security: SECURED,
  request: { params: MediaParams },
  responses: {
    200: {
      description: "The bytes, as a download (`Content-Disposition: attachment` with the " +
        "file name, `X-Content-Type-Options: nosniff`, `Content-Security-Policy: sandbox`)",
      content: {
        "application/octet-stream": {
          schema: z.string().openapi({ type: "string", format: "binary" }),
        },
      },
    },
    ...errorResponses(...SESSION_CALL_ERRORS),
  },
});

export function createMessageLookupRoutes(
  deps: { manager: SessionManager; guards: AuthGuards },
) {
  const { manager, guards } = deps;

  return createRouter()
    .guard(guards.requireSingleAccountProtected(), checkRoute, mediaRoute)
    .openapi(checkRoute, async (c) => {
      const { phoneNumber, phone } = c.req.valid("param");
      const result = await manager.session(phoneNumber, c.get("principal")).checkNumber(phone);
      return c.json(result, 200);
    })
    .openapi(mediaRoute, async (c) => {
      const { phoneNumber, ...message } = c.req.valid("param");
      const media = await manager.session(phoneNumber, c.get("principal")).getMessageMedia(message);
      return c.body(Uint8Array.fromBase64(media.data), 200, downloadHeaders(media));
    });
}
