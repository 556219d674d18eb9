/**
 * @module
 * Turns whatsapp-web.js objects (Message, Chat, GroupChat, Contact, group call results) into the
 * engine's plain DTOs. Library objects never leave the Worker; only what these functions return
 * does.
 */
import type {
  ChatDetail,
  ChatSummary,
  ContactDto,
  GroupDto,
  GroupParticipant,
  MessageDto,
  ParticipantOutcome,
  ParticipantResult,
} from "../../engine.ts";

// deno-lint-ignore no-explicit-any
export type Lib = any;

/** A whatsapp-web.js id: a string or an object with `_serialized`. */
export function serialized(id: Lib): string {
  if (id == null) return "";
  if (typeof id === "string") return id;
  if (typeof id._serialized === "string") return id._serialized;
  if (typeof id.user === "string" && typeof id.server === "string") {
    return `${id.user}@${id.server}`;
  }
  return String(id);
}

function userPart(id: string): string {
  const at = id.indexOf("@");
  return at < 0 ? id : id.slice(0, at);
}

/** Tells whether an id is the linked account's (by its phone number or its LID). */
export type IsMe = (id: string) => boolean;

/** The serialized id of the message a message quotes, if it quotes one. */
export function quotedMessageId(data: Lib, chatId: string, isMe: IsMe): string | null {
  const stanza = data?.quotedStanzaID;
  if (!stanza) return null;
  const participant = data.quotedParticipant ? serialized(data.quotedParticipant) : "";
  const remote = data.quotedRemoteJid ? serialized(data.quotedRemoteJid) : chatId;
  const fromMe = !!participant && isMe(participant);
  const suffix = remote.endsWith("@g.us") && participant ? `_${participant}` : "";
  return `${fromMe}_${remote}_${stanza}${suffix}`;
}

export function toMessageDto(msg: Lib, isMe: IsMe): MessageDto {
  const data = msg._data ?? {};
  const fromMe = Boolean(msg.fromMe ?? msg.id?.fromMe);
  const chatId = serialized(msg.id?.remote) || (fromMe ? serialized(msg.to) : serialized(msg.from));
  const hasMedia = Boolean(msg.hasMedia);
  return {
    id: serialized(msg.id),
    chatId,
    from: serialized(msg.from),
    to: serialized(msg.to),
    author: msg.author ? serialized(msg.author) : null,
    fromMe,
    body: typeof msg.body === "string" ? msg.body : "",
    type: String(msg.type ?? "chat"),
    timestamp: Number(msg.timestamp ?? data.t ?? 0),
    hasMedia,
    media: hasMedia
      ? {
        mimetype: String(data.mimetype ?? "application/octet-stream"),
        filename: data.filename ?? null,
      }
      : null,
    ack: typeof msg.ack === "number" ? msg.ack : 0,
    quotedMsgId: quotedMessageId(data, chatId, isMe),
    ...(msg.isStarred ? { starred: true } : {}),
  };
}

export function toChatSummary(chat: Lib): ChatSummary {
  const id = serialized(chat.id);
  const summary: ChatSummary = {
    id,
    name: String(chat.name || userPart(id)),
    isGroup: Boolean(chat.isGroup),
    // WhatsApp Web counts a chat marked unread by hand as -1 unread messages.
    unreadCount: Math.max(0, Number(chat.unreadCount ?? 0)),
    archived: Boolean(chat.archived),
    pinned: Boolean(chat.pinned),
    muted: Boolean(chat.isMuted),
    markedUnread: Number(chat.unreadCount ?? 0) < 0,
  };
  const last = chat.lastMessage;
  if (last) {
    summary.lastMessage = { body: String(last.body ?? ""), timestamp: Number(last.timestamp ?? 0) };
  }
  return summary;
}

export function toChatDetail(chat: Lib): ChatDetail {
  return {
    ...toChatSummary(chat),
    timestamp: Number(chat.timestamp ?? 0),
    muteExpiration: chat.isMuted ? Number(chat.muteExpiration ?? -1) : 0,
  };
}

export function toContactDto(contact: Lib): ContactDto {
  const id = serialized(contact.id);
  return {
    id,
    number: String(contact.number ?? userPart(id)),
    name: contact.name ?? null,
    pushname: contact.pushname ?? null,
    isMyContact: Boolean(contact.isMyContact),
    isBusiness: Boolean(contact.isBusiness),
    isBlocked: Boolean(contact.isBlocked),
    isGroup: Boolean(contact.isGroup),
    isUser: Boolean(contact.isUser),
  };
}

export function toGroupDto(chat: Lib): GroupDto {
  const meta = chat.groupMetadata ?? {};
  const participants: GroupParticipant[] = (meta.participants ?? []).map((p: Lib) => ({
    id: serialized(p.id),
    isAdmin: Boolean(p.isAdmin),
    isSuperAdmin: Boolean(p.isSuperAdmin),
  }));
  return {
    id: serialized(chat.id),
    subject: String(chat.name ?? meta.subject ?? ""),
    description: String(meta.desc ?? ""),
    owner: meta.owner ? serialized(meta.owner) : null,
    createdAt: typeof meta.creation === "number" ? meta.creation : null,
    participants,
    settings: {
      messagesAdminsOnly: Boolean(meta.announce),
      infoAdminsOnly: Boolean(meta.restrict),
      addMembersAdminsOnly: meta.memberAddMode === "admin_add",
      membershipApproval: Boolean(meta.membershipApprovalMode),
    },
  };
}

/** whatsapp-web.js's add-participant status codes, as the contract's outcomes. */
export function outcomeFromCode(code: number | undefined, removing = false): ParticipantOutcome {
  switch (code) {
    case 200:
      return removing ? "removed" : "added";
    case 409:
      return "already_in";
    case 404:
      return "not_on_whatsapp";
    default:
      return "not_allowed";
  }
}

/** Maps `{ [id]: { code|statusCode, message } }` to per-participant results. */
export function toParticipantResults(result: Record<string, Lib>): ParticipantResult[] {
  return Object.entries(result).map(([id, r]) => {
    const code = typeof r?.code === "number" ? r.code : r?.statusCode;
    const out: ParticipantResult = { id, result: outcomeFromCode(code) };
    if (out.result !== "added" && r?.message) out.message = String(r.message);
    return out;
  });
}
