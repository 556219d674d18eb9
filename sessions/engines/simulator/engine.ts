/**
 * @module
 * The simulator engine (`WA_ENGINE=simulator`): behaves like a linked phone without WhatsApp, in
 * its own Worker exactly like the real engine. It shows a real QR, "is scanned" after
 * `simulatorScanMs` (by the session's own phone, or by `simulatorLinkAs`'s: a wrong phone, whose
 * account has a message waiting), remembers the link in the session folder (so a restart needs
 * no scan), and
 * answers the engine's calls over the seeded account data of `data.ts` (a profile,
 * contacts, chats, a group, what it sends, an echo contact), which it keeps across restarts in
 * the session folder as a phone keeps its chats (`state_file.ts`); group calls are in
 * `groups.ts`. Texts that start with `/simulate` are the commands of
 * `commands.ts`: failures as real sessions fail, and bursts of incoming messages; polls are in
 * `polls.ts`; labels, presence and calls in `social.ts`. `simulate`
 * (`control.ts`) is what a test makes the other side do: contacts write, react, read, type.
 */
/// <reference lib="deno.worker" />
import {
  type ChatDetail,
  type Engine,
  EngineError,
  type EngineEventSink,
  type EngineOptions,
  type MessageDto,
  notFound,
  type SentMessage,
} from "../../engine.ts";
import {
  dropConnection,
  runSimulateCommand,
  simulateCommand,
  type SimulatorControls,
} from "./commands.ts";
import { createSimulatorControl } from "./control.ts";
import {
  createSimulatorData,
  ECHO_CONTACT,
  isMuted,
  NOT_ON_WHATSAPP,
  randomHex,
  SIMULATOR_LIDS,
  unixNow,
} from "./data.ts";
import { createSimulatorGroups } from "./groups.ts";
import { createSimulatorGroupAdmin } from "./group_admin.ts";
import { createSimulatorPolls } from "./polls.ts";
import { createSimulatorOrganize } from "./organize.ts";
import { createSimulatorSocial } from "./social.ts";
import { createSimulatorStatus } from "./status.ts";
import { createSimulatorChannels } from "./channels.ts";
import { createSimulatorContactDetails } from "./contact_details.ts";
import { joinSimulatorCloud, type SimulatorCloud } from "./cloud.ts";
import { createSimulatorStateFile } from "./state_file.ts";
import { after, type Timer } from "../../worker_timers.ts";

export { SIMULATOR_BUSINESS } from "./contact_details.ts";
export { SIMULATOR_CHANNELS } from "./channels.ts";
export { ECHO_CONTACT, LID_ONLY, NO_GROUP_ADDS, NOT_ON_WHATSAPP, SIMULATOR_LIDS } from "./data.ts";

const QR_ROTATE_MS = 20_000;
const LINK_FILE = "simulator-link.json";

export function createSimulatorEngine(options: EngineOptions): Engine {
  const data = createSimulatorData(`${options.phoneNumber}@c.us`);
  const { meId, contacts, chats, media, blocked } = data;
  const { chatFor, existingChat, findMessage, summary, contactDto } = data;
  let meName = `Simulator ${options.phoneNumber}`;
  let meStatus = "Hey there! I am using WhatsApp.";
  let mePicture: string | null = null;
  let emit: EngineEventSink = () => {};
  let status: "STARTING" | "SCAN_QR_CODE" | "WORKING" | "CONFLICT" | "STOPPED" = "STARTING";
  const timers = new Set<Timer>();
  // A template, not node:path: importing any node: module costs each Worker ~2 MB (bench/README.md).
  const linkPath = `${options.sessionDir}/${LINK_FILE}`;
  let qrCount = 0;
  /** The number of the phone that linked. */
  let linkedAs = options.phoneNumber;
  const social = createSimulatorSocial({
    data,
    emit: (event) => emit(event),
    record: (chatId, fields) => record(chatId, fields),
    changed: () => stateFile.changed(),
    calls: options.calls,
  });
  const stateFile = createSimulatorStateFile(options.sessionDir, {
    chats,
    rest: () => ({
      blocked: [...blocked],
      profile: { name: meName, status: meStatus, picture: mePicture },
      labels: social.labels(),
      channels: channels.saved(),
      ownStatuses: statuses.saved(),
    }),
  });
  const statuses = createSimulatorStatus(data);
  const channels = createSimulatorChannels();

  /** The chats, blocks and profile of the last run, or the seed on the first. */
  function restoreOrSeed(): void {
    const saved = stateFile.load();
    social.restoreLabels(saved?.labels);
    if (!saved) {
      data.seed();
      return;
    }
    for (const chat of saved.chats) chats.set(chat.id, chat);
    for (const id of saved.blocked) blocked.add(id);
    ({ name: meName, status: meStatus, picture: mePicture } = saved.profile);
    if (saved.channels) channels.restore(saved.channels);
    if (saved.ownStatuses) statuses.restore(saved.ownStatuses);
  }

  function later(fn: () => void, ms: number): void {
    const timer = after(ms, () => {
      timers.delete(timer);
      fn();
    });
    timers.add(timer);
  }

  function receive(
    chatId: string,
    fields: Partial<MessageDto> & { body: string },
  ): MessageDto | null {
    if (status !== "WORKING") return null;
    const chat = chatFor(chatId);
    const message = data.newMessage(chatId, { author: null, ...fields, fromMe: false });
    chat.messages.push(message);
    chat.unreadCount++;
    // Only this chat changed, by a message at its end: the write serializes only that.
    stateFile.changed(chatId);
    emit({ type: "message", message });
    emit({ type: "message.any", message });
    return message;
  }

  function record(chatId: string, fields: Partial<MessageDto> & { body: string }): SentMessage {
    // As WhatsApp: a number without an account has no chat to send to.
    if (chatId === NOT_ON_WHATSAPP) throw notFound(`"${chatId}" is not on WhatsApp`);
    const chat = chatFor(chatId);
    // As WhatsApp: in a group whose settings say so, only admins write.
    const admin = chat.group?.participants.some((p) => p.id === meId && p.isAdmin);
    if (chat.group?.settings.messagesAdminsOnly && !admin) {
      throw new EngineError("BAD_REQUEST", `Only admins can send messages to group "${chatId}"`);
    }
    if (fields.quotedMsgId) findMessage(fields.quotedMsgId);
    const message = data.newMessage(chatId, { fromMe: true, source: "api", ...fields });
    chat.messages.push(message);
    emit({ type: "message.any", message });
    later(() => emit({ type: "message.ack", messageId: message.id, chatId, ack: 2 }), 10);
    return { messageId: message.id, timestamp: message.timestamp };
  }

  function isLinked(): boolean {
    try {
      const stored = JSON.parse(Deno.readTextFileSync(linkPath));
      if (typeof stored.as === "string") linkedAs = stored.as;
      return stored.linked === true;
    } catch {
      return false;
    }
  }

  function link(): void {
    linkedAs = options.simulatorLinkAs ?? options.phoneNumber;
    Deno.mkdirSync(options.sessionDir, { recursive: true });
    Deno.writeTextFileSync(
      linkPath,
      JSON.stringify({ linked: true, at: Date.now(), as: linkedAs }),
    );
    connect();
  }

  // Other nodes' simulators, when they share a folder: two devices online with one login conflict.
  const cloud: SimulatorCloud | null = options.simulatorCloudDir
    ? joinSimulatorCloud(options.simulatorCloudDir, options, {
      conflict(reason) {
        for (const timer of timers) timer.cancel();
        timers.clear();
        status = "CONFLICT";
        emit({ type: "status", status: "CONFLICT", reason });
      },
      dropped() {
        status = "STARTING";
        emit({ type: "status", status: "STARTING", reason: "Reconnecting" });
        later(connect, cloud!.reconnectMs);
      },
    })
    : null;

  function connect(): void {
    for (const timer of timers) timer.cancel();
    timers.clear();
    if (cloud && !cloud.online()) return;
    status = "WORKING";
    if (linkedAs === options.phoneNumber) {
      emit({ type: "status", status: "WORKING", me: { id: meId, pushName: meName } });
      return;
    }
    emit({
      type: "status",
      status: "WORKING",
      me: { id: `${linkedAs}@c.us`, pushName: `Simulator ${linkedAs}` },
    });
    // The other account's phone brings its own traffic: none of it may reach this session's owner.
    receive(ECHO_CONTACT, { body: `A message for ${linkedAs}` });
  }

  function showQr(): void {
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
    status = "SCAN_QR_CODE";
    emit({ type: "qr", value });
    emit({ type: "status", status: "SCAN_QR_CODE" });
    later(showQr, QR_ROTATE_MS);
  }

  const controls: SimulatorControls = {
    emit: (event) => emit(event),
    later,
    setStatus: (next) => status = next,
    connect,
    logout: () => engine.logout(),
    receive: (chatId, body) => receive(chatId, { body }),
  };

  const polls = createSimulatorPolls({
    data,
    emit: (event) => emit(event),
    record,
    changed: () => stateFile.changed(),
  });

  const groupAdmin = createSimulatorGroupAdmin({
    data,
    emit: (event) => emit(event),
    changed: () => stateFile.changed(),
  });

  const simulate = createSimulatorControl({
    data,
    emit: (event) => emit(event),
    receive,
    keepMedia(messageId, input) {
      media.set(messageId, input);
      stateFile.saveMedia(messageId, input);
    },
    changed: () => stateFile.changed(),
    // After the answer: the logout ends the Worker, and the call must not lose its answer.
    unlink: () => later(() => void unlink("Logged out from the phone"), 0),
    dropConnection: (ms) => dropConnection(controls, ms),
    vote: polls.vote,
    social,
    groups: groupAdmin.control,
    later,
  });

  /** The device is unlinked (from the phone, or by request): the login is gone. */
  async function unlink(reason: string): Promise<void> {
    for (const timer of timers) timer.cancel();
    timers.clear();
    cloud?.offline();
    stateFile.close();
    await Deno.remove(linkPath).catch(() => {});
    status = "STOPPED";
    emit({ type: "logged_out", reason });
  }

  const engine: Engine = {
    start(onEvent) {
      emit = onEvent;
      restoreOrSeed();
      emit({ type: "status", status: "STARTING" });
      if (isLinked()) {
        later(connect, 50);
      } else {
        showQr();
        later(link, options.simulatorScanMs);
      }
      return Promise.resolve();
    },
    stop() {
      for (const timer of timers) timer.cancel();
      timers.clear();
      cloud?.offline();
      status = "STOPPED";
      stateFile.flush();
      return Promise.resolve();
    },
    logout: () => unlink("Logged out"),
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
      const command = simulateCommand(text);
      if (command) {
        const outcome = runSimulateCommand(command, { chatId, text }, controls);
        if (outcome) return outcome;
      }
      const sent = record(chatId, { body: text, quotedMsgId: quotedMsgId ?? null });
      if (chatId === ECHO_CONTACT && !command) {
        later(() => receive(chatId, { body: `echo: ${text}` }), 20);
      }
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
      stateFile.saveMedia(sent.messageId, input);
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
    sendReaction({ messageId }) {
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
      const before = structuredClone(message);
      message.type = "revoked";
      message.body = "";
      message.hasMedia = false;
      message.media = null;
      emit({ type: "message.revoked", message: structuredClone(message), before });
      return Promise.resolve();
    },
    editMessage({ messageId, text }) {
      const { message } = findMessage(messageId);
      if (!message.fromMe || message.type !== "chat") {
        return Promise.reject(
          new EngineError("BAD_REQUEST", "Only your own text messages can be edited"),
        );
      }
      const previousBody = message.body;
      message.body = text;
      emit({ type: "message.edited", message: structuredClone(message), previousBody });
      return Promise.resolve({ messageId, timestamp: unixNow() });
    },
    sendSeen(chatId) {
      const chat = existingChat(chatId);
      chat.unreadCount = 0;
      chat.markedUnread = false;
      return Promise.resolve();
    },
    setTyping({ chatId }) {
      // Typing in a chat that has no messages yet is fine, but it does not create the chat.
      if (chatId.endsWith("@g.us")) existingChat(chatId);
      return Promise.resolve();
    },
    checkNumber(phone) {
      const id = `${phone.replace(/\D/g, "")}@c.us`;
      if (id === NOT_ON_WHATSAPP) return Promise.resolve({ exists: false });
      return Promise.resolve({ exists: true, chatId: id });
    },
    getMessageMedia({ chatId, messageId }) {
      const { chat } = findMessage(messageId);
      const stored = media.get(messageId) ?? stateFile.readMedia(messageId);
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
        timestamp: chat.messages.at(-1)?.timestamp ?? 0,
        muteExpiration: isMuted(chat) ? chat.muteExpiration ?? -1 : 0,
      };
      return Promise.resolve(detail);
    },
    listMessages({ chatId, limit, before, page }) {
      const messages = existingChat(chatId).messages;
      let end = messages.length;
      if (before !== undefined) {
        end = messages.findIndex((m) => m.id === before);
        if (end < 0) return Promise.reject(notFound(`Message "${before}" not found`));
      }
      // Pages count from the cursor: a page stays put while new messages arrive.
      end = Math.max(0, end - (page - 1) * limit);
      const start = Math.max(0, end - limit);
      const newestFirst = messages.slice(start, end).reverse();
      const hasMore = start > 0;
      return Promise.resolve({
        messages: structuredClone(newestFirst),
        hasMore,
        ...(hasMore && newestFirst.length > 0 ? { nextCursor: newestFirst.at(-1)!.id } : {}),
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

    ...createSimulatorGroups(data, (event) => emit(event)),
    ...groupAdmin.capabilities,
    ...createSimulatorOrganize({
      data,
      send: record,
      mediaOf: (messageId) => media.get(messageId) ?? stateFile.readMedia(messageId),
      keepMedia(messageId, input) {
        media.set(messageId, input);
        stateFile.saveMedia(messageId, input);
      },
    }),

    sendPoll: polls.sendPoll,
    getPollVotes: polls.getPollVotes,

    listLabels: social.listLabels,
    createLabel: social.createLabel,
    updateLabel: social.updateLabel,
    deleteLabel: social.deleteLabel,
    getChatLabels: social.getChatLabels,
    setChatLabels: social.setChatLabels,
    getLabelChats: social.getLabelChats,
    setPresence: social.setPresence,
    getPresence: social.getPresence,
    subscribePresence: social.subscribePresence,
    listPresences: social.listPresences,
    rejectCall: social.rejectCall,
    ...statuses.calls,
    ...channels.calls,
    ...createSimulatorContactDetails(data, () => meStatus),

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
    listLids() {
      return Promise.resolve(SIMULATOR_LIDS.map((m) => ({ ...m })));
    },
    findPnByLid(lid) {
      return Promise.resolve({ lid, pn: SIMULATOR_LIDS.find((m) => m.lid === lid)?.pn ?? null });
    },
    findLidByPn(pn) {
      return Promise.resolve({ lid: SIMULATOR_LIDS.find((m) => m.pn === pn)?.lid ?? null, pn });
    },
    setProfilePicture(input) {
      if (!input.mimetype.startsWith("image/")) {
        return Promise.reject(new EngineError("BAD_REQUEST", "A profile picture must be an image"));
      }
      mePicture = `https://pps.example.invalid/${options.phoneNumber}/${randomHex(6)}.jpg`;
      return Promise.resolve();
    },
    simulate,
  };
  return keepingState(engine, () => stateFile.changed());
}

/** Lifecycle calls write (or delete) the state themselves; any other call may change it. */
const LIFECYCLE = new Set(["start", "stop", "logout"]);

/** The engine, telling `changed` after each call (the file is written only when it differs). */
function keepingState(engine: Engine, changed: () => void): Engine {
  const wrapped: Record<string, unknown> = {};
  for (const [name, call] of Object.entries(engine)) {
    wrapped[name] = typeof call !== "function" || LIFECYCLE.has(name)
      ? call
      : (...args: unknown[]) => {
        try {
          return call(...args);
        } finally {
          changed();
        }
      };
  }
  return wrapped as unknown as Engine;
}
