/**
 * @module
 * A POST to a caller-given URL (a webhook set through the API) whose connection goes to addresses
 * already checked by `assertUrlAllowed`, so a DNS answer that changes between the check and the
 * connection cannot send it elsewhere; https still verifies the certificate against the URL's
 * host name (see `safe_fetch.ts` for why `node:http`/`node:https` and not `fetch`). Redirects are
 * not followed. Only the status and headers are read: the answer's body is discarded and the
 * connection closed as soon as the headers arrive, so a receiver that streams forever costs
 * nothing. The caller's signal bounds the whole request (its timeout, a shutdown).
 */
import http from "node:http";
import https from "node:https";
import { Buffer } from "node:buffer";
import { rootCertificates } from "node:tls";
import type { ResolvedAddress } from "./address_policy.ts";
import { pinnedRequestOptions } from "./safe_fetch.ts";

export interface PinnedPostOptions {
  headers: Headers | Record<string, string>;
  body: string;
  /** Aborts the request (and rejects with the signal's reason). */
  signal: AbortSignal;
  /** The checked addresses to connect to, from `assertUrlAllowed`. */
  addresses: readonly ResolvedAddress[];
  /** Extra trusted CA certificates (PEM), added to the default roots. */
  ca?: string[];
}

export interface PinnedPostResult {
  status: number;
  headers: Headers;
}

/** Sends the POST; rejects on a network error or when the signal aborts. */
export function pinnedPost(
  url: string | URL,
  options: PinnedPostOptions,
): Promise<PinnedPostResult> {
  const { signal } = options;
  if (signal.aborted) return Promise.reject(signal.reason);
  const target = new URL(url);
  const secure = target.protocol === "https:";
  const body = Buffer.from(options.body, "utf8");
  const headers: Record<string, string> = {};
  new Headers(options.headers).forEach((value, name) => headers[name] = value);
  headers["content-length"] = String(body.byteLength);
  const requestOptions: https.RequestOptions = {
    ...pinnedRequestOptions(target, options.addresses),
    method: "POST",
    headers,
  };
  if (secure && options.ca && options.ca.length > 0) {
    requestOptions.ca = [...rootCertificates, ...options.ca];
  }
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(requestOptions, (response) => {
      signal.removeEventListener("abort", onAbort);
      const answer = new Headers();
      for (const [name, value] of Object.entries(response.headers)) {
        if (value === undefined) continue;
        for (const item of Array.isArray(value) ? value : [value]) answer.append(name, item);
      }
      // Nothing reads the body: close the (unpooled) connection instead of draining it.
      response.on("error", () => {});
      response.destroy();
      resolve({ status: response.statusCode ?? 0, headers: answer });
    });
    const onAbort = () => {
      request.destroy();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    request.on("error", (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(signal.aborted ? signal.reason : error);
    });
    request.end(body);
  });
}
