/**
 * @module
 * The simulator's status (stories): what the account posts (text on a background in one of
 * WhatsApp's fonts, an image, a video) and what its contacts posted, seeded so `GET /status` has
 * something to show from Swagger UI; the account may take its own back. A status is a message in `status@broadcast` written by its
 * poster, as whatsapp-web.js shows one; the background and font stay with the account's own.
 * The account's own are kept across restarts by the state file; the contacts' are seeded at each
 * start.
 */
import {
  type MediaStatusInput,
  type MessageDto,
  notFound,
  type StatusCapabilities,
  type StatusesOfContact,
  type TextStatusInput,
} from "../../engine.ts";
import { randomHex, type SimulatorData, unixNow } from "./data.ts";

export const STATUS_BROADCAST = "status@broadcast";
const DAY = 86_400;

/** A status of the account's own, with how it is drawn. */
export interface OwnStatus {
  message: MessageDto;
  backgroundColor?: string;
  font?: number;
}

/** The statuses, and what the state file keeps of them. */
export interface SimulatorStatus {
  calls: StatusCapabilities;
  /** The account's own statuses, as the state file keeps them. */
  saved(): OwnStatus[];
  /** The account's own statuses of an earlier run. */
  restore(saved: OwnStatus[]): void;
}

export function createSimulatorStatus(data: SimulatorData): SimulatorStatus {
  const { meId } = data;

  function statusMessage(poster: string, fields: Partial<MessageDto> & { body: string }) {
    const fromMe = poster === meId;
    const message: MessageDto = {
      id: `${fromMe}_${STATUS_BROADCAST}_3EB0${randomHex(8)}_${poster}`,
      chatId: STATUS_BROADCAST,
      from: poster,
      to: STATUS_BROADCAST,
      author: poster,
      fromMe,
      source: fromMe ? "api" : "app",
      type: "chat",
      timestamp: unixNow(),
      hasMedia: false,
      media: null,
      ack: fromMe ? 1 : 0,
      quotedMsgId: null,
      ...fields,
    };
    return message;
  }

  // What two contacts posted before the session started; Carol's is not viewed yet.
  const seen = new Set<string>();
  const theirs = new Map<string, MessageDto[]>();
  const at = unixNow();
  const alice = statusMessage("15550000001@c.us", { body: "At the beach", timestamp: at - 7200 });
  theirs.set("15550000001@c.us", [alice]);
  seen.add(alice.id);
  theirs.set("15550000003@c.us", [
    statusMessage("15550000003@c.us", { body: "Back on Monday", timestamp: at - 1800 }),
  ]);
  const own: OwnStatus[] = [];

  function post(status: OwnStatus) {
    own.push(status);
    return Promise.resolve({ messageId: status.message.id, timestamp: status.message.timestamp });
  }

  const calls: StatusCapabilities = {
    sendTextStatus({ text, backgroundColor, font }: TextStatusInput) {
      return post({ message: statusMessage(meId, { body: text }), backgroundColor, font });
    },
    sendMediaStatus({ kind, media, caption }: MediaStatusInput) {
      return post({
        message: statusMessage(meId, {
          body: caption ?? "",
          type: kind,
          hasMedia: true,
          media: { mimetype: media.mimetype, filename: media.filename },
        }),
      });
    },
    deleteStatus(messageId) {
      const at = own.findIndex((s) => s.message.id === messageId);
      if (at < 0) return Promise.reject(notFound(`Status "${messageId}" not found`));
      own.splice(at, 1);
      return Promise.resolve();
    },
    listStatuses() {
      const lists: [string, MessageDto[]][] = [...theirs];
      // A status lasts 24 hours.
      const live = own.filter((s) => s.message.timestamp > unixNow() - DAY);
      if (live.length > 0) lists.push([meId, live.map((s) => s.message)]);
      const result: StatusesOfContact[] = lists.map(([contactId, statuses]) => ({
        contactId,
        lastStatusAt: Math.max(...statuses.map((s) => s.timestamp)),
        unreadCount: contactId === meId ? 0 : statuses.filter((s) => !seen.has(s.id)).length,
        statuses: structuredClone(statuses),
      }));
      return Promise.resolve(result.sort((a, b) => b.lastStatusAt - a.lastStatusAt));
    },
  };
  return {
    calls,
    saved: () => own,
    restore(saved) {
      own.splice(0, own.length, ...saved);
    },
  };
}
