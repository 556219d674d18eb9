/**
 * @module
 * `GET /health`: open to everyone (load balancers, Docker's HEALTHCHECK): status, version, uptime
 * and how many sessions are in each status.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { SessionManager } from "../sessions/manager.ts";
import { createRouter } from "./router.ts";
import { jsonResponse } from "./schemas.ts";

const HealthSchema = z.object({
  status: z.literal("ok"),
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
  summary: "Liveness and session counts (no auth)",
  responses: { 200: jsonResponse(HealthSchema, "The server is up") },
});

export function createHealthRoutes(
  deps: { manager: SessionManager; version: string; startedAt: number },
) {
  return createRouter().openapi(healthRoute, async (c) =>
    c.json({
      status: "ok" as const,
      version: deps.version,
      uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
      sessions: await deps.manager.countByStatus(),
    }, 200));
}
