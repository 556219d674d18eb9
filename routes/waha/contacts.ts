/**
 * @module
 * WAHA's contacts endpoints (`/api/contacts…`), which name the session in the query (`GET`) or
 * the body (`POST`): their guard holds the caller to that number and, in a cluster, forwards to
 * its owner (`requireSessionInBody`). Each makes the contract's session call for the same thing;
 * a contact is whatsapp-web.js's `Contact`, as WAHA's WEBJS engine answers it.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AuthGuards } from "../../middleware/guards.ts";
import type { AppEnv } from "../../middleware/principal.ts";
import type { SessionManager } from "../../sessions/manager.ts";
import {
  CheckNumberStatusQuery,
  ContactQuery,
  ContactRequest,
  SessionQuery,
  WANumberExistResult,
  WEBJSContact,
} from "../../waha/schemas.ts";
import { createRouter } from "../router.ts";
import { Jid, jsonResponse, PhoneDigits, SECURED } from "../schemas.ts";
import { inWahaShape, sessionNumber, toContractInput, WAHA_TAG, wahaRoute } from "./dialect.ts";
import { toWebjsContact } from "./shapes.ts";

const tags = [WAHA_TAG];
const ContactRef = z.object({ contactId: Jid });
const PhoneRef = z.object({ phone: PhoneDigits });

const getRoute = <Q extends z.ZodObject, R extends z.ZodType>(
  path: string,
  summary: string,
  query: Q,
  response: R,
) =>
  wahaRoute({
    method: "get",
    path,
    tags,
    summary: `WAHA: ${summary}`,
    security: SECURED,
    request: { query },
    responses: { 200: jsonResponse(response, "Found") },
  });

const checkRoute = getRoute(
  "/contacts/check-exists",
  "whether a phone number is on WhatsApp",
  CheckNumberStatusQuery,
  WANumberExistResult,
);
const aboutRoute = getRoute(
  "/contacts/about",
  "a contact's about text (null when hidden)",
  ContactQuery,
  z.object({ about: z.string().nullable() }),
);
const pictureRoute = getRoute(
  "/contacts/profile-picture",
  "a contact's profile picture URL (null when hidden)",
  ContactQuery,
  z.object({ profilePictureURL: z.string().nullable() }),
);
const allRoute = getRoute(
  "/contacts/all",
  "all contacts (whatsapp-web.js's, as WAHA's WEBJS engine answers them)",
  SessionQuery,
  z.array(WEBJSContact),
);
const oneRoute = getRoute(
  "/contacts",
  "one contact (whatsapp-web.js's, as WAHA's WEBJS engine answers it)",
  ContactQuery,
  WEBJSContact,
);

const blockAction = (action: "block" | "unblock") =>
  wahaRoute({
    method: "post",
    path: `/contacts/${action}`,
    tags,
    summary: `WAHA: ${action} a contact`,
    security: SECURED,
    request: {
      body: { required: true, content: { "application/json": { schema: ContactRequest } } },
    },
    responses: { 201: { description: "Done (no body)" } },
  });
const blockRoute = blockAction("block");
const unblockRoute = blockAction("unblock");

export function createWahaContactRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  const routes = [
    checkRoute,
    aboutRoute,
    pictureRoute,
    allRoute,
    oneRoute,
    blockRoute,
    unblockRoute,
  ];
  const session = (c: Context<AppEnv>, name: string | undefined) =>
    manager.session(sessionNumber(name), c.get("principal"));
  /** The session's own chat id (its contact is `isMe`). */
  const ownId = (phoneNumber: string) => `${phoneNumber}@c.us`;
  const contactOf = (contactId: string) => toContractInput(ContactRef, { contactId }).contactId;

  return inWahaShape(createRouter(), ...routes)
    .guard(guards.requireSessionInBody(), ...routes)
    .openapi(checkRoute, async (c) => {
      const query = c.req.valid("query");
      // WAHA takes a number or a chat id (`…@c.us`) here.
      const { phone } = toContractInput(PhoneRef, { phone: query.phone.split("@")[0] });
      const result = await session(c, query.session).checkNumber(phone);
      return c.json({
        numberExists: result.exists,
        ...(result.chatId ? { chatId: result.chatId } : {}),
      }, 200);
    })
    .openapi(aboutRoute, async (c) => {
      const query = c.req.valid("query");
      const about = await session(c, query.session).getContactAbout(contactOf(query.contactId));
      return c.json({ about }, 200);
    })
    .openapi(pictureRoute, async (c) => {
      const query = c.req.valid("query");
      const contactId = contactOf(query.contactId);
      const url = await session(c, query.session).getProfilePictureUrl(contactId);
      return c.json({ profilePictureURL: url }, 200);
    })
    .openapi(allRoute, async (c) => {
      const phoneNumber = sessionNumber(c.req.valid("query").session);
      const contacts = await session(c, phoneNumber).listContacts();
      return c.json(contacts.map((contact) => toWebjsContact(contact, ownId(phoneNumber))), 200);
    })
    .openapi(oneRoute, async (c) => {
      const query = c.req.valid("query");
      const phoneNumber = sessionNumber(query.session);
      const contact = await session(c, phoneNumber).getContact(contactOf(query.contactId));
      return c.json(toWebjsContact(contact, ownId(phoneNumber)), 200);
    })
    .openapi(blockRoute, async (c) => {
      const body = c.req.valid("json");
      await session(c, body.session).blockContact(contactOf(body.contactId));
      return c.body(null, 201);
    })
    .openapi(unblockRoute, async (c) => {
      const body = c.req.valid("json");
      await session(c, body.session).unblockContact(contactOf(body.contactId));
      return c.body(null, 201);
    });
}
