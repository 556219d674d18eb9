/**
 * @module
 * `createApp(deps)`: the whole HTTP API as a plain fetch handler: every route group under
 * `/api/whatsapp`, WAHA's REST dialect under `/api` (`waha/routes.ts`) and the documentation, on `createAppShell()`, which adds the request id, the
 * request log and the one place where errors and unknown routes become responses. Bodies are read
 * by the routes' guards, after authentication. A test mounts one route group on the same shell
 * (`createTestApp` in `tests/_helpers.ts`).
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { servedBy } from "../cluster/served_by.ts";
import { ApiError, createErrorHandler, methodNotAllowed, renderApiError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { MediaResolver } from "../media/media_input.ts";
import type { MetricsHttp } from "../metrics/http_metrics.ts";
import { closeUnreadBodies } from "../middleware/body.ts";
import type { AuthGuards } from "../middleware/guards.ts";
import type { AppEnv } from "../middleware/principal.ts";
import { requestId } from "../middleware/request_id.ts";
import { requestLog } from "../middleware/request_log.ts";
import type { SessionManager } from "../sessions/manager.ts";
import type { EventsApi } from "../events/pipeline.ts";
import { createEventRoutes } from "./events.ts";
import { createHealthRoutes } from "./health.ts";
import { createMeRoutes } from "./me.ts";
import { mountDashboard } from "../dashboard/routes.ts";
import { createInboundWebhookRoutes } from "./inbound_webhooks.ts";
import { createChatRoutes } from "./chats.ts";
import { createChatActionRoutes } from "./chat_actions.ts";
import { type ClusterView, createClusterRoutes } from "./cluster.ts";
import { createContactRoutes } from "./contacts.ts";
import { createLidRoutes } from "./lids.ts";
import { createGroupRoutes } from "./groups.ts";
import { createGroupAdminRoutes } from "./group_admin.ts";
import { createMessageActionRoutes } from "./message_actions.ts";
import { createMessageEditRoutes } from "./message_edits.ts";
import { createMessageLookupRoutes } from "./message_lookups.ts";
import { createMessageMarkRoutes } from "./message_marks.ts";
import { createMessageRoutes } from "./messages.ts";
import { createPollRoutes } from "./polls.ts";
import { createCallRoutes } from "./calls.ts";
import { createLabelRoutes } from "./labels.ts";
import { createPresenceRoutes } from "./presence.ts";
import { createProfileRoutes } from "./profile.ts";
import { createSessionRoutes } from "./sessions.ts";
import { createSimulatorRoutes } from "./simulator.ts";
import { pathWithoutPlus } from "./phone_path.ts";
import { mountSwagger } from "./swagger.ts";
import { createWebhookRoutes } from "./webhooks.ts";
import { createStatusRoutes } from "./status.ts";
import { createChannelRoutes } from "./channels.ts";
import { createContactDetailRoutes } from "./contact_details.ts";
import { mountWahaRoutes } from "./waha/routes.ts";

export const API_BASE = "/api/whatsapp";
/** The path the router sees: `/api/whatsapp/+4915…` as `/api/whatsapp/4915…`. */
const PLAIN_PATH = pathWithoutPlus(API_BASE);

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
  /** This node's id, sent as `X-Served-By` on every response. */
  nodeId?: string;
  /** In a cluster: checks the signed hop headers of requests other nodes forward, first. */
  verifyHops?: MiddlewareHandler<AppEnv>;
  /** The `Idempotency-Key` middleware on the store (`middleware/idempotency.ts`). */
  idempotency?: MiddlewareHandler<AppEnv>;
  /** This node in the cluster: readiness for `/health`, the nodes for `GET /cluster`. */
  cluster?: ClusterView;
  /** `METRICS_ENABLED`: counts every request and serves `GET /metrics` (`metrics/`). */
  metrics?: MetricsHttp;
}

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

/**
 * The app without routes: the request id, the bookkeeping of unread bodies, the request log, and
 * the answers to errors, to unknown paths (404) and to known paths with another method (405 with
 * `Allow`, from the routes mounted by the first request).
 */
export function createAppShell(log: Logger) {
  const app = new OpenAPIHono<AppEnv>({ getPath: PLAIN_PATH });
  app.use("*", requestId());
  app.use("*", closeUnreadBodies());
  // One log line per request, unless the level leaves it out (then not even its bookkeeping).
  if (log.enabled("info")) app.use("*", requestLog(log));

  const allowedMethods = createMethodIndex(app.routes);
  app.notFound((c) => {
    const allowed = allowedMethods(c.req.path);
    if (allowed.length > 0) {
      return renderApiError(c, methodNotAllowed(c.req.method, c.req.path, allowed));
    }
    return renderApiError(
      c,
      new ApiError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`),
    );
  });
  app.onError(createErrorHandler(log));
  return app;
}

export function createApp(deps: AppDeps) {
  const app = createAppShell(deps.log);
  if (deps.metrics) app.use("*", deps.metrics.track);
  if (deps.nodeId) app.use("*", servedBy(deps.nodeId));
  if (deps.verifyHops) app.use("*", deps.verifyHops);
  const { idempotency } = deps;
  if (idempotency) {
    // For the routes that take an Idempotency-Key (`routes/router.ts` runs it after their guard).
    app.use(`${API_BASE}/*`, async function provideIdempotency(c, next) {
      c.set("idempotency", idempotency);
      await next();
    });
  }
  if (deps.metrics) app.get("/metrics", deps.metrics.serve);
  app.route(API_BASE, createHealthRoutes(deps));
  app.route(API_BASE, createMeRoutes(deps));
  app.route(API_BASE, createSessionRoutes(deps));
  if (deps.cluster) app.route(API_BASE, createClusterRoutes({ ...deps, cluster: deps.cluster }));
  app.route(API_BASE, createMessageRoutes(deps));
  app.route(API_BASE, createMessageActionRoutes(deps));
  app.route(API_BASE, createMessageEditRoutes(deps));
  app.route(API_BASE, createMessageLookupRoutes(deps));
  app.route(API_BASE, createPollRoutes(deps));
  app.route(API_BASE, createMessageMarkRoutes(deps));
  app.route(API_BASE, createChatRoutes(deps));
  app.route(API_BASE, createChatActionRoutes(deps));
  app.route(API_BASE, createContactRoutes(deps));
  app.route(API_BASE, createContactDetailRoutes(deps));
  app.route(API_BASE, createLidRoutes(deps));
  app.route(API_BASE, createGroupRoutes(deps));
  app.route(API_BASE, createGroupAdminRoutes(deps));
  app.route(API_BASE, createProfileRoutes(deps));
  app.route(API_BASE, createLabelRoutes(deps));
  app.route(API_BASE, createPresenceRoutes(deps));
  app.route(API_BASE, createCallRoutes(deps));
  app.route(API_BASE, createStatusRoutes(deps));
  app.route(API_BASE, createChannelRoutes(deps));
  app.route(API_BASE, createSimulatorRoutes(deps));
  if (deps.events) {
    const events = { ...deps, events: deps.events };
    app.route(API_BASE, createInboundWebhookRoutes(events));
    app.route(API_BASE, createWebhookRoutes(events));
    app.route(API_BASE, createEventRoutes(events));
  }
  // WAHA's REST dialect beside the contract, under `/api` (`routes/waha/`).
  mountWahaRoutes(app, deps);
  mountSwagger(app, API_BASE, deps.version);
  mountDashboard(app, API_BASE);
  return app;
}
