/**
 * @module
 * The simulator's polls. A poll sent is a `poll_creation` message in its chat, with its name as
 * the body, as whatsapp-web.js shows one; its options and each voter's current choice are kept
 * with the chat (`SimChat.polls`), so they survive a restart with the chats. A vote (from the
 * control API) is checked as WhatsApp's app would let it be cast: options of the poll, one
 * unless the poll takes several, and replaces the voter's last one; it leaves as `poll.vote`.
 */
import {
  EngineError,
  type EngineEventSink,
  type MessageDto,
  type PollDto,
  type SendPollInput,
  type SentMessage,
} from "../../engine.ts";
import { randomHex, type SimChat, type SimulatorData, unixNow } from "./data.ts";

/** A poll as the simulator's phone keeps it. */
export interface SimPoll {
  name: string;
  options: string[];
  multipleAnswers: boolean;
  /** Each voter's choice now, by voter. */
  votes: Record<string, { selectedOptions: string[]; timestamp: number }>;
}

export interface SimulatorPollsDeps {
  data: SimulatorData;
  emit: EngineEventSink;
  /** Sends a message of ours into a chat, as every send of the engine does. */
  record(chatId: string, fields: Partial<MessageDto> & { body: string }): SentMessage;
  /** The account data changed: write it soon. */
  changed(): void;
}

function refuse(message: string): EngineError {
  return new EngineError("BAD_REQUEST", message);
}

export function createSimulatorPolls(deps: SimulatorPollsDeps) {
  const { data, emit } = deps;

  function findPoll(messageId: string): { chat: SimChat; message: MessageDto; poll: SimPoll } {
    const { chat, message } = data.findMessage(messageId);
    const poll = chat.polls?.[message.id];
    if (!poll) throw refuse(`Message "${messageId}" is not a poll`);
    return { chat, message, poll };
  }

  return {
    sendPoll({ chatId, poll }: SendPollInput): Promise<SentMessage> {
      const sent = deps.record(chatId, { body: poll.name, type: "poll_creation" });
      const chat = data.existingChat(chatId);
      chat.polls ??= {};
      chat.polls[sent.messageId] = {
        name: poll.name,
        options: [...poll.options],
        multipleAnswers: poll.multipleAnswers,
        votes: {},
      };
      deps.changed();
      return Promise.resolve(sent);
    },

    getPollVotes(messageId: string): Promise<PollDto> {
      const { chat, message, poll } = findPoll(messageId);
      const result: PollDto = {
        pollId: message.id,
        chatId: chat.id,
        name: poll.name,
        options: [...poll.options],
        multipleAnswers: poll.multipleAnswers,
        votes: Object.entries(poll.votes).map(([voter, vote]) => ({ voter, ...vote })),
      };
      return Promise.resolve(structuredClone(result));
    },

    /** `voter` (already found to be someone who may act in the chat) votes `options` now. */
    vote(pollId: string, voter: string, options: string[]): void {
      const { chat, message, poll } = findPoll(pollId);
      const unknown = options.find((option) => !poll.options.includes(option));
      if (unknown !== undefined) {
        throw refuse(`"${unknown}" is not an option of poll "${message.id}"`);
      }
      // In the poll's order, each once: how WhatsApp reports a choice.
      const selectedOptions = poll.options.filter((option) => options.includes(option));
      if (!poll.multipleAnswers && selectedOptions.length > 1) {
        throw refuse(`Poll "${message.id}" takes one answer, not ${selectedOptions.length}`);
      }
      const timestamp = unixNow();
      poll.votes[voter] = { selectedOptions, timestamp };
      deps.changed();
      const inGroup = chat.group !== undefined;
      emit({
        type: "poll.vote",
        vote: {
          id: `false_${chat.id}_3EB0${randomHex(8)}${inGroup ? `_${voter}` : ""}`,
          pollId: message.id,
          chatId: chat.id,
          voter,
          selectedOptions,
          timestamp,
        },
      });
    },
  };
}
