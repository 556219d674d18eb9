/**
 * @module
 * The HTTP side of the metrics: `track` counts every request and its time to the response's
 * headers by method, route template and status, and keeps the count of open Server-Sent Events
 * streams (any `text/event-stream` answer, until its body ends or the client goes); `serve` is
 * `GET /metrics`, for the admin key (`X-Api-Key`) or the scraper's `METRICS_TOKEN`
 * (`Authorization: Bearer`), compared in constant time. Every other caller, an account's key
 * included, gets 401: the figures are the operator's (they name every number on the node).
 *
 * The route label is the template Hono matched (`/api/whatsapp/{phoneNumber}/send-text`), never
 * the raw path, which would make a series per number; a path no route matches is `unmatched`.
 */
import type { Context, Handler, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { unauthorized } from "../errors.ts";
import { equalToSecret } from "../middleware/constant_time.ts";
import type { AppEnv } from "../middleware/principal.ts";
import type { GatewayMetrics } from "./registry.ts";

/** The route label of a request that matched no route (404, 405). */
export const UNMATCHED = "unmatched";
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** What `createApp` mounts: the counting middleware and the `/metrics` handler. */
export interface MetricsHttp {
  track: MiddlewareHandler<AppEnv>;
  serve: Handler<AppEnv>;
}

/** Hono's `:name` parameters in OpenAPI's `{name}` form, as the API's documentation shows them. */
function toTemplate(path: string): string {
  return path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}");
}

export function createMetricsHttp(
  metrics: GatewayMetrics,
  auth: { adminKey: string; token?: string },
): MetricsHttp {
  const { requests, requestSeconds } = metrics.request;
  const encoder = new TextEncoder();
  const adminKey = encoder.encode(auth.adminKey);
  const token = auth.token ? encoder.encode(auth.token) : null;
  /** Hono's route paths as labels, converted once each. */
  const templates = new Map<string, string>();
  /** The counter's and histogram's children per label set: no label hashing per request. */
  const children = new Map<
    string,
    { count: { inc(): void }; time: { observe(seconds: number): void } }
  >();

  function routeOf(c: Context<AppEnv>): string {
    const routes = matchedRoutes(c);
    // The handler is the last route of the request's method; the others are middleware (ALL).
    for (let i = routes.length - 1; i >= 0; i--) {
      const { method, path } = routes[i];
      if (method === "ALL") continue;
      let template = templates.get(path);
      if (template === undefined) {
        template = toTemplate(path);
        templates.set(path, template);
      }
      return template;
    }
    return UNMATCHED;
  }

  function record(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let child = children.get(key);
    if (!child) {
      const labels = { method, route, status: String(status) };
      child = { count: requests.labels(labels), time: requestSeconds.labels(labels) };
      children.set(key, child);
    }
    child.count.inc();
    child.time.observe(seconds);
  }

  /** The body of an SSE answer, counted as an open stream until it ends or is cancelled. */
  function counted(body: ReadableStream<Uint8Array>, route: string): ReadableStream<Uint8Array> {
    const gauge = metrics.sseClients.labels({ route });
    gauge.inc();
    const reader = body.getReader();
    let open = true;
    const close = () => {
      if (open) gauge.dec();
      open = false;
    };
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            close();
            controller.close();
          } else {
            controller.enqueue(value);
          }
        } catch (error) {
          close();
          controller.error(error);
        }
      },
      cancel(reason) {
        close();
        return reader.cancel(reason);
      },
    });
  }

  const track: MiddlewareHandler<AppEnv> = async function trackMetrics(c, next) {
    const started = performance.now();
    await next();
    const method = METHODS.has(c.req.method) ? c.req.method : "OTHER";
    const route = routeOf(c);
    const response = c.res;
    record(method, route, response.status, (performance.now() - started) / 1000);
    // The header first: reading `body` of a response built from a string makes Deno build a
    // stream for it, and serve it by the slow path (~8 µs more a request).
    if (response.headers.get("content-type")?.startsWith("text/event-stream") && response.body) {
      c.res = new Response(counted(response.body, route), response);
    }
  };

  function authorized(headers: Headers): boolean {
    const key = headers.get("x-api-key");
    const authorization = headers.get("authorization");
    // One credential, as on the API: never the privileges of a header the caller did not mean.
    if (key !== null && authorization !== null) return false;
    if (key !== null) return equalToSecret(encoder.encode(key), adminKey);
    const bearer = /^Bearer +(\S+) *$/i.exec(authorization ?? "")?.[1];
    return bearer !== undefined && token !== null && equalToSecret(encoder.encode(bearer), token);
  }

  const serve: Handler<AppEnv> = async function serveMetrics(c) {
    if (!authorized(c.req.raw.headers)) {
      throw unauthorized(
        "Metrics need the admin key (X-Api-Key) or the metrics token (Authorization: Bearer)",
      );
    }
    const text = await metrics.registry.metrics();
    return c.body(text, 200, { "Content-Type": metrics.registry.contentType });
  };

  return { track, serve };
}
