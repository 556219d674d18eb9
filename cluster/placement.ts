/**
 * @module
 * Where numbers go, as pure functions of the nodes' rows: a start goes to the live, non-draining
 * worker with the most free capacity (this node on a tie, to save a hop); numbers left without a
 * live lease are shared out the same way, one at a time, so that nodes reading the same rows
 * agree on who takes which (a take is still a compare-and-set: a disagreement costs a round).
 */
import type { NodeRecord, VacantSession } from "../store/store.ts";

/** Nodes that may take a number now. */
function candidates(nodes: readonly NodeRecord[]): NodeRecord[] {
  return nodes.filter((n) => n.live && !n.draining && n.role === "worker");
}

/** The node a start goes to, or null when no live node has room. */
export function bestNode(nodes: readonly NodeRecord[], me: string): NodeRecord | null {
  let best: NodeRecord | null = null;
  for (const node of candidates(nodes)) {
    const free = node.capacity - node.sessions;
    if (free <= 0) continue;
    if (!best) {
      best = node;
      continue;
    }
    const bestFree = best.capacity - best.sessions;
    if (
      free > bestFree ||
      (free === bestFree && (node.id === me || (best.id !== me && node.id < best.id)))
    ) {
      best = node;
    }
  }
  return best;
}

export interface ShareOptions {
  /** This node. */
  me: string;
  /** How many more this node may take. */
  myFree: number;
  /**
   * Leases that ran out whose holder is live again are left to it for this long (it may take
   * its own back without a new login); after it, anyone takes them.
   */
  holderGraceMs: number;
  /** This node just got the database back: others' leases are left to them (see `ownership.ts`). */
  patient: boolean;
}

/** The vacant numbers this node should take, in order. */
export function shareVacant(
  vacant: readonly VacantSession[],
  nodes: readonly NodeRecord[],
  options: ShareOptions,
): VacantSession[] {
  const { me } = options;
  const live = new Map(candidates(nodes).map((n) => [n.id, n]));
  const free = new Map([...live.values()].map((n) => [n.id, n.capacity - n.sessions]));
  free.set(me, options.myFree);
  const liveIds = new Set(nodes.filter((n) => n.live).map((n) => n.id));
  const mine: VacantSession[] = [];
  for (const v of vacant) {
    if (v.nodeId === me && free.get(me)! > 0) {
      // Its own lease, run out while it could not renew: it takes it back (same login, no QR).
      free.set(me, free.get(me)! - 1);
      mine.push(v);
      continue;
    }
    if (v.nodeId !== null && v.nodeId !== me) {
      if (options.patient) continue;
      if (liveIds.has(v.nodeId) && (v.expiredMs ?? 0) < options.holderGraceMs) continue;
    }
    let target: string | null = null;
    if (v.placedNode && live.has(v.placedNode) && (free.get(v.placedNode) ?? 0) > 0) {
      target = v.placedNode;
    } else {
      for (const [id, room] of free) {
        if (room <= 0 || (id !== me && !live.has(id))) continue;
        const best = target === null ? -1 : free.get(target)!;
        if (target === null || room > best || (room === best && id < target)) target = id;
      }
    }
    if (target === null) continue;
    free.set(target, free.get(target)! - 1);
    if (target === me) mine.push(v);
  }
  return mine;
}
