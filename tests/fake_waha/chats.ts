/**
 * @module
 * The fake WAHA's chat extras (newer WAHA), beside the chat list and messages of `server.ts`: the
 * chats overview (`GET /api/{session}/chats/overview`, `ids` to keep some), marking a chat unread
 * (whatsapp-web.js then counts it -1 unread, until the session sends it seen; a chat sent seen
 * counts none of the messages before unread), one message by its
 * id (its media's URL when `downloadMedia`, true by default), pinning and unpinning a message, and
 * the media files WAHA serves (`GET /api/files/{session}/{file}`). A media URL is written with
 * WAHA's default base URL (`http://localhost:3000`), as a WAHA behind another address writes it.
 */
import {
  ChatsOverviewQuery,
  type ChatSummary,
  GetChatMessageQuery,
  PinMessageRequest,
  type WAMessage,
  type WEBJSChat,
} from "../../waha/schemas.ts";
import { json, nestError, validate } from "./http.ts";

/** What a session's chats carry besides their messages. */
export interface FakeChatMarks {
  /** Chats marked unread by hand. */
  unread: Set<string>;
  /** Each chat's messages read up to then (Unix seconds): sent seen. */
  seen: Map<string, number>;
  /** Pinned messages, until when (Unix seconds). */
  pins: Map<string, number>;
  /** The media files WAHA serves, by `<session>/<file>`. */
  files: Map<string, { mimetype: string; bytes: Uint8Array }>;
}

export const WAHA_OWN_BASE_URL = "http://localhost:3000";

export function seedChatMarks(): FakeChatMarks {
  return { unread: new Set(), seen: new Map(), pins: new Map(), files: new Map() };
}

/** whatsapp-web.js's `Chat` of a chat, as WAHA's WEBJS engine lists it. */
export function asWebjsChat(id: string, messages: WAMessage[], marks: FakeChatMarks): WEBJSChat {
  const last = messages[messages.length - 1];
  return {
    id: { server: id.split("@")[1], user: id.split("@")[0], _serialized: id },
    name: `Chat ${id.split("@")[0]}`,
    isGroup: id.endsWith("@g.us"),
    unreadCount: marks.unread.has(id)
      ? -1
      : messages.filter((m) => !m.fromMe && m.timestamp > (marks.seen.get(id) ?? 0)).length,
    timestamp: last?.timestamp ?? 0,
    archived: false,
    pinned: false,
    isMuted: false,
    muteExpiration: 0,
    lastMessage: last ? { body: last.body, timestamp: last.timestamp } : undefined,
  };
}

/** A media file of an incoming message: where WAHA serves it, and the message's `media`. */
export function storeMedia(
  marks: FakeChatMarks,
  session: string,
  messageId: string,
  media: { mimetype: string; filename?: string; data: string },
): NonNullable<WAMessage["media"]> {
  const extension = media.filename?.includes(".")
    ? media.filename.split(".").pop()
    : media.mimetype.split("/")[1]?.split(";")[0];
  const file = `${messageId}.${extension}`;
  marks.files.set(`${session}/${file}`, {
    mimetype: media.mimetype,
    bytes: Uint8Array.fromBase64(media.data),
  });
  return {
    url: `${WAHA_OWN_BASE_URL}/api/files/${session}/${file}`,
    mimetype: media.mimetype,
    filename: media.filename ?? null,
  };
}

export interface ChatsRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The (WORKING) session the path names: its chats and their marks. */
  chatsOf(session: string): { chats: Map<string, WAMessage[]>; marks: FakeChatMarks };
}

/** Answers a chat-extras or files call, or null for a path that is not one. */
export function routeChatExtras(request: ChatsRequest): Response | null {
  const { method, path, query, body } = request;
  let m: RegExpMatchArray | null;
  if ((m = path.match(/^\/api\/files\/([^/]+)\/([^/]+)$/)) && method === "GET") {
    const { marks } = request.chatsOf(m[1]);
    const file = marks.files.get(`${m[1]}/${decodeURIComponent(m[2])}`);
    if (!file) return nestError(404, "Not Found", "File not found");
    return new Response(file.bytes.slice().buffer, {
      status: 200,
      headers: { "Content-Type": file.mimetype },
    });
  }
  if ((m = path.match(/^\/api\/([^/]+)\/chats\/overview$/)) && method === "GET") {
    const { chats, marks } = request.chatsOf(m[1]);
    const filter = validate(ChatsOverviewQuery, query);
    const ids = filter.ids === undefined ? null : [filter.ids].flat();
    const rows = [...chats.entries()]
      .filter(([id]) => !ids || ids.includes(id))
      .map(([id, messages]): ChatSummary => ({
        id,
        name: `Chat ${id.split("@")[0]}`,
        picture: null,
        lastMessage: messages.at(-1) ?? null,
        _chat: asWebjsChat(id, messages, marks),
      }));
    const offset = filter.offset ?? 0;
    return json(200, rows.slice(offset, offset + (filter.limit ?? 20)));
  }
  if ((m = path.match(/^\/api\/([^/]+)\/chats\/([^/]+)\/unread$/)) && method === "POST") {
    const { chats, marks } = request.chatsOf(m[1]);
    const chatId = decodeURIComponent(m[2]);
    if (!chats.has(chatId)) return nestError(404, "Not Found", "Chat not found");
    marks.unread.add(chatId);
    return json(201, undefined);
  }
  m = path.match(/^\/api\/([^/]+)\/chats\/([^/]+)\/messages\/([^/]+)(\/pin|\/unpin)?$/);
  if (!m || (m[4] === undefined && method !== "GET") || (m[4] && method !== "POST")) return null;
  const { chats, marks } = request.chatsOf(m[1]);
  const messageId = decodeURIComponent(m[3]);
  const message = chats.get(decodeURIComponent(m[2]))?.find((x) => x.id === messageId);
  if (!message) return nestError(404, "Not Found", "Message not found");
  if (m[4] === "/pin") {
    const { duration } = validate(PinMessageRequest, body ?? {});
    marks.pins.set(messageId, Math.floor(Date.now() / 1000) + (duration ?? 604_800));
    return json(201, { success: true });
  }
  if (m[4] === "/unpin") {
    if (body !== undefined) return nestError(400, "Bad Request", "unpin takes no body");
    marks.pins.delete(messageId);
    return json(201, { success: true });
  }
  const { downloadMedia } = validate(GetChatMessageQuery, query);
  const withMedia = downloadMedia !== "false";
  return json(200, withMedia ? message : { ...message, media: null });
}
