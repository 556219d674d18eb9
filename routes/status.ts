/**
 * @module
 * Status (stories), with WAHA's paths: post a text status on a coloured background in one of
 * WhatsApp's fonts (`POST /{phoneNumber}/status/text`), an image or a video status with a caption
 * (`…/status/image`, `…/status/video`; the media field as `send-image` and `send-video` take it),
 * read the statuses the account can see now (`GET /{phoneNumber}/status`), by who posted them,
 * and take one of the account's own back (`POST …/status/delete` with its `id`, as WAHA does).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { MediaResolver } from "../media/media_input.ts";
import type { AuthGuards } from "../middleware/guards.ts";
import type { AppEnv } from "../middleware/principal.ts";
import type { SentMessage } from "../sessions/engine.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { MessageSchema } from "./chats.ts";
import { ImageStatusSchema, TextStatusSchema, VideoStatusSchema } from "./engine_inputs.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  jsonResponse,
  MessageId,
  PhoneParams,
  SECURED,
  SentMessageSchema,
  SESSION_CALL_ERRORS,
  sessionPostRoute,
  SuccessSchema,
} from "./schemas.ts";

const TAG = "Status";

const StatusListSchema = z.object({
  statuses: z.array(z.object({
    contactId: z.string().openapi({ example: "15550000001@c.us" }),
    lastStatusAt: z.number().int().openapi({
      example: 1764086400,
      description: "Unix seconds of the newest",
    }),
    unreadCount: z.number().int().openapi({ example: 1, description: "Not viewed yet" }),
    statuses: z.array(MessageSchema).openapi({
      description: "Oldest first; each a message in status@broadcast written by the poster",
    }),
  })).openapi({ description: "By poster, the one who posted last first" }),
}).openapi("StatusList");

const postRoute = <T extends z.ZodType>(kind: string, summary: string, body: T, media: boolean) =>
  sessionPostRoute({
    action: `status/${kind}`,
    tag: TAG,
    summary,
    body,
    response: SentMessageSchema,
    description:
      "Posted; it shows for 24 hours to the contacts the account's privacy settings allow",
    errors: media ? ["PAYLOAD_TOO_LARGE"] : [],
    idempotent: true,
  });

const textRoute = postRoute(
  "text",
  "Post a text status on a coloured background",
  TextStatusSchema,
  false,
);
const imageRoute = postRoute("image", "Post an image status", ImageStatusSchema, true);
const videoRoute = postRoute("video", "Post a video status", VideoStatusSchema, true);

const DeleteStatusSchema = z.object({
  id: MessageId.openapi({
    example: "true_status@broadcast_3EB0C0FFEE0123456789_4915550001234@c.us",
    description: "The status's message id, as `GET /status` lists it",
  }),
}).openapi("DeleteStatus");

const deleteRoute = sessionPostRoute({
  action: "status/delete",
  tag: TAG,
  summary: "Take back one of the account's own statuses",
  body: DeleteStatusSchema,
  response: SuccessSchema,
  description: "Deleted for everyone who could see it",
});

const listRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/status",
  tags: [TAG],
  summary: "The statuses the account can see now (its contacts' and its own)",
  security: SECURED,
  request: { params: PhoneParams },
  responses: {
    200: jsonResponse(StatusListSchema, "The statuses, by poster"),
    ...errorResponses(...SESSION_CALL_ERRORS),
  },
});

export function createStatusRoutes(
  deps: { manager: SessionManager; guards: AuthGuards; media: MediaResolver },
) {
  const { manager, guards, media } = deps;

  /** Resolves the media field (only for a connected session), then posts it. */
  async function postMedia(
    c: Context<AppEnv>,
    field: { name: string; value: string; kind: "image" | "video" },
    caption: string | undefined,
  ): Promise<SentMessage> {
    const phoneNumber = c.req.param("phoneNumber")!;
    const session = manager.session(phoneNumber, c.get("principal"));
    await session.assertReady();
    const resolved = await media(field.value, {
      field: field.name,
      kind: field.kind,
      signal: c.req.raw.signal,
      requestId: c.get("requestId"),
    });
    return await session.sendMediaStatus({
      kind: field.kind,
      media: resolved,
      ...(caption === undefined ? {} : { caption }),
    });
  }

  return createRouter()
    .guard(guards.requireSingleAccountProtected(), textRoute, deleteRoute, listRoute)
    .guard(guards.requireSingleAccountProtected({ media: true }), imageRoute, videoRoute)
    .openapi(textRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(await session.sendTextStatus(c.req.valid("json")), 200);
    })
    .openapi(imageRoute, async (c) => {
      const { imageUrl, caption } = c.req.valid("json");
      const field = { name: "imageUrl", value: imageUrl, kind: "image" as const };
      return c.json(await postMedia(c, field, caption), 200);
    })
    .openapi(videoRoute, async (c) => {
      const { videoUrl, caption } = c.req.valid("json");
      const field = { name: "videoUrl", value: videoUrl, kind: "video" as const };
      return c.json(await postMedia(c, field, caption), 200);
    })
    .openapi(deleteRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const { id } = c.req.valid("json");
      await manager.session(phoneNumber, c.get("principal")).deleteStatus(id);
      return c.json({ success: true, message: `Status "${id}" deleted` }, 200);
    })
    .openapi(listRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const statuses = await manager.session(phoneNumber, c.get("principal")).listStatuses();
      return c.json({ statuses }, 200);
    });
}
