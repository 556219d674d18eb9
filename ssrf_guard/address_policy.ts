/**
 * @module
 * Which network addresses the server may contact on a caller's behalf (media URLs, webhook URLs).
 * Only global unicast addresses are allowed by default; loopback, private, unique-local,
 * link-local, CGNAT, multicast, unspecified, broadcast, reserved and documentation ranges (as
 * `ipaddr.js` names them), IPv4-mapped or NAT64/6to4-embedded forms of those, and the cloud
 * metadata endpoints are refused unless an allow-list entry (an IP, a CIDR range, a host name or
 * a `*.suffix` wildcard) lets them through. Host names are checked after DNS resolution: every
 * address a name resolves to must pass, and the caller then connects to exactly those addresses.
 *
 * A refusal tells the caller nothing about the network: whether a name resolved, to what, and
 * which rule refused it would let a tenant map internal names. `HostNotAllowedError` carries that
 * detail for the server log only; its message, and `hostNotAllowed()`, are the same for every
 * refused or unresolvable host.
 */
import ipaddr from "ipaddr.js";
import { lookup } from "node:dns/promises";
import { ApiError, badRequest } from "../errors.ts";

type Ip = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * Cloud metadata endpoints (AWS/GCP/Azure/Oracle, AWS IPv6, Alibaba). They sit inside ranges that
 * are refused anyway; they are listed so that an allow-listed range (say `169.254.0.0/16`) does
 * not open them. Only an exact IP entry does.
 */
const METADATA_ADDRESSES = ["169.254.169.254", "fd00:ec2::254", "100.100.100.200"];

/** `::/96`, the deprecated IPv4-compatible IPv6 form, which `ipaddr.js` calls unicast. */
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR("::/96");

export interface AddressVerdict {
  allowed: boolean;
  /** Why: the `ipaddr.js` range name (`loopback`, `private`, …), `metadata`, or `allow-list`. */
  reason: string;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** The decision of one allow-list, made once from configuration. */
export interface AddressPolicy {
  /** The verdict for one IP address (any form `ipaddr.js` parses); not an IP → refused. */
  classify(ip: string): AddressVerdict;
  /** Whether one IP address may be contacted. */
  isAllowedAddress(ip: string): boolean;
  /** Whether a host name is allow-listed by name (then all its addresses may be contacted). */
  isAllowedHostName(hostname: string): boolean;
  /** Checks a host's resolved addresses; the first refused one is returned with its reason. */
  checkHost(
    hostname: string,
    addresses: readonly string[],
  ): { allowed: true } | { allowed: false; address: string; reason: string };
}

interface AllowList {
  ips: Ip[];
  ranges: [Ip, number][];
  names: Set<string>;
  suffixes: string[];
}

function normalizeHostName(hostname: string): string {
  let name = hostname.trim().toLowerCase();
  if (name.startsWith("[") && name.endsWith("]")) name = name.slice(1, -1);
  if (name.endsWith(".")) name = name.slice(0, -1);
  return name;
}

/** Parses an address, turning IPv4-mapped IPv6 into IPv4 so both forms get one answer. */
function parseIp(ip: string): Ip | null {
  const text = normalizeHostName(ip);
  if (!ipaddr.isValid(text)) return null;
  try {
    const parsed = ipaddr.parse(text);
    if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
      return (parsed as ipaddr.IPv6).toIPv4Address();
    }
    return parsed;
  } catch {
    return null;
  }
}

function parseAllowList(entries: readonly string[]): AllowList {
  const list: AllowList = { ips: [], ranges: [], names: new Set(), suffixes: [] };
  for (const raw of entries) {
    const entry = normalizeHostName(raw);
    if (entry === "") continue;
    if (entry.includes("/")) {
      if (!ipaddr.isValidCIDR(entry)) {
        throw new Error(`Invalid allow-list entry "${raw}": not a CIDR range`);
      }
      const [base, bits] = ipaddr.parseCIDR(entry);
      const mapped = base.kind() === "ipv6" && (base as ipaddr.IPv6).isIPv4MappedAddress();
      list.ranges.push(
        mapped ? [(base as ipaddr.IPv6).toIPv4Address(), Math.max(0, bits - 96)] : [base, bits],
      );
    } else if (ipaddr.isValid(entry)) {
      list.ips.push(parseIp(entry)!);
    } else if (entry.startsWith("*.") && /^[a-z0-9.-]+$/.test(entry.slice(2))) {
      list.suffixes.push(entry.slice(1));
    } else if (/^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$/.test(entry)) {
      list.names.add(entry);
    } else {
      throw new Error(`Invalid allow-list entry "${raw}": not an IP, CIDR range or host name`);
    }
  }
  return list;
}

function sameAddress(a: Ip, b: Ip): boolean {
  return a.kind() === b.kind() && a.toNormalizedString() === b.toNormalizedString();
}

function inRange(ip: Ip, [base, bits]: [Ip, number]): boolean {
  return ip.kind() === base.kind() && ip.match(base, bits);
}

/** The default verdict (no allow-list) for an address already un-mapped by `parseIp`. */
function defaultVerdict(ip: Ip): AddressVerdict {
  if (METADATA_ADDRESSES.some((m) => sameAddress(ip, parseIp(m)!))) {
    return { allowed: false, reason: "metadata" };
  }
  if (ip.kind() === "ipv4") {
    const range = ip.range();
    return { allowed: range === "unicast", reason: range };
  }
  const v6 = ip as ipaddr.IPv6;
  const range = v6.range();
  if (range === "unicast" && v6.match(IPV4_COMPATIBLE)) {
    return { allowed: false, reason: "ipv4Compatible" };
  }
  // NAT64 (64:ff9b::/96, not the local-use /48) and 6to4 carry an IPv4 address that the
  // translator will contact: judge that one, so DNS64-only deployments still work.
  const p = v6.parts;
  if (range === "rfc6052" && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0) {
    const inner = defaultVerdict(ipv4FromWords(p[6], p[7]));
    return { allowed: inner.allowed, reason: `nat64 of ${inner.reason}` };
  }
  if (range === "6to4") {
    const inner = defaultVerdict(ipv4FromWords(p[1], p[2]));
    return { allowed: inner.allowed, reason: `6to4 of ${inner.reason}` };
  }
  return { allowed: range === "unicast", reason: range };
}

function ipv4FromWords(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/**
 * Builds the policy of one allow-list (`MEDIA_ALLOW_PRIVATE_HOSTS`,
 * `WEBHOOK_ALLOW_PRIVATE_HOSTS`). Throws on an entry that is neither an IP, a CIDR range, a host
 * name nor a `*.suffix` wildcard, so a typo fails at start-up rather than silently refusing.
 */
export function createAddressPolicy(allow: readonly string[] = []): AddressPolicy {
  const list = parseAllowList(allow);

  function classify(ip: string): AddressVerdict {
    const parsed = parseIp(ip);
    if (!parsed) return { allowed: false, reason: "not an IP address" };
    if (list.ips.some((entry) => sameAddress(parsed, entry))) {
      return { allowed: true, reason: "allow-list" };
    }
    const verdict = defaultVerdict(parsed);
    if (verdict.allowed || verdict.reason === "metadata") return verdict;
    if (list.ranges.some((range) => inRange(parsed, range))) {
      return { allowed: true, reason: "allow-list" };
    }
    return verdict;
  }

  function isAllowedHostName(hostname: string): boolean {
    const name = normalizeHostName(hostname);
    return list.names.has(name) || list.suffixes.some((suffix) => name.endsWith(suffix));
  }

  return {
    classify,
    isAllowedAddress: (ip) => classify(ip).allowed,
    isAllowedHostName,
    checkHost(hostname, addresses) {
      const byName = isAllowedHostName(hostname);
      for (const address of addresses) {
        const verdict = classify(address);
        // A name on the allow-list opens its private addresses, never the metadata endpoints.
        if (verdict.allowed || (byName && verdict.reason !== "metadata")) continue;
        return { allowed: false, address, reason: verdict.reason };
      }
      return { allowed: true };
    },
  };
}

/** Why a host was refused: for the server log, never for the caller. */
export interface HostRefusal {
  /** The host as checked (lower case, without brackets). */
  host: string;
  /** What the host resolved to (empty when it did not resolve). */
  addresses: string[];
  /** The first address the policy refused, when one was. */
  address?: string;
  /** The range (`loopback`, `private`, …), `metadata`, or `unresolvable`. */
  reason: string;
  /** The resolver's error, when the host did not resolve. */
  error?: string;
  /** Set by `safeFetch`: the redirect hop (0 is the URL as given). */
  hop?: number;
}

/**
 * A refused or unresolvable destination: a 400 whose message names nothing of the network, with
 * the detail in `refusal` for the server log.
 */
export class HostNotAllowedError extends ApiError {
  readonly refusal: HostRefusal;
  constructor(refusal: HostRefusal) {
    super("BAD_REQUEST", "The URL's host is not allowed");
    this.name = "HostNotAllowedError";
    this.refusal = refusal;
  }
}

/**
 * The one thing a caller is told about a refused destination, with the setting that opens private
 * hosts (`MEDIA_ALLOW_PRIVATE_HOSTS`, `WEBHOOK_ALLOW_PRIVATE_HOSTS`) as the only hint.
 */
export function hostNotAllowed(setting: string): string {
  return `the URL's host is not allowed (private and loopback hosts need ${setting} on the server)`;
}

/** Resolves a host name to all its addresses (A and AAAA), the way the OS would (`/etc/hosts`). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver: `getaddrinfo` through `node:dns`, so `localhost` and `/etc/hosts` count. */
export const systemResolver: HostResolver = async (hostname) => {
  const found = await lookup(hostname, { all: true, verbatim: true });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

export interface ResolveOptions {
  /** Names the value in error messages, e.g. `imageUrl` or `webhook URL`. */
  label?: string;
  resolver?: HostResolver;
  signal?: AbortSignal;
}

/**
 * Resolves a host (an IP literal needs no lookup) and checks every address against the policy.
 * Returns the addresses to connect to; throws a `HostNotAllowedError` (400) when the host does
 * not resolve or any address is refused. Callers must connect to exactly these addresses (see
 * `pinnedLookup` in `safe_fetch.ts`), or a second lookup could answer differently.
 */
export async function resolveAndCheck(
  hostname: string,
  policy: AddressPolicy,
  options: ResolveOptions = {},
): Promise<ResolvedAddress[]> {
  const host = normalizeHostName(hostname);
  let addresses: ResolvedAddress[];
  if (ipaddr.isValid(host)) {
    addresses = [{ address: host, family: ipaddr.parse(host).kind() === "ipv6" ? 6 : 4 }];
  } else {
    options.signal?.throwIfAborted();
    try {
      addresses = await (options.resolver ?? systemResolver)(host);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new HostNotAllowedError({
        host,
        addresses: [],
        reason: "unresolvable",
        error: typeof code === "string" ? code : String(error),
      });
    }
    if (addresses.length === 0) {
      throw new HostNotAllowedError({ host, addresses: [], reason: "unresolvable" });
    }
  }
  const listed = addresses.map((a) => a.address);
  const verdict = policy.checkHost(host, listed);
  if (!verdict.allowed) {
    throw new HostNotAllowedError({
      host,
      addresses: listed,
      address: verdict.address,
      reason: verdict.reason,
    });
  }
  return addresses;
}

/**
 * Checks a URL for a server-side request: only `http:` and `https:`, no credentials in it, and a
 * host whose every address passes the policy. Returns the parsed URL and the addresses to pin.
 */
export async function assertUrlAllowed(
  url: string | URL,
  policy: AddressPolicy,
  options: ResolveOptions = {},
): Promise<{ url: URL; addresses: ResolvedAddress[] }> {
  const label = options.label ?? "URL";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badRequest(`Invalid ${label}: not a valid URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw badRequest(
      `Invalid ${label}: scheme "${parsed.protocol}" is not allowed, use http or https`,
    );
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw badRequest(`Invalid ${label}: credentials in the URL are not allowed`);
  }
  const addresses = await resolveAndCheck(parsed.hostname, policy, options);
  return { url: parsed, addresses };
}
