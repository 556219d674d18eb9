/**
 * @module
 * The zod schemas shared by every route: identifiers (phone number, JIDs, message ids), the error
 * body, and helpers that declare a route's JSON body and its error responses once.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { type ErrorCode, STATUS_OF } from "../errors.ts";
import {
  ID_FORMS,
  MAX_PHONE_DIGITS,
  parsePhone,
  PHONE_NUMBER,
  PHONE_NUMBER_EXPECTED,
} from "../sessions/phone_number.ts";

const JID = /^(?:\d+(?:-\d+)?@(?:c\.us|g\.us|lid|s\.whatsapp\.net)|status@broadcast)$/;

/** A session's number in a body: 7 to 15 digits. */
export const SessionNumber = z.string().regex(PHONE_NUMBER, PHONE_NUMBER_EXPECTED);

/** The `:phoneNumber` path parameter: 7 to 15 digits, the session's name. */
export const PhoneNumber = SessionNumber.openapi({
  param: { name: "phoneNumber", in: "path" },
  example: "4915550001234",
  description: "The session's WhatsApp number, digits only (E.164; a leading + is dropped)",
});

export const PhoneParams = z.object({ phoneNumber: PhoneNumber });

export type JidParse = { ok: true; jid: string } | { ok: false; message: string };

/**
 * A chat, contact, group or participant id as a caller writes it, in WhatsApp's spelling: a phone
 * number, written as people do (`parsePhone`), becomes `<digits>@c.us`, and so does the protocol's
 * `<digits>@s.whatsapp.net`; anything else must already be an id. A refusal says what works,
 * and for a bare id too long to be a number (a group's, usually) how to write a group id.
 */
export function parseJid(value: string): JidParse {
  const trimmed = value.trim();
  if (!trimmed.includes("@")) {
    const phone = parsePhone(trimmed);
    if (phone.ok) return { ok: true, jid: `${phone.digits}@c.us` };
    if (phone.tooLong) {
      const example = /^\d+(?:-\d+)?$/.test(trimmed)
        ? `${trimmed}@g.us`
        : "120363000000000001@g.us";
      return { ok: false, message: `${phone.problem}: a group id ends in @g.us (${example})` };
    }
    if (phone.problem !== "not a phone number") return { ok: false, message: phone.problem };
    return { ok: false, message: `expected a WhatsApp id: ${ID_FORMS}` };
  }
  const jid = trimmed.replace(/^(\d+)@s\.whatsapp\.net$/, "$1@c.us");
  const user = /^(\d+)@c\.us$/.exec(jid)?.[1];
  if (user && user.length > MAX_PHONE_DIGITS) {
    return {
      ok: false,
      message: `${user.length} digits are more than a phone number has (${MAX_PHONE_DIGITS}): ` +
        `a group id ends in @g.us (${user}@g.us)`,
    };
  }
  if (JID.test(jid)) return { ok: true, jid };
  return { ok: false, message: `expected a WhatsApp id: ${ID_FORMS}` };
}

/** `parseJid`'s id, or the value as it was (for validation to refuse). */
export function toJid(value: string): string {
  const parsed = parseJid(value);
  return parsed.ok ? parsed.jid : value.trim();
}

/** A chat, contact, group or participant id; a phone number becomes `<digits>@c.us`. */
export const Jid = z.string()
  .transform((value, ctx) => {
    const parsed = parseJid(value);
    if (parsed.ok) return parsed.jid;
    ctx.addIssue({ code: "custom", message: parsed.message });
    return z.NEVER;
  })
  .openapi({
    type: "string",
    example: "15550000001@c.us",
    description: `A WhatsApp id: ${ID_FORMS}. A phone number may be written with spaces, ` +
      "dashes, dots, parentheses and a + or 00 prefix",
  });

/** Someone's phone number, as people write it (`+49 170 123-4567`): its digits. */
export const PhoneDigits = z.string().max(64)
  .transform((value, ctx) => {
    const parsed = parsePhone(value);
    if (parsed.ok) return parsed.digits;
    ctx.addIssue({
      code: "custom",
      message: parsed.problem === "not a phone number"
        ? "expected a phone number such as 491701234567 or +49 170 1234567"
        : parsed.problem,
    });
    return z.NEVER;
  })
  .openapi({ type: "string", example: "+15550000001" });

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

/** `/{phoneNumber}/chat/{chatId}`, `/{phoneNumber}/messages/{chatId}` */
export const ChatParams = PhoneParams.extend({ chatId: jidParam("chatId") });

/** `/{phoneNumber}/messages/{chatId}/{messageId}/media` */
export const MediaParams = MessageParams.extend({ chatId: jidParam("chatId") });

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
  IDEMPOTENCY_KEY_IN_USE: "A request with this Idempotency-Key is still being served",
  IDEMPOTENCY_KEY_REUSED: "This Idempotency-Key was used for another request",
  PAYLOAD_TOO_LARGE: "The body or the fetched media is over the limit",
  UNSUPPORTED_MEDIA_TYPE: "The body's content type is not application/json",
  TOO_MANY_REQUESTS: "Too many failed authentication attempts from this address",
  INTERNAL_ERROR: "Unexpected failure",
  NOT_IMPLEMENTED: "The session's engine cannot do this",
  STORE_UNAVAILABLE: "The database cannot be reached (PostgreSQL down): try again shortly",
  TIMEOUT: "The engine did not answer in time",
};

/**
 * The error responses of a route, all with the shared error body. Those every route of a kind can
 * give (401, 429 and 500; 408, 413 and 415 with a body) are added by `createRouter()`.
 */
export function errorResponses(...codes: ErrorCode[]) {
  const responses: Record<number, { description: string; content: Record<string, unknown> }> = {};
  for (const code of codes) {
    // Two codes of one status (409) share the response: both are described.
    const before = responses[STATUS_OF[code]]?.description;
    responses[STATUS_OF[code]] = {
      description: before ? `${before}; or: ${ERROR_TEXT[code]}` : ERROR_TEXT[code],
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

/**
 * The `Idempotency-Key` header of a route that sends or creates something; `routes/router.ts`
 * runs the idempotency middleware on every route declaring it.
 */
export const IdempotencyHeaders = z.object({
  "Idempotency-Key": z.string().regex(/^[\x21-\x7e]{1,255}$/).optional().openapi({
    example: "0f8fad5b-d9cb-469f-a165-70867728950e",
    description: "Send the request again with the same key (1 to 255 visible ASCII characters) " +
      "and, within 24 hours, the first answer comes back (with `Idempotent-Replayed: true`) " +
      "and nothing is done again. Keys are per principal (the admin, or an account). The same " +
      "key with another path or body is 422; while the first is still being served, a " +
      "duplicate waits up to 10 s, then gets 409 IDEMPOTENCY_KEY_IN_USE. Answers 5xx, 408, " +
      "409 and 429 are not kept: a retry runs again",
  }),
});

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
  /** Beyond the errors of every session call. */
  errors?: ErrorCode[];
  /** It sends or creates something: it takes an `Idempotency-Key`. */
  idempotent?: boolean;
}) {
  return createRoute({
    method: "post",
    path: `/{phoneNumber}/${options.action}`,
    tags: [options.tag],
    summary: options.summary,
    security: SECURED,
    request: {
      params: PhoneParams,
      ...(options.idempotent ? { headers: IdempotencyHeaders } : {}),
      ...jsonBody(options.body),
    },
    responses: {
      200: jsonResponse(options.response, options.description),
      ...errorResponses(...SESSION_CALL_ERRORS, ...(options.errors ?? [])),
    },
  });
}
