/**
 * @module
 * The wwebjs engine's messaging and conversations: sending every kind of message, reactions,
 * edits and revokes, read receipts and presence, number checks, media downloads, and reading
 * chats and their messages — each through whatsapp-web.js's public API. A chat may be named by
 * a phone number or a LID, whichever WhatsApp Web writes it by; what is read carries the phone
 * number beside each LID.
 */
import { wwebjs } from "./lib.ts";
import {
  type ChatDetail,
  type ChatListQuery,
  type ChatPage,
  type EditMessageInput,
  type Engine,
  EngineError,
  type MessageListQuery,
  type MessageMediaDto,
  type MessagePage,
  type MessageRef,
  notFound,
  type SendContactInput,
  type SendLocationInput,
  type SendMediaInput,
  type SendReactionInput,
  type SendTextInput,
  type SentMessage,
  type TypingInput,
} from "../../engine.ts";
import { type Lib, serialized, toChatDetail, toChatSummary, toMessageDto } from "./mappers.ts";
import {
  describeError,
  findChat,
  findMessage,
  iAmAdminOf,
  inChat,
  unknownUserError,
  type WwebjsContext,
} from "./context.ts";
import { idsOfMessage } from "./lids.ts";
import { type PageCall, readDownload, stageUpload } from "./media_transfer.ts";

const { MessageMedia, Location } = wwebjs;

/** The most messages fetched to page back through a chat. */
const MAX_FETCH = 5_000;
/**
 * While WhatsApp Web fetches a message's media, or has asked the sender's phone to upload expired
 * media again, whatsapp-web.js answers "nothing": ask again this often, this many times.
 */
const MEDIA_PENDING_RETRY_MS = 500;
const MEDIA_PENDING_RETRIES = 20;

/** Newest first; messages of the same second by serialized id, so every page agrees. */
function newestFirstOrder(a: Lib, b: Lib): number {
  const byTime = Number(b.timestamp) - Number(a.timestamp);
  if (byTime !== 0) return byTime;
  const [x, y] = [serialized(a.id), serialized(b.id)];
  return x < y ? 1 : x > y ? -1 : 0;
}

export type MessagingCapabilities = Pick<
  Engine,
  | "sendText"
  | "sendMedia"
  | "sendLocation"
  | "sendContact"
  | "sendReaction"
  | "deleteMessage"
  | "editMessage"
  | "sendSeen"
  | "setTyping"
  | "checkNumber"
  | "getMessageMedia"
  | "listChats"
  | "getChat"
  | "listMessages"
>;

/** The messaging capabilities of one session. */
export function messagingCapabilities(ctx: WwebjsContext): MessagingCapabilities {
  function sendText(input: SendTextInput): Promise<SentMessage> {
    return send(ctx, input.chatId, input.text, {
      quotedMessageId: input.quotedMsgId,
      // whatsapp-web.js fetches the card through WhatsApp (bounded by the engine, see engine.ts).
      linkPreview: input.linkPreview !== false,
    });
  }

  /** A page evaluation through the session's timed call. */
  const inPage: PageCall = (fn, ...args) =>
    ctx.call(() => ctx.client.pupPage.evaluate(fn, ...args));

  async function sendMedia(input: SendMediaInput): Promise<SentMessage> {
    ctx.ready();
    // Large media goes to the page in pieces (media_transfer.ts); the library gets a token.
    const data = await stageUpload(inPage, input.media.data);
    const media = new MessageMedia(input.media.mimetype, data, input.media.filename);
    try {
      return await send(ctx, input.chatId, media, {
        caption: input.caption,
        quotedMessageId: input.quotedMsgId,
        sendAudioAsVoice: input.kind === "voice",
        sendMediaAsDocument: input.kind === "file",
      });
    } finally {
      if (data !== input.media.data) {
        await inPage((token: string) => (globalThis as Lib).waGatewayMedia?.delete(token), data)
          .catch(() => {});
      }
    }
  }

  function sendLocation(input: SendLocationInput): Promise<SentMessage> {
    const location = new Location(input.latitude, input.longitude, {
      name: input.name,
      address: input.address,
    });
    return send(ctx, input.chatId, location, { quotedMessageId: input.quotedMsgId });
  }

  function sendContact(input: SendContactInput): Promise<SentMessage> {
    return send(ctx, input.chatId, input.vcard, {
      quotedMessageId: input.quotedMsgId,
      parseVCards: true,
    });
  }

  async function sendReaction({ messageId, emoji }: SendReactionInput): Promise<void> {
    const msg = await findMessage(ctx, messageId);
    await ctx.call(() => msg.react(emoji));
  }

  /**
   * Revokes for everyone through whatsapp-web.js's `Message.delete(true)`. That call falls back,
   * silently, to "delete for me" (the message gone from this device for good) when WhatsApp Web's
   * capability check says no: an old message, one already revoked, someone else's where we are
   * not admin. The library offers no way to ask first, so the engine asks the page the very
   * question `delete()` asks (`WAWebMsgActionCapability`) and refuses instead; the revoke itself
   * is the library's.
   */
  async function deleteMessage(messageId: string): Promise<void> {
    const msg = await findMessage(ctx, messageId);
    const id = serialized(msg.id);
    if (!msg.fromMe && !(await iAmAdminOf(ctx, serialized(msg.id?.remote)))) {
      throw new EngineError("BAD_REQUEST", "Only your own messages can be revoked");
    }
    const revocable: boolean = await ctx.call(() => ctx.client.pupPage.evaluate(pageCanRevoke, id));
    if (!revocable) {
      throw new EngineError(
        "BAD_REQUEST",
        `Message "${messageId}" can no longer be revoked for everyone`,
      );
    }
    await ctx.call(() => msg.delete(true));
    const after = await ctx.call(() => ctx.client.getMessageById(id));
    if (!after || after.type !== "revoked") {
      throw new EngineError("BAD_REQUEST", `Message "${messageId}" could not be revoked`);
    }
  }

  async function editMessage({ messageId, text }: EditMessageInput): Promise<SentMessage> {
    const msg = await findMessage(ctx, messageId);
    if (!msg.fromMe) {
      throw new EngineError("BAD_REQUEST", `Message "${messageId}" is not ours to edit`);
    }
    const edited = await ctx.call(() => msg.edit(text));
    if (!edited) throw new EngineError("BAD_REQUEST", `Message "${messageId}" cannot be edited`);
    // The time of the edit, as the simulator reports it (WhatsApp Web keeps it in milliseconds).
    const editedMs = Number(edited._data?.latestEditSenderTimestampMs);
    return {
      messageId: serialized(edited.id),
      timestamp: Math.floor((editedMs > 0 ? editedMs : Date.now()) / 1000),
    };
  }

  async function sendSeen(chatId: string): Promise<void> {
    const ok = await ctx.call(() => ctx.client.sendSeen(chatId));
    if (!ok) throw notFound(`Chat "${chatId}" not found`);
  }

  async function setTyping({ chatId, state }: TypingInput): Promise<void> {
    const chat = await findChat(ctx, chatId);
    await ctx.call(() =>
      state === "typing"
        ? chat.sendStateTyping()
        : state === "recording"
        ? chat.sendStateRecording()
        : chat.clearState()
    );
  }

  async function checkNumber(phone: string): Promise<{ exists: boolean; chatId?: string }> {
    const digits = phone.replace(/@.*$/, "").replace(/\D/g, "");
    const id = await ctx.call(() => ctx.client.getNumberId(digits));
    return id ? { exists: true, chatId: serialized(id) } : { exists: false };
  }

  async function getMessageMedia({ chatId, messageId }: MessageRef): Promise<MessageMediaDto> {
    const msg = await findMessage(ctx, messageId);
    await ctx.lids.resolve([chatId, serialized(msg.id?.remote)]);
    if (!inChat(ctx, msg, chatId)) throw notFound(`Message "${messageId}" not found`);
    const media = msg.hasMedia ? await downloadMedia(msg) : null;
    if (!media) throw notFound(`Media of message "${messageId}" not found`);
    // WhatsApp does not always say what the media is; the HTTP answer needs a Content-Type.
    return {
      mimetype: media.mimetype || "application/octet-stream",
      // Large media comes back from the page in pieces (media_transfer.ts).
      data: await readDownload(inPage, media.data),
      filename: media.filename ?? "",
    };
  }

  /**
   * whatsapp-web.js's download: it resolves media the page has not fetched yet and re-requests
   * expired media from the phone (Message.js); another download of the same media meanwhile gets
   * nothing, so that one waits, bounded, until the page has it. The page can finish between that
   * empty answer and our look at its stage: a stage first seen RESOLVED is tried once more.
   */
  async function downloadMedia(msg: Lib): Promise<Lib> {
    const id = serialized(msg.id);
    let triedResolved = false;
    for (let attempt = 0;; attempt++) {
      const media = await ctx.call(() => msg.downloadMedia());
      if (media || attempt >= MEDIA_PENDING_RETRIES) return media;
      const stage = await ctx.call(() =>
        ctx.client.pupPage.evaluate(
          (id: string) =>
            (globalThis as Lib).require("WAWebCollections").Msg.get(id)?.mediaData?.mediaStage ??
              null,
          id,
        )
      );
      if (stage === "RESOLVED" && !triedResolved) {
        triedResolved = true;
        continue;
      }
      if (stage !== "FETCHING" && stage !== "REUPLOADING") return media;
      await new Promise((resolve) => setTimeout(resolve, MEDIA_PENDING_RETRY_MS));
    }
  }

  // ---------- chats ----------

  async function listChats(query: ChatListQuery): Promise<ChatPage> {
    const all: Lib[] = await ctx.call(() => ctx.client.getChats());
    const chats = all
      .filter((c) => Number(c.timestamp ?? 0) > 0 || c.lastMessage)
      .filter((c) => query.archived === undefined || Boolean(c.archived) === query.archived)
      .sort((a, b) => Number(b.timestamp ?? 0) - Number(a.timestamp ?? 0));
    const page = Math.max(1, query.page);
    const start = (page - 1) * query.limit;
    const summaries = chats.slice(start, start + query.limit).map(toChatSummary);
    await ctx.lids.resolve(summaries.map((c) => c.id));
    return {
      chats: summaries.map((c) => ctx.lids.chat(c)),
      total: chats.length,
      page,
      hasMore: start + query.limit < chats.length,
    };
  }

  async function getChat(chatId: string): Promise<ChatDetail> {
    const chat = toChatDetail(await findChat(ctx, chatId));
    await ctx.lids.resolve([chat.id]);
    return ctx.lids.chat(chat);
  }

  async function listMessages(query: MessageListQuery): Promise<MessagePage> {
    const chat = await findChat(ctx, query.chatId);
    // Pages count from the cursor: a page stays put while new messages arrive.
    const skip = (query.page - 1) * query.limit;
    let want = Math.min(skip + query.limit + 1, MAX_FETCH);
    for (;;) {
      const fetched: Lib[] = await ctx.call(() => chat.fetchMessages({ limit: want }));
      const exhausted = fetched.length < want || want >= MAX_FETCH;
      // One total order (time, then id), whatever order the library returned: its sort leaves
      // messages of the same second in an order that changes with the limit asked for.
      let newestFirst = [...fetched].sort(newestFirstOrder);
      if (!exhausted && newestFirst.length > 0) {
        // Which messages of the oldest second made it into a partial fetch is also the library's
        // choice: leave that second out until a larger fetch holds it whole.
        const oldest = Number(newestFirst[newestFirst.length - 1].timestamp);
        newestFirst = newestFirst.filter((m) => Number(m.timestamp) > oldest);
      }
      let start = skip;
      if (query.before) {
        const at = newestFirst.findIndex((m) => serialized(m.id) === query.before);
        if (at < 0) {
          if (exhausted) throw notFound(`Message "${query.before}" not found`);
          want = Math.min(want * 2, MAX_FETCH);
          continue;
        }
        start = at + 1 + skip;
      }
      const slice = newestFirst.slice(start, start + query.limit + 1);
      if (slice.length <= query.limit && !exhausted) {
        want = Math.min(want * 2, MAX_FETCH);
        continue;
      }
      const messages = slice.slice(0, query.limit).map((m) =>
        toMessageDto(m, (id) => ctx.isMe(id))
      );
      await ctx.lids.resolve(messages.flatMap(idsOfMessage));
      const hasMore = slice.length > query.limit;
      const result: MessagePage = { messages: messages.map((m) => ctx.lids.message(m)), hasMore };
      if (hasMore && messages.length) result.nextCursor = messages[messages.length - 1].id;
      return result;
    }
  }

  return {
    sendText,
    sendMedia,
    sendLocation,
    sendContact,
    sendReaction,
    deleteMessage,
    editMessage,
    sendSeen,
    setTyping,
    checkNumber,
    getMessageMedia,
    listChats,
    getChat,
    listMessages,
  };
}

/** Runs in the page: whether WhatsApp Web lets us revoke a message for everyone. */
async function pageCanRevoke(id: string): Promise<boolean> {
  const page = globalThis as Lib;
  const { Msg } = page.require("WAWebCollections");
  // Found the way whatsapp-web.js finds it (Message.js).
  const model = Msg.get(id) ?? (await Msg.getMessagesById([id]))?.messages?.[0];
  const can = page.require("WAWebMsgActionCapability");
  return !!model && (can.canSenderRevokeMsg(model) || can.canAdminRevokeMsg(model));
}

/**
 * Sends through `client.sendMessage` (a number without an account refused first, a quote found in
 * either form of its chat) and answers once the message's own `message.any` has left.
 */
export async function send(
  ctx: WwebjsContext,
  chatId: string,
  content: unknown,
  options: Record<string, unknown>,
): Promise<SentMessage> {
  ctx.ready();
  if (chatId.endsWith("@c.us")) {
    // WhatsApp Web would make a chat for a number without an account and send into nothing.
    const user = chatId.slice(0, -"@c.us".length);
    const id = await ctx.call(() => ctx.client.getNumberId(user)).catch((error) => {
      throw unknownUserError(error, chatId) ?? error;
    });
    if (!id) throw notFound(`"${chatId}" is not on WhatsApp`);
  }
  const clean = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  if (typeof clean.quotedMessageId === "string") {
    // Quoted by its id in whichever form the chat is written there.
    clean.quotedMessageId = serialized((await findMessage(ctx, clean.quotedMessageId)).id);
    clean.ignoreQuoteErrors = false;
  }
  await ctx.lids.resolve([chatId]);
  let msg: Lib;
  const sent = ctx.sending(chatId);
  try {
    msg = await ctx.call(() => ctx.client.sendMessage(chatId, content, clean));
  } catch (error) {
    if (/quoted message/i.test(describeError(error))) {
      throw notFound(`Message "${clean.quotedMessageId}" not found`);
    }
    throw unknownUserError(error, chatId) ?? error;
  } finally {
    sent();
  }
  // The message's own message.any leaves before the answer, as the supervisor expects.
  await ctx.settled();
  if (!msg) throw notFound(`Chat "${chatId}" not found`);
  return {
    messageId: serialized(msg.id),
    timestamp: Number(msg.timestamp ?? Math.floor(Date.now() / 1000)),
  };
}
