/**
 * @module
 * WhatsApp's LIDs as the wwebjs engine sees them. WhatsApp Web writes many users by a LID
 * (`<digits>@lid`) instead of their phone number: LID chats, LID-addressed groups' members and
 * authors, contacts known only by LID. Which LID and phone-number id (`<digits>@c.us`) belong
 * together is what WhatsApp Web's own LID module (`WAWebApiContact`) says; the book asks the page
 * and keeps the answers for the session. With it the engine accepts either form wherever a
 * contact or chat is named, compares ids whatever form each came in, and puts the phone number
 * beside every LID it reports (beside, not instead, as WAHA does).
 */
import type { ChatSummary, ContactDto, GroupDto, LidMapping, MessageDto } from "../../engine.ts";
import type { Lib } from "./mappers.ts";

/** How long a LID or number WhatsApp Web could not map is not asked about again (ms). */
const UNKNOWN_TTL_MS = 10_000;

export function isLid(id: string): boolean {
  return id.endsWith("@lid");
}

export function isPhoneNumberId(id: string): boolean {
  return id.endsWith("@c.us");
}

function isUserId(id: string): boolean {
  return isLid(id) || isPhoneNumberId(id);
}

/** Asks the page for the pairs of some ids: `[lid, pn]` each, either null when unknown. */
export type LidLookup = (ids: string[]) => Promise<[string | null, string | null][]>;

/** The session's LID ↔ phone-number pairs, learnt from the page. */
export class LidBook {
  readonly #lookup: LidLookup;
  readonly #pnOfLid = new Map<string, string>();
  readonly #lidOfPn = new Map<string, string>();
  readonly #unknownUntil = new Map<string, number>();

  constructor(lookup: LidLookup) {
    this.#lookup = lookup;
  }

  learn(lid: string, pn: string): void {
    if (!isLid(lid) || !isPhoneNumberId(pn)) return;
    this.#pnOfLid.set(lid, pn);
    this.#lidOfPn.set(pn, lid);
    this.#unknownUntil.delete(lid);
    this.#unknownUntil.delete(pn);
  }

  /** The phone-number id of a user id (itself for a phone-number id), when known. */
  pn(id: string): string | undefined {
    return isLid(id) ? this.#pnOfLid.get(id) : isPhoneNumberId(id) ? id : undefined;
  }

  /** The LID of a user id (itself for a LID), when known. */
  lid(id: string): string | undefined {
    return isPhoneNumberId(id) ? this.#lidOfPn.get(id) : isLid(id) ? id : undefined;
  }

  /** The same user's other id, when known. */
  alternate(id: string): string | undefined {
    return isLid(id) ? this.#pnOfLid.get(id) : this.#lidOfPn.get(id);
  }

  /** Whether two ids name the same chat or user, in whichever forms they came. */
  same(a: string, b: string): boolean {
    return a === b || (!!a && this.alternate(a) === b);
  }

  /** Asks the page about the user ids not known yet (one call for all of them). */
  async resolve(ids: Iterable<string | null | undefined>): Promise<void> {
    const now = Date.now();
    const wanted = [...new Set([...ids].filter((id): id is string => !!id && isUserId(id)))]
      .filter((id) => this.alternate(id) === undefined && (this.#unknownUntil.get(id) ?? 0) < now);
    if (!wanted.length) return;
    let pairs: [string | null, string | null][] = [];
    try {
      pairs = await this.#lookup(wanted);
    } catch {
      // Not answered: the ids stay unmapped for now.
    }
    for (const [lid, pn] of pairs) if (lid && pn) this.learn(lid, pn);
    for (const id of wanted) {
      if (this.alternate(id) === undefined) this.#unknownUntil.set(id, now + UNKNOWN_TTL_MS);
    }
  }

  // ---------- the phone number beside the LID ----------

  /** A message with the phone-number id beside each of its LIDs whose number is known. */
  message(m: MessageDto): MessageDto {
    const out = { ...m };
    const chatPn = this.#pnBeside(m.chatId);
    if (chatPn) out.chatPn = chatPn;
    const fromPn = this.#pnBeside(m.from);
    if (fromPn) out.fromPn = fromPn;
    const toPn = this.#pnBeside(m.to);
    if (toPn) out.toPn = toPn;
    const authorPn = m.author ? this.#pnBeside(m.author) : undefined;
    if (authorPn) out.authorPn = authorPn;
    return out;
  }

  chat<T extends ChatSummary>(c: T): T {
    const pn = this.#pnBeside(c.id);
    return pn ? { ...c, pn } : c;
  }

  /** A contact with its other id beside its id, and its number when known (else ""). */
  contact(c: ContactDto): ContactDto {
    if (!isUserId(c.id)) return c;
    const out = { ...c };
    const pn = this.pn(c.id);
    const lid = this.lid(c.id);
    if (isLid(c.id) && pn) out.pn = pn;
    if (isPhoneNumberId(c.id) && lid) out.lid = lid;
    // whatsapp-web.js takes the number from the id's user part: a LID's is not a phone number.
    out.number = pn ? pn.slice(0, pn.indexOf("@")) : "";
    return out;
  }

  group<T extends GroupDto>(g: T): T {
    const out = {
      ...g,
      participants: g.participants.map((p) => {
        const q = { ...p };
        if (isLid(p.id) && this.pn(p.id)) q.pn = this.pn(p.id);
        if (isPhoneNumberId(p.id) && this.lid(p.id)) q.lid = this.lid(p.id);
        return q;
      }),
    };
    const ownerPn = g.owner ? this.#pnBeside(g.owner) : undefined;
    if (ownerPn) out.ownerPn = ownerPn;
    return out;
  }

  #pnBeside(id: string): string | undefined {
    return isLid(id) ? this.#pnOfLid.get(id) : undefined;
  }
}

/** The user ids a message names. */
export function idsOfMessage(m: MessageDto): string[] {
  return [m.chatId, m.from, m.to, m.author ?? ""];
}

/** The user ids a group names. */
export function idsOfGroup(g: GroupDto): string[] {
  return [g.owner ?? "", ...g.participants.map((p) => p.id)];
}

/**
 * The other spellings of a serialized message id (`<fromMe>_<chat>_<id>[_<participant>]`): the
 * chat and the participant by their other id. A message is stored under one of them.
 */
export function messageIdVariants(id: string, book: LidBook): string[] {
  const parts = id.split("_");
  if (parts.length !== 3 && parts.length !== 4) return [id];
  const [fromMe, remote, stanza, participant] = parts;
  const remotes = [remote, book.alternate(remote)].filter((x): x is string => !!x);
  const participants = participant === undefined
    ? [undefined]
    : [participant, book.alternate(participant)].filter((x): x is string => !!x);
  const out: string[] = [];
  for (const r of remotes) {
    for (const p of participants) {
      out.push([fromMe, r, stanza, ...(p === undefined ? [] : [p])].join("_"));
    }
  }
  return [...new Set(out)];
}

/** The user ids a serialized message id names (its chat and participant). */
export function idsOfMessageId(id: string): string[] {
  const parts = id.split("_");
  return [parts[1] ?? "", parts[3] ?? ""];
}

/** Runs in the page: each id's `[lid, pn]` as WhatsApp Web's LID module knows them. */
export function pageLidPairs(ids: string[]): [string | null, string | null][] {
  const page = globalThis as Lib;
  const { createWid } = page.require("WAWebWidFactory");
  const api = page.require("WAWebApiContact");
  return ids.map((id): [string | null, string | null] => {
    const w = createWid(id);
    if (w.server === "lid") return [id, api.getPhoneNumber(w)?._serialized ?? null];
    if (w.server === "c.us") return [api.getCurrentLid(w)?._serialized ?? null, id];
    return [null, null];
  });
}

/**
 * Runs in the page: every LID WhatsApp Web holds (contacts, chats, group members, and the LIDs of
 * the numbers among them), each with its phone number when known.
 */
export function pageAllLids(): LidMapping[] {
  const page = globalThis as Lib;
  const { Contact, Chat, GroupMetadata } = page.require("WAWebCollections");
  const { createWid } = page.require("WAWebWidFactory");
  const api = page.require("WAWebApiContact");
  const ids = new Set<string>();
  const add = (w: Lib) => {
    const id = typeof w === "string" ? w : w?._serialized;
    if (id) ids.add(id);
  };
  for (const c of Contact.getModelsArray()) add(c.id);
  for (const c of Chat.getModelsArray()) add(c.id);
  for (const g of GroupMetadata.getModelsArray()) {
    for (const p of g.participants.getModelsArray()) add(p.id);
  }
  const found = new Map<string, string | null>();
  for (const id of ids) {
    const w = createWid(id);
    if (w.server === "lid") {
      found.set(id, api.getPhoneNumber(w)?._serialized ?? found.get(id) ?? null);
    } else if (w.server === "c.us") {
      const lid = api.getCurrentLid(w)?._serialized;
      if (lid) found.set(lid, id);
    }
  }
  return [...found].map(([lid, pn]) => ({ lid, pn }));
}
