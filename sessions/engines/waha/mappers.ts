/**
 * @module
 * WAHA's answers turned into the engine contract's plain data. WAHA answers in its own
 * `WAMessage` shape, but some calls hand back what its underlying engine made (an id as an object
 * with `_serialized`, NOWEB's `key.id` and `messageTimestamp`): each mapper reads both.
 */
import type { ChatSummary, ContactDto, MessageDto, SentMessage } from "../../engine.ts";
import type { WAMessage } from "../../../waha/schemas.ts";

type Loose = Record<string, unknown>;

/** An id WAHA wrote as a string or as `{ _serialized }`. */
export function idOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    const serialized = (value as Loose)._serialized;
    if (typeof serialized === "string") return serialized;
  }
  return "";
}

/** Unix seconds from WAHA's number or numeric string (seconds or milliseconds), or null. */
export const seconds = (value: unknown): number | null => {
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n)) return null;
  // WAHA's timestamps are seconds; a value in milliseconds is brought back to seconds.
  return n > 1e11 ? Math.floor(n / 1000) : Math.floor(n);
};

/** What a send answered: its message id and time. */
export function toSentMessage(answer: unknown): SentMessage {
  const body = (answer ?? {}) as Loose;
  const key = (body.key ?? {}) as Loose;
  const messageId = idOf(body.id) || (typeof key.id === "string" ? key.id : "");
  if (!messageId) throw new Error("The WAHA server's answer to a send has no message id");
  const timestamp = seconds(body.timestamp) ?? seconds(body.messageTimestamp) ??
    Math.floor(Date.now() / 1000);
  return { messageId, timestamp };
}

/** The chat a WAHA message id names (`<fromMe>_<chatId>_<id>[_<participant>]`), or null. */
export function chatOfMessageId(messageId: string): string | null {
  const parts = messageId.split("_");
  if (parts.length < 3 || (parts[0] !== "true" && parts[0] !== "false")) return null;
  return parts[1] || null;
}

/**
 * The serialized id of the message `replyTo` quotes in `chatId`: WAHA gives the quoted message's
 * bare id (whatsapp-web.js's `id.id`, NOWEB's stanza id) and who sent it, so the id is made again
 * as whatsapp-web.js serializes it (`<fromMe>_<chat>_<id>`, the sender after it in a group).
 */
export function quotedIdOf(
  replyTo: WAMessage["replyTo"],
  chatId: string,
  me: string,
): string | null {
  const id = replyTo?.id;
  if (!id) return null;
  if (chatOfMessageId(id)) return id;
  const participant = replyTo?.participant ?? "";
  const fromMe = participant === me;
  const suffix = chatId.endsWith("@g.us") && participant ? `_${participant}` : "";
  return `${fromMe}_${chatId}_${id}${suffix}`;
}

/**
 * A message's type as whatsapp-web.js names it: WAHA's WEBJS engine gives it (`_data.type`);
 * otherwise it is told by the location, the vCards or the media WAHA lists.
 */
function typeOf(message: WAMessage): string {
  const type = (message._data as Loose | undefined)?.type;
  if (typeof type === "string" && type) return type;
  if (message.location) return "location";
  if (message.vCards?.length) return "vcard";
  return message.hasMedia ? mediaType(message.media?.mimetype ?? null) : "chat";
}

/** A WAHA message as ours; `me` is the session's own id, for `to` when WAHA leaves it out. */
export function toMessageDto(message: WAMessage, me: string): MessageDto {
  const media = message.media ?? null;
  const chatId = message.fromMe ? (message.to || me) : message.from;
  const author = message.participant || message.author || null;
  const type = typeOf(message);
  // A location's body is its thumbnail or empty: its description names the place.
  const body = type === "location" && message.location?.description
    ? message.location.description
    : message.body ?? "";
  return {
    id: message.id,
    chatId,
    from: message.from,
    to: message.to || me,
    author,
    fromMe: message.fromMe,
    body,
    type,
    timestamp: seconds(message.timestamp) ?? 0,
    hasMedia: message.hasMedia ?? false,
    media: media && message.hasMedia
      ? { mimetype: media.mimetype ?? "application/octet-stream", filename: media.filename ?? null }
      : null,
    ack: typeof message.ack === "number" ? message.ack : 0,
    quotedMsgId: quotedIdOf(message.replyTo, chatId, me),
  };
}

function mediaType(mimetype: string | null): string {
  if (!mimetype) return "document";
  if (mimetype.startsWith("image/")) return "image";
  if (mimetype.startsWith("video/")) return "video";
  if (mimetype.startsWith("audio/")) return "audio";
  return "document";
}

/** One entry of WAHA's chat list (its shape depends on WAHA's engine). */
export function toChatSummary(raw: unknown): ChatSummary {
  const chat = (raw ?? {}) as Loose;
  const id = idOf(chat.id);
  const last = chat.lastMessage as Loose | undefined;
  const lastTimestamp = seconds(last?.timestamp);
  return {
    id,
    name: typeof chat.name === "string" ? chat.name : id.split("@")[0],
    isGroup: chat.isGroup === true || id.endsWith("@g.us"),
    // whatsapp-web.js counts a chat marked unread by hand as -1.
    unreadCount: typeof chat.unreadCount === "number" ? Math.max(0, chat.unreadCount) : 0,
    ...(last && lastTimestamp !== null
      ? { lastMessage: { body: String(last.body ?? ""), timestamp: lastTimestamp } }
      : {}),
    archived: chat.archived === true,
    pinned: chat.pinned === true,
    muted: chat.isMuted === true,
    markedUnread: chat.markedUnread === true || chat.unreadCount === -1,
  };
}

/** One of WAHA's contacts (`GET /api/contacts/all`). */
export function toContactDto(raw: unknown): ContactDto {
  const contact = (raw ?? {}) as Loose;
  const id = idOf(contact.id);
  const text = (value: unknown) => typeof value === "string" && value ? value : null;
  return {
    id,
    number: typeof contact.number === "string"
      ? contact.number
      : id.endsWith("@c.us")
      ? id.split("@")[0]
      : "",
    name: text(contact.name),
    pushname: text(contact.pushname),
    isMyContact: contact.isMyContact === true,
    isBusiness: contact.isBusiness === true,
    isBlocked: contact.isBlocked === true,
    isGroup: contact.isGroup === true || id.endsWith("@g.us"),
    isUser: contact.isUser === true || id.endsWith("@c.us"),
  };
}
