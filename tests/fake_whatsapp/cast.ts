/**
 * @module
 * The people and groups the whatsapp-web.js tests talk about, and the assertion they share for
 * engine errors.
 */
import assert from "node:assert/strict";
import { EngineError, type EngineErrorKind } from "../../sessions/engine.ts";

/** The linked account. */
export const ME = "4915550001@c.us";
export const ALICE = "4915550002@c.us";
export const BOB = "4915550003@c.us";
export const CAROL = "4915550004@c.us";
/** On WhatsApp, but only accepts group invitations. */
export const DAVE = "4915550005@c.us";
/** Not on WhatsApp. */
export const NOBODY = "4915550009@c.us";
/** A group we are the admin of. */
export const TEAM = "120363000000000001@g.us";
/** Alice's group: we are a plain member, and only admins may edit its info. */
export const CLUB = "120363000000000002@g.us";
/** The linked account's LID. */
export const ME_LID = "900000000000001@lid";
/** Alice's LID: WhatsApp Web knows her phone number. */
export const ALICE_LID = "100000000000002@lid";
/** Bob's LID: only WhatsApp's server tells his number, when asked. */
export const BOB_LID = "100000000000003@lid";
/** Erin, known only by her LID: no phone number is ever told. */
export const ERIN_LID = "100000000000009@lid";
/** A group that writes its members by LID. */
export const NEIGHBOURS = "120363000000000003@g.us";
/** A 1x1 PNG, base64. */
export const PIXEL_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

/** Asserts the promise rejects with an engine error of this kind (and message, when given). */
export async function expectEngineError(
  promise: Promise<unknown>,
  kind: EngineErrorKind,
  message?: string | RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof EngineError, String((error as Error)?.message ?? error));
    assert.equal(error.kind, kind, error.message);
    if (typeof message === "string") assert.equal((error as Error).message, message);
    else if (message) assert.match((error as Error).message, message);
    return true;
  });
}
