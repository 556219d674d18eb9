/**
 * @module
 * The message actions posted to `/{phoneNumber}/<action>`: sending a location, sending a contact
 * card (built server-side from a name and a number, or passed as vCard), reacting to a message,
 * marking a chat seen and the typing indicator. Revoking and editing are in `message_edits.ts`,
 * checking a number and downloading media in `message_lookups.ts`.
 */
import { z } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SendContactInput, SendLocationInput } from "../sessions/engine.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { createRouter } from "./router.ts";
import { Jid, MessageId, SentMessageSchema, sessionPostRoute, SuccessSchema } from "./schemas.ts";
import { buildVCard } from "./vcard.ts";

const quoted = MessageId.optional().openapi({ description: "The message this one replies to" });

const SendLocationSchema = z.object({
  chatId: Jid,
  latitude: z.number().min(-90).max(90).openapi({ example: 52.520008 }),
  longitude: z.number().min(-180).max(180).openapi({ example: 13.404954 }),
  name: z.string().min(1).max(256).optional().openapi({ example: "Alexanderplatz" }),
  address: z.string().min(1).max(512).optional().openapi({ example: "10178 Berlin" }),
  quotedMsgId: quoted,
}).openapi("SendLocation");

const ContactCardSchema = z.object({
  name: z.string().trim().min(1).max(256).openapi({ example: "Alice" }),
  phone: z.string().regex(/^\+?[\d ()-]{5,30}$/, "expected a phone number such as +15550000001")
    .refine((value) => value.replace(/\D/g, "").length >= 5, "expected at least 5 digits")
    .openapi({ example: "+15550000001" }),
  organization: z.string().max(256).optional(),
  email: z.email().optional(),
}).openapi("ContactCard");

const SendContactSchema = z.object({
  chatId: Jid,
  contact: ContactCardSchema.optional().openapi({
    description: "Name and number; the server builds the vCard. Give this or `vcard`",
  }),
  // Case-sensitive like whatsapp-web.js, which sends anything else as a plain text message.
  vcard: z.string().max(65_536).regex(/^BEGIN:VCARD/, "expected text starting with BEGIN:VCARD")
    .optional().openapi({ description: "A ready vCard 3.0. Give this or `contact`" }),
  quotedMsgId: quoted,
}).superRefine((body, ctx) => {
  if ((body.contact === undefined) === (body.vcard === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["contact"],
      message: "give exactly one of contact and vcard",
    });
  }
}).openapi("SendContact", {
  example: { chatId: "15550000001@c.us", contact: { name: "Bob", phone: "+15550000002" } },
});

const SendReactionSchema = z.object({
  messageId: MessageId,
  emoji: z.string().max(32).openapi({
    example: "👍",
    description: "The reaction; an empty string removes yours",
  }),
}).openapi("SendReaction");

const SendSeenSchema = z.object({ chatId: Jid }).openapi("SendSeen");

const TypingSchema = z.object({
  chatId: Jid,
  state: z.enum(["typing", "recording", "paused"]).openapi({ example: "typing" }),
}).openapi("Typing");

export function createMessageActionRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  const owned = guards.requireSingleAccountProtected();
  const sent = { response: SentMessageSchema, description: "Sent" };
  const done = { response: SuccessSchema, description: "Done" };
  const route = <T extends z.ZodType, R extends z.ZodType>(
    action: string,
    summary: string,
    body: T,
    response: { response: R; description: string },
  ) => sessionPostRoute({ action, tag: "Messaging", summary, body, ...response, guard: owned });

  const locationRoute = route("send-location", "Send a location", SendLocationSchema, sent);
  const contactRoute = route("send-contact", "Send a contact card", SendContactSchema, sent);
  const reactionRoute = route(
    "send-reaction",
    "React to a message (an empty emoji removes the reaction)",
    SendReactionSchema,
    done,
  );
  const seenRoute = route("send-seen", "Mark a chat as read", SendSeenSchema, done);
  const typingRoute = route(
    "typing",
    "Show typing or recording in a chat, or stop (paused)",
    TypingSchema,
    done,
  );

  return createRouter()
    .openapi(locationRoute, async (c) => {
      const input: SendLocationInput = c.req.valid("json");
      const { phoneNumber } = c.req.valid("param");
      return c.json(
        await manager.session(phoneNumber, c.get("principal")).sendLocation(input),
        200,
      );
    })
    .openapi(contactRoute, async (c) => {
      const { chatId, contact, vcard, quotedMsgId } = c.req.valid("json");
      const input: SendContactInput = {
        chatId,
        vcard: contact ? buildVCard(contact) : vcard!,
        ...(quotedMsgId === undefined ? {} : { quotedMsgId }),
      };
      const { phoneNumber } = c.req.valid("param");
      return c.json(await manager.session(phoneNumber, c.get("principal")).sendContact(input), 200);
    })
    .openapi(reactionRoute, async (c) => {
      const { messageId, emoji } = c.req.valid("json");
      await manager.session(c.req.valid("param").phoneNumber, c.get("principal")).sendReaction(
        messageId,
        emoji,
      );
      const message = emoji === "" ? "Reaction removed" : `Reacted with ${emoji}`;
      return c.json({ success: true, message }, 200);
    })
    .openapi(seenRoute, async (c) => {
      const { chatId } = c.req.valid("json");
      await manager.session(c.req.valid("param").phoneNumber, c.get("principal")).sendSeen(chatId);
      return c.json({ success: true, message: `Chat "${chatId}" marked as read` }, 200);
    })
    .openapi(typingRoute, async (c) => {
      const { chatId, state } = c.req.valid("json");
      await manager.session(c.req.valid("param").phoneNumber, c.get("principal")).setTyping(
        chatId,
        state,
      );
      return c.json({ success: true, message: `Chat "${chatId}" shows ${state}` }, 200);
    });
}
