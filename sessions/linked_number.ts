/**
 * @module
 * Whether the phone that linked is the session's number. A session is named by the number its
 * owner claimed; the account WhatsApp reports as `me` once linked must be that number, or anyone
 * could claim a number and link their own phone (or a user's wrong phone) under it. Numbers are
 * compared in the forms WhatsApp keeps for one line: Brazil's mobiles with and without their added
 * 9, Mexico's with and without their old 1.
 */
import type { Me } from "./engine.ts";

/** `<digits>@c.us` (or the protocol's `@s.whatsapp.net`), with an optional `:device` suffix. */
const PHONE_NUMBER_ID = /^(\d+)(?::\d+)?@(?:c\.us|s\.whatsapp\.net)$/;

/** The number of a phone-number id, or null for anything else (a `@lid`, a group). */
export function numberOf(id: string): string | null {
  return PHONE_NUMBER_ID.exec(id)?.[1] ?? null;
}

/** One spelling per line, for the numbers WhatsApp may know in an older form. */
function canonical(digits: string): string {
  // Brazilian mobiles gained a leading 9 (2012-2016); accounts from before keep the 8-digit id.
  const brazil = /^55(\d{2})9(\d{8})$/.exec(digits);
  if (brazil) return `55${brazil[1]}${brazil[2]}`;
  // Mexican mobiles were written with a 1 after the country code until 2019; older ids keep it.
  const mexico = /^521(\d{10})$/.exec(digits);
  if (mexico) return `52${mexico[1]}`;
  return digits;
}

export function sameNumber(a: string, b: string): boolean {
  return a === b || canonical(a) === canonical(b);
}

/**
 * Why the account in `me` may not run under `phoneNumber`, or null when it is that number. An
 * account whose number is unknown (no `me`, or a LID the engine could not resolve) is refused too:
 * a link that cannot be checked is not trusted.
 */
export function linkProblem(phoneNumber: string, me: Me | null | undefined): string | null {
  const linked = me ? numberOf(me.id) : null;
  if (linked === null) {
    return `Could not tell which number linked (WhatsApp reported ${
      me ? `"${me.id}"` : "no account"
    }): start again and scan with the phone of ${phoneNumber}`;
  }
  if (sameNumber(linked, phoneNumber)) return null;
  return `Linked as ${linked}, not ${phoneNumber}: scan with the phone of ${phoneNumber}`;
}
