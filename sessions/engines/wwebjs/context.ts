/**
 * @module
 * What the wwebjs capability modules share: the running session they call through (the client,
 * who we are, a call refused once the session ended), the lookups that turn a missing chat,
 * group, contact or message into NOT_FOUND, and small error helpers.
 */
import { notFound } from "../../engine.ts";
import { type Lib, toGroupDto } from "./mappers.ts";

/** The running session, as the capability modules see it. */
export interface WwebjsContext {
  /** The whatsapp-web.js client (valid once `ready()` passed). */
  readonly client: Lib;
  /** Our own serialized id, once linked. */
  meId(): string | null;
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

/** Whether `chatId` is a group in which we are an admin. */
export async function iAmAdminOf(ctx: WwebjsContext, chatId: string): Promise<boolean> {
  if (!chatId.endsWith("@g.us")) return false;
  const group = toGroupDto(await findGroup(ctx, chatId));
  return group.participants.some((p) => p.id === ctx.meId() && p.isAdmin);
}

export async function findContact(ctx: WwebjsContext, contactId: string): Promise<Lib> {
  ctx.ready();
  const contact = await ctx.call(() => ctx.client.getContactById(contactId));
  if (
    !contact ||
    (!contact.isWAContact && !contact.isMyContact && !contact.name && !contact.pushname)
  ) {
    throw notFound(`Contact "${contactId}" not found`);
  }
  return contact;
}

export async function findMessage(ctx: WwebjsContext, messageId: string): Promise<Lib> {
  ctx.ready();
  let msg: Lib;
  try {
    msg = await ctx.call(() => ctx.client.getMessageById(messageId));
  } catch {
    msg = null;
  }
  if (!msg) throw notFound(`Message "${messageId}" not found`);
  return msg;
}
