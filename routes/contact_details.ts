/**
 * @module
 * A contact's details beyond the address book, and numbers checked in bulk:
 * `POST /{phoneNumber}/contacts/check` answers up to 100 numbers at once (each with `exists` and
 * its chat id; a value that is no phone number is answered in its own item, not by failing the
 * request), `GET /{phoneNumber}/contacts/{contactId}/about` a contact's "about" text (null when
 * their privacy settings hide it), `GET /{phoneNumber}/contacts/{contactId}/business-profile` a
 * business account's profile (404 for an account that is not a business).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { parsePhone } from "../sessions/phone_number.ts";
import { CheckNumbersSchema } from "./engine_inputs.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  jidParam,
  jsonBody,
  jsonResponse,
  PhoneParams,
  SECURED,
  SESSION_CALL_ERRORS,
} from "./schemas.ts";

const NumberChecksSchema = z.object({
  results: z.array(z.object({
    number: z.string().openapi({ example: "+1 555 000 0001", description: "As it was sent" }),
    exists: z.boolean().openapi({ example: true }),
    chatId: z.string().optional().openapi({
      example: "15550000001@c.us",
      description: "The chat id to use, when the number is on WhatsApp",
    }),
    error: z.string().optional().openapi({
      example: "expected a phone number such as 491701234567 or +49 170 1234567",
      description: "Why this value was not checked (it is no phone number)",
    }),
  })).openapi({ description: "One per number, in the order sent" }),
}).openapi("NumberChecks");

const AboutSchema = z.object({
  about: z.string().nullable().openapi({
    example: "Available",
    description: "null when their privacy settings hide it",
  }),
}).openapi("ContactAbout");

const BusinessProfileSchema = z.object({
  id: z.string().openapi({ example: "15550000010@c.us" }),
  description: z.string().openapi({ example: "Everything the simulator sells" }),
  categories: z.array(z.string()).openapi({ example: ["Shopping & retail"] }),
  email: z.string().nullable().openapi({ example: "shop@example.com" }),
  websites: z.array(z.string()).openapi({ example: ["https://shop.example.com"] }),
  address: z.string().nullable().openapi({ example: "1 Main Street" }),
}).openapi("BusinessProfile");

const ContactParams = PhoneParams.extend({ contactId: jidParam("contactId") });
const common = { tags: ["Contacts"], security: SECURED };
const errors = errorResponses(...SESSION_CALL_ERRORS);

const checkRoute = createRoute({
  ...common,
  method: "post",
  path: "/{phoneNumber}/contacts/check",
  summary: "Whether up to 100 numbers are on WhatsApp, with their chat ids",
  request: { params: PhoneParams, ...jsonBody(CheckNumbersSchema) },
  responses: { 200: jsonResponse(NumberChecksSchema, "One answer per number"), ...errors },
});

const aboutRoute = createRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/contacts/{contactId}/about",
  summary: 'A contact\'s "about" text',
  request: { params: ContactParams },
  responses: { 200: jsonResponse(AboutSchema, "The text, or null"), ...errors },
});

const businessRoute = createRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/contacts/{contactId}/business-profile",
  summary: "A business account's profile (404 for an account that is not a business)",
  request: { params: ContactParams },
  responses: { 200: jsonResponse(BusinessProfileSchema, "The profile"), ...errors },
});

type CheckResult = z.infer<typeof NumberChecksSchema>["results"][number];

export function createContactDetailRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;

  return createRouter()
    .guard(guards.requireSingleAccountProtected(), checkRoute, aboutRoute, businessRoute)
    .openapi(checkRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const { numbers } = c.req.valid("json");
      const parsed = numbers.map((number) => ({ number, phone: parsePhone(number) }));
      const digits = parsed.flatMap(({ phone }) => phone.ok ? [phone.digits] : []);
      const checks = digits.length === 0
        ? []
        : await manager.session(phoneNumber, c.get("principal")).checkNumbers(digits);
      let next = 0;
      const results: CheckResult[] = parsed.map(({ number, phone }) => {
        if (!phone.ok) {
          const error = phone.problem === "not a phone number"
            ? "expected a phone number such as 491701234567 or +49 170 1234567"
            : phone.problem;
          return { number, exists: false, error };
        }
        const check = checks[next++];
        return {
          number,
          exists: check.exists,
          ...(check.chatId === undefined ? {} : { chatId: check.chatId }),
        };
      });
      return c.json({ results }, 200);
    })
    .openapi(aboutRoute, async (c) => {
      const { phoneNumber, contactId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json({ about: await session.getContactAbout(contactId) }, 200);
    })
    .openapi(businessRoute, async (c) => {
      const { phoneNumber, contactId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(await session.getBusinessProfile(contactId), 200);
    });
}
