/**
 * @module
 * What a person does to a chat from the chat list, under `/{phoneNumber}/chats/{chatId}`, with
 * WAHA's paths: archive and unarchive, mute (for a while or for good) and unmute, mark read and
 * unread, pin and unpin, clear its messages (`DELETE …/messages`) and delete it (`DELETE`). Each
 * answers once the change is made; `GET /chats` and `GET /chat/{chatId}` show the result.
 */
import { createRoute } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionClient, SessionManager } from "../sessions/manager.ts";
import { MuteChatSchema } from "./engine_inputs.ts";
import { createRouter } from "./router.ts";
import {
  ChatParams,
  errorResponses,
  jsonBody,
  jsonResponse,
  SECURED,
  SESSION_CALL_ERRORS,
  SuccessSchema,
} from "./schemas.ts";

const responses = {
  200: jsonResponse(SuccessSchema, "Done"),
  ...errorResponses(...SESSION_CALL_ERRORS),
};

/** A chat action that takes no body: `POST …/chats/{chatId}/<action>`, or a `DELETE`. */
function chatRoute(options: { method: "post" | "delete"; action: string | null; summary: string }) {
  const suffix = options.action === null ? "" : `/${options.action}`;
  return createRoute({
    method: options.method,
    path: `/{phoneNumber}/chats/{chatId}${suffix}`,
    tags: ["Chats"],
    summary: options.summary,
    security: SECURED,
    request: { params: ChatParams },
    responses,
  });
}

const archiveRoute = chatRoute({ method: "post", action: "archive", summary: "Archive a chat" });
const unarchiveRoute = chatRoute({
  method: "post",
  action: "unarchive",
  summary: "Unarchive a chat",
});
const muteRoute = createRoute({
  method: "post",
  path: "/{phoneNumber}/chats/{chatId}/mute",
  tags: ["Chats"],
  summary: "Mute a chat for a while, or for good",
  security: SECURED,
  request: { params: ChatParams, ...jsonBody(MuteChatSchema) },
  responses,
});
const unmuteRoute = chatRoute({ method: "post", action: "unmute", summary: "Unmute a chat" });
const readRoute = chatRoute({
  method: "post",
  action: "read",
  summary: "Mark a chat as read (as send-seen does)",
});
const unreadRoute = chatRoute({ method: "post", action: "unread", summary: "Mark a chat unread" });
const pinRoute = chatRoute({
  method: "post",
  action: "pin",
  summary: "Pin a chat to the top of the list (WhatsApp allows three)",
});
const unpinRoute = chatRoute({ method: "post", action: "unpin", summary: "Unpin a chat" });
const clearRoute = chatRoute({
  method: "delete",
  action: "messages",
  summary: "Clear a chat: delete all its messages on this account, keeping the chat",
});
const deleteRoute = chatRoute({
  method: "delete",
  action: null,
  summary: "Delete a chat and its messages from this account",
});

/** The routes that take no body, with the call each makes and what its answer says. */
const SIMPLE: [
  typeof archiveRoute,
  (session: SessionClient, chatId: string) => Promise<void>,
  string,
][] = [
  [archiveRoute, (s, id) => s.archiveChat(id), "archived"],
  [unarchiveRoute, (s, id) => s.unarchiveChat(id), "unarchived"],
  [unmuteRoute, (s, id) => s.unmuteChat(id), "unmuted"],
  [readRoute, (s, id) => s.sendSeen(id), "marked as read"],
  [unreadRoute, (s, id) => s.markChatUnread(id), "marked as unread"],
  [pinRoute, (s, id) => s.pinChat(id), "pinned"],
  [unpinRoute, (s, id) => s.unpinChat(id), "unpinned"],
  [clearRoute, (s, id) => s.clearChat(id), "cleared"],
  [deleteRoute, (s, id) => s.deleteChat(id), "deleted"],
];

export function createChatActionRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  const router = createRouter()
    .guard(guards.requireSingleAccountProtected(), muteRoute, ...SIMPLE.map(([route]) => route))
    .openapi(muteRoute, async (c) => {
      const { phoneNumber, chatId } = c.req.valid("param");
      const { duration } = c.req.valid("json");
      const session = manager.session(phoneNumber, c.get("principal"));
      await session.muteChat({ chatId, ...(duration === undefined ? {} : { duration }) });
      const how = duration === undefined ? "for good" : `for ${duration} s`;
      return c.json({ success: true, message: `Chat "${chatId}" muted ${how}` }, 200);
    });
  for (const [route, act, done] of SIMPLE) {
    router.openapi(route, async (c) => {
      const { phoneNumber, chatId } = c.req.valid("param");
      await act(manager.session(phoneNumber, c.get("principal")), chatId);
      return c.json({ success: true, message: `Chat "${chatId}" ${done}` }, 200);
    });
  }
  return router;
}
