/**
 * @module
 * `createRouter()`: the router of one route group, an OpenAPIHono router with two additions.
 *
 * - One validation hook, so every route answers a failed validation the same way: `400
 *   BAD_REQUEST` naming the field and the reason. It also documents, on every route it registers,
 *   the errors that come from what the route is rather than from what it does: 401 and 429 where a
 *   credential is needed, 408, 413 and 415 where a body is read, 500 everywhere.
 * - `router.guard(guard, ...routes)`: the group attaches its guards once, and its routes stay
 *   plain constants. A guard runs first on each of its routes' method and path, and nowhere else:
 *   a `use` on a path would also run it on the path's other methods (putting authentication in
 *   front of their 405) and on another group's routes of the same shape (`/{phoneNumber}/messages/
 *   {chatId}` and `/{phoneNumber}/messages/{messageId}`). A route that declares `security` must
 *   have a guard, and a guarded route must declare it: registering one without the other throws.
 * - A route that declares the `Idempotency-Key` header (`IdempotencyHeaders`, the POSTs that send
 *   or create) gets the idempotency middleware right after its guard, once the principal is known
 *   and the body read (`middleware/idempotency.ts`), and the errors it answers in its document.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler, Next } from "hono";
import { badRequest, type ErrorCode } from "../errors.ts";
import type { AppEnv } from "../middleware/principal.ts";
import { REPLAYED_HEADER } from "../middleware/idempotency.ts";
import { errorResponses } from "./schemas.ts";

const WHERE: Record<string, string> = {
  param: "path parameter",
  query: "query parameter",
  json: "body field",
  header: "header",
  form: "form field",
  cookie: "cookie",
};

/** Describes the first problem of a failed validation as one sentence. */
export function describeValidationError(target: string, error: z.ZodError): string {
  const issue = error.issues[0];
  const field = issue?.path.length ? issue.path.join(".") : null;
  const where = WHERE[target] ?? target;
  const what = issue?.message ?? "is invalid";
  if (field) return `Invalid ${where} "${field}": ${what}`;
  return target === "json" ? `Invalid body: ${what}` : `Invalid ${where}: ${what}`;
}

/** What a route's guard is attached by. */
interface RouteAddress {
  method: string;
  path: string;
}

interface RouteShape extends RouteAddress {
  security?: unknown[];
  request?: { body?: unknown; headers?: unknown };
  responses: Record<string | number, unknown>;
}

/** Whether the route declares the `Idempotency-Key` header (see `IdempotencyHeaders`). */
export function takesIdempotencyKey(route: { request?: object }): boolean {
  const headers = (route.request as { headers?: { shape?: Record<string, unknown> } } | undefined)
    ?.headers;
  const shape = headers?.shape;
  return Object.keys(shape ?? {}).some((name) => name.toLowerCase() === "idempotency-key");
}

/** The route with the error responses its kind implies (the route's own take precedence). */
export function withStandardErrors<R extends RouteShape>(route: R): R {
  const codes: ErrorCode[] = [];
  if (route.security?.length) codes.push("UNAUTHORIZED", "TOO_MANY_REQUESTS", "STORE_UNAVAILABLE");
  if (route.request?.body) {
    codes.push("REQUEST_TIMEOUT", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE");
  }
  codes.push("INTERNAL_ERROR");
  const responses: Record<string | number, unknown> = {
    ...errorResponses(...codes),
    ...route.responses,
  };
  if (takesIdempotencyKey(route)) {
    // Beside the route's own 409 (a session not connected), described together.
    const added = errorResponses("IDEMPOTENCY_KEY_IN_USE", "IDEMPOTENCY_KEY_REUSED");
    for (const [status, response] of Object.entries(added)) {
      const own = responses[status] as { description: string } | undefined;
      responses[status] = own
        ? { ...own, description: `${own.description}; or: ${response.description}` }
        : response;
    }
    const ok = responses[200] as Record<string, unknown> | undefined;
    if (ok) {
      responses[200] = {
        ...ok,
        headers: {
          [REPLAYED_HEADER]: {
            description: "`true` when this is the kept answer to an earlier request with the " +
              "same Idempotency-Key (nothing was done again)",
            schema: { type: "string", enum: ["true"] },
          },
        },
      };
    }
  }
  return { ...route, responses };
}

/** Runs the app's idempotency middleware (`AppEnv`'s `idempotency`), when it keeps keys. */
async function idempotencyKey(c: Context<AppEnv>, next: Next) {
  const idempotency = c.get("idempotency");
  if (idempotency) return await idempotency(c, next);
  await next();
}

/** `POST /{phoneNumber}/send-text` */
function nameOf(route: RouteAddress): string {
  return `${route.method.toUpperCase()} ${route.path}`;
}

/** The router of a route group: see the module's documentation. */
export class GroupRouter extends OpenAPIHono<AppEnv> {
  readonly #guarded = new Set<string>();

  constructor() {
    super({
      defaultHook: (result) => {
        if (!result.success) {
          throw badRequest(describeValidationError(result.target, result.error));
        }
      },
    });
    const register = this.openapi.bind(this);
    this.openapi = ((route: RouteShape, ...rest: unknown[]) => {
      const secured = Boolean(route.security?.length);
      if (takesIdempotencyKey(route) && !secured) {
        throw new Error(
          `Route "${nameOf(route)}" takes an Idempotency-Key but declares no security`,
        );
      }
      if (secured !== this.#guarded.has(nameOf(route))) {
        throw new Error(
          secured
            ? `Route "${nameOf(route)}" declares security but has no guard: attach one with guard()`
            : `Route "${nameOf(route)}" has a guard but declares no security`,
        );
      }
      return (register as (...args: unknown[]) => unknown)(withStandardErrors(route), ...rest);
    }) as typeof this.openapi;
  }

  /** Runs `guard` before each of `routes`, on its method and path only; call it before `openapi`. */
  guard(
    guard: MiddlewareHandler<AppEnv>,
    ...routes: (RouteAddress & { request?: object })[]
  ): this {
    for (const route of routes) {
      // The path as OpenAPIHono registers the route itself.
      const path = route.path.replaceAll(/\/{(.+?)}/g, "/:$1");
      this.on(route.method.toUpperCase(), path, guard);
      // After the guard: the principal is known and the body read.
      if (takesIdempotencyKey(route)) this.on(route.method.toUpperCase(), path, idempotencyKey);
      this.#guarded.add(nameOf(route));
    }
    return this;
  }
}

export function createRouter(): GroupRouter {
  return new GroupRouter();
}
