/**
 * @module
 * The simulator's control (`Engine.simulate`): what a test makes the other side of the phone do.
 * A contact or group member writes (text, media, a reply), reacts, votes on a poll, receives and
 * reads the phone's message, types or goes online, leaves a group, calls, or writes on its own
 * every few milliseconds (`chatter.ts`); the phone changes its labels, unlinks the device or loses
 * its connection. Each effect changes the account data as it would on a phone and leaves through
 * the engine's one event sink, so it reaches webhooks and streams exactly like a real phone's.
 */
import {
  EngineError,
  type EngineEventSink,
  type GroupControlAction,
  type MediaInput,
  type MessageDto,
  type SentMessage,
  type SimulatorAction,
} from "../../engine.ts";
import { createSimulatorChatter } from "./chatter.ts";
import { type SimChat, type SimulatorData, unixNow } from "./data.ts";
import type { SimulatorSocial } from "./social.ts";

export interface SimulatorControlDeps {
  data: SimulatorData;
  emit: EngineEventSink;
  /** A message arrives in the chat (null when the session is not WORKING). */
  receive(chatId: string, fields: Partial<MessageDto> & { body: string }): MessageDto | null;
  /** Keeps a message's media, as the phone does (`state_file.ts`). */
  keepMedia(messageId: string, media: MediaInput): void;
  /** The account data changed: write it soon. */
  changed(): void;
  /** The phone removes this linked device (after the current call has answered). */
  unlink(): void;
  /** The connection drops and comes back after `ms`. */
  dropConnection(ms: number): void;
  /** `voter` votes on a poll (`polls.ts`). */
  vote(pollId: string, voter: string, options: string[]): void;
  /** Labels, presence and calls (`social.ts`). */
  social: Pick<
    SimulatorSocial,
    "observe" | "incomingCall" | "phoneUpsertLabel" | "deleteLabel" | "setChatLabels"
  >;
  /** The other side of a group acts (`group_admin.ts`). */
  groups(action: GroupControlAction): void;
  /** Runs `fn` after `ms` unless the engine stops, logs out or reconnects first. */
  later(fn: () => void, ms: number): void;
}

function refuse(message: string): EngineError {
  return new EngineError("BAD_REQUEST", message);
}

/** The WhatsApp message type of received media, from its MIME type. */
function mediaType(mimetype: string): string {
  const kind = mimetype.split("/")[0];
  return kind === "image" || kind === "video" || kind === "audio" ? kind : "document";
}

export function createSimulatorControl(deps: SimulatorControlDeps) {
  const { data, emit } = deps;

  /**
   * Who acts in the chat: in a group, `from`, which must be a member; in a person's chat, that
   * person (a `from` naming anyone else is refused).
   */
  function actor(chat: SimChat, from: string | undefined): string {
    if (!chat.group) {
      if (from !== undefined && from !== chat.id) {
        throw refuse(`Only "${chat.id}" writes in the chat with "${chat.id}", not "${from}"`);
      }
      return chat.id;
    }
    if (from === undefined) throw refuse(`In group "${chat.id}", "from" names the member who acts`);
    if (from === data.meId || !chat.group.participants.some((p) => p.id === from)) {
      throw refuse(`"${from}" is not another member of group "${chat.id}"`);
    }
    return from;
  }

  /** A chat a contact may act in: a group must exist, a person's chat is made on first use. */
  function chatOf(chatId: string): SimChat {
    return chatId.endsWith("@g.us") ? data.group(chatId) : data.chatFor(chatId);
  }

  function write(action: Extract<SimulatorAction, { type: "message" }>): SentMessage {
    const chat = chatOf(action.chatId);
    const author = actor(chat, action.from);
    if (action.quotedMsgId && data.findMessage(action.quotedMsgId).chat !== chat) {
      throw refuse(`Message "${action.quotedMsgId}" is not in chat "${chat.id}"`);
    }
    const { media } = action;
    const message = deps.receive(chat.id, {
      body: action.text,
      quotedMsgId: action.quotedMsgId ?? null,
      // In a group the message is from the group, written by the member (as WhatsApp says it).
      ...(chat.group ? { from: chat.id, author } : {}),
      ...(media
        ? {
          type: mediaType(media.mimetype),
          hasMedia: true,
          media: { mimetype: media.mimetype, filename: media.filename },
        }
        : {}),
    });
    if (!message) throw new EngineError("NOT_READY", "The simulator is not connected");
    if (media) deps.keepMedia(message.id, media);
    return { messageId: message.id, timestamp: message.timestamp };
  }

  const chatter = createSimulatorChatter({
    later: deps.later,
    write(chatId, from, text) {
      const chat = chatOf(chatId);
      const author = actor(chat, from);
      return deps.receive(chat.id, {
        body: text,
        ...(chat.group ? { from: chat.id, author } : {}),
      }) !==
        null;
    },
  });

  function leave(groupId: string, participant: string | undefined): void {
    const chat = data.group(groupId);
    const leaving = participant ?? data.meId;
    if (!chat.group.participants.some((p) => p.id === leaving)) {
      throw refuse(`"${leaving}" is not a member of group "${groupId}"`);
    }
    chat.group.participants = chat.group.participants.filter((p) => p.id !== leaving);
    // The account that left keeps no chat, as the engine's own leave.
    if (participant === undefined) data.chats.delete(groupId);
    deps.changed();
    const timestamp = unixNow();
    // As WAHA: the account's leave is the group's (`participants: []`) and a member's like any other.
    if (participant === undefined) {
      emit({ type: "group.leave", groupId, participants: [], timestamp });
    }
    emit({ type: "group.leave", groupId, participants: [leaving], timestamp });
  }

  return function simulate(action: SimulatorAction): Promise<SentMessage | null> {
    try {
      switch (action.type) {
        case "message":
          return Promise.resolve(write(action));
        case "reaction": {
          const { chat, message } = data.findMessage(action.messageId);
          const from = actor(chat, action.from);
          emit({
            type: "message.reaction",
            reaction: {
              messageId: message.id,
              chatId: chat.id,
              from,
              emoji: action.emoji,
              timestamp: unixNow(),
            },
          });
          return Promise.resolve(null);
        }
        case "poll_vote": {
          const { chat } = data.findMessage(action.pollId);
          deps.vote(action.pollId, actor(chat, action.from), action.options);
          return Promise.resolve(null);
        }
        case "ack": {
          const { chat, message } = data.findMessage(action.messageId);
          if (!message.fromMe) {
            throw refuse("Only the phone's own messages are delivered to and read by the others");
          }
          const ack = action.ack === "read" ? 3 : 2;
          message.ack = Math.max(message.ack, ack);
          deps.changed();
          emit({ type: "message.ack", messageId: message.id, chatId: chat.id, ack });
          return Promise.resolve(null);
        }
        case "presence": {
          const chat = chatOf(action.chatId);
          const presence = {
            chatId: chat.id,
            participant: actor(chat, action.from),
            presence: action.presence,
            lastSeen: action.presence === "offline" ? unixNow() : null,
          };
          deps.social.observe(presence);
          emit({ type: "presence.update", presence });
          return Promise.resolve(null);
        }
        case "call":
          deps.social.incomingCall(action.from, action.isVideo);
          return Promise.resolve(null);
        case "label_upsert":
          deps.social.phoneUpsertLabel(action);
          return Promise.resolve(null);
        case "label_delete":
          return deps.social.deleteLabel(action.id).then(() => null);
        case "chat_labels":
          return deps.social.setChatLabels({
            chatId: action.chatId,
            labels: action.labelIds.map((id) => ({ id })),
          }).then(() => null);
        case "group_leave":
          leave(action.groupId, action.participant);
          return Promise.resolve(null);
        case "group_admin":
        case "group_settings":
        case "group_join":
        case "group_request":
          deps.groups(action);
          return Promise.resolve(null);
        case "unlink":
          deps.unlink();
          return Promise.resolve(null);
        case "disconnect":
          deps.dropConnection(action.reconnectAfterMs);
          return Promise.resolve(null);
        case "chatter":
          // Who writes is checked now, so a wrong `from` is refused rather than failing each tick.
          actor(chatOf(action.chatId), action.from);
          chatter(action);
          return Promise.resolve(null);
      }
    } catch (error) {
      return Promise.reject(error);
    }
  };
}
