/**
 * @module
 * Routing between the nodes of a cluster: a request for a number that arrives at a node that does
 * not own it is forwarded to the owner (`proxy.ts`), signed (`signing.ts`). The guards run
 * `byPath` once the caller is authenticated and allowed, before a byte of the body is read, so a
 * refused caller is answered where it arrived and the owner reads the streamed body itself
 * (authenticating the forwarded credential again). The inbound webhooks and WAHA's chatting routes
 * (`POST /api/sendText`) name their number in the body's `session`: `byBody` runs after their guard
 * read it (bounded) and forwards the bytes.
 *
 * Who owns a number is `locate(phone)` (the live lease holder, from the store). A number nobody
 * owns is served here on a node that hosts sessions (a start places it), and forwarded to a node
 * that does by one that hosts none (an edge). A forwarded request may be forwarded again (the
 * number moved meanwhile) up to `maxHops`; past that the node serves it as it can, so two nodes
 * that disagree about an owner cannot bounce a request for ever.
 */
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { markBodyConsumed } from "../middleware/body.ts";
import type { AppEnv } from "../middleware/principal.ts";
import { isPhoneNumber } from "../sessions/phone_number.ts";
import { proxyRequest } from "./proxy.ts";
import { SERVED_BY } from "./served_by.ts";
import { type Hop, type HopSigner, pathAndQueryOf } from "./signing.ts";

/** A number's owner: the node holding its live lease (`store.cluster.owner`). */
export interface Owner {
  nodeId: string;
  /** Where other nodes reach it (`NODE_URL`); null when it never said. */
  url: string | null;
  epoch: number;
}

/** A node that can serve a number nobody owns (for nodes that host no sessions). */
export interface ServingNode {
  nodeId: string;
  url: string;
}

export interface ForwarderOptions {
  /** This node's id. */
  nodeId: string;
  locate: (phoneNumber: string) => Promise<Owner | null>;
  /**
   * Whether this node holds the number's lease right now (the ownership part's `fenceOf`): such a
   * request is served here without asking the store.
   */
  holds?: (phoneNumber: string) => boolean;
  /** Whether this node runs sessions (false: an edge, which forwards every number). */
  hostsSessions: boolean;
  /** A node to send a number nobody owns to; only asked when `hostsSessions` is false. */
  pickNode?: () => Promise<ServingNode | null>;
  signer: HopSigner;
  /** `ENGINE_CALL_TIMEOUT_MS`: how long an owner has to answer. */
  timeoutMs: number;
  /** `BODY_TIMEOUT_MS`: how long a streamed body may take on top. */
  bodyTimeoutMs: number;
  log: Logger;
  /** Requests served where they arrive although they name a number (an edge's SSE stream). */
  servedHere?: (c: Context<AppEnv>) => boolean;
  /** How many times a request may be forwarded (default 3). */
  maxHops?: number;
  /** The client's address as this node sees it, passed on for the owner's failure limiter. */
  clientIp?: (c: Context<AppEnv>) => string | null;
  fetch?: typeof fetch;
}

export interface Forwarder {
  /** App-level, before authentication: checks a request's hop headers, once. */
  verifyHops: MiddlewareHandler<AppEnv>;
  /** The verified hop of the request (null: a client's request, or a bad signature). */
  hopOf(c: Context): Hop | null;
  /** After authentication, before the body: forwards a `:phoneNumber` route to the owner. */
  byPath: MiddlewareHandler<AppEnv>;
  /**
   * After the guard read the body: forwards a request by its body's `session` (a number), or, with
   * none in the body, its query's.
   */
  byBody: MiddlewareHandler<AppEnv>;
}

export const DEFAULT_MAX_HOPS = 3;

export function createForwarder(options: ForwarderOptions): Forwarder {
  const { nodeId, locate, hostsSessions, signer, log } = options;
  const maxHops = options.maxHops ?? DEFAULT_MAX_HOPS;
  const hops = new WeakMap<Request, Hop>();
  const hopOf = (c: Context) => hops.get(c.req.raw) ?? null;

  /** Where the request goes: null to serve it here. */
  async function destination(c: Context<AppEnv>, phoneNumber: string) {
    if (options.holds?.(phoneNumber)) return null;
    const hop = hopOf(c);
    const owner = await locate(phoneNumber);
    if (owner?.nodeId === nodeId) return null;
    if (!owner && hostsSessions) return null;
    if ((hop?.hops ?? 0) >= maxHops) {
      log.warn("a forwarded request came back too often: served here", {
        phoneNumber,
        hops: hop?.hops,
        owner: owner?.nodeId ?? null,
      });
      if (hostsSessions) return null;
      throw moving(phoneNumber);
    }
    if (owner) {
      if (owner.url) return { nodeId: owner.nodeId, url: owner.url };
      log.warn("the owner of a number has no NODE_URL", { phoneNumber, owner: owner.nodeId });
      throw moving(phoneNumber);
    }
    const picked = await options.pickNode?.();
    if (picked) return picked;
    log.warn("no node can serve a number", { phoneNumber });
    throw new ApiError("CLIENT_NOT_READY", `No node can serve session "${phoneNumber}" now`);
  }

  async function forward(
    c: Context<AppEnv>,
    phoneNumber: string,
    to: ServingNode,
    body?: Uint8Array<ArrayBuffer>,
  ): Promise<Response> {
    const hop = hopOf(c);
    const request = c.req.raw;
    const signed = await signer.sign(request.method, pathAndQueryOf(request.url), {
      hops: (hop?.hops ?? 0) + 1,
      clientIp: hop ? hop.clientIp : options.clientIp?.(c) ?? null,
    });
    log.debug("forwarding", { phoneNumber, to: to.nodeId, path: c.req.path });
    const answer = await proxyRequest(request, {
      origin: to.url,
      phoneNumber,
      headers: { ...signed, "x-request-id": c.get("requestId") ?? crypto.randomUUID() },
      body,
      timeoutMs: options.timeoutMs,
      bodyTimeoutMs: options.bodyTimeoutMs,
      log,
      // Read whole by the stream: the client's connection can be kept for its next request.
      onBodySent: () => markBodyConsumed(c),
      fetch: options.fetch,
    });
    // The owner names itself; one that did not (an older version) is still the one that served.
    if (!answer.headers.has(SERVED_BY)) answer.headers.set(SERVED_BY, to.nodeId);
    return answer;
  }

  return {
    hopOf,

    verifyHops: createMiddleware<AppEnv>(async function verifyHops(c, next) {
      const hop = await signer.verify(c.req.raw);
      if (hop) hops.set(c.req.raw, hop);
      await next();
    }),

    byPath: createMiddleware<AppEnv>(async function forwardByPath(c, next) {
      const phoneNumber = c.req.param("phoneNumber");
      // No number, or a malformed one the route answers with 400.
      if (!phoneNumber || !isPhoneNumber(phoneNumber) || options.servedHere?.(c)) return next();
      const to = await destination(c, phoneNumber);
      if (!to) return next();
      c.res = await forward(c, phoneNumber, to);
    }),

    byBody: createMiddleware<AppEnv>(async function forwardByBody(c, next) {
      let session: unknown;
      try {
        const text = await c.req.text();
        session = text ? (JSON.parse(text) as { session?: unknown })?.session : undefined;
      } catch {
        return next(); // The route's validation answers it.
      }
      // A GET names it in its query (WAHA's `/api/contacts/…?session=`).
      if (session === undefined) session = c.req.query("session");
      if (typeof session !== "string" || !isPhoneNumber(session)) return next();
      const to = await destination(c, session);
      if (!to) return next();
      c.res = await forward(c, session, to, new Uint8Array(await c.req.arrayBuffer()));
    }),
  };
}

function moving(phoneNumber: string): ApiError {
  return new ApiError(
    "CLIENT_NOT_READY",
    `Session "${phoneNumber}" is moving between nodes: try again shortly`,
  );
}
