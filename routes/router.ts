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
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { badRequest, type ErrorCode } from "../errors.ts";
import type { AppEnv } from "../middleware/principal.ts";
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
  request?: { body?: unknown };
  responses: Record<string | number, unknown>;
}

/** The route with the error responses its kind implies (the route's own take precedence). */
export function withStandardErrors<R extends RouteShape>(route: R): R {
  const codes: ErrorCode[] = [];
  if (route.security?.length) codes.push("UNAUTHORIZED", "TOO_MANY_REQUESTS");
  if (route.request?.body) {
    codes.push("REQUEST_TIMEOUT", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE");
  }
  codes.push("INTERNAL_ERROR");
  return { ...route, responses: { ...errorResponses(...codes), ...route.responses } };
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
  guard(guard: MiddlewareHandler<AppEnv>, ...routes: RouteAddress[]): this {
    for (const route of routes) {
      // The path as OpenAPIHono registers the route itself.
      this.on(route.method.toUpperCase(), route.path.replaceAll(/\/{(.+?)}/g, "/:$1"), guard);
      this.#guarded.add(nameOf(route));
    }
    return this;
  }
}

export function createRouter(): GroupRouter {
  return new GroupRouter();
}
