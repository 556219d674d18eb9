/**
 * @module
 * Messaging routes: sending texts, images, files, videos, voice notes (push-to-talk) and audio
 * files. Each answers `{ messageId, timestamp }`. A media field takes an `http(s)` URL, a `data:`
 * URL or bare base64; the media resolver given in the deps fetches and checks it (address policy,
 * size cap, MIME type from the bytes) once the session is known to be connected.
 */
import { z } from "@hono/zod-openapi";
import { clientNotReady } from "../errors.ts";
import type { MediaResolver } from "../media/media_input.ts";
import type { Context } from "hono";
import type { AuthGuards } from "../middleware/guards.ts";
import type { AppEnv } from "../middleware/principal.ts";
import type { MediaKind, SendMediaInput, SentMessage } from "../sessions/engine.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { createRouter } from "./router.ts";
import { Jid, MessageId, SentMessageSchema, sessionPostRoute } from "./schemas.ts";

/** A 1×1 PNG, so the examples work from Swagger UI without a reachable URL. */
const PNG_DATA_URL =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

const mediaField = (what: string, example: string) =>
  z.string().min(1).openapi({
    description: `The ${what}: an http(s) URL (fetched by the server), a data: URL or bare base64`,
    example,
  });

const caption = z.string().max(4096).optional().openapi({ example: "Look at this" });
const quoted = MessageId.optional().openapi({ description: "The message this one replies to" });

const SendTextSchema = z.object({
  chatId: Jid,
  text: z.string().min(1).max(65_536).openapi({ example: "Hello from wa-gateway" }),
  quotedMsgId: quoted,
  linkPreview: z.boolean().optional().openapi({
    description: "Send a preview card for the first link in the text (default true); a site " +
      "that does not answer within a few seconds gets none",
  }),
}).openapi("SendText");

const SendImageSchema = z.object({
  chatId: Jid,
  imageUrl: mediaField("image", PNG_DATA_URL),
  caption,
  quotedMsgId: quoted,
}).openapi("SendImage");

const SendFileSchema = z.object({
  chatId: Jid,
  fileUrl: mediaField("file", "data:text/plain;base64,SGVsbG8gZnJvbSB3YS1nYXRld2F5Cg=="),
  filename: z.string().min(1).max(255).optional().openapi({
    example: "hello.txt",
    description: "The name the recipient sees; derived from the URL or the type when absent",
  }),
  caption,
  quotedMsgId: quoted,
}).openapi("SendFile");

const SendVideoSchema = z.object({
  chatId: Jid,
  videoUrl: mediaField("video", "data:video/mp4;base64,AAAAGGZ0eXBtcDQyAAAAAG1wNDJpc29t"),
  caption,
  quotedMsgId: quoted,
}).openapi("SendVideo");

const audioField = mediaField("audio", "data:audio/ogg;base64,T2dnUwACAAAAAAAAAAA=");

const SendVoiceSchema = z.object({ chatId: Jid, audioUrl: audioField, quotedMsgId: quoted })
  .openapi("SendVoice");

const SendAudioSchema = z.object({ chatId: Jid, audioUrl: audioField, quotedMsgId: quoted })
  .openapi("SendAudio");

export function createMessageRoutes(
  deps: { manager: SessionManager; guards: AuthGuards; media: MediaResolver },
) {
  const { manager, guards, media } = deps;
  const owned = guards.requireSingleAccountProtected();
  const ownedMedia = guards.requireSingleAccountProtected({ media: true });

  /** Resolves the media field (only for a connected session), then sends it. */
  async function sendMedia(
    c: Context<AppEnv>,
    input: Omit<SendMediaInput, "media" | "kind"> & { filename?: string },
    field: { name: string; value: string; kind: MediaKind },
  ): Promise<SentMessage> {
    const phoneNumber = c.req.param("phoneNumber")!;
    const caller = c.get("principal");
    const { status } = manager.info(phoneNumber, caller);
    if (status !== "WORKING") throw clientNotReady(phoneNumber, status);
    const { filename, ...rest } = input;
    const resolved = await media(field.value, {
      field: field.name,
      kind: field.kind,
      signal: c.req.raw.signal,
      requestId: c.get("requestId"),
      ...(filename === undefined ? {} : { filename }),
    });
    const send: SendMediaInput = { ...rest, kind: field.kind, media: resolved };
    return await manager.session(phoneNumber, caller).sendMedia(send);
  }

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
      guard: withMedia ? ownedMedia : owned,
      errors: withMedia ? ["PAYLOAD_TOO_LARGE"] : [],
    });

  const sendTextRoute = sendRoute("send-text", "Send a text message", SendTextSchema, false);
  const sendImageRoute = sendRoute("send-image", "Send an image", SendImageSchema);
  const sendFileRoute = sendRoute("send-file", "Send a file (a document)", SendFileSchema);
  const sendVideoRoute = sendRoute("send-video", "Send a video", SendVideoSchema);
  const sendVoiceRoute = sendRoute(
    "send-voice",
    "Send a voice note (push-to-talk)",
    SendVoiceSchema,
  );
  const sendAudioRoute = sendRoute("send-audio", "Send an audio file", SendAudioSchema);

  return createRouter()
    .openapi(sendTextRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const sent = await manager.session(phoneNumber, c.get("principal")).sendText(
        c.req.valid("json"),
      );
      return c.json(sent, 200);
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
