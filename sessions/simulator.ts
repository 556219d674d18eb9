/**
 * @module
 * The simulator engine (`WA_ENGINE=simulator`): behaves like a linked phone without WhatsApp, in
 * its own Worker exactly like the real engine. It shows a real QR, "is scanned" after
 * `simulatorScanMs`, remembers the link in the session folder (so a restart needs no scan), holds a
 * profile, contacts, chats and a group, keeps what it sends, and has an echo contact. Texts that
 * start with `/simulate` make it fail the ways real sessions fail, for tests and demos, and
 * `/simulate incoming <n>` makes n messages arrive in that chat at once (the command itself is not
 * kept: its answer names the newest arrived message), so paging can be exercised through HTTP.
 * Bob's chat is archived; Dave's privacy settings refuse being added to groups.
 */
/// <reference lib="deno.worker" />
import { join } from "node:path";
import {
  type ChatDetail,
  type ChatSummary,
  type ContactDto,
  type Engine,
  EngineError,
  type EngineEventSink,
  type EngineOptions,
  type GroupDto,
  type MediaInput,
  type MessageDto,
  notFound,
  type ParticipantResult,
  type SentMessage,
} from "./engine.ts";
import { qrToDataUrl } from "./qr.ts";

export const ECHO_CONTACT = "15550000000@c.us";
/** A number the simulator says is not on WhatsApp. */
export const NOT_ON_WHATSAPP = "15559999999@c.us";
/** A contact whose privacy settings do not allow adding them to groups. */
export const NO_GROUP_ADDS = "15550000004@c.us";
/** The most messages one `/simulate incoming <n>` may make arrive. */
const MAX_INCOMING = 10_000;
const QR_ROTATE_MS = 20_000;
const LINK_FILE = "simulator-link.json";

interface SimChat {
  id: string;
  name: string;
  archived: boolean;
  pinned: boolean;
  muted: boolean;
  unreadCount: number;
  messages: MessageDto[];
  group?: Omit<GroupDto, "id">;
}

const now = () => Math.floor(Date.now() / 1000);

function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}

function userOf(jid: string): string {
  return jid.split("@")[0];
}

export function createSimulatorEngine(options: EngineOptions): Engine {
  const meId = `${options.phoneNumber}@c.us`;
  let meName = `Simulator ${options.phoneNumber}`;
  let meStatus = "Hey there! I am using WhatsApp.";
  let mePicture: string | null = null;
  let emit: EngineEventSink = () => {};
  let status: "STARTING" | "SCAN_QR_CODE" | "WORKING" | "CONFLICT" | "STOPPED" = "STARTING";
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const linkPath = join(options.sessionDir, LINK_FILE);
  const media = new Map<string, MediaInput>();
  const blocked = new Set<string>();
  let qrCount = 0;

  const contacts = new Map<string, { name: string; pushname: string; picture: string | null }>([
    [ECHO_CONTACT, { name: "Echo Bot", pushname: "echo", picture: null }],
    ["15550000001@c.us", {
      name: "Alice",
      pushname: "alice",
      picture: "https://pps.example.invalid/alice.jpg",
    }],
    ["15550000002@c.us", { name: "Bob", pushname: "bob", picture: null }],
    ["15550000003@c.us", { name: "Carol", pushname: "carol", picture: null }],
    [NO_GROUP_ADDS, { name: "Dave", pushname: "dave", picture: null }],
  ]);
  const chats = new Map<string, SimChat>();

  function later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  }

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
      timestamp: now(),
      hasMedia: false,
      media: null,
      ack: fromMe ? 1 : 0,
      quotedMsgId: null,
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

  function receive(chatId: string, body: string, author?: string): MessageDto | null {
    if (status !== "WORKING") return null;
    const chat = chatFor(chatId);
    const message = newMessage(chatId, { fromMe: false, body, author: author ?? null });
    chat.messages.push(message);
    chat.unreadCount++;
    emit({ type: "message", message });
    emit({ type: "message.any", message });
    return message;
  }

  /** `/simulate incoming <n>`: n messages arrive in the chat, oldest first. */
  function arrive(chatId: string, count: number): SentMessage {
    if (!Number.isInteger(count) || count < 1 || count > MAX_INCOMING) {
      throw new EngineError("BAD_REQUEST", `"/simulate incoming" takes 1 to ${MAX_INCOMING}`);
    }
    let last: MessageDto | null = null;
    for (let i = 1; i <= count; i++) {
      last = receive(chatId, `Incoming message ${i} of ${count}`) ?? last;
    }
    return { messageId: last?.id ?? "", timestamp: last?.timestamp ?? now() };
  }

  function record(chatId: string, fields: Partial<MessageDto> & { body: string }): SentMessage {
    const chat = chatFor(chatId);
    if (fields.quotedMsgId) findMessage(fields.quotedMsgId);
    const message = newMessage(chatId, { fromMe: true, ...fields });
    chat.messages.push(message);
    emit({ type: "message.any", message });
    later(() => emit({ type: "message.ack", messageId: message.id, chatId, ack: 2 }), 10);
    return { messageId: message.id, timestamp: message.timestamp };
  }

  function seed(): void {
    const at = now() - 3600;
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
          { id: "15550000001@c.us", isAdmin: false, isSuperAdmin: false },
          { id: "15550000002@c.us", isAdmin: false, isSuperAdmin: false },
        ],
        settings: { messagesAdminsOnly: false, infoAdminsOnly: false },
      },
    });
  }

  function isLinked(): boolean {
    try {
      return JSON.parse(Deno.readTextFileSync(linkPath)).linked === true;
    } catch {
      return false;
    }
  }

  function link(): void {
    Deno.mkdirSync(options.sessionDir, { recursive: true });
    Deno.writeTextFileSync(linkPath, JSON.stringify({ linked: true, at: Date.now() }));
    connect();
  }

  function connect(): void {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    status = "WORKING";
    emit({ type: "status", status: "WORKING", me: { id: meId, pushName: meName } });
  }

  async function showQr(): Promise<void> {
    if (status !== "STARTING" && status !== "SCAN_QR_CODE") return;
    if (options.qrMaxRetries > 0 && qrCount >= options.qrMaxRetries) {
      status = "STOPPED";
      emit({
        type: "status",
        status: "STOPPED",
        reason: `QR code not scanned after ${qrCount} attempts`,
      });
      return;
    }
    qrCount++;
    const value = `2@sim${randomHex(12)},${btoa(options.phoneNumber)},${randomHex(16)},1`;
    const dataUrl = await qrToDataUrl(value);
    status = "SCAN_QR_CODE";
    emit({ type: "qr", value, dataUrl });
    emit({ type: "status", status: "SCAN_QR_CODE" });
    later(() => void showQr(), QR_ROTATE_MS);
  }

  function simulate(command: string): Promise<never> | null {
    switch (command) {
      case "crash":
        // An uncaught error: the Worker dies the way a bug would kill it.
        setTimeout(() => {
          throw new Error("Simulated crash");
        }, 0);
        return new Promise<never>(() => {});
      case "exit":
        setTimeout(() => self.close(), 0);
        return new Promise<never>(() => {});
      case "hang":
        return new Promise<never>(() => {});
      case "disconnect":
        status = "STARTING";
        emit({ type: "status", status: "STARTING", reason: "Connection lost, reconnecting" });
        later(connect, 1_000);
        return null;
      case "conflict":
        status = "CONFLICT";
        emit({ type: "status", status: "CONFLICT", reason: "WhatsApp is open on another device" });
        return null;
      case "logout":
        later(() => void engine.logout(), 0);
        return null;
      default:
        return null;
    }
  }

  function group(groupId: string): SimChat & { group: Omit<GroupDto, "id"> } {
    const chat = chats.get(groupId);
    if (!chat?.group) throw notFound(`Group "${groupId}" not found`);
    return chat as SimChat & { group: Omit<GroupDto, "id"> };
  }

  function groupDto(chat: SimChat & { group: Omit<GroupDto, "id"> }): GroupDto {
    return structuredClone({ id: chat.id, ...chat.group });
  }

  function summary(chat: SimChat): ChatSummary {
    const last = chat.messages.at(-1);
    return {
      id: chat.id,
      name: chat.group?.subject ?? chat.name,
      isGroup: chat.group !== undefined,
      unreadCount: chat.unreadCount,
      ...(last ? { lastMessage: { body: last.body, timestamp: last.timestamp } } : {}),
    };
  }

  function contactDto(id: string): ContactDto {
    const known = contacts.get(id);
    return {
      id,
      number: userOf(id),
      name: known?.name ?? null,
      pushname: known?.pushname ?? null,
      isMyContact: known !== undefined,
      isBusiness: false,
      isBlocked: blocked.has(id),
      isGroup: id.endsWith("@g.us"),
      isUser: id.endsWith("@c.us"),
    };
  }

  const engine: Engine = {
    async start(onEvent) {
      emit = onEvent;
      seed();
      emit({ type: "status", status: "STARTING" });
      if (isLinked()) {
        later(connect, 50);
        return;
      }
      await showQr();
      later(link, options.simulatorScanMs);
    },
    stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      status = "STOPPED";
      return Promise.resolve();
    },
    async logout() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Deno.remove(linkPath).catch(() => {});
      status = "STOPPED";
      emit({ type: "logged_out", reason: "Logged out" });
    },
    requestPairingCode() {
      if (status === "WORKING") {
        return Promise.reject(new EngineError("BAD_REQUEST", "The session is already linked"));
      }
      const alphabet = "ABCDEFGHJKLMNPQRSTVWXYZ123456789";
      const code = Array.from(
        crypto.getRandomValues(new Uint8Array(8)),
        (b) => alphabet[b % alphabet.length],
      ).join("");
      emit({ type: "pairing_code", code });
      return Promise.resolve(code);
    },

    sendText({ chatId, text, quotedMsgId }) {
      const command = /^\/simulate\s+(\w+)/.exec(text)?.[1];
      if (command === "incoming") {
        const count = Number(/^\/simulate\s+incoming\s+(\d+)\s*$/.exec(text)?.[1]);
        try {
          return Promise.resolve(arrive(chatId, count));
        } catch (error) {
          return Promise.reject(error);
        }
      }
      if (command) {
        const outcome = simulate(command);
        if (outcome) return outcome;
      }
      const sent = record(chatId, { body: text, quotedMsgId: quotedMsgId ?? null });
      if (chatId === ECHO_CONTACT && !command) later(() => receive(chatId, `echo: ${text}`), 20);
      return Promise.resolve(sent);
    },
    sendMedia({ chatId, kind, media: input, caption, quotedMsgId }) {
      const type = kind === "file" ? "document" : kind === "voice" ? "ptt" : kind;
      const sent = record(chatId, {
        body: caption ?? "",
        type,
        hasMedia: true,
        media: { mimetype: input.mimetype, filename: input.filename },
        quotedMsgId: quotedMsgId ?? null,
      });
      media.set(sent.messageId, input);
      return Promise.resolve(sent);
    },
    sendLocation({ chatId, latitude, longitude, name, address, quotedMsgId }) {
      const body = [name, address].filter(Boolean).join("\n") || `${latitude},${longitude}`;
      return Promise.resolve(
        record(chatId, { body, type: "location", quotedMsgId: quotedMsgId ?? null }),
      );
    },
    sendContact({ chatId, vcard, quotedMsgId }) {
      return Promise.resolve(
        record(chatId, { body: vcard, type: "vcard", quotedMsgId: quotedMsgId ?? null }),
      );
    },
    sendReaction(messageId) {
      findMessage(messageId);
      return Promise.resolve();
    },
    deleteMessage(messageId) {
      const { message } = findMessage(messageId);
      if (!message.fromMe) {
        return Promise.reject(
          new EngineError("BAD_REQUEST", "Only your own messages can be revoked"),
        );
      }
      message.type = "revoked";
      message.body = "";
      message.hasMedia = false;
      message.media = null;
      return Promise.resolve();
    },
    editMessage(messageId, text) {
      const { message } = findMessage(messageId);
      if (!message.fromMe || message.type !== "chat") {
        return Promise.reject(
          new EngineError("BAD_REQUEST", "Only your own text messages can be edited"),
        );
      }
      message.body = text;
      return Promise.resolve({ messageId, timestamp: now() });
    },
    sendSeen(chatId) {
      existingChat(chatId).unreadCount = 0;
      return Promise.resolve();
    },
    setTyping(chatId) {
      // Typing in a chat that has no messages yet is fine, but it does not create the chat.
      if (chatId.endsWith("@g.us")) existingChat(chatId);
      return Promise.resolve();
    },
    checkNumber(phone) {
      const id = `${phone.replace(/\D/g, "")}@c.us`;
      if (id === NOT_ON_WHATSAPP) return Promise.resolve({ exists: false });
      return Promise.resolve({ exists: true, chatId: id });
    },
    getMessageMedia(chatId, messageId) {
      const { chat } = findMessage(messageId);
      const stored = media.get(messageId);
      if (chat.id !== chatId || !stored) {
        return Promise.reject(notFound(`Media of message "${messageId}" not found`));
      }
      return Promise.resolve(structuredClone(stored));
    },

    listChats({ page, limit, archived }) {
      const all = [...chats.values()]
        .filter((chat) => archived === undefined || chat.archived === archived)
        .sort((a, b) => (b.messages.at(-1)?.timestamp ?? 0) - (a.messages.at(-1)?.timestamp ?? 0));
      const start = (page - 1) * limit;
      return Promise.resolve({
        chats: all.slice(start, start + limit).map(summary),
        total: all.length,
        page,
        hasMore: start + limit < all.length,
      });
    },
    getChat(chatId) {
      const chat = existingChat(chatId);
      const detail: ChatDetail = {
        ...summary(chat),
        archived: chat.archived,
        pinned: chat.pinned,
        muted: chat.muted,
        timestamp: chat.messages.at(-1)?.timestamp ?? 0,
      };
      return Promise.resolve(detail);
    },
    listMessages(chatId, { limit, before }) {
      const messages = existingChat(chatId).messages;
      let end = messages.length;
      if (before !== undefined) {
        end = messages.findIndex((m) => m.id === before);
        if (end < 0) return Promise.reject(notFound(`Message "${before}" not found`));
      }
      const start = Math.max(0, end - limit);
      const page = messages.slice(start, end).reverse();
      const hasMore = start > 0;
      return Promise.resolve({
        messages: structuredClone(page),
        hasMore,
        ...(hasMore && page.length > 0 ? { nextCursor: page.at(-1)!.id } : {}),
      });
    },

    listContacts() {
      return Promise.resolve([...contacts.keys()].map(contactDto));
    },
    getContact(contactId) {
      if (!contacts.has(contactId) && !chats.has(contactId)) {
        return Promise.reject(notFound(`Contact "${contactId}" not found`));
      }
      return Promise.resolve(contactDto(contactId));
    },
    getProfilePictureUrl(contactId) {
      if (contactId === meId) return Promise.resolve(mePicture);
      const known = contacts.get(contactId);
      if (!known) return Promise.reject(notFound(`Contact "${contactId}" not found`));
      return Promise.resolve(known.picture);
    },
    blockContact(contactId) {
      if (!contacts.has(contactId)) {
        return Promise.reject(notFound(`Contact "${contactId}" not found`));
      }
      blocked.add(contactId);
      return Promise.resolve();
    },
    unblockContact(contactId) {
      if (!contacts.has(contactId)) {
        return Promise.reject(notFound(`Contact "${contactId}" not found`));
      }
      blocked.delete(contactId);
      return Promise.resolve();
    },

    createGroup(name, participants) {
      const id = `120363${Date.now()}${randomHex(2).replace(/\D/g, "7")}@g.us`;
      const results: ParticipantResult[] = participants.map((p) =>
        p === NOT_ON_WHATSAPP
          ? { id: p, result: "not_on_whatsapp" }
          : p === NO_GROUP_ADDS
          ? { id: p, result: "not_allowed", message: "Their privacy settings do not allow it" }
          : { id: p, result: "added" }
      );
      const chat: SimChat & { group: Omit<GroupDto, "id"> } = {
        id,
        name,
        archived: false,
        pinned: false,
        muted: false,
        unreadCount: 0,
        messages: [],
        group: {
          subject: name,
          description: "",
          owner: meId,
          createdAt: now(),
          participants: [
            { id: meId, isAdmin: true, isSuperAdmin: true },
            ...results.filter((r) => r.result === "added").map((r) => ({
              id: r.id,
              isAdmin: false,
              isSuperAdmin: false,
            })),
          ],
          settings: { messagesAdminsOnly: false, infoAdminsOnly: false },
        },
      };
      chats.set(id, chat);
      return Promise.resolve({ ...groupDto(chat), results });
    },
    getGroup(groupId) {
      return Promise.resolve(groupDto(group(groupId)));
    },
    updateGroup(groupId, update) {
      const chat = group(groupId);
      if (update.subject !== undefined) chat.group.subject = update.subject;
      if (update.description !== undefined) chat.group.description = update.description;
      if (update.messagesAdminsOnly !== undefined) {
        chat.group.settings.messagesAdminsOnly = update.messagesAdminsOnly;
      }
      if (update.infoAdminsOnly !== undefined) {
        chat.group.settings.infoAdminsOnly = update.infoAdminsOnly;
      }
      return Promise.resolve(groupDto(chat));
    },
    leaveGroup(groupId) {
      const chat = group(groupId);
      chat.group.participants = chat.group.participants.filter((p) => p.id !== meId);
      chats.delete(groupId);
      return Promise.resolve();
    },
    addParticipants(groupId, participants) {
      const chat = group(groupId);
      return Promise.resolve(participants.map((id): ParticipantResult => {
        if (id === NOT_ON_WHATSAPP) return { id, result: "not_on_whatsapp" };
        if (id === NO_GROUP_ADDS) {
          return { id, result: "not_allowed", message: "Their privacy settings do not allow it" };
        }
        if (chat.group.participants.some((p) => p.id === id)) return { id, result: "already_in" };
        chat.group.participants.push({ id, isAdmin: false, isSuperAdmin: false });
        return { id, result: "added" };
      }));
    },
    removeParticipants(groupId, participants) {
      const chat = group(groupId);
      return Promise.resolve(participants.map((id): ParticipantResult => {
        if (id === meId) return { id, result: "not_allowed", message: "Use leave instead" };
        const before = chat.group.participants.length;
        chat.group.participants = chat.group.participants.filter((p) => p.id !== id);
        return chat.group.participants.length < before
          ? { id, result: "removed" }
          : { id, result: "not_in_group" };
      }));
    },

    getProfile() {
      return Promise.resolve({
        id: meId,
        number: options.phoneNumber,
        name: meName,
        status: meStatus,
        pictureUrl: mePicture,
      });
    },
    setProfileName(name) {
      meName = name;
      return Promise.resolve();
    },
    setProfileStatus(text) {
      meStatus = text;
      return Promise.resolve();
    },
    setProfilePicture(input) {
      if (!input.mimetype.startsWith("image/")) {
        return Promise.reject(new EngineError("BAD_REQUEST", "A profile picture must be an image"));
      }
      mePicture = `https://pps.example.invalid/${options.phoneNumber}/${randomHex(6)}.jpg`;
      return Promise.resolve();
    },
  };
  return engine;
}
