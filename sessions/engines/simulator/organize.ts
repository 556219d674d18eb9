/**
 * @module
 * The simulator's chat and message housekeeping: archiving, muting, pinning, marking unread,
 * clearing and deleting chats; forwarding, starring and pinning messages. It keeps the state the
 * way the phone shows it (at most three pinned chats; at most three pinned messages a chat, a
 * fourth replacing the oldest, as WhatsApp does), so `GET /chats` and a chat's messages show each
 * change. A forwarded copy is sent like any message (its `message.any` included).
 */
import {
  EngineError,
  type MediaInput,
  type MessageDto,
  type OrganizeCapabilities,
  type SentMessage,
} from "../../engine.ts";
import { type SimChat, type SimulatorData, unixNow } from "./data.ts";

/** WhatsApp's limits: pinned chats per account, pinned messages per chat. */
const MAX_PINNED_CHATS = 3;
const MAX_PINNED_MESSAGES = 3;

export interface OrganizeDeps {
  data: SimulatorData;
  /** Sends a message of ours to a chat, as every send does (its `message.any` included). */
  send(chatId: string, fields: Partial<MessageDto> & { body: string }): SentMessage;
  /** The media of a message, if it has any. */
  mediaOf(messageId: string): MediaInput | null;
  keepMedia(messageId: string, media: MediaInput): void;
}

/** A call that changes the state at once, as a promise (a thrown error becomes a rejection). */
function now(change: () => void): Promise<void> {
  try {
    change();
    return Promise.resolve();
  } catch (error) {
    return Promise.reject(error);
  }
}

export function createSimulatorOrganize(deps: OrganizeDeps): OrganizeCapabilities {
  const { data } = deps;
  const { chats, existingChat, findMessage } = data;

  function live(messageId: string): { chat: SimChat; message: MessageDto } {
    const found = findMessage(messageId);
    if (found.message.type === "revoked") {
      throw new EngineError("BAD_REQUEST", `Message "${messageId}" was revoked`);
    }
    return found;
  }

  return {
    forwardMessage({ messageId, chatId }) {
      return now(() => {
        const { message } = live(messageId);
        const media = deps.mediaOf(messageId);
        const sent = deps.send(chatId, {
          body: message.body,
          type: message.type,
          hasMedia: message.hasMedia,
          media: message.media ? { ...message.media } : null,
          quotedMsgId: null,
        });
        if (media) deps.keepMedia(sent.messageId, media);
      });
    },
    starMessage: (messageId) => now(() => void (live(messageId).message.starred = true)),
    unstarMessage: (messageId) => now(() => void delete findMessage(messageId).message.starred),
    pinMessage({ messageId, duration }) {
      return now(() => {
        const { chat, message } = live(messageId);
        const at = unixNow();
        const pinned = chat.messages
          .filter((m) => m !== message && (m.pinnedUntil ?? 0) > at)
          .sort((a, b) => a.pinnedUntil! - b.pinnedUntil!);
        // A fourth pin replaces the one that would run out first.
        for (const old of pinned.slice(0, Math.max(0, pinned.length - MAX_PINNED_MESSAGES + 1))) {
          delete old.pinnedUntil;
        }
        message.pinnedUntil = at + duration;
      });
    },
    unpinMessage: (messageId) => now(() => void delete findMessage(messageId).message.pinnedUntil),

    archiveChat: (chatId) => now(() => void (existingChat(chatId).archived = true)),
    unarchiveChat: (chatId) => now(() => void (existingChat(chatId).archived = false)),
    muteChat({ chatId, duration }) {
      return now(() => {
        const chat = existingChat(chatId);
        chat.muted = true;
        chat.muteExpiration = duration === undefined ? -1 : unixNow() + duration;
      });
    },
    unmuteChat(chatId) {
      return now(() => {
        const chat = existingChat(chatId);
        chat.muted = false;
        delete chat.muteExpiration;
      });
    },
    markChatUnread: (chatId) => now(() => void (existingChat(chatId).markedUnread = true)),
    pinChat(chatId) {
      return now(() => {
        const chat = existingChat(chatId);
        if (chat.pinned) return;
        const pinned = [...chats.values()].filter((c) => c.pinned).length;
        if (pinned >= MAX_PINNED_CHATS) {
          throw new EngineError(
            "BAD_REQUEST",
            `At most ${MAX_PINNED_CHATS} chats can be pinned: unpin one first`,
          );
        }
        chat.pinned = true;
      });
    },
    unpinChat: (chatId) => now(() => void (existingChat(chatId).pinned = false)),
    clearChat(chatId) {
      return now(() => {
        const chat = existingChat(chatId);
        chat.messages = [];
        chat.unreadCount = 0;
        chat.markedUnread = false;
      });
    },
    deleteChat(chatId) {
      return now(() => {
        const chat = existingChat(chatId);
        if (chat.group?.participants.some((p) => p.id === data.meId)) {
          throw new EngineError("BAD_REQUEST", "Leave the group before deleting its chat");
        }
        chats.delete(chatId);
      });
    },
  };
}
