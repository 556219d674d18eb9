/**
 * @module
 * Our session calls' answers in WAHA's shapes, as pure functions. WAHA's WEBJS engine answers
 * chats, contacts and groups with whatsapp-web.js's objects (`WEBJS*` in `waha/schemas.ts`): ids
 * as `{ server, user, _serialized }`, a group as a chat with its `groupMetadata`, the group calls'
 * results by participant id. A field we do not know is left out, as whatsapp-web.js leaves out
 * one WhatsApp Web does not have.
 */
import type {
  ChatSummary as OurChat,
  ContactDto,
  GroupCreated,
  GroupDto,
  GroupParticipant,
  ParticipantOutcome,
  ParticipantResult,
} from "../../sessions/engine.ts";
import type {
  ChatSummary,
  WEBJSAddParticipantsResult,
  WEBJSChat,
  WEBJSContact,
  WEBJSCreateGroupResult,
  WEBJSGroupChat,
  WEBJSGroupParticipant,
  WEBJSParticipantsStatus,
  WEBJSWid,
} from "../../waha/schemas.ts";

/** `15550000001@c.us` as whatsapp-web.js writes an id. */
export function toWid(id: string): WEBJSWid {
  const at = id.lastIndexOf("@");
  return at < 0
    ? { server: "", user: id, _serialized: id }
    : { server: id.slice(at + 1), user: id.slice(0, at), _serialized: id };
}

/** A chat of our list as whatsapp-web.js's `Chat`. */
export function toWebjsChat(chat: OurChat): WEBJSChat {
  return {
    id: toWid(chat.id),
    name: chat.name,
    isGroup: chat.isGroup,
    // WhatsApp Web (and so whatsapp-web.js) counts a chat marked unread by hand as -1.
    unreadCount: chat.markedUnread && chat.unreadCount === 0 ? -1 : chat.unreadCount,
    ...(chat.lastMessage ? { timestamp: chat.lastMessage.timestamp } : {}),
    archived: chat.archived,
    pinned: chat.pinned,
    isMuted: chat.muted,
    ...(chat.lastMessage
      ? { lastMessage: { body: chat.lastMessage.body, timestamp: chat.lastMessage.timestamp } }
      : {}),
  };
}

/** A chat of our list as WAHA's `ChatSummary` (the picture is not read: null). */
export function toChatSummary(chat: OurChat): ChatSummary {
  return {
    id: chat.id,
    name: chat.name || null,
    picture: null,
    lastMessage: chat.lastMessage
      ? { body: chat.lastMessage.body, timestamp: chat.lastMessage.timestamp }
      : null,
    _chat: toWebjsChat(chat),
  };
}

/** A contact as WAHA answers whatsapp-web.js's `Contact`; `me` is the session's own id. */
export function toWebjsContact(contact: ContactDto, me: string): WEBJSContact {
  return {
    id: contact.id,
    number: contact.number,
    isBusiness: contact.isBusiness,
    ...(contact.name !== null ? { name: contact.name } : {}),
    ...(contact.pushname !== null ? { pushname: contact.pushname } : {}),
    isMe: contact.id === me,
    isUser: contact.isUser,
    isGroup: contact.isGroup,
    isMyContact: contact.isMyContact,
    isBlocked: contact.isBlocked,
  };
}

/** A group member as whatsapp-web.js's `GroupParticipant`. */
export function toWebjsParticipant(participant: GroupParticipant): WEBJSGroupParticipant {
  return {
    id: toWid(participant.id),
    isAdmin: participant.isAdmin,
    isSuperAdmin: participant.isSuperAdmin,
  };
}

/** A group as whatsapp-web.js's `GroupChat`. */
export function toWebjsGroupChat(group: GroupDto): WEBJSGroupChat {
  return {
    id: toWid(group.id),
    name: group.subject,
    isGroup: true,
    groupMetadata: {
      id: toWid(group.id),
      subject: group.subject,
      desc: group.description,
      ...(group.owner ? { owner: toWid(group.owner) } : {}),
      ...(group.createdAt !== null ? { creation: group.createdAt } : {}),
      restrict: group.settings.infoAdminsOnly,
      announce: group.settings.messagesAdminsOnly,
      participants: group.participants.map(toWebjsParticipant),
    },
  };
}

/** whatsapp-web.js's status code for what became of a participant. */
const CODES: Record<ParticipantOutcome, number> = {
  added: 200,
  removed: 200,
  already_in: 409,
  not_in_group: 404,
  not_on_whatsapp: 404,
  not_allowed: 403,
};

const MESSAGES: Record<ParticipantOutcome, string> = {
  added: "Added to the group",
  removed: "Removed from the group",
  already_in: "Already a member of the group",
  not_in_group: "Not a member of the group",
  not_on_whatsapp: "Not on WhatsApp",
  not_allowed: "Not allowed to add this participant",
};

const codeOf = (result: ParticipantResult) => ({
  code: CODES[result.result],
  message: result.message ?? MESSAGES[result.result],
});

/** A created group as whatsapp-web.js's `CreateGroupResult`. */
export function toWebjsCreateGroupResult(created: GroupCreated): WEBJSCreateGroupResult {
  return {
    title: created.subject,
    gid: toWid(created.id),
    participants: Object.fromEntries(created.results.map((result) => {
      const { code, message } = codeOf(result);
      return [result.id, {
        statusCode: code,
        message,
        isGroupCreator: false,
        isInviteV4Sent: false,
      }];
    })),
  };
}

/** Added participants as whatsapp-web.js's `AddParticipantsResult`. */
export function toWebjsAddParticipantsResult(
  results: ParticipantResult[],
): WEBJSAddParticipantsResult {
  return Object.fromEntries(
    results.map((result) => [result.id, { ...codeOf(result), isInviteV4Sent: false }]),
  );
}

/**
 * What whatsapp-web.js answers once participants are removed, promoted or demoted (it leaves
 * out, without saying so, an id that is not in the group).
 */
export const PARTICIPANTS_CHANGED: WEBJSParticipantsStatus = { status: 200 };
