/**
 * @module
 * What every WAHA-dialect route shares: WAHA's error shape (our error answers rewritten, on these
 * routes only, into NestJS's `{ statusCode, message, error }`), WAHA's session names (ours are the
 * phone numbers: any other name is a session WAHA would not find either), the translation of a
 * WAHA request into the contract's input (checked by the contract's own schema, so a field is
 * validated and normalised once, the same way, whichever dialect sent it), and the route helper.
 */
import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { ApiError, badRequest } from "../../errors.ts";
import type { AppEnv } from "../../middleware/principal.ts";
import { isPhoneNumber } from "../../sessions/phone_number.ts";
import { WahaErrorBody } from "../../waha/dialect.ts";
import { describeValidationError, type GroupRouter } from "../router.ts";

export const WAHA_TAG = "WAHA-compatible";

/** The reason phrases NestJS puts in `error`. */
const REASONS: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

function isContractError(
  body: unknown,
): body is { error: string; code: string; statusCode: number } {
  const value = body as Record<string, unknown> | null;
  // One in WAHA's shape already (two routes of one shape each ran this) has a `message`.
  return typeof value?.error === "string" && typeof value.code === "string" &&
    typeof value.statusCode === "number" && !("message" in value);
}

/**
 * Our error answer in WAHA's shape. A session that is not in the status the call needs is `422`
 * in WAHA (its status pipes), where the contract says `409 CLIENT_NOT_READY`.
 */
export function toWahaError(body: { error: string; code: string; statusCode: number }) {
  const statusCode = body.code === "CLIENT_NOT_READY" ? 422 : body.statusCode;
  return {
    statusCode,
    message: body.error,
    error: REASONS[statusCode] ?? "Error",
    code: body.code,
  };
}

/**
 * Runs first on each WAHA route (before its guard): an error answer from anything after it (the
 * guard, validation, the session) leaves in WAHA's shape, with its headers (`Retry-After`, the
 * request id) kept.
 */
export const wahaErrorShape: MiddlewareHandler<AppEnv> = async function wahaErrorShape(c, next) {
  await next();
  const response = c.res;
  if (response.status < 400) return;
  if (!response.headers.get("content-type")?.startsWith("application/json")) return;
  const body = await response.clone().json().catch(() => null);
  if (!isContractError(body)) return;
  const waha = toWahaError(body);
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  // Unset first: Hono would otherwise copy the old answer's headers onto the new one.
  c.res = undefined;
  c.res = Response.json(waha, { status: waha.statusCode, headers });
};

/** Registers `wahaErrorShape` on each route's method and path; call it before `guard()`. */
export function inWahaShape(
  router: GroupRouter,
  ...routes: { method: string; path: string }[]
): GroupRouter {
  for (const route of routes) {
    router.on(
      route.method.toUpperCase(),
      route.path.replaceAll(/\/{(.+?)}/g, "/:$1"),
      wahaErrorShape,
    );
  }
  return router;
}

/** A WAHA session that is not one of ours: WAHA answers `404` for a session it does not know. */
export function unknownSession(name: string): ApiError {
  return new ApiError(
    "NOT_FOUND",
    `Session "${name.slice(0, 64)}" not found: sessions are named by their phone number ` +
      "(7 to 15 digits)",
  );
}

/** The number a WAHA session name stands for (WAHA's default name is `default`). */
export function sessionNumber(name: string | undefined): string {
  const session = name ?? "default";
  if (!isPhoneNumber(session)) throw unknownSession(session);
  return session;
}

/**
 * A WAHA request's fields, renamed to the contract's input, checked by the contract's schema (the
 * one place its rules live): `400` naming the contract's field when it fails.
 */
export function toContractInput<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest(describeValidationError("json", result.error));
  return result.data;
}

/** The `{session}` path parameter (read by the guards as the route's number). */
export const SessionPathParams = z.object({
  phoneNumber: z.string().openapi({
    param: { name: "phoneNumber", in: "path" },
    example: "4915550001234",
    description: "WAHA's `{session}`: the session's phone number, digits only",
  }),
});

/** A chat of a session in WAHA's paths: `/api/{session}/chats/{chatId}/...`. */
export const ChatPathParams = SessionPathParams.extend({
  chatId: z.string().openapi({
    param: { name: "chatId", in: "path" },
    example: "15550000001@c.us",
  }),
});

/** WAHA's error answers, as the document shows them on every WAHA route. */
const WAHA_ERRORS = Object.fromEntries(
  [400, 401, 403, 404, 413, 422, 429, 500, 501, 504].map((status) => [
    status,
    {
      description: `${REASONS[status]}, in WAHA's error shape`,
      content: { "application/json": { schema: WahaErrorBody } },
    },
  ]),
);

/** `createRoute` for a WAHA route: its errors documented in WAHA's shape. */
export function wahaRoute<R extends RouteConfig>(route: R) {
  return createRoute({ ...route, responses: { ...WAHA_ERRORS, ...route.responses } });
}
