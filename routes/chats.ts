/**
 * @module
 * Conversation routes: the chat list (paged, optionally only archived or unarchived chats), one
 * chat with what the client knows about it, and a chat's messages newest first, paged by a
 * message-id cursor so that new arrivals between two reads neither repeat nor skip a message.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { ChatListQuerySchema, MessageListQuerySchema } from "./engine_inputs.ts";
import { createRouter } from "./router.ts";
import {
  ChatParams,
  errorResponses,
  jsonResponse,
  MessageId,
  PhoneParams,
  pnBeside,
  SECURED,
  SESSION_CALL_ERRORS,
} from "./schemas.ts";

const LastMessageSchema = z.object({
  body: z.string().openapi({ example: "Yes, 10am works" }),
  timestamp: z.number().int().openapi({ example: 1764086400, description: "Unix seconds" }),
});

const ChatFields = {
  id: z.string().openapi({ example: "15550000001@c.us" }),
  pn: pnBeside("For a chat written by a LID: its phone-number id, when known"),
  name: z.string().openapi({ example: "Alice" }),
  isGroup: z.boolean().openapi({ example: false }),
  unreadCount: z.number().int().min(0).openapi({ example: 2 }),
  lastMessage: LastMessageSchema.optional(),
  archived: z.boolean().openapi({ example: false }),
  pinned: z.boolean().openapi({ example: false }),
  muted: z.boolean().openapi({ example: false }),
  markedUnread: z.boolean().openapi({
    example: false,
    description: "Marked unread by hand (`POST …/unread`), whatever `unreadCount` says",
  }),
};

export const ChatSummarySchema = z.object(ChatFields).openapi("ChatSummary");

export const ChatDetailSchema = z.object({
  ...ChatFields,
  muteExpiration: z.number().int().openapi({
    example: 0,
    description: "Unix seconds when the mute ends; -1 muted for good, 0 not muted",
  }),
  timestamp: z.number().int().openapi({
    example: 1764086400,
    description: "Unix seconds of the last activity (0 when none)",
  }),
}).openapi("Chat");

const ChatPageSchema = z.object({
  chats: z.array(ChatSummarySchema),
  total: z.number().int().min(0).openapi({ example: 3, description: "Chats matching the filter" }),
  page: z.number().int().min(1).openapi({ example: 1 }),
  hasMore: z.boolean().openapi({ example: false }),
}).openapi("ChatPage");

export const MessageSchema = z.object({
  id: MessageId,
  chatId: z.string().openapi({ example: "15550000001@c.us" }),
  from: z.string().openapi({ example: "15550000001@c.us" }),
  to: z.string().openapi({ example: "4915550001234@c.us" }),
  author: z.string().nullable().openapi({ description: "The sender inside a group" }),
  chatPn: pnBeside("When `chatId` is a LID: its phone-number id, when known"),
  fromPn: pnBeside("When `from` is a LID: its phone-number id, when known"),
  toPn: pnBeside("When `to` is a LID: its phone-number id, when known"),
  authorPn: pnBeside("When `author` is a LID: its phone-number id, when known"),
  fromMe: z.boolean(),
  body: z.string().openapi({ example: "Hi! Are we still on for tomorrow?" }),
  type: z.string().openapi({
    example: "chat",
    description: "chat, image, video, ptt, audio, document, location, vcard, revoked, …",
  }),
  timestamp: z.number().int().openapi({ example: 1764086400, description: "Unix seconds" }),
  hasMedia: z.boolean(),
  media: z.object({ mimetype: z.string(), filename: z.string().nullable() }).nullable().openapi({
    example: null,
    description: "What `GET …/media` will answer, when the message has media",
  }),
  ack: z.number().int().openapi({
    example: 3,
    description: "-1 error, 0 pending, 1 server, 2 device, 3 read, 4 played",
  }),
  quotedMsgId: z.string().nullable(),
  starred: z.boolean().optional().openapi({ description: "Present (true) when starred" }),
  pinnedUntil: z.number().int().optional().openapi({
    description: "Unix seconds until which the message is pinned in its chat, when it is and the " +
      "engine can tell (the simulator)",
  }),
}).openapi("Message");

const MessagePageSchema = z.object({
  messages: z.array(MessageSchema).openapi({ description: "Newest first" }),
  hasMore: z.boolean(),
  nextCursor: MessageId.optional().openapi({
    description: "Pass as `before` to read the next (older) page; absent on the last page",
  }),
}).openapi("MessagePage");

const listRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/chats",
  tags: ["Chats"],
  summary: "The chats, most recent first",
  security: SECURED,
  request: { params: PhoneParams, query: ChatListQuerySchema },
  responses: {
    200: jsonResponse(ChatPageSchema, "One page of chats"),
    ...errorResponses(...SESSION_CALL_ERRORS),
  },
});

const chatRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/chat/{chatId}",
  tags: ["Chats"],
  summary: "One chat",
  security: SECURED,
  request: { params: ChatParams },
  responses: {
    200: jsonResponse(ChatDetailSchema, "The chat"),
    ...errorResponses(...SESSION_CALL_ERRORS),
  },
});

const messagesRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/messages/{chatId}",
  tags: ["Chats"],
  summary: "A chat's messages, newest first",
  description: "Read older pages by passing the previous page's `nextCursor` as `before`.",
  security: SECURED,
  request: { params: ChatParams, query: MessageListQuerySchema },
  responses: {
    200: jsonResponse(MessagePageSchema, "One page of messages"),
    ...errorResponses(...SESSION_CALL_ERRORS),
  },
});

export function createChatRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;

  return createRouter()
    .guard(guards.requireSingleAccountProtected(), listRoute, chatRoute, messagesRoute)
    .openapi(listRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(await session.listChats(c.req.valid("query")), 200);
    })
    .openapi(chatRoute, async (c) => {
      const { phoneNumber, chatId } = c.req.valid("param");
      return c.json(await manager.session(phoneNumber, c.get("principal")).getChat(chatId), 200);
    })
    .openapi(messagesRoute, async (c) => {
      const { phoneNumber, chatId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(await session.listMessages({ chatId, ...c.req.valid("query") }), 200);
    });
}
