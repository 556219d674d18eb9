/**
 * @module
 * What the wwebjs capability modules share: the running session they call through (the client,
 * who we are, a call refused once the session ended, the LID book), the lookups that turn a
 * missing chat, group, contact or message into NOT_FOUND (a contact or message named by the
 * user's other id included), and small error helpers.
 */
import { notFound } from "../../engine.ts";
import { type Lib, serialized, toGroupDto } from "./mappers.ts";
import { type LidBook, messageIdVariants } from "./lids.ts";

/** The running session, as the capability modules see it. */
export interface WwebjsContext {
  /** The whatsapp-web.js client (valid once `ready()` passed). */
  readonly client: Lib;
  /** Our own serialized id, once linked. */
  meId(): string | null;
  /** Whether an id is the linked account, by its phone number or its LID. */
  isMe(id: string): boolean;
  /** Which LIDs and phone-number ids belong together. */
  readonly lids: LidBook;
  /** Throws NOT_READY unless the library's client is up (see `WwebjsSession.ready`). */
  ready(): void;
  /** Runs one library call, refused once the session ended (the manager bounds its time). */
  call(fn: () => Lib): Promise<Lib>;
  /** Records our new display name (the library reads it only once, at ready). */
  setPushName(name: string): void;
  /**
   * Marks a send through the API to `chatId` as under way until the returned function is called:
   * our own messages created in that chat meanwhile are reported with `source: "api"`.
   */
  sending(chatId: string): () => void;
  /**
   * Resolves once every message event that happened so far has been emitted (they are emitted in
   * order, each after its LIDs were looked up): a send answers after its own `message.any`.
   */
  settled(): Promise<void>;
}

export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`The call did not finish within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

/**
 * WhatsApp Web throws (rather than answering "none") for a user it cannot map to an account:
 * "No LID for user", "wid error", "invalid wid". That is a 404 for us, not a crash.
 */
export function unknownUserError(error: unknown, id: string): Error | null {
  return /No LID for user|wid error|invalid wid/i.test(describeError(error))
    ? notFound(`"${id}" is not on WhatsApp`)
    : null;
}

export async function findChat(ctx: WwebjsContext, chatId: string): Promise<Lib> {
  ctx.ready();
  const chat = await ctx.call(() => ctx.client.getChatById(chatId)).catch((error) => {
    throw unknownUserError(error, chatId) ?? error;
  });
  if (!chat || (!Number(chat.timestamp ?? 0) && !chat.lastMessage && !chat.isGroup)) {
    throw notFound(`Chat "${chatId}" not found`);
  }
  return chat;
}

export async function findGroup(ctx: WwebjsContext, groupId: string): Promise<Lib> {
  const chat = await findChat(ctx, groupId);
  if (!chat.isGroup) throw notFound(`Group "${groupId}" not found`);
  return chat;
}

/** Whether `chatId` is a group in which we are an admin (listed by our number or our LID). */
export async function iAmAdminOf(ctx: WwebjsContext, chatId: string): Promise<boolean> {
  if (!chatId.endsWith("@g.us")) return false;
  const group = toGroupDto(await findGroup(ctx, chatId));
  return group.participants.some((p) => ctx.isMe(p.id) && p.isAdmin);
}

function isKnownContact(contact: Lib): boolean {
  return !!contact &&
    !!(contact.isWAContact || contact.isMyContact || contact.name || contact.pushname);
}

/** A contact by its phone number or its LID: WhatsApp Web may hold it under the other one. */
export async function findContact(ctx: WwebjsContext, contactId: string): Promise<Lib> {
  ctx.ready();
  const contact = await ctx.call(() => ctx.client.getContactById(contactId));
  if (isKnownContact(contact)) return contact;
  await ctx.lids.resolve([contactId]);
  const other = ctx.lids.alternate(contactId);
  if (other) {
    const found = await ctx.call(() => ctx.client.getContactById(other));
    if (isKnownContact(found)) return found;
  }
  throw notFound(`Contact "${contactId}" not found`);
}

/**
 * A message by its serialized id, in whichever form its chat (and participant) are written: the
 * id of a message in a LID chat may come with the phone number, and the other way round.
 */
export async function findMessage(ctx: WwebjsContext, messageId: string): Promise<Lib> {
  ctx.ready();
  const parts = messageId.split("_");
  await ctx.lids.resolve([parts[1], parts[3]]);
  for (const id of messageIdVariants(messageId, ctx.lids)) {
    let msg: Lib = null;
    try {
      msg = await ctx.call(() => ctx.client.getMessageById(id));
    } catch {
      msg = null;
    }
    if (msg) return msg;
  }
  throw notFound(`Message "${messageId}" not found`);
}

/** Whether a message belongs to the chat named (in either of its forms). */
export function inChat(ctx: WwebjsContext, msg: Lib, chatId: string): boolean {
  return ctx.lids.same(serialized(msg.id?.remote), chatId);
}
