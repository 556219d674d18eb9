/**
 * @module
 * A simulated phone as a bot's test sees it: its contacts write to it through the simulator's
 * control API, and what the bot sent comes back from the chat's messages endpoint, each message
 * once, within a bounded wait.
 */
import { type ApiClient, poll } from "./api_client.ts";

/** A message as the chat's messages endpoint (`GET /{phoneNumber}/messages/{chatId}`) shows it. */
export interface ChatMessage {
  /** The message id (`true_<chat>_<id>` for the phone's own). */
  id: string;
  /** The chat it is in. */
  chatId: string;
  /** The sender: the phone's account for its own messages, the group in a group. */
  from: string;
  /** The receiver. */
  to: string;
  /** The member who wrote it, in a group. */
  author: string | null;
  /** Sent by the phone's account (through the API or on the phone). */
  fromMe: boolean;
  /** `api` when sent through this API (by the bot), `app` when a person wrote it. */
  source?: "api" | "app";
  /** The text, or the media's caption. */
  body: string;
  /** WhatsApp's message type: `chat`, `image`, `document`, `location`, `vcard`, … */
  type: string;
  /** Unix seconds. */
  timestamp: number;
  /** Whether it carries media (`GET …/messages/{chatId}/{messageId}/media` serves it). */
  hasMedia: boolean;
  /** The media's type and file name. */
  media: { mimetype: string; filename: string | null } | null;
  /** -1 error, 0 pending, 1 server, 2 delivered, 3 read, 4 played. */
  ack: number;
  /** The message it replies to. */
  quotedMsgId: string | null;
}

/** How long to wait, at most. */
export interface WaitOptions {
  /** Milliseconds; past them the wait fails with an error saying what did not happen. */
  timeoutMs?: number;
}

/** A message a contact or group member writes to the phone (`POST …/simulator/messages`). */
export interface ContactMessage {
  /** The chat: a person's number or id (`15550000003`, `15550000003@c.us`) or a group id. */
  chatId: string;
  /** Who writes: required in a group (one of its members); in a person's chat, that person. */
  from?: string;
  /** The text, or the caption of the media. */
  text?: string;
  /** Media as a `data:` URL (its type is read from the bytes). */
  mediaUrl?: string;
  /** The name the media's file has. */
  filename?: string;
  /** The id of the message of this chat it answers. */
  replyTo?: string;
}

/** A linked, connected simulator session: its number, and what its contacts do. */
export interface SimulatedPhone {
  /** The session's phone number (digits). */
  readonly number: string;
  /**
   * A contact (or a group member) writes to the phone. Resolves with the id of the message that
   * arrived, once it is stored: its `message` event is then on its way to the webhooks.
   */
  write(message: ContactMessage): Promise<string>;
  /**
   * Waits for the next message sent through the API (by the bot) to `chatId`, as the chat shows
   * it. Each message is returned once, oldest first: the first call returns the first message the
   * API sent to the chat since the gateway started, whenever it was sent, so a bot that answers
   * before the test asks is not missed. Fails after `timeoutMs` (default 5000).
   */
  nextMessageTo(chatId: string, options?: WaitOptions): Promise<ChatMessage>;
  /**
   * Any other action of the simulator's control API, `POST /{phoneNumber}/simulator/<action>`
   * with `body` (the README's "Testing your bot" lists them): a reaction, an ack, typing, presence,
   * a group leave, a call, a label change, an unlink, a dropped connection. Resolves with the API's JSON answer once the
   * effect's events are stored; rejects with the API's error otherwise.
   */
  simulate(action: SimulatorControl, body?: Record<string, unknown>): Promise<unknown>;
}

/** The simulator control API's actions (`POST /{phoneNumber}/simulator/<action>`). */
export type SimulatorControl =
  | "messages"
  | "reactions"
  | "acks"
  | "typing"
  | "presence"
  | "group-leave"
  | "calls"
  | "labels"
  | "label-delete"
  | "chat-labels"
  | "group-admin"
  | "group-settings"
  | "group-join"
  | "group-request"
  | "unlink"
  | "disconnect";

/** The phone of `number`, a connected simulator session of the gateway `api` talks to. */
export function createSimulatedPhone(number: string, api: ApiClient): SimulatedPhone {
  /** The messages `nextMessageTo` returned (ids are unique over all chats). */
  const returned = new Set<string>();
  return {
    number,
    async write(message) {
      const path = `/${number}/simulator/messages`;
      return (await api.call<{ messageId: string }>("POST", path, message)).messageId;
    },
    simulate(action, body) {
      return api.call("POST", `/${number}/simulator/${action}`, body ?? {});
    },
    nextMessageTo(chatId, options = {}) {
      const timeoutMs = options.timeoutMs ?? 5_000;
      const path = `/${number}/messages/${encodeURIComponent(chatId)}?limit=200`;
      return poll(`for a message to "${chatId}" sent through the API`, timeoutMs, async () => {
        const response = await api.request("GET", path);
        // No chat yet: nothing was sent to it so far.
        if (response.status === 404) {
          await response.body?.cancel();
          return null;
        }
        if (!response.ok) {
          throw new Error(`GET ${path} answered ${response.status}: ${await response.text()}`);
        }
        const { messages } = await response.json() as { messages: ChatMessage[] };
        // Newest first: the last one not returned yet is the oldest.
        const next = messages.findLast((m) =>
          m.fromMe && m.source === "api" && !returned.has(m.id)
        );
        if (!next) return null;
        returned.add(next.id);
        return next;
      });
    },
  };
}
