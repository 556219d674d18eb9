/**
 * @module
 * Who serves a number, read from the cluster's tables: the node holding its live lease
 * (`sessions.node_id` while `lease_until` is ahead of the database's clock) with the URL its
 * `nodes` row gives, and the live nodes that host sessions, most free capacity first. Reads only:
 * the leases and the heartbeat rows are written by the ownership part (`store.cluster`), which
 * will answer the same two questions; this is the routing's minimal view until it does.
 */
import type postgres from "postgres";

type Sql = postgres.Sql<Record<string, unknown>>;

export interface ClusterLookup {
  owner(phoneNumber: string): Promise<{ nodeId: string; url: string | null; epoch: number } | null>;
  /** Live (heartbeat within `liveMs`), non-draining nodes that host sessions, most room first. */
  workers(): Promise<{ nodeId: string; url: string }[]>;
}

export function createClusterLookup(sql: Sql, options: { liveMs: number }): ClusterLookup {
  return {
    async owner(phoneNumber) {
      const [row] = await sql<{ node_id: string; url: string | null; epoch: number }[]>`
        SELECT s.node_id, n.url, s.epoch FROM sessions s LEFT JOIN nodes n ON n.id = s.node_id
        WHERE s.phone_number = ${phoneNumber} AND s.node_id IS NOT NULL
          AND s.lease_until > wa_now_ms()
      `;
      return row ? { nodeId: row.node_id, url: row.url, epoch: row.epoch } : null;
    },
    async workers() {
      const rows = await sql<{ id: string; url: string }[]>`
        SELECT id, url FROM nodes
        WHERE role <> 'edge' AND url IS NOT NULL AND NOT draining
          AND heartbeat_at > wa_now_ms() - ${options.liveMs}
        ORDER BY capacity - sessions DESC, id
      `;
      return rows.map((row) => ({ nodeId: row.id, url: row.url }));
    },
  };
}
