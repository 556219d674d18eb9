/**
 * @module
 * The waha engine: a number run by a remote WAHA server, driven over WAHA's REST API from the
 * number's Worker. WAHA's events reach us through its webhooks (our inbound endpoints), not
 * through this engine, so it emits no message events (each arrives once); it reports the status
 * and QR it reads from WAHA (`watch.ts`). What WAHA's API offers maps to WAHA's calls: the
 * sends, messages, chats and contacts here, the rest in modules by area (`groups.ts`,
 * `profile.ts`, `lids.ts`, `presence.ts`, `labels.ts`, `messages.ts`, `chats.ts`, `calls.ts`,
 * `channels.ts`, `status.ts`); what WAHA has no call for answers NOT_IMPLEMENTED, as for the other
 * engines. An audio file goes as WAHA's file send (`sendFile`: WAHA has no audio send of its own,
 * `sendVoice` is a voice note), so it arrives as a document.
 */
import {
  type ChatPage,
  type Engine,
  EngineError,
  type EngineEventSink,
  type EngineMethod,
  type EngineOptions,
  type MessageDto,
  type MessagePage,
  notImplemented,
  type SendMediaInput,
  type SentMessage,
} from "../../engine.ts";
import type {
  ContactRequest,
  MessageContactVcardRequest,
  MessageForwardRequest,
  MessageLocationRequest,
  MessagePollRequest,
  MessageReactionRequest,
  MessageStarRequest,
  MessageTextRequest,
  PairingCodeResponse,
  WAHASessionPresence,
  WAMessage,
  WANumberExistResult,
} from "../../../waha/schemas.ts";
import { createWahaCalls } from "./calls.ts";
import { createWahaChannels } from "./channels.ts";
import { createWahaChats } from "./chats.ts";
import { createWahaClient } from "./client.ts";
import { createWahaContext } from "./context.ts";
import { createWahaGroups } from "./groups.ts";
import { createWahaLabels } from "./labels.ts";
import { createWahaLids } from "./lids.ts";
import { createWahaMessages } from "./messages.ts";
import { createWahaPresence } from "./presence.ts";
import { createWahaProfile } from "./profile.ts";
import { createWahaStatus } from "./status.ts";
import {
  chatOfMessageId,
  toChatSummary,
  toContactDto,
  toMessageDto,
  toSentMessage,
} from "./mappers.ts";
import { type SessionWatch, startWahaSession, watchWahaSession } from "./watch.ts";

/** A request's WAHA call may outlast the manager's own timeout, which answers 504 first. */
const CALL_GRACE_MS = 1_000;
/** The most messages one page walk asks WAHA for (WAHA's list has no cursor of its own). */
const MAX_MESSAGE_WINDOW = 5_000;

/** The WAHA calls of each send kind (an audio file is a file: WAHA's `sendVoice` is a voice note). */
const MEDIA_PATHS: Record<SendMediaInput["kind"], string> = {
  image: "/api/sendImage",
  file: "/api/sendFile",
  voice: "/api/sendVoice",
  video: "/api/sendVideo",
  audio: "/api/sendFile",
};

/** What the waha engine cannot do: the newest WAHA has no call for it (one line each). */
const UNSUPPORTED: EngineMethod[] = [
  // WAHA only posts votes as they come (`poll.vote`): it keeps none to read back.
  "getPollVotes",
  // WAHA's chats archive, unarchive and mark unread; it neither mutes nor pins a chat.
  "muteChat",
  "unmuteChat",
  "pinChat",
  "unpinChat",
  // WAHA posts and takes back statuses, but lists none (no call reads anyone's statuses).
  "listStatuses",
  // WAHA's channels are created, deleted, followed and muted, never renamed or redescribed.
  "updateChannel",
  // WAHA reads a contact's about text and picture, not a business's profile.
  "getBusinessProfile",
  // The simulator's own commands.
  "simulate",
];

export function createWahaEngine(options: EngineOptions): Engine {
  const waha = options.waha;
  if (!waha) throw new Error("The waha engine needs its WAHA server (WAHA_URL)");
  const session = options.phoneNumber;
  const me = `${session}@c.us`;
  const stopping = new AbortController();
  const callTimeoutMs = options.callTimeoutMs ?? 30_000;
  const client = createWahaClient({
    url: waha.url,
    apiKey: waha.apiKey,
    timeoutMs: callTimeoutMs + CALL_GRACE_MS,
    signal: stopping.signal,
  });
  /** The engine's own calls (start, stop, the watch): bounded by the call timeout itself. */
  const own = { timeoutMs: callTimeoutMs };
  let watch: SessionWatch | null = null;
  const ctx = createWahaContext(client, session);
  const path = (suffix: string) => `/api/${session}${suffix}`;
  const enc = encodeURIComponent;

  const send = async (callPath: string, body: object): Promise<SentMessage> =>
    toSentMessage(
      await client.call({ method: "POST", path: callPath, body: { session, ...body } }),
    );

  const replyTo = (quoted: string | undefined) => quoted ? { reply_to: quoted } : {};

  const chatOf = (messageId: string): string => {
    const chatId = chatOfMessageId(messageId);
    if (!chatId) throw new EngineError("NOT_FOUND", `Message "${messageId}" not found`);
    return chatId;
  };

  async function star(messageId: string, on: boolean): Promise<void> {
    const body: MessageStarRequest = { session, messageId, chatId: chatOf(messageId), star: on };
    await client.call({ method: "PUT", path: "/api/star", body });
  }

  async function chatAction(
    chatId: string,
    method: "POST" | "DELETE",
    suffix: string,
  ): Promise<void> {
    await client.call({ method, path: path(`/chats/${enc(chatId)}${suffix}`) });
  }

  async function contactAction(contactId: string, callPath: string): Promise<void> {
    const body: ContactRequest = { session, contactId };
    await client.call({ method: "POST", path: callPath, body });
  }

  /** The newest `count` messages of a chat, newest first. */
  async function newest(chatId: string, count: number): Promise<MessageDto[]> {
    const list = await client.call<WAMessage[]>({
      method: "GET",
      path: path(`/chats/${enc(chatId)}/messages`),
      query: { limit: count, downloadMedia: false },
    });
    return (list ?? []).map((m) => toMessageDto(m, me)).sort((a, b) => b.timestamp - a.timestamp);
  }

  /** Every chat of the account, as WAHA lists them (newest first). */
  async function allChats(): Promise<unknown[]> {
    return await client.call<unknown[]>({ method: "GET", path: path("/chats") }) ?? [];
  }

  /** Whether the account has the chat `chatId` (WAHA lists an unknown chat's messages as none). */
  async function chatExists(chatId: string): Promise<boolean> {
    return (await allChats()).some((chat) => toChatSummary(chat).id === chatId);
  }

  const engine: Partial<Engine> = {
    ...createWahaGroups(ctx),
    ...createWahaProfile(ctx),
    ...createWahaLids(ctx),
    ...createWahaPresence(ctx),
    ...createWahaLabels(ctx),
    ...createWahaMessages(ctx),
    ...createWahaChats(ctx),
    ...createWahaCalls(ctx),
    ...createWahaChannels(ctx),
    ...createWahaStatus(ctx),

    async start(onEvent: EngineEventSink) {
      try {
        await startWahaSession(client, session, waha);
      } catch (error) {
        // A crash, not a failed start: the restart policy retries, then gives up with the reason.
        onEvent({
          type: "fatal",
          reason: `The WAHA session could not be started: ${(error as Error)?.message ?? error}`,
        });
        return;
      }
      watch = watchWahaSession(client, session, waha.pollMs, onEvent);
    },

    async stop() {
      watch?.stop();
      watch = null;
      // Keeps the login on WAHA's side; a WAHA that does not answer is left as it is.
      await client.call({ method: "POST", path: `/api/sessions/${session}/stop`, ...own })
        .catch(() => {});
      stopping.abort();
    },

    async logout() {
      watch?.stop();
      watch = null;
      await client.call({ method: "POST", path: `/api/sessions/${session}/logout`, ...own });
    },

    async requestPairingCode(phoneNumber) {
      const answer = await client.call<PairingCodeResponse>({
        method: "POST",
        path: path("/auth/request-code"),
        body: { phoneNumber },
      });
      return answer.code;
    },

    sendText(input) {
      const body: Omit<MessageTextRequest, "session"> = {
        chatId: input.chatId,
        text: input.text,
        ...replyTo(input.quotedMsgId),
      };
      return send("/api/sendText", body);
    },

    sendMedia(input) {
      const callPath = MEDIA_PATHS[input.kind];
      const file = {
        mimetype: input.media.mimetype,
        filename: input.media.filename,
        data: input.media.data,
      };
      const caption = input.kind === "voice" || !input.caption ? {} : { caption: input.caption };
      return send(callPath, {
        chatId: input.chatId,
        file,
        ...caption,
        ...replyTo(input.quotedMsgId),
      });
    },

    sendLocation(input) {
      const body: Omit<MessageLocationRequest, "session"> = {
        chatId: input.chatId,
        latitude: input.latitude,
        longitude: input.longitude,
        title: input.name ?? input.address ?? "",
        ...replyTo(input.quotedMsgId),
      };
      return send("/api/sendLocation", body);
    },

    sendContact(input) {
      const body: Omit<MessageContactVcardRequest, "session"> = {
        chatId: input.chatId,
        contacts: [{ vcard: input.vcard }],
      };
      return send("/api/sendContactVcard", body);
    },

    async sendReaction(input) {
      const body: MessageReactionRequest = {
        session,
        messageId: input.messageId,
        reaction: input.emoji,
      };
      await client.call({ method: "PUT", path: "/api/reaction", body });
    },

    async deleteMessage(messageId) {
      const messagePath = path(`/chats/${enc(chatOf(messageId))}/messages/${enc(messageId)}`);
      // WhatsApp revokes only our own messages: WAHA would delete anyone else's for us alone.
      const message = await client.call<WAMessage | null>({
        method: "GET",
        path: messagePath,
        query: { downloadMedia: false },
      });
      if (!message) throw new EngineError("NOT_FOUND", `Message "${messageId}" not found`);
      if (!message.fromMe) {
        throw new EngineError("BAD_REQUEST", "Only your own messages can be revoked");
      }
      await client.call({ method: "DELETE", path: messagePath });
    },

    async editMessage(input) {
      await client.call({
        method: "PUT",
        path: path(`/chats/${enc(chatOf(input.messageId))}/messages/${enc(input.messageId)}`),
        body: { text: input.text },
      });
      return { messageId: input.messageId, timestamp: Math.floor(Date.now() / 1000) };
    },

    async sendSeen(chatId) {
      await client.call({ method: "POST", path: "/api/sendSeen", body: { session, chatId } });
    },

    async setTyping(input) {
      if (input.state === "recording") {
        // WAHA records only through the presence call (`startTyping` is typing).
        const body: WAHASessionPresence = { presence: "recording", chatId: input.chatId };
        await client.call({ method: "POST", path: path("/presence"), body });
        return;
      }
      const callPath = input.state === "typing" ? "/api/startTyping" : "/api/stopTyping";
      await client.call({
        method: "POST",
        path: callPath,
        body: { session, chatId: input.chatId },
      });
    },

    async checkNumber(phone) {
      const answer = await client.call<WANumberExistResult>({
        method: "GET",
        path: "/api/contacts/check-exists",
        query: { session, phone },
      });
      return answer.numberExists
        ? { exists: true, chatId: answer.chatId ?? `${phone}@c.us` }
        : { exists: false };
    },

    async checkNumbers(phones) {
      const results = [];
      for (const phone of phones) results.push({ phone, ...(await engine.checkNumber!(phone)) });
      return results;
    },

    async listChats(query): Promise<ChatPage> {
      // WAHA counts no chats and filters none by archive: the page is cut from the whole list, so
      // `total` and the archive filter are exact on every page.
      let chats = (await allChats()).map(toChatSummary);
      if (query.archived !== undefined) chats = chats.filter((c) => c.archived === query.archived);
      const skip = (query.page - 1) * query.limit;
      return {
        chats: chats.slice(skip, skip + query.limit),
        total: chats.length,
        page: query.page,
        hasMore: chats.length > skip + query.limit,
      };
    },

    async listMessages(query): Promise<MessagePage> {
      // WAHA lists a chat's newest messages: the page is cut from a window of them large enough
      // to hold the cursor, the page and one more (whether another page follows), or the whole
      // chat; a window too small is read again, larger.
      const skip = (query.page - 1) * query.limit;
      let window = skip + query.limit + 1 + (query.before ? query.limit : 0);
      for (;;) {
        const messages = await newest(query.chatId, window);
        const complete = messages.length < window || window >= MAX_MESSAGE_WINDOW;
        let start = 0;
        if (query.before) {
          const at = messages.findIndex((m) => m.id === query.before);
          if (at < 0) {
            if (complete) throw new EngineError("NOT_FOUND", `Message "${query.before}" not found`);
            window = Math.min(MAX_MESSAGE_WINDOW, window * 2);
            continue;
          }
          start = at + 1;
        }
        const end = start + skip + query.limit;
        if (messages.length <= end && !complete) {
          window = Math.min(MAX_MESSAGE_WINDOW, Math.max(end + 1, window * 2));
          continue;
        }
        if (messages.length === 0 && !await chatExists(query.chatId)) {
          throw new EngineError("NOT_FOUND", `Chat "${query.chatId}" not found`);
        }
        const page = messages.slice(start + skip, end);
        const hasMore = messages.length > end;
        return {
          messages: page,
          hasMore,
          ...(hasMore && page.length > 0 ? { nextCursor: page[page.length - 1].id } : {}),
        };
      }
    },

    async forwardMessage(input) {
      const body: MessageForwardRequest = {
        session,
        chatId: input.chatId,
        messageId: input.messageId,
      };
      await client.call({ method: "POST", path: "/api/forwardMessage", body });
    },

    starMessage: (messageId) => star(messageId, true),
    unstarMessage: (messageId) => star(messageId, false),

    sendPoll(input) {
      const body: Omit<MessagePollRequest, "session"> = {
        chatId: input.chatId,
        poll: {
          name: input.poll.name,
          options: input.poll.options,
          multipleAnswers: input.poll.multipleAnswers,
        },
      };
      return send("/api/sendPoll", body);
    },

    archiveChat: (chatId) => chatAction(chatId, "POST", "/archive"),
    unarchiveChat: (chatId) => chatAction(chatId, "POST", "/unarchive"),
    clearChat: (chatId) => chatAction(chatId, "DELETE", "/messages"),
    deleteChat: (chatId) => chatAction(chatId, "DELETE", ""),

    blockContact: (contactId) => contactAction(contactId, "/api/contacts/block"),
    unblockContact: (contactId) => contactAction(contactId, "/api/contacts/unblock"),

    async leaveGroup(groupId) {
      await client.call({ method: "POST", path: path(`/groups/${enc(groupId)}/leave`) });
    },

    getGroupInviteCode: (groupId) =>
      client.call<string>({ method: "GET", path: path(`/groups/${enc(groupId)}/invite-code`) }),

    revokeGroupInviteCode: (groupId) =>
      client.call<string>({
        method: "POST",
        path: path(`/groups/${enc(groupId)}/invite-code/revoke`),
      }),

    async listContacts() {
      const list = await client.call<unknown[]>({
        method: "GET",
        path: "/api/contacts/all",
        query: { session },
      });
      return (list ?? []).map(toContactDto);
    },

    async getContact(contactId) {
      const contact = await client.call<unknown>({
        method: "GET",
        path: "/api/contacts",
        query: { session, contactId },
      });
      if (!contact) throw new EngineError("NOT_FOUND", `Contact "${contactId}" not found`);
      return toContactDto(contact);
    },

    async getProfilePictureUrl(contactId) {
      const answer = await client.call<{ profilePictureURL?: string | null } | null>({
        method: "GET",
        path: "/api/contacts/profile-picture",
        query: { session, contactId },
      });
      return answer?.profilePictureURL ?? null;
    },
  };

  for (const method of UNSUPPORTED) {
    (engine as Record<string, unknown>)[method] = () =>
      Promise.reject(notImplemented(method, "waha"));
  }
  return engine as Engine;
}
