/**
 * @module
 * Draining a node (SIGTERM in a cluster): each of its sessions is stopped (politely, within the
 * time left) and its lease released, so that the other nodes take it; the node then stays up,
 * answering, until every number it handed over has a new owner or the time is up. Its readiness
 * is already off (`ownership.ts` marks it draining before calling this).
 */
import { describeError, type Logger } from "../logger.ts";
import type { ClusterRepository } from "../store/store.ts";
import { eachLimited } from "./limited.ts";

/** Sessions stopped at the same time. */
const CONCURRENCY = 4;
const STOP_GRACE_MS = 10_000;

export interface DrainDeps {
  cluster: Pick<ClusterRepository, "nodes" | "owners">;
  nodeId: string;
  /** The numbers this node runs. */
  numbers: string[];
  /** Stops the number here (`SessionHost.evict`). */
  evict(phoneNumber: string, options: { reason: string; graceMs: number }): Promise<void>;
  /** Gives its lease up. */
  release(phoneNumber: string): Promise<void>;
  /** The monotonic clock, ms. */
  clock: () => number;
  /** When it must be done (on `clock`). */
  deadline: number;
  log: Logger;
}

export async function drainSessions(deps: DrainDeps): Promise<void> {
  const { cluster, nodeId, numbers, clock, deadline, log } = deps;
  log.info("draining: handing this node's sessions to the others", { sessions: numbers.length });
  await eachLimited(numbers, CONCURRENCY, async (phoneNumber) => {
    const graceMs = Math.max(0, Math.min(STOP_GRACE_MS, (deadline - clock()) / 2));
    await deps.evict(phoneNumber, { reason: "Handed over: this node is draining", graceMs })
      .catch(() => {});
    await deps.release(phoneNumber).catch((error) =>
      log.warn("releasing a lease failed", { session: phoneNumber, error: describeError(error) })
    );
  });
  // Stay up (answering) until the others took them, or time is up.
  while (numbers.length > 0 && clock() < deadline - 250) {
    try {
      const others = (await cluster.nodes()).some((n) =>
        n.id !== nodeId && n.live && !n.draining && n.role === "worker"
      );
      if (!others) break;
      const owners = await cluster.owners();
      if (numbers.every((phoneNumber) => owners.has(phoneNumber))) break;
    } catch {
      // The database is away: nothing more to wait for.
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  log.info("drained", { sessions: numbers.length });
}
