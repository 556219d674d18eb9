/**
 * @module
 * The message actions posted to `/{phoneNumber}/<action>`: sending a location, sending a contact
 * card (built server-side from a name and a number, or passed as vCard), reacting to a message,
 * marking a chat seen and the typing indicator. Revoking and editing are in `message_edits.ts`,
 * checking a number and downloading media in `message_lookups.ts`.
 */
import { z } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import {
  SendContactSchema,
  SendLocationSchema,
  SendReactionSchema,
  toSendContactInput,
  TypingSchema,
} from "./engine_inputs.ts";
import { createRouter } from "./router.ts";
import { Jid, SentMessageSchema, sessionPostRoute, SuccessSchema } from "./schemas.ts";

const SendSeenSchema = z.object({ chatId: Jid }).openapi("SendSeen");

// What sends a message takes an Idempotency-Key; marking read and typing are harmless to repeat.
const sent = { response: SentMessageSchema, description: "Sent", idempotent: true };
const reacted = { response: SuccessSchema, description: "Done", idempotent: true };
const done = { response: SuccessSchema, description: "Done" };
const route = <T extends z.ZodType, R extends z.ZodType>(
  action: string,
  summary: string,
  body: T,
  response: { response: R; description: string; idempotent?: boolean },
) => sessionPostRoute({ action, tag: "Messaging", summary, body, ...response });

const locationRoute = route("send-location", "Send a location", SendLocationSchema, sent);
const contactRoute = route("send-contact", "Send a contact card", SendContactSchema, sent);
const reactionRoute = route(
  "send-reaction",
  "React to a message (an empty emoji removes the reaction)",
  SendReactionSchema,
  reacted,
);
const seenRoute = route("send-seen", "Mark a chat as read", SendSeenSchema, done);
const typingRoute = route(
  "typing",
  "Show typing or recording in a chat, or stop (paused)",
  TypingSchema,
  done,
);

export function createMessageActionRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  const routes = [locationRoute, contactRoute, reactionRoute, seenRoute, typingRoute];

  return createRouter()
    .guard(guards.requireSingleAccountProtected(), ...routes)
    .openapi(locationRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(await session.sendLocation(c.req.valid("json")), 200);
    })
    .openapi(contactRoute, async (c) => {
      const input = toSendContactInput(c.req.valid("json"));
      const { phoneNumber } = c.req.valid("param");
      return c.json(await manager.session(phoneNumber, c.get("principal")).sendContact(input), 200);
    })
    .openapi(reactionRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const reaction = c.req.valid("json");
      await manager.session(phoneNumber, c.get("principal")).sendReaction(reaction);
      const { emoji } = reaction;
      const message = emoji === "" ? "Reaction removed" : `Reacted with ${emoji}`;
      return c.json({ success: true, message }, 200);
    })
    .openapi(seenRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const { chatId } = c.req.valid("json");
      await manager.session(phoneNumber, c.get("principal")).sendSeen(chatId);
      return c.json({ success: true, message: `Chat "${chatId}" marked as read` }, 200);
    })
    .openapi(typingRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const typing = c.req.valid("json");
      await manager.session(phoneNumber, c.get("principal")).setTyping(typing);
      const { chatId, state } = typing;
      return c.json({ success: true, message: `Chat "${chatId}" shows ${state}` }, 200);
    });
}
