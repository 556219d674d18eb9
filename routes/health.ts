/**
 * @module
 * `GET /health`: open to everyone (load balancers, Docker's HEALTHCHECK): status, version, uptime
 * and how many sessions are in each status, and readiness: 200 while the node takes traffic, 503
 * while it drains or cannot renew its leases (the body still says it is alive and why).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { SessionManager } from "../sessions/manager.ts";
import type { ClusterView } from "./cluster.ts";
import { createRouter } from "./router.ts";
import { jsonResponse } from "./schemas.ts";

const HealthSchema = z.object({
  status: z.enum(["ok", "draining", "store_unreachable"]).openapi({
    description: "`ok`: ready; otherwise alive but not taking traffic, and why",
  }),
  ready: z.boolean().openapi({ description: "Send it traffic (the status code says it too)" }),
  node: z.string().nullable().openapi({ description: "This node's id" }),
  version: z.string(),
  uptimeSeconds: z.number(),
  sessions: z.record(z.string(), z.number().int()).openapi({
    example: { WORKING: 2, SCAN_QR_CODE: 1, STOPPED: 0 },
  }),
}).openapi("Health");

const healthRoute = createRoute({
  method: "get",
  path: "/health",
  tags: ["Server"],
  summary: "Liveness, readiness and session counts (no auth)",
  responses: {
    200: jsonResponse(HealthSchema, "The server is up and ready"),
    503: jsonResponse(HealthSchema, "Alive, not ready: draining, or its leases cannot be renewed"),
  },
});

/** The session counts, or none when they take longer than `ms` (the database is away). */
async function countsWithin(manager: SessionManager, ms: number): Promise<Record<string, number>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const none = new Promise<Record<string, number>>((resolve) => {
    timer = setTimeout(() => resolve({}), ms);
  });
  try {
    return await Promise.race([manager.countByStatus().catch(() => ({})), none]);
  } finally {
    clearTimeout(timer);
  }
}

export function createHealthRoutes(
  deps: { manager: SessionManager; version: string; startedAt: number; cluster?: ClusterView },
) {
  return createRouter().openapi(healthRoute, async (c) => {
    const readiness = deps.cluster?.readiness() ??
      { ready: true, draining: false, storeReachable: true };
    const status = readiness.ready
      ? "ok" as const
      : readiness.draining
      ? "draining" as const
      : "store_unreachable" as const;
    const body = {
      status,
      ready: readiness.ready,
      node: deps.cluster?.nodeId ?? null,
      version: deps.version,
      uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
      // Bounded: a load balancer's probe must not wait on a database that is away.
      sessions: await countsWithin(deps.manager, 1_000),
    };
    return readiness.ready ? c.json(body, 200) : c.json(body, 503);
  });
}
