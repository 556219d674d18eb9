/**
 * @module
 * WAHA's chatting endpoints (`POST /api/sendText` and its siblings), which name the session in the
 * body's `session`: their guard reads the body (bounded), holds the caller to that number and, in
 * a cluster, forwards the request to its owner (`requireSessionInBody`). Each turns WAHA's fields
 * into the contract's input (checked by the contract's schema) and makes the same session call as
 * the contract's route for it; a send answers WAHA's `201` with the sent message as a `WAMessage`.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { badRequest } from "../../errors.ts";
import type { MediaResolver } from "../../media/media_input.ts";
import type { AuthGuards } from "../../middleware/guards.ts";
import type { AppEnv } from "../../middleware/principal.ts";
import type { MediaKind, SentMessage } from "../../sessions/engine.ts";
import type { SessionManager } from "../../sessions/manager.ts";
import {
  ChatRequest,
  type Contact,
  MessageContactVcardRequest,
  MessageFileRequest,
  MessageForwardRequest,
  MessageImageRequest,
  MessageLocationRequest,
  MessagePollRequest,
  MessageReactionRequest,
  MessageStarRequest,
  MessageTextRequest,
  MessageVideoRequest,
  MessageVoiceRequest,
  SendSeenRequest,
  WAMessage,
  WEBJSForwardResult,
} from "../../waha/schemas.ts";
import {
  ForwardMessageSchema,
  SendContactSchema,
  SendFileSchema,
  SendImageSchema,
  SendLocationSchema,
  SendPollSchema,
  SendReactionSchema,
  SendTextSchema,
  SendVideoSchema,
  SendVoiceSchema,
  toSendContactInput,
  TypingSchema,
} from "../engine_inputs.ts";
import { createRouter } from "../router.ts";
import { Jid, jsonResponse, MessageId, SECURED } from "../schemas.ts";
import { sendMediaMessage } from "../send_media.ts";
import { inWahaShape, sessionNumber, toContractInput, WAHA_TAG, wahaRoute } from "./dialect.ts";

const jsonRequest = <T extends z.ZodType>(body: T) => ({
  body: { required: true, content: { "application/json": { schema: body } } },
});

/** A send: WAHA answers `201` with the message. */
const sendRoute = <T extends z.ZodType>(path: string, summary: string, body: T) =>
  wahaRoute({
    method: "post",
    path,
    tags: [WAHA_TAG],
    summary: `WAHA: ${summary}`,
    security: SECURED,
    request: jsonRequest(body),
    responses: { 201: jsonResponse(WAMessage, "Sent") },
  });

/** An action without an answer: `201` for a POST, `200` for a PUT, no body. */
const actionRoute = <M extends "post" | "put", T extends z.ZodType>(
  method: M,
  path: string,
  summary: string,
  body: T,
) =>
  wahaRoute({
    method,
    path,
    tags: [WAHA_TAG],
    summary: `WAHA: ${summary}`,
    security: SECURED,
    request: jsonRequest(body),
    responses: { [method === "post" ? 201 : 200]: { description: "Done (no body)" } },
  });

const sendTextRoute = sendRoute("/sendText", "send a text", MessageTextRequest);
const sendImageRoute = sendRoute("/sendImage", "send an image", MessageImageRequest);
const sendFileRoute = sendRoute("/sendFile", "send a file", MessageFileRequest);
const sendVoiceRoute = sendRoute("/sendVoice", "send a voice note", MessageVoiceRequest);
const sendVideoRoute = sendRoute("/sendVideo", "send a video", MessageVideoRequest);
const sendLocationRoute = sendRoute(
  "/sendLocation",
  "send a location (`title` is its name)",
  MessageLocationRequest,
);
const sendContactRoute = sendRoute(
  "/sendContactVcard",
  "send contact cards (one message)",
  MessageContactVcardRequest,
);
const sendPollRoute = sendRoute("/sendPoll", "send a poll", MessagePollRequest);
const reactionRoute = actionRoute(
  "put",
  "/reaction",
  "react to a message (an empty `reaction` removes it)",
  MessageReactionRequest,
);
const starRoute = actionRoute("put", "/star", "star or unstar a message", MessageStarRequest);
const seenRoute = actionRoute("post", "/sendSeen", "mark a chat as read", SendSeenRequest);
const startTypingRoute = actionRoute("post", "/startTyping", "show typing…", ChatRequest);
const stopTypingRoute = actionRoute("post", "/stopTyping", "stop showing typing…", ChatRequest);
const forwardRoute = wahaRoute({
  method: "post",
  path: "/forwardMessage",
  tags: [WAHA_TAG],
  summary: "WAHA: forward a message to `chatId`",
  security: SECURED,
  request: jsonRequest(MessageForwardRequest),
  responses: { 201: jsonResponse(WEBJSForwardResult, "Forwarded (WAHA's WEBJS answer)") },
});

/** A message id and a chat id, checked as the contract checks them. */
const MessageRef = z.object({ messageId: MessageId });
const ChatRef = z.object({ chatId: Jid });

/** The message a send made, in WAHA's shape: sent by us, to the chat, waiting for the server. */
function sentAsWaMessage(
  phoneNumber: string,
  sent: SentMessage,
  message: { to: string; body: string; hasMedia: boolean },
): WAMessage {
  return {
    id: sent.messageId,
    timestamp: sent.timestamp,
    from: `${phoneNumber}@c.us`,
    fromMe: true,
    to: message.to,
    participant: null,
    body: message.body,
    hasMedia: message.hasMedia,
    ack: 0,
    ackName: "PENDING",
  };
}

/** WAHA's `file`: a URL, or base64 `data`; the contract's media field takes either. */
function mediaValue(file: { url: string } | { data: string }): string {
  return "url" in file ? file.url : file.data;
}

/** WAHA's `reply_to` is the contract's `quotedMsgId`. */
const quoted = (replyTo: string | undefined) =>
  replyTo === undefined ? {} : { quotedMsgId: replyTo };

export function createWahaChattingRoutes(
  deps: { manager: SessionManager; guards: AuthGuards; media: MediaResolver },
) {
  const { manager, guards } = deps;
  const media = [sendImageRoute, sendFileRoute, sendVoiceRoute, sendVideoRoute];
  const small = [
    sendTextRoute,
    sendLocationRoute,
    sendContactRoute,
    sendPollRoute,
    reactionRoute,
    starRoute,
    seenRoute,
    startTypingRoute,
    stopTypingRoute,
    forwardRoute,
  ];
  const session = (c: Context<AppEnv>, phoneNumber: string) =>
    manager.session(phoneNumber, c.get("principal"));

  /** A media send the contract's way (`sendMediaMessage`), answered as WAHA does. */
  async function sendMedia(
    c: Context<AppEnv>,
    phoneNumber: string,
    send: {
      kind: MediaKind;
      chatId: string;
      caption?: string;
      quotedMsgId?: string;
      filename?: string;
      value: string;
    },
  ) {
    const { kind, value, caption, ...rest } = send;
    const sent = await sendMediaMessage(deps, c, {
      phoneNumber,
      input: { ...rest, ...(caption === undefined ? {} : { caption }) },
      field: { name: "file", value, kind },
    });
    return c.json(
      sentAsWaMessage(phoneNumber, sent, { to: send.chatId, body: caption ?? "", hasMedia: true }),
      201,
    );
  }

  return inWahaShape(createRouter(), ...media, ...small)
    .guard(guards.requireSessionInBody({ media: true }), ...media)
    .guard(guards.requireSessionInBody(), ...small)
    .openapi(sendTextRoute, async (c) => {
      const body = c.req.valid("json");
      const phoneNumber = sessionNumber(body.session);
      const input = toContractInput(SendTextSchema, {
        chatId: body.chatId,
        text: body.text,
        ...quoted(body.reply_to),
      });
      const sent = await session(c, phoneNumber).sendText(input);
      const message = { to: input.chatId, body: input.text, hasMedia: false };
      return c.json(sentAsWaMessage(phoneNumber, sent, message), 201);
    })
    .openapi(sendImageRoute, async (c) => {
      const body = c.req.valid("json");
      const phoneNumber = sessionNumber(body.session);
      const input = toContractInput(SendImageSchema, {
        chatId: body.chatId,
        imageUrl: mediaValue(body.file),
        caption: body.caption,
        ...quoted(body.reply_to),
      });
      const { imageUrl, ...rest } = input;
      return await sendMedia(c, phoneNumber, { ...rest, kind: "image", value: imageUrl });
    })
    .openapi(sendFileRoute, async (c) => {
      const body = c.req.valid("json");
      const phoneNumber = sessionNumber(body.session);
      const input = toContractInput(SendFileSchema, {
        chatId: body.chatId,
        fileUrl: mediaValue(body.file),
        filename: body.file.filename,
        caption: body.caption,
        ...quoted(body.reply_to),
      });
      const { fileUrl, ...rest } = input;
      return await sendMedia(c, phoneNumber, { ...rest, kind: "file", value: fileUrl });
    })
    .openapi(sendVoiceRoute, async (c) => {
      const body = c.req.valid("json");
      const phoneNumber = sessionNumber(body.session);
      const input = toContractInput(SendVoiceSchema, {
        chatId: body.chatId,
        audioUrl: mediaValue(body.file),
        ...quoted(body.reply_to),
      });
      const { audioUrl, ...rest } = input;
      return await sendMedia(c, phoneNumber, { ...rest, kind: "voice", value: audioUrl });
    })
    .openapi(sendVideoRoute, async (c) => {
      const body = c.req.valid("json");
      const phoneNumber = sessionNumber(body.session);
      const input = toContractInput(SendVideoSchema, {
        chatId: body.chatId,
        videoUrl: mediaValue(body.file),
        caption: body.caption,
        ...quoted(body.reply_to),
      });
      const { videoUrl, ...rest } = input;
      return await sendMedia(c, phoneNumber, { ...rest, kind: "video", value: videoUrl });
    })
    .openapi(sendLocationRoute, async (c) => {
      const body = c.req.valid("json");
      const phoneNumber = sessionNumber(body.session);
      const input = toContractInput(SendLocationSchema, {
        chatId: body.chatId,
        latitude: body.latitude,
        longitude: body.longitude,
        ...(body.title ? { name: body.title } : {}),
        ...quoted(body.reply_to),
      });
      const sent = await session(c, phoneNumber).sendLocation(input);
      const message = { to: input.chatId, body: "", hasMedia: false };
      return c.json(sentAsWaMessage(phoneNumber, sent, message), 201);
    })
    .openapi(sendContactRoute, async (c) => {
      const body = c.req.valid("json");
      const phoneNumber = sessionNumber(body.session);
      if (body.contacts.length !== 1) {
        throw badRequest('Invalid body field "contacts": send one contact per message');
      }
      const [contact] = body.contacts;
      const card = "vcard" in contact && contact.vcard ? { vcard: contact.vcard } : {
        contact: {
          name: (contact as Contact).fullName,
          phone: (contact as Contact).phoneNumber,
          ...((contact as Contact).organization
            ? { organization: (contact as Contact).organization }
            : {}),
        },
      };
      const input = toSendContactInput(
        toContractInput(SendContactSchema, { chatId: body.chatId, ...card }),
      );
      const sent = await session(c, phoneNumber).sendContact(input);
      const message = { to: input.chatId, body: "", hasMedia: false };
      return c.json(sentAsWaMessage(phoneNumber, sent, message), 201);
    })
    .openapi(sendPollRoute, async (c) => {
      const body = c.req.valid("json");
      const phoneNumber = sessionNumber(body.session);
      const input = toContractInput(SendPollSchema, { chatId: body.chatId, poll: body.poll });
      const sent = await session(c, phoneNumber).sendPoll(input);
      const message = { to: input.chatId, body: input.poll.name, hasMedia: false };
      return c.json(sentAsWaMessage(phoneNumber, sent, message), 201);
    })
    .openapi(reactionRoute, async (c) => {
      const body = c.req.valid("json");
      const phoneNumber = sessionNumber(body.session);
      const input = toContractInput(SendReactionSchema, {
        messageId: body.messageId,
        emoji: body.reaction,
      });
      await session(c, phoneNumber).sendReaction(input);
      return c.body(null, 200);
    })
    .openapi(starRoute, async (c) => {
      const body = c.req.valid("json");
      const phoneNumber = sessionNumber(body.session);
      const { messageId } = toContractInput(MessageRef, { messageId: body.messageId });
      const client = session(c, phoneNumber);
      await (body.star ? client.starMessage(messageId) : client.unstarMessage(messageId));
      return c.body(null, 200);
    })
    .openapi(seenRoute, async (c) => {
      const body = c.req.valid("json");
      const phoneNumber = sessionNumber(body.session);
      const { chatId } = toContractInput(ChatRef, { chatId: body.chatId });
      await session(c, phoneNumber).sendSeen(chatId);
      return c.body(null, 201);
    })
    .openapi(startTypingRoute, async (c) => {
      const body = c.req.valid("json");
      const phoneNumber = sessionNumber(body.session);
      const input = toContractInput(TypingSchema, { chatId: body.chatId, state: "typing" });
      await session(c, phoneNumber).setTyping(input);
      return c.body(null, 201);
    })
    .openapi(stopTypingRoute, async (c) => {
      const body = c.req.valid("json");
      const phoneNumber = sessionNumber(body.session);
      const input = toContractInput(TypingSchema, { chatId: body.chatId, state: "paused" });
      await session(c, phoneNumber).setTyping(input);
      return c.body(null, 201);
    })
    .openapi(forwardRoute, async (c) => {
      const body = c.req.valid("json");
      const phoneNumber = sessionNumber(body.session);
      const { chatId } = toContractInput(ForwardMessageSchema, { chatId: body.chatId });
      const { messageId } = toContractInput(MessageRef, { messageId: body.messageId });
      await session(c, phoneNumber).forwardMessage({ messageId, chatId });
      // WAHA's WEBJS engine answers `{ sent }`, not the new message (whatsapp-web.js gives none).
      return c.json({ sent: true }, 201);
    });
}
