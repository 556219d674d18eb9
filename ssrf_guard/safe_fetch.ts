/**
 * @module
 * A GET for URLs given by callers: http and https only, every hop's host resolved and checked
 * against an `AddressPolicy`, the connection pinned to the checked addresses, redirects followed
 * by hand (at most `maxRedirects`, each re-checked), one deadline over all hops, headers and body,
 * and a size cap enforced from `Content-Length` and again while the body streams. A refused or
 * unresolvable host, on any hop, is a `HostNotAllowedError` whose detail names the hop.
 *
 * Why `node:http`/`node:https` and not `fetch`: pinning needs the connection to go to the address
 * we checked, while TLS still verifies the certificate against the URL's host name. Node's
 * `request` takes a `lookup` function; ours answers with the already-checked addresses, so the
 * socket never does a second DNS lookup (no rebinding window), and `https` keeps the URL's host as
 * SNI and as the name the certificate must match. Measured on Deno 2.9.6: a request to
 * `http://pinned.invalid:<port>/` reaches 127.0.0.1 with `Host: pinned.invalid:<port>` (so the
 * lookup is used), `https://media.test` against a certificate for `media.test` succeeds, the same
 * server reached as `https://other.test` fails with ERR_TLS_CERT_ALTNAME_INVALID, and an unknown
 * CA fails too. `Deno.createHttpClient({ proxy: { transport: "tcp" } })` pins plain http but sends
 * https URLs in clear text over that socket, so it is not used.
 */
import http from "node:http";
import https from "node:https";
import { rootCertificates } from "node:tls";
import { Buffer } from "node:buffer";
import type { IncomingMessage } from "node:http";
import type { LookupAddress } from "node:dns";
import { ApiError, badRequest, payloadTooLarge } from "../errors.ts";
import {
  type AddressPolicy,
  assertUrlAllowed,
  HostNotAllowedError,
  type HostResolver,
  type ResolvedAddress,
} from "./address_policy.ts";

export interface SafeFetchOptions {
  policy: AddressPolicy;
  /** One deadline for the whole fetch: DNS, every redirect hop, headers and body. */
  timeoutMs: number;
  /** The largest body accepted; more is a 413. */
  maxBytes: number;
  /** Redirects followed before giving up (default 5). */
  maxRedirects?: number;
  /** Names the value in error messages, e.g. `imageUrl` (default `URL`). */
  label?: string;
  /** How host names are resolved (default: the system resolver); tests inject names. */
  resolver?: HostResolver;
  /** Extra trusted CA certificates (PEM), added to the default roots. */
  ca?: string[];
  /** Aborts the fetch from outside (for example when the HTTP client went away). */
  signal?: AbortSignal;
}

export interface SafeFetchResult {
  bytes: Uint8Array;
  /** The `Content-Type` header as sent, or null. */
  contentType: string | null;
  /** The URL that answered, after redirects. */
  finalUrl: string;
  /** The file name from `Content-Disposition`, when there is one. */
  fileNameFromHeader?: string;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for `node:http`/`node:https`/`node:net` that answers with addresses already checked
 * by `resolveAndCheck`, so the socket connects to exactly those.
 */
export function pinnedLookup(addresses: readonly ResolvedAddress[]) {
  return function lookup(
    _hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: LookupCallback,
  ): void {
    const family = Number(options?.family) || 0;
    const usable = addresses.filter((a) => family === 0 || a.family === family);
    if (usable.length === 0) {
      const error: NodeJS.ErrnoException = new Error("No checked address of that family");
      error.code = "ENOTFOUND";
      callback(error, "", 0);
    } else if (options?.all) {
      callback(null, usable.map((a) => ({ address: a.address, family: a.family })));
    } else {
      callback(null, usable[0].address, usable[0].family);
    }
  };
}

/**
 * The `node:http`/`node:https` request options that pin a URL to checked addresses: host, port,
 * path, `lookup` and no shared agent (a pooled socket could belong to another resolution). For
 * other senders of caller-given URLs (webhooks): `assertUrlAllowed` first, then
 * `https.request({ ...pinnedRequestOptions(url, addresses), method: "POST", headers }, …)`.
 */
export function pinnedRequestOptions(
  url: URL,
  addresses: readonly ResolvedAddress[],
): https.RequestOptions & { autoSelectFamily: boolean } {
  const secure = url.protocol === "https:";
  return {
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? (secure ? 443 : 80) : Number(url.port),
    path: `${url.pathname}${url.search}`,
    lookup: pinnedLookup(addresses) as unknown as http.RequestOptions["lookup"],
    // Try every checked address in turn (happy eyeballs), as a plain fetch would.
    autoSelectFamily: true,
    agent: false,
  };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Fetches a caller's URL under the policy; see the module comment for the rules. */
export async function safeFetch(
  url: string | URL,
  options: SafeFetchOptions,
): Promise<SafeFetchResult> {
  const label = options.label ?? "URL";
  const maxRedirects = options.maxRedirects ?? 5;
  const controller = new AbortController();
  // A fetch that ran out of time is the remote server's fault and nothing was sent yet: 400, so
  // that 504 keeps meaning "the engine did not answer and the outcome is unknown".
  const timer = setTimeout(
    () =>
      controller.abort(
        badRequest(`Cannot fetch ${label}: no complete answer within ${options.timeoutMs} ms`),
      ),
    options.timeoutMs,
  );
  const outer = options.signal;
  const onOuterAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener("abort", onOuterAbort, { once: true });
  if (outer?.aborted) onOuterAbort();
  const signal = controller.signal;
  try {
    let current: string | URL = url;
    for (let hop = 0;; hop++) {
      const { url: target, addresses } = await untilAborted(
        assertUrlAllowed(current, options.policy, { label, resolver: options.resolver, signal }),
        signal,
      ).catch((error) => {
        // The log should say whether the URL as given or a redirect was refused.
        throw error instanceof HostNotAllowedError
          ? new HostNotAllowedError({ ...error.refusal, hop })
          : error;
      });
      const response = await send(target, addresses, signal, options.ca, label);
      const status = response.statusCode ?? 0;
      if (REDIRECTS.has(status)) {
        response.destroy();
        const location = response.headers.location;
        if (!location) {
          throw badRequest(`Cannot fetch ${label}: redirect ${status} without a Location`);
        }
        if (hop >= maxRedirects) {
          throw badRequest(`Cannot fetch ${label}: more than ${maxRedirects} redirects`);
        }
        try {
          current = new URL(location, target);
        } catch {
          throw badRequest(`Cannot fetch ${label}: redirect to an invalid URL`);
        }
        continue;
      }
      if (status < 200 || status > 299) {
        response.destroy();
        throw badRequest(`Cannot fetch ${label}: the server answered ${status}`);
      }
      const encoding = (response.headers["content-encoding"] ?? "identity").toLowerCase();
      if (encoding !== "identity") {
        response.destroy();
        throw badRequest(
          `Cannot fetch ${label}: compressed answers ("${encoding}") are not supported`,
        );
      }
      const bytes = await readBody(response, options.maxBytes, signal, label);
      const disposition = response.headers["content-disposition"];
      return {
        bytes,
        contentType: response.headers["content-type"] ?? null,
        finalUrl: target.href,
        fileNameFromHeader: disposition ? fileNameFromContentDisposition(disposition) : undefined,
      };
    }
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener("abort", onOuterAbort);
  }
}

/** Settles with the promise, or rejects with the signal's reason once it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function send(
  target: URL,
  addresses: ResolvedAddress[],
  signal: AbortSignal,
  ca: string[] | undefined,
  label: string,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = target.protocol === "https:";
    const requestOptions: https.RequestOptions = {
      ...pinnedRequestOptions(target, addresses),
      method: "GET",
      headers: { "accept": "*/*", "accept-encoding": "identity", "user-agent": "wa-gateway" },
    };
    if (secure && ca && ca.length > 0) requestOptions.ca = [...rootCertificates, ...ca];
    const request = (secure ? https : http).request(requestOptions, (response) => {
      signal.removeEventListener("abort", onAbort);
      resolve(response);
    });
    const onAbort = () => request.destroy();
    signal.addEventListener("abort", onAbort, { once: true });
    request.on("error", (error: NodeJS.ErrnoException) => {
      signal.removeEventListener("abort", onAbort);
      reject(signal.aborted ? signal.reason : connectionError(error, label));
    });
    request.end();
  });
}

function connectionError(error: NodeJS.ErrnoException, label: string): ApiError {
  const reasons: Record<string, string> = {
    ECONNREFUSED: "the connection was refused",
    ECONNRESET: "the connection was reset",
    ETIMEDOUT: "the connection timed out",
    ENOTFOUND: "the host could not be resolved",
    EHOSTUNREACH: "the host is unreachable",
    ENETUNREACH: "the network is unreachable",
  };
  const reason = reasons[error.code ?? ""] ??
    (/cert|tls|ssl/i.test(`${error.code} ${error.message}`)
      ? `TLS failed (${error.code ?? error.message})`
      : `the request failed (${error.code ?? error.message})`);
  return badRequest(`Cannot fetch ${label}: ${reason}`);
}

function readBody(
  response: IncomingMessage,
  maxBytes: number,
  signal: AbortSignal,
  label: string,
): Promise<Uint8Array> {
  const tooLarge = () => payloadTooLarge(`${label} is larger than the limit of ${maxBytes} bytes`);
  const declared = Number(response.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let total = 0;
    let settled = false;
    const finish = (error: unknown, bytes?: Uint8Array) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      if (error !== undefined) {
        response.destroy();
        reject(error);
      } else {
        resolve(bytes!);
      }
    };
    const onAbort = () => finish(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    response.on("data", (chunk: Uint8Array) => {
      total += chunk.byteLength;
      if (total > maxBytes) return finish(tooLarge());
      chunks.push(chunk);
    });
    response.on("end", () => {
      const bytes = Buffer.concat(chunks, total);
      finish(undefined, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    });
    response.on("error", (error) => finish(badRequest(`Cannot fetch ${label}: ${error.message}`)));
    response.on("close", () => {
      if (!response.complete) finish(badRequest(`Cannot fetch ${label}: the answer was cut short`));
    });
    if (signal.aborted) onAbort();
  });
}

/**
 * The file name of a `Content-Disposition` header: `filename*` (RFC 5987, UTF-8 or ISO-8859-1)
 * before `filename`; undefined when there is none.
 */
export function fileNameFromContentDisposition(header: string): string | undefined {
  const extended = /filename\*\s*=\s*([\w!#$%&+^`{}~-]*)'[^']*'([^;\s]+)/i.exec(header);
  if (extended) {
    const charset = extended[1].toLowerCase() || "utf-8";
    try {
      const bytes = percentDecode(extended[2]);
      return new TextDecoder(charset === "iso-8859-1" ? "latin1" : charset, { fatal: true })
        .decode(bytes);
    } catch {
      // fall through to the plain parameter
    }
  }
  const quoted = /(?:^|;)\s*filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(header);
  if (quoted) return quoted[1].replace(/\\(.)/g, "$1");
  const token = /(?:^|;)\s*filename\s*=\s*([^;\s"]+)/i.exec(header);
  return token ? token[1] : undefined;
}

/** Decodes `%XX` escapes into bytes; other characters are taken as UTF-8. */
export function percentDecode(text: string): Uint8Array {
  const input = new TextEncoder().encode(text);
  const output = new Uint8Array(input.length);
  let length = 0;
  for (let i = 0; i < input.length; i++) {
    const high = input[i] === 0x25 ? hexValue(input[i + 1]) : -1;
    const low = high >= 0 ? hexValue(input[i + 2]) : -1;
    if (low >= 0) {
      output[length++] = high * 16 + low;
      i += 2;
    } else {
      output[length++] = input[i];
    }
  }
  return output.subarray(0, length);
}

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}
