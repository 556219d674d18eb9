/**
 * @module
 * This node's leases on numbers, and the loop that keeps them: a heartbeat every TTL/3 renews
 * every lease in one statement (a lease missing from the answer was taken over: its session is
 * killed at once); a node that has not renewed for 0.8 × TTL on its monotonic clock stops all its
 * sessions itself, before any other node may take them (after TTL + TTL/2 by the database's
 * clock), and takes them back by their epoch once it renews again (same node, same login: no new
 * QR). A node that finds a renewal overdue (a pause: GC, SIGSTOP, a frozen VM) confirms its
 * leases before it serves a request for a number (`confirm`).
 *
 * It also takes numbers over: on every heartbeat and on every wake-up (a placement or a release
 * elsewhere), numbers that should run and have no live lease are shared out among the live nodes
 * by free capacity (`placement.ts`), and this node takes its share within `NODE_MAX_SESSIONS`.
 * A start placed here takes the lease at once; placed elsewhere, it is recorded for that node.
 * On SIGTERM in a cluster, `drain` hands every session to the others (`drain.ts`).
 *
 * On SQLite (one node) the same code runs: the node holds every lease, without a capacity.
 */
import { badRequest } from "../errors.ts";
import { describeError, type Logger } from "../logger.ts";
import type { Placement, SessionLeases } from "../sessions/leases.ts";
import { START_CONCURRENCY, startAtEnginePace } from "../sessions/start_pace.ts";
import type { ClusterRepository, Fence, Lease, NodeInput, NodeRecord } from "../store/store.ts";
import { drainSessions } from "./drain.ts";
import { eachLimited, withTimeout } from "./limited.ts";
import { bestNode, shareVacant } from "./placement.ts";

/** What the session manager does for the leases (`SessionManager.adopt` and `evict`). */
export interface SessionHost {
  /** Starts a number whose lease this node just took. */
  adopt(phoneNumber: string): Promise<void>;
  /**
   * Stops the number here now, without changing whether it should run: `graceMs` 0 kills its
   * Worker (and Chromium) at once; more lets the engine stop politely for that long.
   */
  evict(phoneNumber: string, options: { reason: string; graceMs: number }): Promise<void>;
}

export interface OwnershipOptions {
  cluster: ClusterRepository;
  node: NodeInput;
  /** `LEASE_TTL_MS`. */
  ttlMs: number;
  /** The database's only node (SQLite): every lease is this node's, capacity is not enforced. */
  single: boolean;
  log: Logger;
  /** The monotonic clock, ms (default `performance.now`). */
  clock?: () => number;
}

export interface Readiness {
  /** Takes traffic: joined, not draining, and its leases renewed within the self-stop limit. */
  ready: boolean;
  draining: boolean;
  /** The last renewal succeeded. */
  storeReachable: boolean;
}

export interface Ownership extends SessionLeases {
  readonly nodeId: string;
  /** Registers the node and starts the heartbeat (renewals, self-stop). */
  join(host: SessionHost): Promise<void>;
  /** Starts taking numbers over (the first pass brings back what should run). */
  startTakeover(): void;
  readiness(): Readiness;
  /** The nodes of the cluster, for `GET /cluster`. */
  nodes(): Promise<NodeRecord[]>;
  /** SIGTERM in a cluster: hands every session to the other nodes, within `timeoutMs`. */
  drain(timeoutMs: number): Promise<void>;
  /** Stops the loops, releases what is still held and removes the node's row. */
  close(): Promise<void>;
}

const SELF_STOP_AT = 0.8;
/** How long a session evicted by a self-stop may take to stop politely. */
const SELF_STOP_GRACE_MS = 1_000;
/**
 * After the database came back, how long (beyond 2 × TTL) a node leaves the other nodes' run-out
 * leases to them: every node lost it at once, and one whose connections are still reconnecting
 * (the driver waits up to its 10 s connect timeout) takes its own back without a new login.
 */
const RECOVERY_PATIENCE_MS = 10_000;

export function createOwnership(options: OwnershipOptions): Ownership {
  const { cluster, node, ttlMs, single, log } = options;
  const clock = options.clock ?? (() => performance.now());
  const nodeId = node.id;
  const interval = Math.max(50, Math.floor(ttlMs / 3));
  const marginMs = Math.floor(ttlMs / 2);
  // An edge node hosts no sessions.
  const capacity = node.role === "edge" ? 0 : single ? Infinity : node.capacity;

  /** Leases held now: number → epoch. */
  const held = new Map<string, number>();
  /** This node's latest epoch per number (held, released or lost): the fence of its writes. */
  const latest = new Map<string, number>();
  /** Leases this node stopped itself (the store was out of reach): taken back by epoch. */
  const selfStopped = new Map<string, number>();
  let host: SessionHost | null = null;
  let joined = false;
  let closed = false;
  let draining = false;
  let takingOver = false;
  /** Monotonic time at which the last successful renewal was sent. */
  let renewedAt = -Infinity;
  let reachable = false;
  /** Monotonic time the store came back after renewals failed (patience, see `shareVacant`). */
  let recoveredAt = -Infinity;
  let beating: Promise<boolean> | null = null;
  let tickTimer: ReturnType<typeof setTimeout> | null = null;
  let selfStopTimer: ReturnType<typeof setTimeout> | null = null;
  let expectedTick = 0;
  let unsubscribe: (() => void) | null = null;
  let passing: Promise<void> | null = null;
  let passAgain = false;

  const fence = (epoch: number): Fence => ({ nodeId, epoch });

  function selfStop(): void {
    if (held.size === 0) return;
    log.warn("leases could not be renewed: stopping this node's sessions", {
      sessions: held.size,
      sinceRenewalMs: Math.round(clock() - renewedAt),
    });
    for (const [phoneNumber, epoch] of held) {
      held.delete(phoneNumber);
      selfStopped.set(phoneNumber, epoch);
      void host?.evict(phoneNumber, {
        reason: "Stopped: this node cannot reach the database to renew its lease",
        graceMs: Math.min(SELF_STOP_GRACE_MS, Math.floor(ttlMs * 0.1)),
      }).catch(() => {});
    }
  }

  function armSelfStop(): void {
    if (selfStopTimer !== null) clearTimeout(selfStopTimer);
    const due = renewedAt + ttlMs * SELF_STOP_AT - clock();
    selfStopTimer = setTimeout(() => {
      selfStopTimer = null;
      if (clock() - renewedAt >= ttlMs * SELF_STOP_AT - 1) selfStop();
    }, Math.max(0, due));
  }

  /** One renewal (callers share one in flight); true when it succeeded. */
  function beat(): Promise<boolean> {
    beating ??= (async () => {
      const sentAt = clock();
      const leases: Lease[] = [...held].map(([phoneNumber, epoch]) => ({ phoneNumber, epoch }));
      try {
        // Waited for as long as the leases are safe without it (the self-stop timer acts at
        // the deadline either way); a slow database under load is not a dead one.
        const renewed = await withTimeout(
          cluster.heartbeat(nodeId, { ttlMs, draining, leases }),
          Math.max(interval, Math.floor(renewedAt + ttlMs * SELF_STOP_AT - sentAt)),
          "renewing the leases",
        );
        if (!reachable && renewedAt !== -Infinity) {
          recoveredAt = clock();
          log.info("the database answers again: taking this node's sessions back", {
            sessions: selfStopped.size,
          });
        }
        reachable = true;
        renewedAt = sentAt;
        if (!closed) armSelfStop();
        const kept = new Map(renewed.map((lease) => [lease.phoneNumber, lease]));
        for (const lease of leases) {
          if (held.get(lease.phoneNumber) !== lease.epoch) continue;
          const still = kept.get(lease.phoneNumber);
          if (!still) {
            // Taken over (after a pause), or the number was deleted: kill it here at once.
            held.delete(lease.phoneNumber);
            log.warn("lease lost: stopping the session here", { session: lease.phoneNumber });
            await host?.evict(lease.phoneNumber, { reason: "Running on another node", graceMs: 0 })
              .catch(() => {});
          } else if (!still.shouldRun) {
            // Stopped through another node (or by its engine): stop it here too, give the lease
            // up. Not awaited: a polite stop must not hold up the next renewal.
            const { phoneNumber, epoch } = lease;
            void (async () => {
              if (held.get(phoneNumber) !== epoch) return;
              await host?.evict(phoneNumber, { reason: "Stopped", graceMs: 5_000 });
              // Only this lease: a start meanwhile took a new one.
              if (held.get(phoneNumber) === epoch) await release(phoneNumber);
            })().catch(() => {});
          }
        }
        return true;
      } catch (error) {
        if (reachable || renewedAt === -Infinity) {
          log.warn("renewing the leases failed", { error: describeError(error) });
        }
        reachable = false;
        if (clock() - renewedAt >= ttlMs * SELF_STOP_AT) selfStop();
        return false;
      } finally {
        beating = null;
      }
    })();
    return beating;
  }

  function schedule(): void {
    if (closed) return;
    expectedTick = clock() + interval;
    tickTimer = setTimeout(tick, interval);
  }

  async function tick(): Promise<void> {
    tickTimer = null;
    const late = clock() - expectedTick;
    if (late > interval) {
      log.warn("heartbeat late (a pause?): confirming leases", { lateMs: Math.round(late) });
    }
    await beat();
    // Not awaited: a pass waits for the sessions it starts, and renewals must not wait for it.
    if (takingOver) void takeover();
    schedule();
  }

  async function take(phoneNumber: string): Promise<boolean> {
    if (held.has(phoneNumber)) return true;
    if (closed || held.size >= capacity) return false;
    const epoch = await cluster.take(phoneNumber, nodeId, {
      ttlMs,
      marginMs,
      epoch: selfStopped.get(phoneNumber) ?? latest.get(phoneNumber),
    });
    selfStopped.delete(phoneNumber);
    if (epoch === null) return false;
    held.set(phoneNumber, epoch);
    latest.set(phoneNumber, epoch);
    return true;
  }

  async function release(phoneNumber: string): Promise<void> {
    const epoch = held.get(phoneNumber);
    selfStopped.delete(phoneNumber);
    if (epoch === undefined) return;
    held.delete(phoneNumber);
    await cluster.release(phoneNumber, fence(epoch));
  }

  /** Takes this node's share of the numbers without a live lease, and starts them. */
  function takeover(): Promise<void> {
    if (passing) {
      passAgain = true;
      return passing;
    }
    // A statement can hang for the driver's connect timeout while the database restarts: each
    // step is bounded, so one stuck start never stops the node from taking the others.
    const bound = Math.max(ttlMs * 2, 5_000);
    const takeAndStart = async (phoneNumber: string, what: string) => {
      if (closed || draining) return;
      const taking = take(phoneNumber);
      try {
        const taken = await withTimeout(taking, bound, "taking a lease").catch((error) => {
          // Taken after all, too late to be started by this pass: give it back.
          taking.then((late) => late ? release(phoneNumber) : undefined).catch(() => {});
          throw error;
        });
        if (!taken) return;
        log.info(what, { session: phoneNumber });
        await withTimeout(host!.adopt(phoneNumber), bound, "starting a taken session");
      } catch (error) {
        log.warn("taking a session over failed", {
          session: phoneNumber,
          error: describeError(error),
        });
      }
    };
    const pass = (async () => {
      try {
        do {
          passAgain = false;
          if (!host || closed || draining || !reachable) return;
          // What it stopped itself while the database was away comes back first, by epoch.
          await eachLimited(
            [...selfStopped.keys()],
            START_CONCURRENCY.wwebjs,
            (phoneNumber) => takeAndStart(phoneNumber, "taking the session back"),
          );
          const vacant = (await withTimeout(cluster.vacant({ marginMs }), bound, "listing"))
            .filter((v) => !held.has(v.phoneNumber));
          if (vacant.length === 0) continue;
          const nodes = single ? [] : await withTimeout(cluster.nodes(), bound, "listing nodes");
          const mine = single ? vacant : shareVacant(vacant, nodes, {
            me: nodeId,
            myFree: capacity - held.size,
            holderGraceMs: ttlMs,
            patient: clock() - recoveredAt < RECOVERY_PATIENCE_MS + 2 * ttlMs,
          });
          // Each engine at its own pace, as a restore.
          await startAtEnginePace(
            mine,
            ({ phoneNumber }) => takeAndStart(phoneNumber, "taking the session"),
          );
        } while (passAgain);
      } catch (error) {
        log.warn("taking sessions over failed", { error: describeError(error) });
      }
    })();
    // Cleared once this pass ends (it may end before this line runs: nothing to do).
    passing = pass.finally(() => {
      if (passing === guarded) passing = null;
    });
    const guarded = passing;
    return passing;
  }

  return {
    nodeId,
    clustered: !single,

    async join(sessionHost) {
      host = sessionHost;
      const sentAt = clock();
      await cluster.join(node, { ttlMs, exclusive: single });
      renewedAt = sentAt;
      reachable = true;
      joined = true;
      armSelfStop();
      schedule();
      unsubscribe = cluster.onWake(() => {
        if (takingOver) void takeover();
      });
    },

    startTakeover() {
      takingOver = true;
      void takeover();
    },

    readiness() {
      const fresh = clock() - renewedAt < ttlMs * SELF_STOP_AT;
      return {
        ready: joined && !closed && !draining && reachable && fresh,
        draining,
        storeReachable: reachable,
      };
    },

    nodes: () => cluster.nodes(),

    async acquire(phoneNumber, { pin } = {}): Promise<Placement> {
      if (held.has(phoneNumber)) return { here: true, nodeId, running: true };
      const owner = await cluster.owner(phoneNumber);
      if (owner && owner.nodeId !== nodeId) {
        return { here: false, nodeId: owner.nodeId, running: true };
      }
      const here = async (): Promise<Placement> =>
        await take(phoneNumber)
          ? { here: true, nodeId, running: false }
          : { here: false, nodeId: null, running: owner !== null };
      if (single || owner) return await here();
      const nodes = await cluster.nodes();
      let target: string | null;
      if (pin !== undefined) {
        const pinned = nodes.find((n) => n.id === pin);
        if (!pinned || !pinned.live || pinned.draining || pinned.role !== "worker") {
          throw badRequest(`Invalid body field "node": no live, non-draining node "${pin}"`);
        }
        target = pin;
      } else {
        const mine = nodes.find((n) => n.id === nodeId);
        if (mine) mine.sessions = held.size;
        target = bestNode(nodes, nodeId)?.id ?? null;
      }
      if (target === nodeId && !draining) return await here();
      // Placed elsewhere (or, with no room anywhere, on whichever node first has some).
      await cluster.place(phoneNumber, target);
      return { here: false, nodeId: target, running: false };
    },

    take,
    release,
    holds: (phoneNumber) => held.has(phoneNumber),

    fenceOf(phoneNumber) {
      const epoch = held.get(phoneNumber) ?? latest.get(phoneNumber);
      return epoch === undefined ? null : fence(epoch);
    },

    async confirm() {
      // Renewed recently: the leases held are still this node's (no one may take them before
      // TTL + margin). Overdue (a pause, or the database away): confirm before serving.
      if (!joined || closed || clock() - renewedAt < interval * 1.5) return;
      await beat();
    },

    async owners() {
      const owners = await cluster.owners();
      return new Map([...owners].map(([phoneNumber, owner]) => [phoneNumber, owner.nodeId]));
    },

    async drain(timeoutMs) {
      const deadline = clock() + timeoutMs;
      draining = true;
      takingOver = false;
      // The row says draining before anything stops: no start is placed here from now on.
      await beat();
      await drainSessions({
        cluster,
        nodeId,
        numbers: [...held.keys()],
        evict: (phoneNumber, options) => host?.evict(phoneNumber, options) ?? Promise.resolve(),
        release,
        clock,
        deadline,
        log,
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      takingOver = false;
      unsubscribe?.();
      if (tickTimer !== null) clearTimeout(tickTimer);
      if (selfStopTimer !== null) clearTimeout(selfStopTimer);
      await passing;
      await beating;
      // The sessions were stopped (shutdown): give their leases up so that a restart, or another
      // node, takes them at once instead of after the TTL.
      await Promise.all(
        [...held.keys()].map((phoneNumber) => release(phoneNumber).catch(() => {})),
      );
      if (joined) await cluster.leave(nodeId).catch(() => {});
    },
  };
}
