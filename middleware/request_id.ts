/**
 * @module
 * Gives every request an id (the caller's `X-Request-Id` when it is a sane token, else a new
 * UUID), stores it as `requestId` and echoes it on the response.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./principal.ts";

const SANE_ID = /^[\w.:-]{1,128}$/;

export function requestId() {
  return createMiddleware<AppEnv>(async function requestIdMiddleware(c, next) {
    const given = c.req.header("X-Request-Id");
    const id = given && SANE_ID.test(given) ? given : crypto.randomUUID();
    c.set("requestId", id);
    await next();
    // After next(): error and not-found responses are built fresh, so set it on the final one.
    c.res.headers.set("X-Request-Id", id);
  });
}
