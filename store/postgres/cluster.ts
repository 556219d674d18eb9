/**
 * @module
 * The cluster repository on PostgreSQL: the nodes' heartbeat rows and the leases on `sessions`
 * (`node_id`, `epoch`, `lease_until`), every deadline computed in the statement with the
 * database's clock (`wa_now_ms()`). A take is one compare-and-set that bumps the epoch; a renewal
 * only renews leases whose epoch and holder are unchanged. Placing or releasing a number sends
 * NOTIFY `wa_sessions`, which wakes the nodes (one LISTEN connection per node).
 */
import type postgres from "postgres";
import type { ClusterRepository, LeaseOwner, NodeRecord, NodeRole } from "../store.ts";

type Sql = postgres.Sql<Record<string, unknown>>;

/** The channel a placement or a release is announced on. */
export const WAKE_CHANNEL = "wa_sessions";

interface NodeRow {
  id: string;
  url: string | null;
  role: NodeRole;
  capacity: number;
  sessions: number;
  draining: boolean;
  version: string | null;
  started_at: number;
  heartbeat_at: number;
  live: boolean;
}

export function toNodeRecord(row: NodeRow): NodeRecord {
  return {
    id: row.id,
    url: row.url,
    role: row.role,
    capacity: row.capacity,
    sessions: Number(row.sessions),
    draining: Boolean(row.draining),
    version: row.version,
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    live: Boolean(row.live),
  };
}

export function createClusterRepository(sql: Sql): ClusterRepository {
  const listeners = new Set<() => void>();
  let listening: Promise<{ unlisten(): Promise<void> }> | null = null;
  const wake = () => {
    for (const listener of listeners) listener();
  };

  return {
    async join(node, { ttlMs, exclusive }) {
      await sql`
        INSERT INTO nodes (id, url, role, capacity, sessions, draining, version, started_at,
          heartbeat_at, live_until)
        VALUES (${node.id}, ${node.url}, ${node.role}, ${node.capacity}, 0, false, ${node.version},
          wa_now_ms(), wa_now_ms(), wa_now_ms() + ${ttlMs})
        ON CONFLICT (id) DO UPDATE SET url = excluded.url, role = excluded.role,
          capacity = excluded.capacity, draining = false, version = excluded.version,
          started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
          live_until = excluded.live_until
      `;
      if (exclusive) {
        await sql`UPDATE sessions SET node_id = NULL, lease_until = NULL WHERE node_id IS NOT NULL`;
      }
    },

    async heartbeat(nodeId, { ttlMs, draining, leases }) {
      const keys = leases.map((lease) => `${lease.phoneNumber}:${lease.epoch}`);
      return await sql.begin(async (tx) => {
        const [row] = await tx<{ id: string }[]>`
          UPDATE nodes SET heartbeat_at = wa_now_ms(), live_until = wa_now_ms() + ${ttlMs},
            sessions = ${leases.length}, draining = ${draining}
          WHERE id = ${nodeId} RETURNING id
        `;
        if (!row) throw new Error(`The node "${nodeId}" has no row in the nodes table`);
        if (keys.length === 0) return [];
        const renewed = await tx<{ phone_number: string; epoch: number; should_run: boolean }[]>`
          UPDATE sessions SET lease_until = wa_now_ms() + ${ttlMs}
          WHERE node_id = ${nodeId} AND (phone_number || ':' || epoch) = ANY(${keys}::text[])
          RETURNING phone_number, epoch, should_run
        `;
        return renewed.map((r) => ({
          phoneNumber: r.phone_number,
          epoch: r.epoch,
          shouldRun: r.should_run,
        }));
      });
    },

    async take(phoneNumber, nodeId, { ttlMs, marginMs, epoch }) {
      const [row] = await sql<{ epoch: number }[]>`
        UPDATE sessions SET node_id = ${nodeId}, epoch = epoch + 1,
          lease_until = wa_now_ms() + ${ttlMs}, placed_node = NULL
        WHERE phone_number = ${phoneNumber} AND should_run AND (
          node_id IS NULL OR lease_until < wa_now_ms() - ${marginMs}
          OR (node_id = ${nodeId} AND epoch = ${epoch ?? -1})
        )
        RETURNING epoch
      `;
      return row?.epoch ?? null;
    },

    async release(phoneNumber, fence, placedNode = null) {
      const released = await sql`
        UPDATE sessions SET node_id = NULL, lease_until = NULL, placed_node = ${placedNode}
        WHERE phone_number = ${phoneNumber} AND node_id = ${fence.nodeId}
          AND epoch = ${fence.epoch}
      `;
      if (released.count > 0) await sql`SELECT pg_notify(${WAKE_CHANNEL}, ${phoneNumber})`;
      return released.count > 0;
    },

    async place(phoneNumber, nodeId) {
      await sql`UPDATE sessions SET placed_node = ${nodeId} WHERE phone_number = ${phoneNumber}`;
      await sql`SELECT pg_notify(${WAKE_CHANNEL}, ${phoneNumber})`;
    },

    async vacant({ marginMs }) {
      const rows = await sql<
        {
          phone_number: string;
          engine: string;
          node_id: string | null;
          epoch: number;
          placed_node: string | null;
          expired_ms: number | null;
        }[]
      >`
        SELECT phone_number, engine, node_id, epoch, placed_node,
          CASE WHEN node_id IS NULL THEN NULL ELSE wa_now_ms() - lease_until END AS expired_ms
        FROM sessions
        WHERE should_run AND (node_id IS NULL OR lease_until < wa_now_ms() - ${marginMs})
        ORDER BY created_at, phone_number
      `;
      return rows.map((r) => ({
        phoneNumber: r.phone_number,
        engine: r.engine,
        nodeId: r.node_id,
        epoch: r.epoch,
        placedNode: r.placed_node,
        expiredMs: r.expired_ms,
      }));
    },

    async owner(phoneNumber) {
      const [row] = await sql<{ node_id: string; url: string | null; epoch: number }[]>`
        SELECT s.node_id, n.url, s.epoch FROM sessions s LEFT JOIN nodes n ON n.id = s.node_id
        WHERE s.phone_number = ${phoneNumber} AND s.node_id IS NOT NULL
          AND s.lease_until >= wa_now_ms()
      `;
      return row ? { nodeId: row.node_id, url: row.url, epoch: row.epoch } : null;
    },

    async owners() {
      const rows = await sql<
        { phone_number: string; node_id: string; url: string | null; epoch: number }[]
      >`
        SELECT s.phone_number, s.node_id, n.url, s.epoch
        FROM sessions s LEFT JOIN nodes n ON n.id = s.node_id
        WHERE s.node_id IS NOT NULL AND s.lease_until >= wa_now_ms()
      `;
      return new Map<string, LeaseOwner>(
        rows.map((r) => [r.phone_number, { nodeId: r.node_id, url: r.url, epoch: r.epoch }]),
      );
    },

    async nodes() {
      const rows = await sql<NodeRow[]>`
        SELECT n.id, n.url, n.role, n.capacity, n.draining, n.version, n.started_at,
          n.heartbeat_at, n.live_until >= wa_now_ms() AS live,
          (SELECT count(*) FROM sessions s
            WHERE (s.node_id = n.id AND s.lease_until >= wa_now_ms())
              OR (s.node_id IS NULL AND s.placed_node = n.id AND s.should_run))::int AS sessions
        FROM nodes n ORDER BY n.id
      `;
      return rows.map(toNodeRecord);
    },

    async leave(nodeId) {
      await sql`DELETE FROM nodes WHERE id = ${nodeId}`;
    },

    onWake(listener) {
      listeners.add(listener);
      // One LISTEN connection for the node, opened with the first listener; the driver opens it
      // again after the database comes back, and `onlisten` then wakes (NOTIFYs were missed).
      listening ??= sql.listen(WAKE_CHANNEL, wake, wake);
      listening.catch(() => {
        listening = null;
      });
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && listening) {
          const current = listening;
          listening = null;
          current.then((l) => l.unlisten()).catch(() => {});
        }
      };
    },
  };
}
