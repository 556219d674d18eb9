/**
 * @module
 * `createRouter()`: an OpenAPIHono router with the shared validation hook, so every route answers
 * a failed validation the same way: `400 BAD_REQUEST` naming the field and the reason. It also
 * documents, on every route it registers, the errors that come from what the route is rather than
 * from what it does: 401 and 429 where a credential is needed, 408, 413 and 415 where a body is
 * read, 500 everywhere.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { z } from "@hono/zod-openapi";
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

interface RouteShape {
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

export function createRouter() {
  const router = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw badRequest(describeValidationError(result.target, result.error));
      }
    },
  });
  const register = router.openapi.bind(router);
  router.openapi =
    ((route: RouteShape, ...rest: unknown[]) =>
      (register as (...args: unknown[]) => unknown)(
        withStandardErrors(route),
        ...rest,
      )) as typeof router.openapi;
  return router;
}
