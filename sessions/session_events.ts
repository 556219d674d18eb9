/**
 * @module
 * What leaves a session for the event pipeline (webhooks, streams): the event types, and the one
 * function that hands them to the pipeline, so that a failing handler is logged and never breaks
 * the session that emitted the event.
 */
import { describeError, type Logger } from "../logger.ts";
import type {
  CallDto,
  EngineName,
  GroupEvent,
  LabelDto,
  Me,
  MessageDto,
  PollVoteDto,
  PresenceDto,
  ReactionDto,
  SessionStatus,
} from "./engine.ts";

export interface StatusChange {
  status: SessionStatus;
  /** Unix milliseconds. */
  timestamp: number;
}

/** What happened in a session, for the event pipeline (webhooks, streams). */
export type SessionEventData =
  | {
    type: "session.status";
    status: SessionStatus;
    reason: string | null;
    /** The last three statuses, oldest first, as WAHA reports them. */
    statuses: StatusChange[];
  }
  | { type: "message"; message: MessageDto }
  | { type: "message.any"; message: MessageDto }
  | { type: "message.ack"; messageId: string; chatId: string; ack: number }
  | { type: "message.reaction"; reaction: ReactionDto }
  | { type: "poll.vote" | "poll.vote.failed"; vote: PollVoteDto }
  | { type: "message.revoked"; message: MessageDto; before: MessageDto | null }
  | { type: "message.edited"; message: MessageDto; previousBody: string | null }
  | { type: "presence.update"; presence: PresenceDto }
  | { type: "group.leave"; groupId: string; participants: string[]; timestamp: number }
  | { type: "label.upsert" | "label.deleted"; label: LabelDto }
  | {
    type: "label.chat.added" | "label.chat.deleted";
    labelId: string;
    chatId: string;
    label: LabelDto | null;
  }
  | { type: "call.received" | "call.rejected"; call: CallDto }
  | GroupEvent;

export interface SessionEvent {
  session: string;
  engine: EngineName;
  me: Me | null;
  /** Unix milliseconds. */
  timestamp: number;
  data: SessionEventData;
}

/** The session an event is about, as far as the envelope needs it. */
export interface EventSource {
  phoneNumber: string;
  engine: EngineName;
  me: Me | null;
}

/** Publishes one event of `source`. */
export type Emit = (source: EventSource, data: SessionEventData) => void;

/** An {@link Emit} that hands events to `onEvent` (none: they go nowhere). */
export function createEmitter(log: Logger, onEvent?: (event: SessionEvent) => void): Emit {
  return function emit(source, data) {
    if (!onEvent) return;
    try {
      onEvent({
        session: source.phoneNumber,
        engine: source.engine,
        me: source.me,
        timestamp: Date.now(),
        data,
      });
    } catch (error) {
      log.error("event handler failed", {
        session: source.phoneNumber,
        error: describeError(error),
      });
    }
  };
}
