/**
 * @module
 * Messaging routes: sending texts, images, files, videos, voice notes (push-to-talk) and audio
 * files. Each answers `{ messageId, timestamp }`. A media field takes an `http(s)` URL, a `data:`
 * URL or bare base64; the media resolver given in the deps fetches and checks it (address policy,
 * size cap, MIME type from the bytes) once the session is known to be connected.
 */
import type { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { MediaResolver } from "../media/media_input.ts";
import type { AuthGuards } from "../middleware/guards.ts";
import type { AppEnv } from "../middleware/principal.ts";
import type { SendMediaInput, SentMessage } from "../sessions/engine.ts";
import type { SessionManager } from "../sessions/manager.ts";
import {
  SendAudioSchema,
  SendFileSchema,
  SendImageSchema,
  SendTextSchema,
  SendVideoSchema,
  SendVoiceSchema,
} from "./engine_inputs.ts";
import { createRouter } from "./router.ts";
import { type MediaField, sendMediaMessage } from "./send_media.ts";
import { SentMessageSchema, sessionPostRoute } from "./schemas.ts";

const sendRoute = <T extends z.ZodType>(
  action: string,
  summary: string,
  body: T,
  withMedia = true,
) =>
  sessionPostRoute({
    action,
    tag: "Messaging",
    summary,
    body,
    response: SentMessageSchema,
    description: "Sent",
    errors: withMedia ? ["PAYLOAD_TOO_LARGE"] : [],
    idempotent: true,
  });

const sendTextRoute = sendRoute("send-text", "Send a text message", SendTextSchema, false);
const sendImageRoute = sendRoute("send-image", "Send an image", SendImageSchema);
const sendFileRoute = sendRoute("send-file", "Send a file (a document)", SendFileSchema);
const sendVideoRoute = sendRoute("send-video", "Send a video", SendVideoSchema);
const sendVoiceRoute = sendRoute("send-voice", "Send a voice note (push-to-talk)", SendVoiceSchema);
const sendAudioRoute = sendRoute("send-audio", "Send an audio file", SendAudioSchema);

export function createMessageRoutes(
  deps: { manager: SessionManager; guards: AuthGuards; media: MediaResolver },
) {
  const { manager, guards, media } = deps;

  /** Resolves the media field (only for a connected session), then sends it. */
  const sendMedia = (
    c: Context<AppEnv>,
    input: Omit<SendMediaInput, "media" | "kind"> & { filename?: string },
    field: MediaField,
  ): Promise<SentMessage> =>
    sendMediaMessage({ manager, media }, c, {
      phoneNumber: c.req.param("phoneNumber")!,
      input,
      field,
    });

  return createRouter()
    .guard(guards.requireSingleAccountProtected(), sendTextRoute)
    .guard(
      guards.requireSingleAccountProtected({ media: true }),
      sendImageRoute,
      sendFileRoute,
      sendVideoRoute,
      sendVoiceRoute,
      sendAudioRoute,
    )
    .openapi(sendTextRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(await session.sendText(c.req.valid("json")), 200);
    })
    .openapi(sendImageRoute, async (c) => {
      const { imageUrl, ...rest } = c.req.valid("json");
      const field = { name: "imageUrl", value: imageUrl, kind: "image" as const };
      return c.json(await sendMedia(c, rest, field), 200);
    })
    .openapi(sendFileRoute, async (c) => {
      const { fileUrl, ...rest } = c.req.valid("json");
      const field = { name: "fileUrl", value: fileUrl, kind: "file" as const };
      return c.json(await sendMedia(c, rest, field), 200);
    })
    .openapi(sendVideoRoute, async (c) => {
      const { videoUrl, ...rest } = c.req.valid("json");
      const field = { name: "videoUrl", value: videoUrl, kind: "video" as const };
      return c.json(await sendMedia(c, rest, field), 200);
    })
    .openapi(sendVoiceRoute, async (c) => {
      const { audioUrl, ...rest } = c.req.valid("json");
      const field = { name: "audioUrl", value: audioUrl, kind: "voice" as const };
      return c.json(await sendMedia(c, rest, field), 200);
    })
    .openapi(sendAudioRoute, async (c) => {
      const { audioUrl, ...rest } = c.req.valid("json");
      const field = { name: "audioUrl", value: audioUrl, kind: "audio" as const };
      return c.json(await sendMedia(c, rest, field), 200);
    });
}
