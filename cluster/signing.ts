/**
 * @module
 * Signing the requests one node forwards to another (`CLUSTER_SECRET`). A forwarded request
 * carries hop headers: the sending node, a timestamp, the hop count and the original client's
 * address, and an HMAC-SHA256 over them with the method and the path with its query. The node
 * that receives it trusts those headers only when the signature is right and the timestamp is
 * recent; a client that sends the same headers itself is treated as a client (hops 0, its own
 * address), so it can neither dodge the failure limiter with a forged address nor stop a node from
 * forwarding with a forged hop count.
 *
 * The body is not signed: it is streamed on without being read, and the signature only vouches
 * for the headers above. A signature grants no access either: the credential the client sent is
 * forwarded and checked again where the request is served.
 */
import { equalBytes } from "../middleware/constant_time.ts";

export const HOP_HEADERS = {
  node: "x-cluster-node",
  timestamp: "x-cluster-timestamp",
  hops: "x-cluster-hops",
  clientIp: "x-cluster-client-ip",
  signature: "x-cluster-signature",
} as const;

/** How far a forwarded request's timestamp may be from this node's clock, either way. */
export const MAX_SKEW_MS = 30_000;

/** What a request that arrived signed by another node says about itself. */
export interface Hop {
  /** The node that forwarded it. */
  from: string;
  /** How many nodes forwarded it so far (1 for a request forwarded once). */
  hops: number;
  /** The address of the client it came from; null when the first node did not know it. */
  clientIp: string | null;
}

export interface HopSigner {
  /** The hop headers for a request this node forwards. */
  sign(
    method: string,
    pathAndQuery: string,
    hop: { hops: number; clientIp: string | null },
  ): Promise<Record<string, string>>;
  /** The verified hop of a request, or null when it carries no valid, recent signature. */
  verify(request: Request): Promise<Hop | null>;
}

const HEX = /^[0-9a-f]{64}$/;
const NODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** The path with its query, as signed: what the receiving node sees in its request URL. */
export function pathAndQueryOf(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

/**
 * A signer for `nodeId` with the cluster's secret. `now` is this node's clock: the timestamp only
 * bounds how long a captured request can be replayed, so clocks need only roughly agree.
 */
export function createHopSigner(
  secret: string,
  nodeId: string,
  options: { now?: () => number; maxSkewMs?: number } = {},
): HopSigner {
  const now = options.now ?? Date.now;
  const maxSkewMs = options.maxSkewMs ?? MAX_SKEW_MS;
  const encoder = new TextEncoder();
  const key = crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  // Newline-separated: none of the fields can contain one (Headers and URLs refuse them).
  const mac = async (fields: string[]) =>
    new Uint8Array(
      await crypto.subtle.sign("HMAC", await key, encoder.encode(["v1", ...fields].join("\n"))),
    );

  return {
    async sign(method, pathAndQuery, hop) {
      const timestamp = String(now());
      const hops = String(hop.hops);
      const clientIp = hop.clientIp ?? "";
      const signature = await mac([method, pathAndQuery, timestamp, nodeId, hops, clientIp]);
      const headers: Record<string, string> = {
        [HOP_HEADERS.node]: nodeId,
        [HOP_HEADERS.timestamp]: timestamp,
        [HOP_HEADERS.hops]: hops,
        [HOP_HEADERS.signature]: toHex(signature),
      };
      if (clientIp) headers[HOP_HEADERS.clientIp] = clientIp;
      return headers;
    },

    async verify(request) {
      const headers = request.headers;
      const signature = headers.get(HOP_HEADERS.signature);
      if (signature === null) return null;
      const from = headers.get(HOP_HEADERS.node) ?? "";
      const timestamp = headers.get(HOP_HEADERS.timestamp) ?? "";
      const hops = headers.get(HOP_HEADERS.hops) ?? "";
      const clientIp = headers.get(HOP_HEADERS.clientIp) ?? "";
      if (!HEX.test(signature) || !NODE.test(from)) return null;
      if (!/^\d{1,15}$/.test(timestamp) || !/^\d{1,3}$/.test(hops)) return null;
      if (Math.abs(now() - Number(timestamp)) > maxSkewMs) return null;
      const expected = await mac([
        request.method,
        pathAndQueryOf(request.url),
        timestamp,
        from,
        hops,
        clientIp,
      ]);
      if (!equalBytes(expected, fromHex(signature))) return null;
      return { from, hops: Number(hops), clientIp: clientIp || null };
    },
  };
}
