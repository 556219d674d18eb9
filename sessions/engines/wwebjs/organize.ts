/**
 * @module
 * The wwebjs engine's chat and message housekeeping, through whatsapp-web.js's public API:
 * `Chat.archive/unarchive/mute/unmute/markUnread/pin/unpin/clearMessages/delete` and
 * `Message.forward/star/unstar/pin/unpin`. Several of these report nothing when WhatsApp Web
 * declines (a star on a message that cannot be starred does nothing at all; a fourth pinned chat
 * answers `false`), so the engine checks the outcome and refuses with a reason instead of
 * answering success for a change that did not happen.
 */
import {
  EngineError,
  type ForwardMessageInput,
  type MuteChatInput,
  notFound,
  type OrganizeCapabilities,
  type PinMessageInput,
} from "../../engine.ts";
import { type Lib, serialized, toGroupDto } from "./mappers.ts";
import { findChat, findMessage, unknownUserError, type WwebjsContext } from "./context.ts";

/** whatsapp-web.js's own limit on pinned chats (`Client.pinChat`). */
const MAX_PINNED_CHATS = 3;

export function organizeCapabilities(ctx: WwebjsContext): OrganizeCapabilities {
  /** A message that can still be acted on (a revoked one has nothing left to forward or pin). */
  async function liveMessage(messageId: string): Promise<Lib> {
    const msg = await findMessage(ctx, messageId);
    if (msg.type === "revoked") {
      throw new EngineError("BAD_REQUEST", `Message "${messageId}" was revoked`);
    }
    return msg;
  }

  /** The message as WhatsApp Web holds it now. */
  async function reread(msg: Lib): Promise<Lib> {
    return await ctx.call(() => ctx.client.getMessageById(serialized(msg.id)));
  }

  /**
   * A chat to forward to must exist: WhatsApp Web would make a chat for a number without an
   * account and send into nothing, and has no chat for a group we are not in.
   */
  async function assertRecipient(chatId: string): Promise<void> {
    if (!chatId.endsWith("@c.us")) {
      await findChat(ctx, chatId);
      return;
    }
    const user = chatId.slice(0, -"@c.us".length);
    const id = await ctx.call(() => ctx.client.getNumberId(user)).catch((error) => {
      throw unknownUserError(error, chatId) ?? error;
    });
    if (!id) throw notFound(`"${chatId}" is not on WhatsApp`);
  }

  async function forwardMessage({ messageId, chatId }: ForwardMessageInput): Promise<void> {
    const msg = await liveMessage(messageId);
    await assertRecipient(chatId);
    await ctx.lids.resolve([chatId]);
    // The copy is our message, sent through the API: its message.any says `source: "api"`.
    const sent = ctx.sending(chatId);
    try {
      await ctx.call(() => msg.forward(chatId));
    } finally {
      sent();
    }
    await ctx.settled();
  }

  async function setStarred(messageId: string, starred: boolean): Promise<void> {
    const msg = await liveMessage(messageId);
    await ctx.call(() => (starred ? msg.star() : msg.unstar()));
    // whatsapp-web.js does nothing, silently, when WhatsApp Web says the message cannot be starred.
    if (Boolean((await reread(msg))?.isStarred) !== starred) {
      throw new EngineError(
        "BAD_REQUEST",
        `Message "${messageId}" cannot be ${starred ? "starred" : "unstarred"}`,
      );
    }
  }

  async function pinMessage({ messageId, duration }: PinMessageInput): Promise<void> {
    const msg = await liveMessage(messageId);
    if (!(await ctx.call(() => msg.pin(duration)))) {
      throw new EngineError("BAD_REQUEST", `Message "${messageId}" could not be pinned`);
    }
  }

  async function unpinMessage(messageId: string): Promise<void> {
    const msg = await findMessage(ctx, messageId);
    if (!(await ctx.call(() => msg.unpin()))) {
      throw new EngineError("BAD_REQUEST", `Message "${messageId}" could not be unpinned`);
    }
  }

  /** One library call on a chat that exists (404 otherwise). */
  async function onChat(chatId: string, act: (chat: Lib) => Promise<unknown>): Promise<unknown> {
    const chat = await findChat(ctx, chatId);
    return await ctx.call(() => act(chat));
  }

  async function muteChat({ chatId, duration }: MuteChatInput): Promise<void> {
    // whatsapp-web.js takes the end as a Date, and none for good.
    const until = duration === undefined ? undefined : new Date(Date.now() + duration * 1000);
    await onChat(chatId, (chat) => chat.mute(until));
  }

  async function pinChat(chatId: string): Promise<void> {
    if (!(await onChat(chatId, (chat) => chat.pin()))) {
      throw new EngineError(
        "BAD_REQUEST",
        `At most ${MAX_PINNED_CHATS} chats can be pinned: unpin one first`,
      );
    }
  }

  /** Clearing and deleting answer false when WhatsApp Web has no such chat. */
  async function removing(chatId: string, act: (chat: Lib) => Promise<boolean>): Promise<void> {
    if (!(await onChat(chatId, act))) throw notFound(`Chat "${chatId}" not found`);
  }

  return {
    forwardMessage,
    starMessage: (messageId) => setStarred(messageId, true),
    unstarMessage: (messageId) => setStarred(messageId, false),
    pinMessage,
    unpinMessage,
    archiveChat: async (chatId) => void await onChat(chatId, (chat) => chat.archive()),
    unarchiveChat: async (chatId) => void await onChat(chatId, (chat) => chat.unarchive()),
    muteChat,
    unmuteChat: async (chatId) => void await onChat(chatId, (chat) => chat.unmute()),
    markChatUnread: async (chatId) => void await onChat(chatId, (chat) => chat.markUnread()),
    pinChat,
    unpinChat: async (chatId) => void await onChat(chatId, (chat) => chat.unpin()),
    clearChat: (chatId) => removing(chatId, (chat) => chat.clearMessages()),
    deleteChat: (chatId) =>
      removing(chatId, (chat) => {
        // WhatsApp offers "exit group", not "delete chat", while we are a member.
        if (chat.isGroup && toGroupDto(chat).participants.some((p) => ctx.isMe(p.id))) {
          throw new EngineError("BAD_REQUEST", "Leave the group before deleting its chat");
        }
        return chat.delete();
      }),
  };
}
