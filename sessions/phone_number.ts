/**
 * @module
 * What a session's name looks like: its WhatsApp number, 7 to 15 digits (E.164 without the `+`).
 * One rule for every layer that meets a number: the routes' validation, the guard that scopes an
 * account to its numbers, the manager (which makes a folder of it), the inbound webhooks.
 */
import { badRequest } from "../errors.ts";

/** Digits only, 7 to 15 of them. */
export const PHONE_NUMBER = /^\d{7,15}$/;

/** What a value that is not a phone number is told, after the field's name. */
export const PHONE_NUMBER_EXPECTED = "expected 7 to 15 digits";

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
