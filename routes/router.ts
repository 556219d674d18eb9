/**
 * @module
 * `createRouter()`: an OpenAPIHono router with the shared validation hook, so every route answers
 * a failed validation the same way: `400 BAD_REQUEST` naming the field and the reason.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { z } from "@hono/zod-openapi";
import { badRequest } from "../errors.ts";
import type { AppEnv } from "../middleware/principal.ts";

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
  return field ? `Invalid ${where} "${field}": ${what}` : `Invalid ${where}: ${what}`;
}

export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw badRequest(describeValidationError(result.target, result.error));
      }
    },
  });
}
