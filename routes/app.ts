/**
 * @module
 * `createApp(deps)`: the whole HTTP API as a plain fetch handler. It adds the request id, the
 * request log, every route group under `/api/whatsapp`, the documentation, and the one place where
 * errors become responses. Bodies are read by the routes' guards, after authentication.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ApiError, type ErrorCode, methodNotAllowed, unsupportedMediaType } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { MediaResolver } from "../media/media_input.ts";
import { describeError } from "../logger.ts";
import { closeUnreadBodies } from "../middleware/body.ts";
import type { AuthGuards } from "../middleware/guards.ts";
import type { AppEnv } from "../middleware/principal.ts";
import { requestId } from "../middleware/request_id.ts";
import { requestLog } from "../middleware/request_log.ts";
import type { SessionManager } from "../sessions/manager.ts";
import type { EventsApi } from "../events/pipeline.ts";
import { createEventRoutes } from "./events.ts";
import { createHealthRoutes } from "./health.ts";
import { createInboundWebhookRoutes } from "./inbound_webhooks.ts";
import { createChatRoutes } from "./chats.ts";
import { createContactRoutes } from "./contacts.ts";
import { createLidRoutes } from "./lids.ts";
import { createGroupRoutes } from "./groups.ts";
import { createMessageActionRoutes } from "./message_actions.ts";
import { createMessageEditRoutes } from "./message_edits.ts";
import { createMessageLookupRoutes } from "./message_lookups.ts";
import { createMessageRoutes } from "./messages.ts";
import { createProfileRoutes } from "./profile.ts";
import { createSessionRoutes } from "./sessions.ts";
import { mountSwagger } from "./swagger.ts";
import { createWebhookRoutes } from "./webhooks.ts";

export const API_BASE = "/api/whatsapp";

export interface AppDeps {
  manager: SessionManager;
  guards: AuthGuards;
  log: Logger;
  version: string;
  startedAt: number;
  /** Turns a media field (URL, data: URL, base64) into checked bytes. */
  media: MediaResolver;
  /** The event pipeline: webhook configuration, deliveries, the SSE stream, inbound WAHA events. */
  events?: EventsApi;
}

/** Hono's own exceptions (malformed JSON, for one) in the contract's vocabulary. */
const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  413: "PAYLOAD_TOO_LARGE",
};

/** What a path parameter can look like, where that tells a path apart (`/sessions`, `/4915…`). */
const PARAM_PATTERNS: Record<string, string> = { phoneNumber: "\\+?\\d+" };

/**
 * The methods each path template answers, for `405` with `Allow` on a path that exists with other
 * methods. Built once, when the first request misses a route (the routes are all mounted by then).
 */
function createMethodIndex(routes: readonly { method: string; path: string }[]) {
  let index: { pattern: RegExp; methods: Set<string> }[] | null = null;
  const build = () => {
    const byPath = new Map<string, Set<string>>();
    for (const { method, path } of routes) {
      if (method === "ALL") continue; // middleware
      const methods = byPath.get(path) ?? new Set();
      methods.add(method);
      if (method === "GET") methods.add("HEAD");
      byPath.set(path, methods);
    }
    return [...byPath].map(([path, methods]) => ({
      pattern: new RegExp(
        "^" +
          path.split("/").map((part) =>
            part.startsWith(":")
              ? PARAM_PATTERNS[part.slice(1)] ?? "[^/]+"
              : part === "*"
              ? ".*"
              : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")
          ).join("/") + "/?$",
      ),
      methods,
    }));
  };
  return function allowedMethods(path: string): string[] {
    index ??= build();
    const allowed = new Set<string>();
    for (const { pattern, methods } of index) {
      if (pattern.test(path)) { for (const method of methods) allowed.add(method); }
    }
    return [...allowed].sort();
  };
}

/** Through `c.json`, so the headers middleware set on the context (the request id) are kept. */
function respond(c: Context<AppEnv>, error: ApiError): Response {
  return c.json(error.toBody(), error.status as 400, error.headers);
}

function renderError(error: Error, c: Context<AppEnv>, log: Logger): Response {
  if (error instanceof ApiError) return respond(c, error);
  if (error instanceof HTTPException && error.status === 415) {
    const type = c.req.header("content-type");
    return respond(
      c,
      unsupportedMediaType(
        type
          ? `Content-Type "${type.slice(0, 100)}" is not accepted here: send application/json`
          : "The request has a body but no Content-Type: send application/json",
      ),
    );
  }
  if (error instanceof HTTPException && CODE_OF_STATUS[error.status]) {
    return respond(c, new ApiError(CODE_OF_STATUS[error.status], error.message));
  }
  log.error("unhandled error", {
    requestId: c.get("requestId"),
    method: c.req.method,
    path: c.req.path,
    error: describeError(error),
    stack: error.stack,
  });
  return respond(c, new ApiError("INTERNAL_ERROR", "Internal server error"));
}

export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  app.use("*", requestId());
  app.use("*", closeUnreadBodies());
  // One log line per request, unless the level leaves it out (then not even its bookkeeping).
  if (deps.log.enabled("info")) app.use("*", requestLog(deps.log));

  app.route(API_BASE, createHealthRoutes(deps));
  app.route(API_BASE, createSessionRoutes(deps));
  app.route(API_BASE, createMessageRoutes(deps));
  app.route(API_BASE, createMessageActionRoutes(deps));
  app.route(API_BASE, createMessageEditRoutes(deps));
  app.route(API_BASE, createMessageLookupRoutes(deps));
  app.route(API_BASE, createChatRoutes(deps));
  app.route(API_BASE, createContactRoutes(deps));
  app.route(API_BASE, createLidRoutes(deps));
  app.route(API_BASE, createGroupRoutes(deps));
  app.route(API_BASE, createProfileRoutes(deps));
  if (deps.events) {
    const events = { ...deps, events: deps.events };
    app.route(API_BASE, createInboundWebhookRoutes(events));
    app.route(API_BASE, createWebhookRoutes(events));
    app.route(API_BASE, createEventRoutes(events));
  }
  mountSwagger(app, API_BASE, deps.version);

  const allowedMethods = createMethodIndex(app.routes);
  app.notFound((c) => {
    const allowed = allowedMethods(c.req.path);
    if (allowed.length > 0) return respond(c, methodNotAllowed(c.req.method, c.req.path, allowed));
    return respond(c, new ApiError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`));
  });
  app.onError((error, c) => renderError(error, c, deps.log));
  return app;
}
