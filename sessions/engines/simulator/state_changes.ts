/**
 * @module
 * What changed in the simulator's state since it was last written, as one line of the journal
 * (`state_file.ts`), and the replay of such lines. It remembers what was written field by field:
 * per chat, a copy of its fields and of each message's (nested objects and arrays as their JSON
 * text), and each of the other parts (blocks, profile, labels, channels, own statuses) as text. A
 * write after "anything may have changed" compares every chat and message field by field against
 * that copy and serializes only what differs (a message's fields compared cost a fraction of its
 * serialization; the state is never serialized whole); a write after "these chats changed" (an
 * incoming message: new messages at a chat's end, its unread count) looks only at those chats'
 * fields and new messages.
 *
 * A line is one JSON object, each key optional:
 * `{"chats":[{"id","meta"?,"length","put":[[index,message],…]}],"gone":[id…],"order":[id…],"rest":{…}}`:
 * a chat's fields without its messages (`meta`: all of them, replacing the old), its message count
 * after the change (`length`: the array is cut or grown to it) and the messages at the indices
 * that changed or are new (`put`); the chats deleted (`gone`); the chats' order when it is not
 * the old order with the new chats at its end (`order`); the other parts that changed (`rest`).
 * Replaying lines in order over the snapshot they follow gives back the state exactly.
 */
import type { MessageDto } from "../../engine.ts";
import type { SimChat } from "./data.ts";
import type { SimulatorState } from "./state_file.ts";

/** The parts of the state beside the chats, each written whole when it changed. */
export type SimulatorRest = Omit<SimulatorState, "chats">;
const REST_KEYS = ["blocked", "profile", "labels", "channels", "ownStatuses"] as const;

/** Where the engine keeps its state: read in place, nothing copied. */
export interface SimulatorStateSource {
  chats: Map<string, SimChat>;
  rest(): SimulatorRest;
}

/** A nested object or array as it was written. */
class Nested {
  constructor(readonly text: string) {}
}

/** An object's fields as written: its own values, a nested object as its JSON text. */
interface Fields {
  values: Record<string, unknown>;
  count: number;
}

/** `value`'s fields as they are now, `skip` left out. */
function fieldsOf(value: object, skip?: string): Fields {
  const values: Record<string, unknown> = {};
  let count = 0;
  for (const [key, field] of Object.entries(value)) {
    if (key === skip) continue;
    values[key] = typeof field === "object" && field !== null
      ? new Nested(JSON.stringify(field))
      : field;
    count++;
  }
  return { values, count };
}

/** Whether `value` would be written as it was: each field the same (nested ones by their text). */
function unchanged(value: object, written: Fields, skip?: string): boolean {
  let count = 0;
  for (const key in value) {
    if (key === skip) continue;
    count++;
    const now = (value as Record<string, unknown>)[key];
    const then = written.values[key];
    if (now === then) continue;
    if (typeof now !== "object" || now === null || !(then instanceof Nested)) return false;
    if (JSON.stringify(now) !== then.text) return false;
  }
  return count === written.count;
}

/** A chat as it was written, and the objects it was read from (to trust appends). */
interface WrittenChat {
  chat: SimChat;
  messages: MessageDto[];
  /** The chat's fields without its messages. */
  meta: Fields;
  /** Each message's fields, in order. */
  fields: Fields[];
  /** The last message written. */
  tail: MessageDto | undefined;
}

export interface WrittenState {
  /** Remembers a state as written (loaded, or just written whole). */
  remember(state: SimulatorState): void;
  /**
   * The line of what changed since the last `diff` (or `remember`), null when nothing did, and
   * remembers the state as written. `chatIds`: only these chats changed, by new messages at their
   * end or their own fields; undefined: anything may have changed.
   */
  diff(source: SimulatorStateSource, chatIds?: Iterable<string>): string | null;
}

function withoutMessages(chat: SimChat): Omit<SimChat, "messages"> {
  const { messages: _, ...fields } = chat;
  return fields;
}

function writtenChat(chat: SimChat, meta: Fields, fields: Fields[]): WrittenChat {
  return { chat, messages: chat.messages, meta, fields, tail: chat.messages.at(-1) };
}

export function createWrittenState(): WrittenState {
  let chats = new Map<string, WrittenChat>();
  const rest: Record<string, string | undefined> = {};

  /**
   * The chat's change as line text (null if none), and what is now written of it. `appended`: the
   * caller knows only new messages were added at the end; trusted only if the chat and its array
   * are the objects written and the last message written is still where it was.
   */
  function diffChat(
    chat: SimChat,
    before: WrittenChat | undefined,
    appended: boolean,
  ): { change: string | null; now: WrittenChat } {
    const { messages } = chat;
    const old = before?.fields ?? [];
    const trusted = appended && before !== undefined && before.chat === chat &&
      before.messages === messages && messages.length >= old.length &&
      (old.length === 0 || messages[old.length - 1] === before.tail);
    const puts: string[] = [];
    let fields: Fields[];
    if (trusted) {
      fields = old;
    } else {
      fields = [];
      const kept = Math.min(old.length, messages.length);
      for (let i = 0; i < kept; i++) {
        const message = messages[i];
        if (unchanged(message, old[i])) {
          fields.push(old[i]);
        } else {
          fields.push(fieldsOf(message));
          puts.push(`[${i},${JSON.stringify(message)}]`);
        }
      }
    }
    for (let i = fields.length; i < messages.length; i++) {
      fields.push(fieldsOf(messages[i]));
      puts.push(`[${i},${JSON.stringify(messages[i])}]`);
    }
    const metaSame = before !== undefined && unchanged(chat, before.meta, "messages");
    const meta = metaSame ? before.meta : fieldsOf(chat, "messages");
    const now = writtenChat(chat, meta, fields);
    if (metaSame && puts.length === 0 && fields.length === old.length) {
      return { change: null, now };
    }
    const change = `{"id":${JSON.stringify(chat.id)}` +
      (metaSame ? "" : `,"meta":${JSON.stringify(withoutMessages(chat))}`) +
      `,"length":${fields.length},"put":[${puts.join(",")}]}`;
    return { change, now };
  }

  function diffAll(source: SimulatorStateSource): string[] {
    const parts: string[] = [];
    const changes: string[] = [];
    const next = new Map<string, WrittenChat>();
    for (const [id, chat] of source.chats) {
      const { change, now } = diffChat(chat, chats.get(id), false);
      if (change) changes.push(change);
      next.set(id, now);
    }
    const gone = [...chats.keys()].filter((id) => !next.has(id));
    // Replay keeps a kept chat's place and puts a new one at the end: say the order otherwise.
    const replayed = [...chats.keys()].filter((id) => next.has(id));
    for (const id of next.keys()) if (!chats.has(id)) replayed.push(id);
    const order = [...next.keys()];
    const reordered = order.some((id, i) => replayed[i] !== id);
    chats = next;
    if (changes.length > 0) parts.push(`"chats":[${changes.join(",")}]`);
    if (gone.length > 0) parts.push(`"gone":${JSON.stringify(gone)}`);
    if (reordered) parts.push(`"order":${JSON.stringify(order)}`);
    const now = source.rest();
    const restChanges: string[] = [];
    for (const key of REST_KEYS) {
      const text = JSON.stringify(now[key]);
      if (text === undefined || text === rest[key]) continue;
      rest[key] = text;
      restChanges.push(`${JSON.stringify(key)}:${text}`);
    }
    if (restChanges.length > 0) parts.push(`"rest":{${restChanges.join(",")}}`);
    return parts;
  }

  function diffChats(source: SimulatorStateSource, ids: Iterable<string>): string[] | null {
    const listed = [...ids];
    // A chat that went away is not an append: compare everything (before remembering any).
    if (listed.some((id) => !source.chats.has(id))) return null;
    const changes: string[] = [];
    for (const id of listed) {
      const chat = source.chats.get(id)!;
      const { change, now } = diffChat(chat, chats.get(id), true);
      if (change) changes.push(change);
      // A new chat goes at the end of both maps, as replay puts it.
      chats.set(id, now);
    }
    return changes.length > 0 ? [`"chats":[${changes.join(",")}]`] : [];
  }

  return {
    remember(state) {
      chats = new Map();
      for (const chat of state.chats) {
        chats.set(
          chat.id,
          writtenChat(chat, fieldsOf(chat, "messages"), chat.messages.map((m) => fieldsOf(m))),
        );
      }
      for (const key of REST_KEYS) rest[key] = JSON.stringify(state[key]);
    },
    diff(source, chatIds) {
      const parts = (chatIds && diffChats(source, chatIds)) ?? diffAll(source);
      return parts.length > 0 ? `{${parts.join(",")}}` : null;
    },
  };
}

interface ChatChange {
  id: string;
  meta?: Omit<SimChat, "messages">;
  length: number;
  put: [number, MessageDto][];
}

interface JournalLine {
  chats?: ChatChange[];
  gone?: string[];
  order?: string[];
  rest?: Partial<SimulatorRest>;
}

/** A line that does not fit the state it follows: the journal is not to be trusted from it on. */
export class UnfitLine extends Error {}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new UnfitLine(`A journal line does not fit: ${what}`);
}

const isObject = (value: unknown): value is object =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isIds = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((id) => typeof id === "string");

/** Throws `UnfitLine` unless `line` applies to `chats` as written (checked before any change). */
function checkLine(chats: Map<string, SimChat>, line: JournalLine): void {
  check(isObject(line), "not an object");
  check(line.chats === undefined || Array.isArray(line.chats), "chats not a list");
  check(line.gone === undefined || isIds(line.gone), "gone not a list of ids");
  check(line.order === undefined || isIds(line.order), "order not a list of ids");
  check(line.rest === undefined || isObject(line.rest), "the other parts not an object");
  const ids = new Set(chats.keys());
  const changed = new Set<string>();
  for (const change of line.chats ?? []) {
    check(isObject(change) && typeof change.id === "string", "a chat without an id");
    check(change.meta === undefined || isObject(change.meta), "a chat's fields not an object");
    check(!changed.has(change.id), `chat "${change.id}" twice`);
    changed.add(change.id);
    const old = chats.get(change.id);
    check(old !== undefined || change.meta !== undefined, `chat "${change.id}" unknown`);
    ids.add(change.id);
    const length = change.length;
    check(Number.isInteger(length) && length >= 0, "a message count");
    check(Array.isArray(change.put), "no messages");
    const put = new Set<number>();
    for (const entry of change.put) {
      check(Array.isArray(entry) && Number.isInteger(entry[0]), "an index");
      check(entry[0] >= 0 && entry[0] < length, "an index out of range");
      check(typeof entry[1] === "object" && entry[1] !== null, "a message");
      put.add(entry[0]);
    }
    // The messages below the old count are kept unless put; every new one is put.
    const kept = old?.messages.length ?? 0;
    for (let i = kept; i < length; i++) check(put.has(i), `message ${i} missing`);
  }
  for (const id of line.gone ?? []) ids.delete(id);
  if (line.order) {
    check(
      line.order.length === ids.size && new Set(line.order).size === ids.size &&
        line.order.every((id) => ids.has(id)),
      "an order that does not name every chat once",
    );
  }
}

/** Applies one journal line to `chats` and `rest` in place, or throws `UnfitLine` and changes nothing. */
export function applyLine(
  chats: Map<string, SimChat>,
  rest: Partial<SimulatorRest>,
  line: JournalLine,
): void {
  checkLine(chats, line);
  for (const change of line.chats ?? []) {
    const old = chats.get(change.id);
    const messages = old?.messages ?? [];
    let chat = old!;
    if (change.meta) {
      chat = { ...change.meta, id: change.id, messages };
      chats.set(change.id, chat);
    }
    messages.length = change.length;
    for (const [index, message] of change.put) messages[index] = message;
  }
  for (const id of line.gone ?? []) chats.delete(id);
  if (line.order) {
    const ordered = line.order.map((id) => chats.get(id)!);
    chats.clear();
    for (const chat of ordered) chats.set(chat.id, chat);
  }
  for (const key of REST_KEYS) {
    if (line.rest && key in line.rest) Object.assign(rest, { [key]: line.rest[key] });
  }
}
