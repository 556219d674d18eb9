/**
 * @module
 * The event envelope in WAHA's shape (`{ id, timestamp, event, session, me?, payload, engine,
 * environment }`), so that software written for WAHA reads our webhooks and stream unchanged, and
 * the mapping from the session manager's `SessionEvent`s to it. A `session.status` envelope (ours or
 * an inbound WAHA one) brings a derived one, the deprecated `state.change` with the contract's
 * coarse state; the outbox stores the pair in one transaction.
 */
import { monotonicFactory } from "ulid";
import type { SessionEvent } from "../sessions/manager.ts";
import type { EngineName, Me, MessageDto, PollVoteDto, SessionStatus } from "../sessions/engine.ts";
import type { EMITTED_EVENTS } from "./event_names.ts";
import { groupEventPayload } from "./group_payloads.ts";
import { toContractState } from "../sessions/engine.ts";

/** Every event name the pipeline emits (`event_names.ts` holds the one list). */
export type EventName = (typeof EMITTED_EVENTS)[number];

export interface Envelope {
  /** `evt_` + a lower-case ULID, unique per event. */
  id: string;
  /** Unix milliseconds. */
  timestamp: number;
  event: string;
  /** The session's phone number. */
  session: string;
  me?: Me | null;
  payload: Record<string, unknown>;
  engine: string;
  environment: Record<string, unknown>;
  [extra: string]: unknown;
}

export const ACK_NAMES: Record<string, string> = {
  "-1": "ERROR",
  "0": "PENDING",
  "1": "SERVER",
  "2": "DEVICE",
  "3": "READ",
  "4": "PLAYED",
};

const nextUlid = monotonicFactory();

/** A new event id: `evt_` + lower-case monotonic ULID. */
export function newEventId(): string {
  return `evt_${nextUlid().toLowerCase()}`;
}

/** WAHA's engine name for ours. */
export function wahaEngine(engine: EngineName | string): string {
  return engine === "wwebjs" ? "WEBJS" : engine.toUpperCase();
}

export function environmentOf(version: string, engine: string): Record<string, unknown> {
  return { version, engine, tier: "CORE", browser: null };
}

/** WAHA's `message` payload from our DTO. */
export function messagePayload(message: MessageDto): Record<string, unknown> {
  return {
    id: message.id,
    timestamp: message.timestamp,
    from: message.from,
    fromMe: message.fromMe,
    source: message.source ?? "app",
    to: message.to,
    participant: message.author,
    // Beside each of those that is a LID, its phone-number id when known (not instead of it).
    ...(message.fromPn ? { fromPn: message.fromPn } : {}),
    ...(message.toPn ? { toPn: message.toPn } : {}),
    ...(message.authorPn ? { participantPn: message.authorPn } : {}),
    body: message.body,
    hasMedia: message.hasMedia,
    media: message.media
      ? {
        url: null,
        mimetype: message.media.mimetype,
        filename: message.media.filename,
        error: null,
      }
      : null,
    ack: message.ack,
    ackName: ACK_NAMES[String(message.ack)] ?? "UNKNOWN",
    vCards: message.type === "vcard" ? [message.body] : [],
    replyTo: message.quotedMsgId ? { id: message.quotedMsgId } : null,
    _data: {
      type: message.type,
      chatId: message.chatId,
      ...(message.chatPn ? { chatPn: message.chatPn } : {}),
    },
  };
}

/**
 * WAHA's `poll.vote` (and `poll.vote.failed`, with no options) payload: the vote (from the voter;
 * to us, or to the group it was cast in) and the poll it is for (ours when its id says `true_`).
 */
export function pollVotePayload(vote: PollVoteDto, me: string): Record<string, unknown> {
  const inGroup = vote.chatId.endsWith("@g.us");
  const pollFromMe = vote.pollId.startsWith("true_");
  // In a group, a poll's id ends with its author (`…_<author>`) when it is not ours.
  const pollAuthor = inGroup && !pollFromMe ? vote.pollId.split("_")[3] ?? vote.chatId : null;
  return {
    vote: {
      id: vote.id,
      from: vote.voter,
      to: inGroup ? vote.chatId : me,
      participant: inGroup ? vote.voter : null,
      fromMe: vote.voter === me,
      selectedOptions: vote.selectedOptions,
      timestamp: vote.timestamp,
    },
    poll: {
      id: vote.pollId,
      from: pollFromMe ? me : pollAuthor ?? vote.chatId,
      to: pollFromMe || inGroup ? vote.chatId : me,
      fromMe: pollFromMe,
    },
  };
}

/** A message's own id without its chat: `ABCD` of `true_<chat>_ABCD[_<participant>]`. */
export function bareMessageId(id: string): string {
  return id.split("_")[2] ?? id;
}

/** The deprecated `state.change` payload: the contract's coarse state beside the status. */
export function stateChangePayload(status: string, reason: string | null) {
  const known = ["STOPPED", "STARTING", "SCAN_QR_CODE", "WORKING", "FAILED", "CONFLICT"];
  const state = known.includes(status)
    ? toContractState(status as SessionStatus)
    : status.startsWith("PASSKEY")
    ? "AUTHENTICATING"
    : "DISCONNECTED";
  return { state, status, reason };
}

/**
 * The envelopes derived from one: a `session.status` brings its `state.change` (a new id, the
 * same session, time and extra fields); every other event brings none.
 */
export function derivedEnvelopes(envelope: Envelope): Envelope[] {
  if (envelope.event !== "session.status") return [];
  const payload = envelope.payload as { status?: unknown; data?: { reason?: unknown } | null };
  const reason = typeof payload.data?.reason === "string" ? payload.data.reason : null;
  return [{
    ...envelope,
    id: newEventId(),
    event: "state.change",
    payload: stateChangePayload(String(payload.status), reason),
  }];
}

/** Turns one session event into its envelope (`derivedEnvelopes` adds the rest). */
export function toEnvelope(event: SessionEvent, version: string): Envelope {
  const engine = wahaEngine(event.engine);
  const base = (name: string, payload: Record<string, unknown>): Envelope => ({
    id: newEventId(),
    timestamp: event.timestamp,
    event: name,
    session: event.session,
    ...(event.me ? { me: event.me } : {}),
    payload,
    engine,
    environment: environmentOf(version, engine),
  });
  const data = event.data;
  switch (data.type) {
    case "session.status":
      return base("session.status", {
        name: event.session,
        status: data.status,
        statuses: data.statuses,
        ...(data.reason ? { data: { reason: data.reason } } : {}),
      });
    case "message":
    case "message.any":
      return base(data.type, messagePayload(data.message));
    case "message.ack": {
      const fromMe = data.messageId.startsWith("true_");
      const me = event.me?.id ?? `${event.session}@c.us`;
      return base("message.ack", {
        id: data.messageId,
        from: fromMe ? me : data.chatId,
        to: fromMe ? data.chatId : me,
        participant: null,
        fromMe,
        ack: data.ack,
        ackName: ACK_NAMES[String(data.ack)] ?? "UNKNOWN",
      });
    }
    case "message.reaction": {
      const { reaction } = data;
      const me = event.me?.id ?? `${event.session}@c.us`;
      const inGroup = reaction.chatId.endsWith("@g.us");
      return base("message.reaction", {
        id: `false_${reaction.chatId}_${reaction.messageId.split("_").at(-1)}R`,
        timestamp: reaction.timestamp,
        from: inGroup ? reaction.chatId : reaction.from,
        fromMe: false,
        source: "app",
        to: me,
        participant: inGroup ? reaction.from : null,
        reaction: { text: reaction.emoji, messageId: reaction.messageId },
      });
    }
    case "poll.vote":
    case "poll.vote.failed":
      return base(data.type, pollVotePayload(data.vote, event.me?.id ?? `${event.session}@c.us`));
    case "message.revoked":
      // WAHA's shape: the message now and before, and the revoked message's own (bare) id.
      return base("message.revoked", {
        after: messagePayload(data.message),
        before: data.before ? messagePayload(data.before) : null,
        revokedMessageId: bareMessageId(data.message.id),
        _data: null,
      });
    case "message.edited":
      // WAHA's shape: the message with its new text, and the edited message's own (bare) id.
      return base("message.edited", {
        ...messagePayload(data.message),
        editedMessageId: bareMessageId(data.message.id),
        ...(data.previousBody === null ? {} : { previousBody: data.previousBody }),
      });
    case "presence.update":
      return base("presence.update", {
        id: data.presence.chatId,
        presences: [{
          participant: data.presence.participant,
          lastKnownPresence: data.presence.presence,
          lastSeen: data.presence.lastSeen,
        }],
      });
    case "group.leave":
      // WAHA's names: the account left (`group.v2.leave`), or members did (`…participants`).
      if (data.participants.length === 0) {
        return base("group.v2.leave", {
          group: { id: data.groupId },
          timestamp: data.timestamp,
          _data: null,
        });
      }
      return base("group.v2.participants", {
        group: { id: data.groupId },
        type: "leave",
        timestamp: data.timestamp,
        participants: data.participants.map((id) => ({
          id,
          pn: id.endsWith("@c.us") ? id : null,
          role: "left",
        })),
        _data: null,
      });
    case "label.upsert":
    case "label.deleted":
      // WAHA's `Label`.
      return base(data.type, { ...data.label });
    case "label.chat.added":
    case "label.chat.deleted":
      // WAHA's `LabelChatAssociation`.
      return base(data.type, {
        labelId: data.labelId,
        chatId: data.chatId,
        label: data.label ? { ...data.label } : null,
      });
    case "call.received":
    case "call.rejected":
      // WAHA's `CallData`.
      return base(data.type, { ...data.call });
    case "group.join":
    case "group.participants":
    case "group.update":
    case "group.join_request": {
      const { event: name, payload } = groupEventPayload(data);
      return base(name, payload);
    }
  }
}

/** Whether a destination's event filter (`*` or names) takes this event. */
export function wantsEvent(filter: readonly string[], event: string): boolean {
  return filter.includes("*") || filter.includes(event);
}
