/**
 * @module
 * The wwebjs engine's polls, through whatsapp-web.js's public API: a `Poll` sent with
 * `client.sendMessage`, a poll's votes as they stand from `client.getPollVotes` (WhatsApp Web's
 * poll-votes table), and the library's `vote_update` events (`PollVote`) as `poll.vote` events.
 * A `PollVote` carries no id of its own: the vote's id is made from the poll, the voter and the
 * time of the vote. A vote whose poll WhatsApp Web has not loaded comes without option names: it
 * is reported as `poll.vote.failed`, as WAHA reports a vote it cannot read.
 */
import { wwebjs } from "./lib.ts";
import {
  type Engine,
  EngineError,
  type EngineEvent,
  type PollDto,
  type SendPollInput,
  type SentMessage,
} from "../../engine.ts";
import { findMessage, type WwebjsContext } from "./context.ts";
import { type IsMe, type Lib, serialized } from "./mappers.ts";
import { send } from "./messaging.ts";

const { Poll } = wwebjs;

export type PollCapabilities = Pick<Engine, "sendPoll" | "getPollVotes">;

/** Unix seconds from WhatsApp's milliseconds (now, when it gave none). */
function seconds(ms: unknown): number {
  const value = Number(ms);
  return Math.floor((value > 0 ? value : Date.now()) / 1000);
}

/** The names of a `PollVote`'s options, or null when its poll was not at hand to name them. */
function optionNames(vote: Lib): string[] | null {
  const selected: Lib[] = vote.selectedOptions ?? [];
  const names = selected.map((option) => option?.name);
  return names.every((name) => typeof name === "string") ? names : null;
}

/** The poll capabilities of one session. */
export function pollCapabilities(ctx: WwebjsContext): PollCapabilities {
  function sendPoll({ chatId, poll }: SendPollInput): Promise<SentMessage> {
    const content = new Poll(poll.name, poll.options, {
      allowMultipleAnswers: poll.multipleAnswers,
    });
    return send(ctx, chatId, content, {});
  }

  async function getPollVotes(messageId: string): Promise<PollDto> {
    const msg = await findMessage(ctx, messageId);
    // whatsapp-web.js throws a bare string for anything but a poll.
    if (msg.type !== "poll_creation") {
      throw new EngineError("BAD_REQUEST", `Message "${messageId}" is not a poll`);
    }
    const id = serialized(msg.id);
    const votes: Lib[] = await ctx.call(() => ctx.client.getPollVotes(id));
    return {
      pollId: id,
      chatId: serialized(msg.id?.remote),
      name: String(msg.pollName ?? msg.body ?? ""),
      options: (msg.pollOptions ?? []).map((option: Lib) => String(option.name)),
      multipleAnswers: Boolean(msg.allowMultipleAnswers),
      votes: votes.map((vote) => ({
        voter: serialized(vote.voter),
        selectedOptions: optionNames(vote) ?? [],
        timestamp: seconds(vote.interractedAtTs),
      })),
    };
  }

  return { sendPoll, getPollVotes };
}

/** A `vote_update` event's `PollVote` as the engine's event. */
export function pollVoteEvent(vote: Lib, isMe: IsMe): EngineEvent {
  const key = vote.parentMsgKey ?? {};
  const pollId = serialized(key);
  const chatId = serialized(key.remote);
  const voter = serialized(vote.voter);
  const at = Number(vote.interractedAtTs) || Date.now();
  const names = optionNames(vote);
  const inGroup = chatId.endsWith("@g.us");
  return {
    type: names ? "poll.vote" : "poll.vote.failed",
    vote: {
      id: `${isMe(voter)}_${chatId}_${String(key.id ?? "")}V${at}${inGroup ? `_${voter}` : ""}`,
      pollId,
      chatId,
      voter,
      selectedOptions: names ?? [],
      timestamp: seconds(at),
    },
  };
}
