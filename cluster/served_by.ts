/**
 * @module
 * `servedBy(nodeId)`: `X-Served-By: <nodeId>` on every response, errors and unknown routes
 * included, naming the node that served it. A forwarded answer already carries the owner's, which
 * is kept: the node that only passed the request on did not serve it.
 */
import type { MiddlewareHandler } from "hono";

export const SERVED_BY = "X-Served-By";

export function servedBy(nodeId: string): MiddlewareHandler {
  return async function servedByMiddleware(c, next) {
    await next();
    if (!c.res.headers.has(SERVED_BY)) c.res.headers.set(SERVED_BY, nodeId);
  };
}
