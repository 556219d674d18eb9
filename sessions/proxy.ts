/**
 * @module
 * A number's proxy: the one its Chromium sends WhatsApp's traffic through (`POST /:n/start` with
 * `proxy`, or `PROXY_URL` for every number without one). `http://` and `https://` proxies may
 * carry a user and password (answered through puppeteer's proxy authentication); `socks5://` may
 * not, since Chromium cannot authenticate to a SOCKS proxy. The password is kept with the session
 * and never shown: {@link redactProxy} is what a caller and the log see.
 *
 * A proxy whose host is private (loopback, a private range…, by the rules of the SSRF guard) may be
 * set by the admin only: a tenant could otherwise aim a Chromium at the server's own network. The
 * host is checked when it is set and again at every launch (DNS can change in between), and
 * Chromium is handed the address that was checked, so it cannot resolve the name to another one.
 */
import { badRequest, forbidden } from "../errors.ts";
import type { EngineProxy } from "./engine.ts";
import {
  type AddressPolicy,
  createAddressPolicy,
  HostNotAllowedError,
  type HostResolver,
  resolveAndCheck,
} from "../ssrf_guard/address_policy.ts";

export type ProxyScheme = "http" | "https" | "socks5";

/** A proxy as set: its URL (with any credentials), and whether the admin set it. */
export interface ProxySetting {
  url: string;
  /** Set by the admin: its host may be private. */
  byAdmin: boolean;
}

export interface ParsedProxy {
  scheme: ProxyScheme;
  /** The host as written (a name, or an IP without brackets). */
  host: string;
  port: number;
  username: string | null;
  password: string | null;
}

/** What a tenant is told of a proxy host it may not use. */
export const PROXY_HOST_REFUSED = "This proxy's host is not allowed: a private host, or one that " +
  "does not resolve, may be set by the admin only";

const DEFAULT_PORTS: Record<ProxyScheme, number> = { http: 80, https: 443, socks5: 1080 };

/**
 * Parses and checks a proxy URL; throws a 400 naming what is wrong (never the password). `label`
 * names the setting in the message (`proxy`, `PROXY_URL`).
 */
export function parseProxy(url: string, label = "proxy"): ParsedProxy {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badRequest(`Invalid ${label}: not a URL (use http://host:port, https://… or socks5://…)`);
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (scheme !== "http" && scheme !== "https" && scheme !== "socks5") {
    throw badRequest(
      `Invalid ${label}: scheme "${parsed.protocol}" is not supported, use http, https or socks5`,
    );
  }
  if (parsed.hostname === "") throw badRequest(`Invalid ${label}: it has no host`);
  if ((parsed.pathname !== "/" && parsed.pathname !== "") || parsed.search || parsed.hash) {
    throw badRequest(`Invalid ${label}: a proxy URL has no path, query or fragment`);
  }
  const username = parsed.username === "" ? null : decodeURIComponent(parsed.username);
  const password = parsed.password === "" ? null : decodeURIComponent(parsed.password);
  if (scheme === "socks5" && (username !== null || password !== null)) {
    throw badRequest(
      `Invalid ${label}: Chromium cannot authenticate to a SOCKS proxy, so a socks5 proxy takes ` +
        "no user or password (use an http or https proxy for that)",
    );
  }
  if (password !== null && username === null) {
    throw badRequest(`Invalid ${label}: a password needs a user`);
  }
  return {
    scheme,
    host: parsed.hostname.replace(/^\[|\]$/g, ""),
    port: parsed.port === "" ? DEFAULT_PORTS[scheme] : Number(parsed.port),
    username,
    password,
  };
}

/** What is wrong with a proxy URL (for the configuration's message), or null. */
export function proxyProblem(url: string): string | null {
  try {
    parseProxy(url);
    return null;
  } catch (error) {
    return (error as Error).message.replace(/^Invalid proxy: /, "");
  }
}

/** The proxy URL with its password replaced by `***`: what callers and logs see. */
export function redactProxy(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.href.replace(/\/$/, "");
  } catch {
    return "(invalid)";
  }
}

export interface ProxyCheckOptions {
  /** May the host be private (the admin set it)? */
  byAdmin: boolean;
  resolver?: HostResolver;
  policy?: AddressPolicy;
}

/**
 * Resolves the proxy's host and checks it: a private address is refused (403) unless the admin set
 * it; a host that does not resolve is a 400. Returns what Chromium is given. The refusal says
 * nothing of the network; `HostNotAllowedError.refusal` is for the log.
 */
export async function resolveProxy(
  proxy: ParsedProxy,
  options: ProxyCheckOptions,
): Promise<EngineProxy> {
  const policy = options.policy ?? PUBLIC_ONLY;
  let address: string;
  try {
    const addresses = await resolveAndCheck(proxy.host, options.byAdmin ? ANY_ADDRESS : policy, {
      label: "proxy",
      resolver: options.resolver,
    });
    address = addresses[0].address;
  } catch (error) {
    const refusal = error instanceof HostNotAllowedError ? error.refusal : undefined;
    // A tenant gets one answer whether the host is private or does not resolve: two would let it
    // map the server's internal names.
    const refused = options.byAdmin
      ? badRequest("Invalid proxy: its host does not resolve")
      : forbidden(PROXY_HOST_REFUSED);
    throw Object.assign(refused, { refusal });
  }
  const literal = address.includes(":") ? `[${address}]` : address;
  const credentials = proxy.username !== null
    ? { username: proxy.username, password: proxy.password ?? "" }
    : undefined;
  if (proxy.scheme === "https") {
    // TLS to the proxy is checked against its name: keep the name, pin what it resolves to.
    return {
      server: `https://${hostInUrl(proxy.host)}:${proxy.port}`,
      hostResolverRules: `MAP ${proxy.host} ${literal}`,
      credentials,
    };
  }
  return { server: `${proxy.scheme}://${literal}:${proxy.port}`, credentials };
}

function hostInUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Global unicast only: the SSRF guard's rules with nothing allow-listed. */
const PUBLIC_ONLY = createAddressPolicy();

/** The admin's proxy may be anywhere, but must still resolve. */
const ANY_ADDRESS: AddressPolicy = {
  classify: () => ({ allowed: true, reason: "admin" }),
  isAllowedAddress: () => true,
  isAllowedHostName: () => true,
  checkHost: () => ({ allowed: true }),
};
