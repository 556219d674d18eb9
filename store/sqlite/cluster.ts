/**
 * @module
 * The cluster repository on SQLite: the same rows and statements as on PostgreSQL, for the one
 * node a `DATA_DIR` has. It holds every lease itself, through the same code path as a cluster
 * node (so single-node users run what a cluster runs); the clock is this machine's, and a wake-up
 * is a direct call.
 */
import type { DatabaseSync } from "node:sqlite";
import type { ClusterRepository, LeaseOwner, NodeRole } from "../store.ts";
import { promised, type Synchronous } from "./promised.ts";

interface NodeRow {
  id: string;
  url: string | null;
  role: NodeRole;
  capacity: number;
  sessions: number;
  draining: number;
  version: string | null;
  started_at: number;
  heartbeat_at: number;
  live: number;
}

export function createClusterRepository(db: DatabaseSync, now = Date.now): ClusterRepository {
  const listeners = new Set<() => void>();
  const wake = () => queueMicrotask(() => listeners.forEach((listener) => listener()));

  const join = db.prepare(`
    INSERT INTO nodes (id, url, role, capacity, sessions, draining, version, started_at,
      heartbeat_at, live_until)
    VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET url = excluded.url, role = excluded.role,
      capacity = excluded.capacity, draining = 0, version = excluded.version,
      started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
      live_until = excluded.live_until
  `);
  const releaseAll = db.prepare(
    "UPDATE sessions SET node_id = NULL, lease_until = NULL WHERE node_id IS NOT NULL",
  );
  const beat = db.prepare(`
    UPDATE nodes SET heartbeat_at = ?, live_until = ?, sessions = ?, draining = ? WHERE id = ?
  `);
  const renew = db.prepare(`
    UPDATE sessions SET lease_until = ? WHERE phone_number = ? AND node_id = ? AND epoch = ?
    RETURNING should_run
  `);
  const take = db.prepare(`
    UPDATE sessions SET node_id = ?, epoch = epoch + 1, lease_until = ?, placed_node = NULL
    WHERE phone_number = ? AND should_run = 1 AND (
      node_id IS NULL OR lease_until < ? OR (node_id = ? AND epoch = ?)
    )
    RETURNING epoch
  `);
  const release = db.prepare(`
    UPDATE sessions SET node_id = NULL, lease_until = NULL, placed_node = ?
    WHERE phone_number = ? AND node_id = ? AND epoch = ?
  `);
  const place = db.prepare("UPDATE sessions SET placed_node = ? WHERE phone_number = ?");
  const vacant = db.prepare(`
    SELECT phone_number, engine, node_id, epoch, placed_node,
      CASE WHEN node_id IS NULL THEN NULL ELSE ? - lease_until END AS expired_ms
    FROM sessions
    WHERE should_run = 1 AND (node_id IS NULL OR lease_until < ?)
    ORDER BY created_at, phone_number
  `);
  const owner = db.prepare(`
    SELECT s.phone_number, s.node_id, n.url, s.epoch
    FROM sessions s LEFT JOIN nodes n ON n.id = s.node_id
    WHERE s.phone_number = ? AND s.node_id IS NOT NULL AND s.lease_until >= ?
  `);
  const owners = db.prepare(`
    SELECT s.phone_number, s.node_id, n.url, s.epoch
    FROM sessions s LEFT JOIN nodes n ON n.id = s.node_id
    WHERE s.node_id IS NOT NULL AND s.lease_until >= ?
  `);
  const nodes = db.prepare(`
    SELECT n.id, n.url, n.role, n.capacity, n.draining, n.version, n.started_at, n.heartbeat_at,
      n.live_until >= ? AS live,
      (SELECT count(*) FROM sessions s
        WHERE (s.node_id = n.id AND s.lease_until >= ?)
          OR (s.node_id IS NULL AND s.placed_node = n.id AND s.should_run = 1)) AS sessions
    FROM nodes n ORDER BY n.id
  `);
  const leave = db.prepare("DELETE FROM nodes WHERE id = ?");

  type OwnerRow = { phone_number: string; node_id: string; url: string | null; epoch: number };
  const toOwner = (row: OwnerRow): LeaseOwner => ({
    nodeId: row.node_id,
    url: row.url,
    epoch: row.epoch,
  });

  const repository: Synchronous<ClusterRepository> = {
    join(node, { ttlMs, exclusive }) {
      const at = now();
      join.run(node.id, node.url, node.role, node.capacity, node.version, at, at, at + ttlMs);
      if (exclusive) releaseAll.run();
    },
    heartbeat(nodeId, { ttlMs, draining, leases }) {
      const at = now();
      db.exec("BEGIN IMMEDIATE");
      try {
        const changed = beat.run(at, at + ttlMs, leases.length, draining ? 1 : 0, nodeId).changes;
        if (Number(changed) === 0) {
          throw new Error(`The node "${nodeId}" has no row in the nodes table`);
        }
        const renewed = [];
        for (const lease of leases) {
          const row = renew.get(at + ttlMs, lease.phoneNumber, nodeId, lease.epoch) as
            | { should_run: number }
            | undefined;
          if (row) renewed.push({ ...lease, shouldRun: row.should_run === 1 });
        }
        db.exec("COMMIT");
        return renewed;
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
    },
    take(phoneNumber, nodeId, { ttlMs, marginMs, epoch }) {
      const at = now();
      const row = take.get(nodeId, at + ttlMs, phoneNumber, at - marginMs, nodeId, epoch ?? -1) as
        | { epoch: number }
        | undefined;
      return row?.epoch ?? null;
    },
    release(phoneNumber, fence, placedNode = null) {
      const changes = Number(
        release.run(placedNode, phoneNumber, fence.nodeId, fence.epoch).changes,
      );
      if (changes > 0) wake();
      return changes > 0;
    },
    place(phoneNumber, nodeId) {
      place.run(nodeId, phoneNumber);
      wake();
    },
    vacant({ marginMs }) {
      const at = now();
      const rows = vacant.all(at, at - marginMs) as {
        phone_number: string;
        engine: string;
        node_id: string | null;
        epoch: number;
        placed_node: string | null;
        expired_ms: number | null;
      }[];
      return rows.map((r) => ({
        phoneNumber: r.phone_number,
        engine: r.engine,
        nodeId: r.node_id,
        epoch: r.epoch,
        placedNode: r.placed_node,
        expiredMs: r.expired_ms,
      }));
    },
    owner(phoneNumber) {
      const row = owner.get(phoneNumber, now()) as OwnerRow | undefined;
      return row ? toOwner(row) : null;
    },
    owners() {
      const rows = owners.all(now()) as unknown as OwnerRow[];
      return new Map(rows.map((row) => [row.phone_number, toOwner(row)]));
    },
    nodes() {
      const at = now();
      return (nodes.all(at, at) as unknown as NodeRow[]).map((row) => ({
        id: row.id,
        url: row.url,
        role: row.role,
        capacity: row.capacity,
        sessions: row.sessions,
        draining: row.draining === 1,
        version: row.version,
        startedAt: row.started_at,
        heartbeatAt: row.heartbeat_at,
        live: row.live === 1,
      }));
    },
    leave(nodeId) {
      leave.run(nodeId);
    },
    onWake(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const wrapped = promised(repository);
  // Not a Promise: subscribing is synchronous on both stores.
  wrapped.onWake = repository.onWake as ClusterRepository["onWake"];
  return wrapped;
}
