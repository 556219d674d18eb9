/**
 * @module
 * `GET /cluster` (admin): the nodes of the cluster as their heartbeat rows say (id, URL, role,
 * sessions, capacity, last heartbeat, draining, live). A single node lists itself.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { NodeRecord } from "../store/store.ts";
import { createRouter } from "./router.ts";
import { errorResponses, jsonResponse } from "./schemas.ts";

/** What the routes need of the node's part in the cluster (`cluster/ownership.ts`). */
export interface ClusterView {
  readonly nodeId: string;
  readiness(): { ready: boolean; draining: boolean; storeReachable: boolean };
  nodes(): Promise<NodeRecord[]>;
}

const NodeSchema = z.object({
  id: z.string(),
  url: z.string().nullable().openapi({ description: "Where the other nodes reach it (NODE_URL)" }),
  role: z.enum(["worker", "edge"]),
  sessions: z.number().int().openapi({ description: "Numbers it holds a live lease on" }),
  capacity: z.number().int().openapi({ description: "NODE_MAX_SESSIONS" }),
  lastHeartbeat: z.string().openapi({ description: "ISO time, the database's clock" }),
  live: z.boolean().openapi({ description: "It renewed within its lease TTL" }),
  draining: z.boolean(),
  version: z.string().nullable(),
  startedAt: z.string(),
}).openapi("ClusterNode");

const clusterRoute = createRoute({
  method: "get",
  path: "/cluster",
  tags: ["Server"],
  summary: "Admin: the nodes of the cluster",
  security: [{ apiKey: [] }],
  responses: {
    200: jsonResponse(
      z.object({
        node: z.string().openapi({ description: "The node that answered" }),
        nodes: z.array(NodeSchema),
      }),
      "The nodes",
    ),
    ...errorResponses(),
  },
});

export function createClusterRoutes(deps: { cluster: ClusterView; guards: AuthGuards }) {
  const { cluster, guards } = deps;
  return createRouter()
    .guard(guards.requireAdmin, clusterRoute)
    .openapi(clusterRoute, async (c) => {
      const nodes = await cluster.nodes();
      return c.json({
        node: cluster.nodeId,
        nodes: nodes.map((n) => ({
          id: n.id,
          url: n.url,
          role: n.role,
          sessions: n.sessions,
          capacity: n.capacity,
          lastHeartbeat: new Date(n.heartbeatAt).toISOString(),
          live: n.live,
          draining: n.draining,
          version: n.version,
          startedAt: new Date(n.startedAt).toISOString(),
        })),
      }, 200);
    });
}
