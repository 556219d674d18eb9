/**
 * @module
 * Phone numbers, the one way every layer reads them. A session's name is its WhatsApp number, 7
 * to 15 digits (E.164 without the `+`): the routes' validation, the guard that scopes an account
 * to its numbers, the manager (which makes a folder of it) and the inbound webhooks check it here.
 * Someone else's number, as people write and paste it into a body or a query (`+49 170 123-4567`,
 * `0049 170 1234567`), becomes its digits through `parsePhone`, the one function that reads it.
 */
import { badRequest } from "../errors.ts";

/** Digits only, 7 to 15 of them. */
export const PHONE_NUMBER = /^\d{7,15}$/;

/** What a value that is not a phone number is told, after the field's name. */
export const PHONE_NUMBER_EXPECTED = "expected 7 to 15 digits";

/** E.164: a number has at most 15 digits, country code included. */
export const MAX_PHONE_DIGITS = 15;
/** Shorter than this is no one's number (short codes included). */
const MIN_PHONE_DIGITS = 5;

/** What people paste around the digits: spaces (no-break ones too), dashes, dots, parentheses. */
const FORMATTING = /[\s.()-]/g;

/** The forms an id can take, for the messages that refuse one. */
export const ID_FORMS =
  "491701234567, +491701234567, 491701234567@c.us, a group's …@g.us or a …@lid";

export type PhoneParse =
  | { ok: true; digits: string }
  | {
    ok: false;
    problem: string; /** Too many digits: may be a group id without `@g.us`. */
    tooLong?: boolean;
  };

/**
 * Someone's phone number as written by a person: the formatting goes, and so does the
 * international prefix (`+` or `00`); what is left must be 5 to 15 digits that start with the
 * country code (a leading `0` is a national prefix, which WhatsApp cannot place).
 */
export function parsePhone(value: string): PhoneParse {
  const match = /^(?:\+|00)?(\d+)$/.exec(value.trim().replace(FORMATTING, ""));
  if (!match) return { ok: false, problem: "not a phone number" };
  const digits = match[1];
  if (digits.length > MAX_PHONE_DIGITS) {
    return {
      ok: false,
      tooLong: true,
      problem: `${digits.length} digits are more than a phone number has (${MAX_PHONE_DIGITS})`,
    };
  }
  if (digits.length < MIN_PHONE_DIGITS) {
    return { ok: false, problem: `${digits.length} digits are too few for a phone number` };
  }
  if (digits.startsWith("0")) {
    return {
      ok: false,
      problem: "a number starts with its country code, not 0 (491701234567 or +491701234567)",
    };
  }
  return { ok: true, digits };
}

/** Whether `value` can name a session. */
export function isPhoneNumber(value: string): boolean {
  return PHONE_NUMBER.test(value);
}

/** Throws `400` naming `phoneNumber` unless it can name a session. */
export function assertPhoneNumber(phoneNumber: string): void {
  if (!isPhoneNumber(phoneNumber)) {
    throw badRequest(`Invalid phoneNumber "${phoneNumber}": ${PHONE_NUMBER_EXPECTED}`);
  }
}
