/**
 * @module
 * The simulator's `/simulate` commands, sent as a text to any chat. `crash`, `exit` and `hang` make
 * the Worker die or stop answering the way a bug would; `disconnect`, `conflict` and `logout` make
 * the session lose its connection the ways real sessions do (these texts are also kept as sent);
 * `incoming <n>` makes n messages arrive in that chat at once, oldest first (the command itself is
 * not kept: its answer names the newest arrived message), so paging can be exercised through HTTP.
 */
/// <reference lib="deno.worker" />
import {
  EngineError,
  type EngineEventSink,
  type MessageDto,
  type SentMessage,
} from "../../engine.ts";
import { unixNow } from "./data.ts";

/** The most messages one `/simulate incoming <n>` may make arrive. */
const MAX_INCOMING = 10_000;

/** What the commands may do to the engine. */
export interface SimulatorControls {
  emit: EngineEventSink;
  /** Runs `fn` after `ms` unless the engine stops first. */
  later(fn: () => void, ms: number): void;
  setStatus(status: "STARTING" | "CONFLICT"): void;
  /** Back to WORKING. */
  connect(): void;
  logout(): Promise<void>;
  /** A message arrives in the chat (null when the session is not WORKING). */
  receive(chatId: string, body: string): MessageDto | null;
}

/** The command of a `/simulate <command> …` text, or undefined for any other text. */
export function simulateCommand(text: string): string | undefined {
  return /^\/simulate\s+(\w+)/.exec(text)?.[1];
}

/**
 * Runs a command; its answer replaces the send, or null when the text is to be sent as usual
 * (after `disconnect`, `conflict`, `logout` and unknown commands).
 */
export function runSimulateCommand(
  command: string,
  input: { chatId: string; text: string },
  controls: SimulatorControls,
): Promise<SentMessage> | null {
  const { emit, later } = controls;
  switch (command) {
    case "incoming": {
      const count = Number(/^\/simulate\s+incoming\s+(\d+)\s*$/.exec(input.text)?.[1]);
      try {
        return Promise.resolve(arrive(input.chatId, count, controls));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    case "crash":
      // An uncaught error: the Worker dies the way a bug would kill it.
      setTimeout(() => {
        throw new Error("Simulated crash");
      }, 0);
      return new Promise<never>(() => {});
    case "exit":
      setTimeout(() => self.close(), 0);
      return new Promise<never>(() => {});
    case "hang":
      return new Promise<never>(() => {});
    case "disconnect":
      dropConnection(controls, 1_000);
      return null;
    case "conflict":
      controls.setStatus("CONFLICT");
      emit({ type: "status", status: "CONFLICT", reason: "WhatsApp is open on another device" });
      return null;
    case "logout":
      later(() => void controls.logout(), 0);
      return null;
    default:
      return null;
  }
}

/** The connection drops (STARTING) and comes back (WORKING) after `ms`. */
export function dropConnection(controls: SimulatorControls, ms: number): void {
  controls.setStatus("STARTING");
  controls.emit({ type: "status", status: "STARTING", reason: "Connection lost, reconnecting" });
  controls.later(controls.connect, ms);
}

/** `/simulate incoming <n>`: n messages arrive in the chat, oldest first. */
function arrive(chatId: string, count: number, controls: SimulatorControls): SentMessage {
  if (!Number.isInteger(count) || count < 1 || count > MAX_INCOMING) {
    throw new EngineError("BAD_REQUEST", `"/simulate incoming" takes 1 to ${MAX_INCOMING}`);
  }
  let last: MessageDto | null = null;
  for (let i = 1; i <= count; i++) {
    last = controls.receive(chatId, `Incoming message ${i} of ${count}`) ?? last;
  }
  return { messageId: last?.id ?? "", timestamp: last?.timestamp ?? unixNow() };
}
