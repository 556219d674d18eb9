/**
 * @module
 * The request body limit (`BODY_MAX_BYTES`). A body with a declared `Content-Length` is judged by
 * the header alone (Deno's HTTP server delivers no more than it declares): reading `request.body`
 * here, as Hono's `bodyLimit` does for every request, makes Deno hand the body over as a stream
 * instead of through its fast path, ~10 % of a send's main-thread time (bench/README.md). Only a
 * body without a declared length (chunked) is counted as it is read, by Hono's `bodyLimit`.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { payloadTooLarge } from "../errors.ts";

export function limitBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = (): never => {
    throw payloadTooLarge(`The request body is over ${maxBytes} bytes`);
  };
  const countAsRead = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async function bodyLimitMiddleware(c, next) {
    const declared = c.req.header("content-length");
    if (declared !== undefined && c.req.header("transfer-encoding") === undefined) {
      if (Number(declared) > maxBytes) tooLarge();
      return await next();
    }
    if (c.req.method === "GET" || c.req.method === "HEAD") return await next();
    return await countAsRead(c, next);
  };
}
