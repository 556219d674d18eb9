/**
 * @module
 * WAHA's chats endpoints (`/api/{session}/chats…`) over the same session calls as the contract's
 * chat and message routes. WAHA pages chats by `limit`/`offset` (no `limit`: all of them); the
 * contract by page, so an offset becomes the pages that cover it. The chats are whatsapp-web.js's
 * `Chat`s (WAHA's WEBJS engine answers those), the overview WAHA's `ChatSummary`s; a chat's
 * messages are WAHA's `WAMessage`s, in the shape our `message` events have (`messagePayload`).
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { messagePayload } from "../../events/envelope.ts";
import type { AuthGuards } from "../../middleware/guards.ts";
import type { AppEnv } from "../../middleware/principal.ts";
import type { ChatSummary as OurChat } from "../../sessions/engine.ts";
import type { SessionClient, SessionManager } from "../../sessions/manager.ts";
import {
  ChatsOverviewQuery,
  ChatSummary,
  EditMessageRequest,
  GetChatMessagesQuery,
  GetChatsQuery,
  WAMessage,
  WEBJSChat,
} from "../../waha/schemas.ts";
import {
  ChatListQuerySchema,
  EditMessageSchema,
  MessageListQuerySchema,
} from "../engine_inputs.ts";
import { createRouter } from "../router.ts";
import { Jid, jsonResponse, MessageId, SECURED } from "../schemas.ts";
import {
  ChatPathParams,
  inWahaShape,
  sessionNumber,
  SessionPathParams,
  toContractInput,
  WAHA_TAG,
  wahaRoute,
} from "./dialect.ts";
import { toChatSummary, toWebjsChat } from "./shapes.ts";

const tags = [WAHA_TAG];
const MessagePathParams = ChatPathParams.extend({
  messageId: z.string().openapi({
    param: { name: "messageId", in: "path" },
    example: "true_15550000001@c.us_3EB0C0FFEE0123456789",
  }),
});
const ChatRef = z.object({ chatId: Jid });
const MessageRef = z.object({ messageId: MessageId });
/** The most chats one WAHA list without `limit` reads (in pages of 100). */
const MAX_PAGES = 100;

const listRoute = wahaRoute({
  method: "get",
  path: "/{phoneNumber}/chats",
  tags,
  summary: "WAHA: the chats, newest first (`limit`, `offset`; no `limit`: all)",
  security: SECURED,
  request: { params: SessionPathParams, query: GetChatsQuery },
  responses: {
    200: jsonResponse(z.array(WEBJSChat), "The chats, as WAHA's WEBJS engine answers them"),
  },
});

const overviewRoute = wahaRoute({
  method: "get",
  path: "/{phoneNumber}/chats/overview",
  tags,
  summary: "WAHA: the chats' overview, newest first (`limit` 20 by default, `offset`, `ids`)",
  security: SECURED,
  request: { params: SessionPathParams, query: ChatsOverviewQuery },
  responses: { 200: jsonResponse(z.array(ChatSummary), "The chats") },
});

const messagesRoute = wahaRoute({
  method: "get",
  path: "/{phoneNumber}/chats/{chatId}/messages",
  tags,
  summary: "WAHA: a chat's messages, newest first (`limit`, 100 by default)",
  security: SECURED,
  request: { params: ChatPathParams, query: GetChatMessagesQuery },
  responses: { 200: jsonResponse(z.array(WAMessage), "The messages") },
});

const chatAction = <M extends "post" | "delete">(method: M, suffix: string, summary: string) =>
  wahaRoute({
    method,
    path: `/{phoneNumber}/chats/{chatId}${suffix}`,
    tags,
    summary: `WAHA: ${summary}`,
    security: SECURED,
    request: { params: ChatPathParams },
    responses: { [method === "post" ? 201 : 200]: { description: "Done (no body)" } },
  });

const deleteChatRoute = chatAction("delete", "", "delete a chat");
const clearRoute = chatAction("delete", "/messages", "clear a chat's messages");
const archiveRoute = chatAction("post", "/archive", "archive a chat");
const unarchiveRoute = chatAction("post", "/unarchive", "unarchive a chat");

const deleteMessageRoute = wahaRoute({
  method: "delete",
  path: "/{phoneNumber}/chats/{chatId}/messages/{messageId}",
  tags,
  summary: "WAHA: delete (revoke) a message",
  security: SECURED,
  request: { params: MessagePathParams },
  responses: { 200: { description: "Done (no body)" } },
});

const editMessageRoute = wahaRoute({
  method: "put",
  path: "/{phoneNumber}/chats/{chatId}/messages/{messageId}",
  tags,
  summary: "WAHA: edit a message's text",
  security: SECURED,
  request: {
    params: MessagePathParams,
    body: { required: true, content: { "application/json": { schema: EditMessageRequest } } },
  },
  responses: { 200: { description: "Done (no body)" } },
});

/**
 * The chats in [offset, offset + limit) (no limit: all from the offset), newest first, read as
 * the contract's pages of chats. With `only`, of those chats alone: every page is read, then
 * filtered.
 */
async function readChats(
  session: SessionClient,
  window: { limit?: number; offset: number; only?: Set<string> },
): Promise<OurChat[]> {
  const { limit, offset, only } = window;
  // The contract's pages of `size` chats that cover [offset, offset + limit); without a limit
  // (or with a filter), every page from the offset's on.
  const size = only ? 100 : limit ?? 100;
  const first = only ? 1 : Math.floor(offset / size) + 1;
  const last = limit === undefined || only
    ? first + MAX_PAGES - 1
    : offset % size === 0
    ? first
    : first + 1;
  let chats: OurChat[] = [];
  for (let page = first; page <= last; page++) {
    const query = toContractInput(ChatListQuerySchema, { limit: size, page });
    const result = await session.listChats(query);
    chats.push(...result.chats);
    if (!result.hasMore) break;
  }
  const from = only ? offset : offset - (first - 1) * size;
  if (only) chats = chats.filter((chat) => only.has(chat.id));
  return chats.slice(from, limit === undefined ? undefined : from + limit);
}

export function createWahaChatRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  const routes = [
    listRoute,
    overviewRoute,
    messagesRoute,
    deleteChatRoute,
    clearRoute,
    archiveRoute,
    unarchiveRoute,
    deleteMessageRoute,
    editMessageRoute,
  ];
  /** The session and the chat of the path, the chat checked as the contract checks it. */
  const target = (c: Context<AppEnv>) => {
    const phoneNumber = sessionNumber(c.req.param("phoneNumber"));
    const { chatId } = toContractInput(ChatRef, { chatId: c.req.param("chatId") });
    return { session: manager.session(phoneNumber, c.get("principal")), chatId };
  };
  const messageOf = (c: Context<AppEnv>) =>
    toContractInput(MessageRef, { messageId: c.req.param("messageId") }).messageId;

  return inWahaShape(createRouter(), ...routes)
    .guard(guards.requireSingleAccountProtected(), ...routes)
    .openapi(listRoute, async (c) => {
      const phoneNumber = sessionNumber(c.req.valid("param").phoneNumber);
      const session = manager.session(phoneNumber, c.get("principal"));
      const { limit, offset = 0 } = c.req.valid("query");
      const chats = await readChats(session, { limit, offset });
      return c.json(chats.map(toWebjsChat), 200);
    })
    .openapi(overviewRoute, async (c) => {
      const phoneNumber = sessionNumber(c.req.valid("param").phoneNumber);
      const session = manager.session(phoneNumber, c.get("principal"));
      const { limit = 20, offset = 0, ids } = c.req.valid("query");
      const only = ids === undefined ? undefined : new Set([ids].flat());
      const chats = await readChats(session, { limit, offset, only });
      return c.json(chats.map(toChatSummary), 200);
    })
    .openapi(messagesRoute, async (c) => {
      const { session, chatId } = target(c);
      const { limit = 100 } = c.req.valid("query");
      const query = toContractInput(MessageListQuerySchema, { limit });
      const page = await session.listMessages({ chatId, ...query });
      return c.json(page.messages.map((message) => messagePayload(message) as WAMessage), 200);
    })
    .openapi(deleteChatRoute, async (c) => {
      const { session, chatId } = target(c);
      await session.deleteChat(chatId);
      return c.body(null, 200);
    })
    .openapi(clearRoute, async (c) => {
      const { session, chatId } = target(c);
      await session.clearChat(chatId);
      return c.body(null, 200);
    })
    .openapi(archiveRoute, async (c) => {
      const { session, chatId } = target(c);
      await session.archiveChat(chatId);
      return c.body(null, 201);
    })
    .openapi(unarchiveRoute, async (c) => {
      const { session, chatId } = target(c);
      await session.unarchiveChat(chatId);
      return c.body(null, 201);
    })
    .openapi(deleteMessageRoute, async (c) => {
      const { session } = target(c);
      await session.deleteMessage(messageOf(c));
      return c.body(null, 200);
    })
    .openapi(editMessageRoute, async (c) => {
      const { session } = target(c);
      const { text } = toContractInput(EditMessageSchema, { text: c.req.valid("json").text });
      await session.editMessage({ messageId: messageOf(c), text });
      return c.body(null, 200);
    });
}
