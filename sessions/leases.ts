/**
 * @module
 * What the session manager needs from the node's leases on numbers (`cluster/ownership.ts`): a
 * start runs a number here only once this node holds its lease (or places it on another node), a
 * stop releases it, the session's own writes carry it as a fence, and a request waits while the
 * node confirms its leases after a pause. Without a cluster part (unit tests), `localLeases()`:
 * every number is this process's, and nothing is fenced.
 */
import type { Fence } from "../store/store.ts";

/** Where a start put the number. */
export interface Placement {
  /** This node holds the lease: run it here. */
  here: boolean;
  /** The node it runs or was placed on (null: the first node with room takes it). */
  nodeId: string | null;
  /** It already runs there. */
  running: boolean;
}

export interface SessionLeases {
  /** This node's id (null without a cluster part). */
  readonly nodeId: string | null;
  /** Several nodes may share the store (PostgreSQL): session info names the node. */
  readonly clustered: boolean;
  /** For a caller's start: takes the lease here, or places the number (`pin`: on that node). */
  acquire(phoneNumber: string, options?: { pin?: string }): Promise<Placement>;
  /** Takes the lease if the number is free (a restore, a take-over); true when held. */
  take(phoneNumber: string): Promise<boolean>;
  /** Gives the lease up once the number stopped here. */
  release(phoneNumber: string): Promise<void>;
  holds(phoneNumber: string): boolean;
  /** The fence of this node's latest lease on the number, or null when it never held one. */
  fenceOf(phoneNumber: string): Fence | null;
  /** Resolves once this node's leases are confirmed (at once, unless a renewal is overdue). */
  confirm(): Promise<void>;
  /** Which node runs each number (live leases), by number. */
  owners(): Promise<Map<string, string>>;
}

/** One process, no cluster: every number runs here. */
export function localLeases(): SessionLeases {
  return {
    nodeId: null,
    clustered: false,
    acquire: () => Promise.resolve({ here: true, nodeId: null, running: false }),
    take: () => Promise.resolve(true),
    release: () => Promise.resolve(),
    holds: () => true,
    fenceOf: () => null,
    confirm: () => Promise.resolve(),
    owners: () => Promise.resolve(new Map()),
  };
}
