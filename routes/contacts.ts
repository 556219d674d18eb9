/**
 * @module
 * Contact routes: the address book, one contact, a contact's profile picture URL (`null` when
 * their privacy settings hide it), and blocking or unblocking a contact.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  Jid,
  jidParam,
  jsonBody,
  jsonResponse,
  lidBeside,
  PhoneParams,
  pnBeside,
  SECURED,
  SESSION_CALL_ERRORS,
  SuccessSchema,
} from "./schemas.ts";

const ContactSchema = z.object({
  id: z.string().openapi({ example: "15550000001@c.us" }),
  pn: pnBeside("For a contact known by its LID: its phone-number id, when known"),
  lid: lidBeside("For a contact known by its phone number: its LID, when known"),
  number: z.string().openapi({
    example: "15550000001",
    description: "The phone number's digits; empty for a LID whose number is not known",
  }),
  name: z.string().nullable().openapi({ example: "Alice", description: "From your address book" }),
  pushname: z.string().nullable().openapi({ example: "alice", description: "Their own name" }),
  isMyContact: z.boolean(),
  isBusiness: z.boolean(),
  isBlocked: z.boolean(),
  isGroup: z.boolean(),
  isUser: z.boolean(),
}).openapi("Contact");

const ContactListSchema = z.object({ contacts: z.array(ContactSchema) }).openapi("ContactList");

const PictureSchema = z.object({
  url: z.string().nullable().openapi({
    example: "https://pps.whatsapp.net/v/t61.24694-24/example.jpg",
    description: "null when there is no picture or their privacy settings hide it",
  }),
}).openapi("ProfilePicture");

const ContactBodySchema = z.object({ contactId: Jid }).openapi("ContactRef");
const ContactParams = PhoneParams.extend({ contactId: jidParam("contactId") });

const common = { tags: ["Contacts"], security: SECURED };
const errors = errorResponses(...SESSION_CALL_ERRORS);

const listRoute = createRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/contacts",
  summary: "The contacts",
  request: { params: PhoneParams },
  responses: { 200: jsonResponse(ContactListSchema, "The contacts"), ...errors },
});

const oneRoute = createRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/contact/{contactId}",
  summary: "One contact",
  request: { params: ContactParams },
  responses: { 200: jsonResponse(ContactSchema, "The contact"), ...errors },
});

const pictureRoute = createRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/contact/{contactId}/profile-picture",
  summary: "A contact's profile picture URL",
  request: { params: ContactParams },
  responses: { 200: jsonResponse(PictureSchema, "The URL, or null"), ...errors },
});

const blockingRoute = (action: "block" | "unblock") =>
  createRoute({
    ...common,
    method: "post",
    path: `/{phoneNumber}/contact/${action}`,
    summary: action === "block" ? "Block a contact" : "Unblock a contact",
    request: { params: PhoneParams, ...jsonBody(ContactBodySchema) },
    responses: { 200: jsonResponse(SuccessSchema, "Done"), ...errors },
  });

const blockRoute = blockingRoute("block");
const unblockRoute = blockingRoute("unblock");

export function createContactRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  const routes = [listRoute, oneRoute, pictureRoute, blockRoute, unblockRoute];

  return createRouter()
    .guard(guards.requireSingleAccountProtected(), ...routes)
    .openapi(listRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const contacts = await manager.session(phoneNumber, c.get("principal")).listContacts();
      return c.json({ contacts }, 200);
    })
    .openapi(oneRoute, async (c) => {
      const { phoneNumber, contactId } = c.req.valid("param");
      return c.json(
        await manager.session(phoneNumber, c.get("principal")).getContact(contactId),
        200,
      );
    })
    .openapi(pictureRoute, async (c) => {
      const { phoneNumber, contactId } = c.req.valid("param");
      const url = await manager.session(phoneNumber, c.get("principal")).getProfilePictureUrl(
        contactId,
      );
      return c.json({ url: url ?? null }, 200);
    })
    .openapi(blockRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const { contactId } = c.req.valid("json");
      await manager.session(phoneNumber, c.get("principal")).blockContact(contactId);
      return c.json({ success: true, message: `Contact "${contactId}" blocked` }, 200);
    })
    .openapi(unblockRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const { contactId } = c.req.valid("json");
      await manager.session(phoneNumber, c.get("principal")).unblockContact(contactId);
      return c.json({ success: true, message: `Contact "${contactId}" unblocked` }, 200);
    });
}
