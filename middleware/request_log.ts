/**
 * @module
 * One structured log line per request: method, path, status, duration and request id. Query
 * strings and headers are left out, so credentials never reach the log.
 */
import { createMiddleware } from "hono/factory";
import type { Logger } from "../logger.ts";
import type { AppEnv } from "./principal.ts";

export function requestLog(log: Logger) {
  return createMiddleware<AppEnv>(async function requestLogMiddleware(c, next) {
    const started = performance.now();
    await next();
    const principal = c.get("principal");
    log.info("request", {
      requestId: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      account: principal?.accountId ?? (principal?.kind === "admin" ? "admin" : undefined),
    });
  });
}
