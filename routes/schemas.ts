/**
 * @module
 * The zod schemas shared by every route: identifiers (phone number, JIDs, message ids), the error
 * body, and helpers that declare a route's JSON body and its error responses once.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { ErrorCode } from "../errors.ts";
import type { AppEnv } from "../middleware/principal.ts";
import { STATUS_OF } from "../errors.ts";

export const PHONE_NUMBER = /^\d{7,15}$/;
const JID = /^(?:\d+(?:-\d+)?@(?:c\.us|g\.us|lid|s\.whatsapp\.net)|status@broadcast)$/;
const BARE_PHONE = /^\+?\d{5,20}$/;

/** The `:phoneNumber` path parameter: 7 to 15 digits, the session's name. */
export const PhoneNumber = z.string().regex(PHONE_NUMBER, "expected 7 to 15 digits").openapi({
  param: { name: "phoneNumber", in: "path" },
  example: "4915550001234",
  description: "The session's WhatsApp number, digits only (E.164 without +)",
});

export const PhoneParams = z.object({ phoneNumber: PhoneNumber });

/** Turns a bare phone number into `<digits>@c.us`; leaves JIDs alone. */
export function toJid(value: string): string {
  const trimmed = value.trim();
  if (BARE_PHONE.test(trimmed)) return `${trimmed.replace(/^\+/, "")}@c.us`;
  // The same user in the protocol's spelling: WhatsApp Web (and we) write it <digits>@c.us.
  return trimmed.replace(/^(\d+)@s\.whatsapp\.net$/, "$1@c.us");
}

/** A chat, contact, group or participant id; a bare phone number becomes `<digits>@c.us`. */
export const Jid = z.string()
  .refine((value) => JID.test(toJid(value)), {
    message: "expected a WhatsApp id such as 491701234567@c.us or 1203630000@g.us",
  })
  .transform(toJid)
  .openapi({ type: "string", example: "15550000001@c.us" });

/**
 * Beside an id that is a LID (`<digits>@lid`, how WhatsApp writes many users now): the same user's
 * phone-number id, when known. Absent otherwise.
 */
export function pnBeside(description: string) {
  return z.string().optional().openapi({ example: "15550000001@c.us", description });
}

/** Beside a phone-number id: the same user's LID, when known. Absent otherwise. */
export function lidBeside(description: string) {
  return z.string().optional().openapi({ example: "100000000000001@lid", description });
}

/** A group id (`…@g.us`). */
export const GroupJid = z.string().regex(
  /^\d+(?:-\d+)?@g\.us$/,
  "expected a group id ending in @g.us",
)
  .openapi({ example: "120363000000000001@g.us" });

export const MessageId = z.string().min(1).max(300).openapi({
  example: "true_15550000001@c.us_3EB0C0FFEE0123456789",
});

/** A JID as a path parameter; a bare phone number becomes `<digits>@c.us`. */
export function jidParam(name: string, example = "15550000001@c.us") {
  return Jid.openapi({ param: { name, in: "path" }, example });
}

/** `/{phoneNumber}/group/{groupId}/…` */
export const GroupParams = PhoneParams.extend({
  groupId: GroupJid.openapi({ param: { name: "groupId", in: "path" } }),
});

/** `/{phoneNumber}/messages/{messageId}` */
export const MessageParams = PhoneParams.extend({
  messageId: MessageId.openapi({ param: { name: "messageId", in: "path" } }),
});

export const ErrorBodySchema = z.object({
  error: z.string().openapi({ example: 'Session "4915550001234" not found' }),
  code: z.string().openapi({ example: "NOT_FOUND" }),
  statusCode: z.number().int().openapi({ example: 404 }),
}).openapi("Error");

export const SuccessSchema = z.object({
  success: z.boolean().openapi({ example: true }),
  message: z.string().openapi({ example: 'Session "4915550001234" is starting' }),
}).openapi("Success");

export const SentMessageSchema = z.object({
  messageId: MessageId,
  timestamp: z.number().int().openapi({ example: 1764086400, description: "Unix seconds" }),
}).openapi("SentMessage");

const ERROR_TEXT: Record<ErrorCode, string> = {
  BAD_REQUEST: "The request failed validation (the message names the field)",
  UNAUTHORIZED: "Missing or invalid credentials",
  FORBIDDEN: "The number belongs to another account, or the account is at its limit",
  NOT_FOUND: "No such session, chat, contact, group or message",
  METHOD_NOT_ALLOWED: "The path exists with other methods (Allow lists them)",
  REQUEST_TIMEOUT: "The request body did not arrive within BODY_TIMEOUT_MS",
  CLIENT_NOT_READY: "The session exists but is not connected",
  PAYLOAD_TOO_LARGE: "The body or the fetched media is over the limit",
  UNSUPPORTED_MEDIA_TYPE: "The body's content type is not application/json",
  TOO_MANY_REQUESTS: "Too many failed authentication attempts from this address",
  INTERNAL_ERROR: "Unexpected failure",
  NOT_IMPLEMENTED: "The session's engine cannot do this",
  TIMEOUT: "The engine did not answer in time",
};

/**
 * The error responses of a route, all with the shared error body. Those every route of a kind can
 * give (401, 429 and 500; 408, 413 and 415 with a body) are added by `createRouter()`.
 */
export function errorResponses(...codes: ErrorCode[]) {
  const responses: Record<number, { description: string; content: Record<string, unknown> }> = {};
  for (const code of codes) {
    responses[STATUS_OF[code]] = {
      description: ERROR_TEXT[code],
      content: { "application/json": { schema: ErrorBodySchema } },
    };
  }
  return responses as Record<
    number,
    { description: string; content: { "application/json": { schema: typeof ErrorBodySchema } } }
  >;
}

/** The errors of a route on a session that must be connected. */
export const SESSION_CALL_ERRORS: ErrorCode[] = [
  "BAD_REQUEST",
  "FORBIDDEN",
  "NOT_FOUND",
  "CLIENT_NOT_READY",
  "NOT_IMPLEMENTED",
  "TIMEOUT",
];

export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return {
    body: {
      required: true,
      description,
      content: { "application/json": { schema } },
    },
  };
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** Security of every authenticated route: a bearer JWT or an API key. */
export const SECURED: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKey: [] }];

/** A `POST /{phoneNumber}/<action>` route with a JSON body on a connected session. */
export function sessionPostRoute<T extends z.ZodType, R extends z.ZodType>(options: {
  action: string;
  tag: string;
  summary: string;
  body: T;
  response: R;
  description: string;
  guard: MiddlewareHandler<AppEnv>;
  /** Beyond the errors of every session call. */
  errors?: ErrorCode[];
}) {
  return createRoute({
    method: "post",
    path: `/{phoneNumber}/${options.action}`,
    tags: [options.tag],
    summary: options.summary,
    security: SECURED,
    middleware: [options.guard] as const,
    request: { params: PhoneParams, ...jsonBody(options.body) },
    responses: {
      200: jsonResponse(options.response, options.description),
      ...errorResponses(...SESSION_CALL_ERRORS, ...(options.errors ?? [])),
    },
  });
}
