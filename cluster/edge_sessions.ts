/**
 * @module
 * `createEdgeSessions`: the `SessionManager` of a node that hosts no sessions (`NODE_ROLE=edge`).
 * It answers what needs no session from the shared store: who may act on a number, which numbers
 * a caller has; a number's live status is known only to the node running it, so the list asks
 * each live node once for its own (signed, with the admin key) and takes, for each number, what
 * the node running it says, within `timeoutMs` (a node that does not answer leaves its numbers
 * `STOPPED` in the list, with a reason). Everything that needs the session itself never reaches
 * here: the routing forwards it to the owner first; if it does (a request forwarded too often),
 * it is answered `409 CLIENT_NOT_READY`.
 *
 * Loads nothing that hosts sessions (no Worker, no engine, no `node:sqlite`): an edge runs with
 * `--allow-net --allow-env --allow-read` only.
 */
import { ApiError, sessionNotFound } from "../errors.ts";
import { describeError, type Logger } from "../logger.ts";
import type { SessionInfo, SessionManager } from "../sessions/manager.ts";
import type { SessionStatus } from "../sessions/engine.ts";
import { SESSION_STATUSES, toContractState } from "../sessions/engine.ts";
import { assertMayAct } from "../sessions/ownership.ts";
import { assertPhoneNumber } from "../sessions/phone_number.ts";
import { redactProxy } from "../sessions/proxy.ts";
import type { SessionRecord, SessionRepository } from "../store/store.ts";
import type { ServingNode } from "./forward.ts";
import { type HopSigner, pathAndQueryOf } from "./signing.ts";

export interface EdgeSessionsDeps {
  sessions: SessionRepository;
  /** The live nodes that host sessions. */
  workers: () => Promise<ServingNode[]>;
  signer: HopSigner;
  /** The admin key, to read each node's list whole. */
  adminKey: string;
  /** How long a node has to answer. */
  timeoutMs: number;
  log: Logger;
  /** Where the API is mounted on every node. */
  base: string;
  fetch?: typeof fetch;
}

type LiveSession = Omit<SessionInfo, "ownerAccountId">;

export function createEdgeSessions(deps: EdgeSessionsDeps): SessionManager {
  const { sessions, log } = deps;

  async function authorize(phoneNumber: string, caller?: Parameters<typeof assertMayAct>[2]) {
    assertPhoneNumber(phoneNumber);
    const record = await sessions.get(phoneNumber);
    assertMayAct(phoneNumber, record, caller);
    if (!record) throw sessionNotFound(phoneNumber);
    return record;
  }

  /** One node's own sessions: those it runs (the others it reports STOPPED). */
  async function listOf(node: ServingNode): Promise<LiveSession[]> {
    const url = new URL(`${deps.base}/sessions`, node.url);
    const headers = await deps.signer.sign("GET", pathAndQueryOf(url.href), {
      hops: 1,
      clientIp: null,
    });
    const response = await (deps.fetch ?? fetch)(url, {
      headers: { ...headers, "x-api-key": deps.adminKey },
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`GET /sessions answered ${response.status}`);
    }
    const body = await response.json() as { sessions: LiveSession[] };
    return body.sessions.filter((session) => session.status !== "STOPPED");
  }

  /** What the nodes running them say of the numbers they run. */
  async function live(): Promise<{ byNumber: Map<string, LiveSession>; missing: boolean }> {
    const nodes = await deps.workers();
    const byNumber = new Map<string, LiveSession>();
    let missing = false;
    const lists = await Promise.allSettled(nodes.map(listOf));
    lists.forEach((list, i) => {
      if (list.status === "rejected") {
        missing = true;
        log.warn("a node did not list its sessions", {
          node: nodes[i].nodeId,
          url: nodes[i].url,
          error: describeError(list.reason),
        });
        return;
      }
      for (const session of list.value) byNumber.set(session.phoneNumber, session);
    });
    return { byNumber, missing };
  }

  function infoOf(record: SessionRecord, running?: LiveSession, missing = false): SessionInfo {
    const status = running?.status ?? "STOPPED";
    return {
      phoneNumber: record.phoneNumber,
      engine: (running?.engine ?? record.engine) as SessionInfo["engine"],
      state: toContractState(status),
      status,
      reason: running?.reason ??
        (missing && record.shouldRun ? "Its node did not answer in time" : null),
      me: running?.me ?? null,
      ownerAccountId: record.ownerAccountId,
      // An edge is always in a cluster: say which node runs the number (as that node said).
      node: running?.node ?? null,
      ...(running?.loginSavedAt !== undefined ? { loginSavedAt: running.loginSavedAt } : {}),
      proxy: record.settings.proxy ? redactProxy(record.settings.proxy.url) : null,
      calls: record.settings.calls ?? null,
    };
  }

  const hostsNone = (): never => {
    throw new ApiError("CLIENT_NOT_READY", "This node hosts no sessions: try again shortly");
  };

  return {
    start: hostsNone,
    stop: hostsNone,
    restart: hostsNone,
    logout: hostsNone,
    remove: hostsNone,
    getQr: hostsNone,
    requestPairingCode: hostsNone,
    session: hostsNone,
    // Its capacity is 0: the cluster never hands it a number, and it has none to give up.
    adopt: () => Promise.resolve().then(hostsNone),
    evict: () => Promise.resolve(),
    async info(phoneNumber, caller) {
      return infoOf(await authorize(phoneNumber, caller));
    },
    async authorize(phoneNumber, caller) {
      await authorize(phoneNumber, caller);
    },
    async list(filter) {
      const [records, { byNumber, missing }] = await Promise.all([sessions.list(filter), live()]);
      return records.map((record) => infoOf(record, byNumber.get(record.phoneNumber), missing));
    },
    async countByStatus() {
      const [records, { byNumber }] = await Promise.all([sessions.list(), live()]);
      const counts = Object.fromEntries(SESSION_STATUSES.map((status) => [status, 0])) as Record<
        SessionStatus,
        number
      >;
      for (const record of records) counts[byNumber.get(record.phoneNumber)?.status ?? "STOPPED"]++;
      return counts;
    },
    async restore() {},
    async shutdown() {},
  };
}
