/**
 * @module
 * `createRouting`: the routing of one node, composed for `main.ts`. On PostgreSQL with a
 * `CLUSTER_SECRET` (a cluster), a forwarder that sends each request for a number to the node that
 * owns it (`forward.ts`); otherwise (one node) none, and every request is served where it arrives.
 * An edge (`NODE_ROLE=edge`) also gets its `SessionManager` here (`edge_sessions.ts`), and serves
 * a number's SSE stream itself, from the shared events table.
 *
 * Who owns a number and which nodes host sessions come from the store's cluster part
 * (`store.cluster`: leases and node rows, judged live by the database's clock).
 */
import type { Context } from "hono";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import type { AppEnv } from "../middleware/principal.ts";
import type { SessionManager } from "../sessions/manager.ts";
import type { Store } from "../store/store.ts";
import { createEdgeSessions } from "./edge_sessions.ts";
import { createForwarder, type Forwarder } from "./forward.ts";
import { createHopSigner } from "./signing.ts";

const LIST_TIMEOUT_MS = 5_000;

export interface RoutingDeps {
  nodeId: string;
  store: Store;
  log: Logger;
  /** The admin key (an edge reads each node's session list with it). */
  adminKey: string;
  /** Where the API is mounted. */
  base: string;
  /** The client's address as this node sees it. */
  clientIp: (c: Context<AppEnv>) => string | null;
  /** Whether this node holds a number's lease now (the ownership part's `fenceOf`). */
  holds?: (phoneNumber: string) => boolean;
}

export interface Routing {
  nodeId: string;
  /** Null on a single node. */
  forwarder: Forwarder | null;
  /** An edge's session manager; null on nodes that host sessions. */
  edgeSessions: SessionManager | null;
}

export function createRouting(config: Readonly<Config>, deps: RoutingDeps): Routing {
  const { nodeId, store, log } = deps;
  const secret = config.cluster.secret;
  if (store.kind !== "postgres" || !secret) {
    return { nodeId, forwarder: null, edgeSessions: null };
  }
  const locate = (phoneNumber: string) => store.cluster.owner(phoneNumber);
  /** Live, non-draining nodes that host sessions and can be reached, most free room first. */
  const workers = async () =>
    (await store.cluster.nodes())
      .filter((node) => node.live && !node.draining && node.role !== "edge" && node.url)
      .sort((a, b) =>
        (b.capacity - b.sessions) - (a.capacity - a.sessions) || (a.id < b.id ? -1 : 1)
      )
      .map((node) => ({ nodeId: node.id, url: node.url! }));
  const pickNode = async () => (await workers())[0] ?? null;
  const signer = createHopSigner(secret, nodeId);
  const edge = config.cluster.role === "edge";
  const eventsPath = new RegExp(`^${deps.base}/[^/]+/events/?$`);
  const forwarder = createForwarder({
    nodeId,
    locate,
    holds: deps.holds,
    hostsSessions: !edge,
    pickNode,
    signer,
    timeoutMs: config.engineCallTimeoutMs,
    bodyTimeoutMs: config.bodyTimeoutMs,
    log,
    clientIp: deps.clientIp,
    // An edge serves streams from the shared table; a node that hosts sessions passes them to the
    // owner, whose pipeline sees the number's events first.
    servedHere: edge ? (c) => c.req.method === "GET" && eventsPath.test(c.req.path) : undefined,
  });
  const edgeSessions = edge
    ? createEdgeSessions({
      sessions: store.sessions,
      workers,
      signer,
      adminKey: deps.adminKey,
      // A list (and /health) waits this long at most for a node that does not answer.
      timeoutMs: Math.min(config.engineCallTimeoutMs, LIST_TIMEOUT_MS),
      log,
      base: deps.base,
    })
    : null;
  return { nodeId, forwarder, edgeSessions };
}
