/**
 * @module
 * The simulator's account data: the contacts, chats and group it is seeded with (an echo contact,
 * Bob's archived chat, Dave whose privacy settings refuse being added to groups, LIDs for Alice
 * and Bob, and Erin, known only by a LID whose phone number WhatsApp does not tell), the in-memory
 * store of chats, messages, media and blocks with its lookups, and the DTO views of it. The engine
 * (`engine.ts`) owns the connection and the calls; this module owns what they read and change.
 */
import {
  type ChatSummary,
  type ContactDto,
  type GroupDto,
  type GroupSettings,
  type LidMapping,
  type MediaInput,
  type MembershipRequestDto,
  type MessageDto,
  notFound,
} from "../../engine.ts";
import type { SimPoll } from "./polls.ts";

export const ECHO_CONTACT = "15550000000@c.us";
/** A number the simulator says is not on WhatsApp. */
export const NOT_ON_WHATSAPP = "15559999999@c.us";
/** A contact whose privacy settings do not allow adding them to groups. */
export const NO_GROUP_ADDS = "15550000004@c.us";
/** A group member known only by a LID: WhatsApp does not tell her phone number. */
export const LID_ONLY = "100000000000005@lid";

/** A new group's settings, as WhatsApp makes it: everyone writes, edits its info and adds members. */
export const NEW_GROUP_SETTINGS: Readonly<GroupSettings> = {
  messagesAdminsOnly: false,
  infoAdminsOnly: false,
  addMembersAdminsOnly: false,
  membershipApproval: false,
};

/** The LIDs the simulator knows, with their phone numbers where known. */
export const SIMULATOR_LIDS: readonly LidMapping[] = [
  { lid: "100000000000001@lid", pn: "15550000001@c.us" },
  { lid: "100000000000002@lid", pn: "15550000002@c.us" },
  { lid: LID_ONLY, pn: null },
];

export interface SimChat {
  id: string;
  name: string;
  archived: boolean;
  pinned: boolean;
  muted: boolean;
  /** Muted until then (Unix seconds), -1 for good; absent when not muted. */
  muteExpiration?: number;
  /** Marked unread by hand. */
  markedUnread?: boolean;
  unreadCount: number;
  messages: MessageDto[];
  group?: Omit<GroupDto, "id">;
  /** The polls sent in the chat, by message id (`polls.ts`). */
  polls?: Record<string, SimPoll>;
  /** The ids of the chat's labels (`social.ts`). */
  labels?: string[];
  /** A group's invite code, once an admin asked for it (`group_admin.ts`). */
  invite?: string;
  /** A group's picture URL. */
  picture?: string;
  /** A group's pending requests to join. */
  requests?: MembershipRequestDto[];
}

export type SimGroupChat = SimChat & { group: Omit<GroupDto, "id"> };

export interface SimContact {
  name: string;
  pushname: string;
  picture: string | null;
}

/** The current time in Unix seconds, as WhatsApp timestamps are. */
export const unixNow = () => Math.floor(Date.now() / 1000);

export function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}

/** Whether a chat is muted now (a mute with an end runs out by itself). */
export function isMuted(chat: SimChat): boolean {
  if (!chat.muted) return false;
  const until = chat.muteExpiration ?? -1;
  return until === -1 || until > unixNow();
}

export function userOf(jid: string): string {
  return jid.split("@")[0];
}

/** The LID of a phone-number id, when the simulator knows one. */
export function lidOf(pn: string): string | undefined {
  return SIMULATOR_LIDS.find((m) => m.pn === pn)?.lid;
}

export interface SimulatorData {
  meId: string;
  contacts: Map<string, SimContact>;
  chats: Map<string, SimChat>;
  /** The media of sent messages, by message id. */
  media: Map<string, MediaInput>;
  blocked: Set<string>;
  /** A new message in a chat; `fields` override the defaults (ours: ack 1, theirs: ack 0). */
  newMessage(
    chatId: string,
    fields: Partial<MessageDto> & { fromMe: boolean; body: string },
  ): MessageDto;
  /** The chat, created on first use for a person (never for a group: 404). */
  chatFor(chatId: string): SimChat;
  /** The chat, or 404. */
  existingChat(chatId: string): SimChat;
  /** The message with its chat, or 404. */
  findMessage(messageId: string): { chat: SimChat; message: MessageDto };
  /** The group's chat, or 404. */
  group(groupId: string): SimGroupChat;
  groupDto(chat: SimGroupChat): GroupDto;
  summary(chat: SimChat): ChatSummary;
  contactDto(id: string): ContactDto;
  /** Fills the chats: a few messages an hour old and the simulator group. */
  seed(): void;
}

export function createSimulatorData(meId: string): SimulatorData {
  const contacts = new Map<string, SimContact>([
    [ECHO_CONTACT, { name: "Echo Bot", pushname: "echo", picture: null }],
    ["15550000001@c.us", {
      name: "Alice",
      pushname: "alice",
      picture: "https://pps.example.invalid/alice.jpg",
    }],
    ["15550000002@c.us", { name: "Bob", pushname: "bob", picture: null }],
    ["15550000003@c.us", { name: "Carol", pushname: "carol", picture: null }],
    [NO_GROUP_ADDS, { name: "Dave", pushname: "dave", picture: null }],
    [LID_ONLY, { name: "Erin", pushname: "erin", picture: null }],
  ]);
  const chats = new Map<string, SimChat>();
  const media = new Map<string, MediaInput>();
  const blocked = new Set<string>();

  function newMessage(
    chatId: string,
    fields: Partial<MessageDto> & { fromMe: boolean; body: string },
  ): MessageDto {
    const fromMe = fields.fromMe;
    const id = `${fromMe}_${chatId}_3EB0${randomHex(8)}`;
    return {
      id,
      chatId,
      from: fromMe ? meId : (fields.author ?? chatId),
      to: fromMe ? chatId : meId,
      author: null,
      type: "chat",
      timestamp: unixNow(),
      hasMedia: false,
      media: null,
      ack: fromMe ? 1 : 0,
      quotedMsgId: null,
      // Written by a person unless the caller says otherwise (this server's sends are "api").
      source: "app",
      ...fields,
    };
  }

  function chatFor(chatId: string): SimChat {
    let chat = chats.get(chatId);
    if (chat) return chat;
    if (chatId.endsWith("@g.us")) throw notFound(`Chat "${chatId}" not found`);
    chat = {
      id: chatId,
      name: contacts.get(chatId)?.name ?? `+${userOf(chatId)}`,
      archived: false,
      pinned: false,
      muted: false,
      unreadCount: 0,
      messages: [],
    };
    chats.set(chatId, chat);
    return chat;
  }

  function existingChat(chatId: string): SimChat {
    const chat = chats.get(chatId);
    if (!chat) throw notFound(`Chat "${chatId}" not found`);
    return chat;
  }

  function findMessage(messageId: string): { chat: SimChat; message: MessageDto } {
    for (const chat of chats.values()) {
      const message = chat.messages.find((m) => m.id === messageId);
      if (message) return { chat, message };
    }
    throw notFound(`Message "${messageId}" not found`);
  }

  function seed(): void {
    const at = unixNow() - 3600;
    const direct = (id: string, bodies: [boolean, string][]) => {
      const chat = chatFor(id);
      bodies.forEach(([fromMe, body], i) => {
        chat.messages.push({ ...newMessage(id, { fromMe, body }), timestamp: at + i * 60, ack: 3 });
      });
    };
    direct(ECHO_CONTACT, [[false, "Send me anything and I will echo it"]]);
    direct("15550000002@c.us", [[false, "Old news from Bob"]]);
    chatFor("15550000002@c.us").archived = true;
    direct("15550000001@c.us", [[false, "Hi! Are we still on for tomorrow?"], [
      true,
      "Yes, 10am works",
    ]]);
    const groupId = "120363000000000001@g.us";
    chats.set(groupId, {
      id: groupId,
      name: "Simulator Group",
      archived: false,
      pinned: false,
      muted: false,
      unreadCount: 0,
      messages: [{
        ...newMessage(groupId, { fromMe: false, body: "Welcome to the group" }),
        author: "15550000001@c.us",
        from: groupId,
        timestamp: at,
      }],
      group: {
        subject: "Simulator Group",
        description: "A group that exists only in the simulator",
        owner: meId,
        createdAt: at,
        participants: [
          { id: meId, isAdmin: true, isSuperAdmin: true },
          {
            id: "15550000001@c.us",
            isAdmin: false,
            isSuperAdmin: false,
            lid: lidOf("15550000001@c.us"),
          },
          {
            id: "15550000002@c.us",
            isAdmin: false,
            isSuperAdmin: false,
            lid: lidOf("15550000002@c.us"),
          },
          { id: LID_ONLY, isAdmin: false, isSuperAdmin: false },
        ],
        settings: { ...NEW_GROUP_SETTINGS },
      },
    });
  }

  function group(groupId: string): SimGroupChat {
    const chat = chats.get(groupId);
    if (!chat?.group) throw notFound(`Group "${groupId}" not found`);
    return chat as SimGroupChat;
  }

  function groupDto(chat: SimGroupChat): GroupDto {
    // A group stored before a setting existed has WhatsApp's default for it.
    const settings = { ...NEW_GROUP_SETTINGS, ...chat.group.settings };
    return structuredClone({ id: chat.id, ...chat.group, settings });
  }

  function summary(chat: SimChat): ChatSummary {
    const last = chat.messages.at(-1);
    return {
      id: chat.id,
      name: chat.group?.subject ?? chat.name,
      isGroup: chat.group !== undefined,
      unreadCount: chat.unreadCount,
      ...(last ? { lastMessage: { body: last.body, timestamp: last.timestamp } } : {}),
      archived: chat.archived,
      pinned: chat.pinned,
      muted: isMuted(chat),
      markedUnread: chat.markedUnread === true,
    };
  }

  function contactDto(id: string): ContactDto {
    const known = contacts.get(id);
    const lid = lidOf(id);
    const pn = id.endsWith("@lid") ? SIMULATOR_LIDS.find((m) => m.lid === id)?.pn : undefined;
    return {
      id,
      ...(lid ? { lid } : {}),
      ...(pn ? { pn } : {}),
      number: id.endsWith("@lid") ? (pn ? userOf(pn) : "") : userOf(id),
      name: known?.name ?? null,
      pushname: known?.pushname ?? null,
      isMyContact: known !== undefined,
      isBusiness: false,
      isBlocked: blocked.has(id),
      isGroup: id.endsWith("@g.us"),
      isUser: id.endsWith("@c.us") || id.endsWith("@lid"),
    };
  }

  return {
    meId,
    contacts,
    chats,
    media,
    blocked,
    newMessage,
    chatFor,
    existingChat,
    findMessage,
    group,
    groupDto,
    summary,
    contactDto,
    seed,
  };
}
