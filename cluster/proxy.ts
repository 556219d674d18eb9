/**
 * @module
 * `proxyRequest`: one request passed on to another node and its answer passed back, both
 * streamed: the request's body goes on as it arrives (nothing is read first) and the answer's body,
 * Server-Sent Events included, comes back as the owner writes it. Hop-by-hop headers stay behind;
 * everything else (the client's credential too: the owner authenticates again) goes with it.
 *
 * The owner must answer within `timeoutMs` of the request having been sent whole (a body may take
 * up to `bodyTimeoutMs` to arrive before that): a node that is stopped or frozen answers `504
 * TIMEOUT`; a connection refused or reset before an answer (the owner died, or is restarting) is
 * `409 CLIENT_NOT_READY`, the number being between nodes. Neither names the node's address: the log
 * has it.
 */
import { ApiError } from "../errors.ts";
import { describeError, type Logger } from "../logger.ts";
import { HOP_BY_HOP_HEADERS as HOP_BY_HOP } from "../http_headers.ts";
import { HOP_HEADERS } from "./signing.ts";

/**
 * Left out of a forwarded request: the hop headers are set anew, the length goes with the stream
 * (fetch sends a streamed body chunked), and without `Accept-Encoding` the owner answers
 * uncompressed (fetch would decompress it and the encoding header would lie); this node
 * compresses for its client as it would its own answers.
 */
const NOT_FORWARDED = new Set([
  ...HOP_BY_HOP,
  "host",
  "content-length",
  "accept-encoding",
  ...Object.values(HOP_HEADERS),
]);

/** Left out of an answer passed back. */
const NOT_RETURNED = new Set(HOP_BY_HOP);

export interface ProxyOptions {
  /** The owner's origin (`NODE_URL`). */
  origin: string;
  /** The number the request is for, for the messages. */
  phoneNumber: string;
  /** Added to the request's own headers (the signed hop headers, the request id). */
  headers: Record<string, string>;
  /** The body, when it was already read (webhooks); else the request's stream goes on. */
  body?: Uint8Array<ArrayBuffer>;
  /** `ENGINE_CALL_TIMEOUT_MS`. */
  timeoutMs: number;
  /** `BODY_TIMEOUT_MS`: how long a streamed body may take on top of that. */
  bodyTimeoutMs: number;
  log: Logger;
  /** Called once a streamed body has been read to its end (and passed on). */
  onBodySent?: () => void;
  fetch?: typeof fetch;
}

/** Copies headers, leaving out those `skip` names. */
function copyHeaders(from: Headers, skip: Set<string>): Headers {
  const headers = new Headers();
  for (const [name, value] of from) {
    if (!skip.has(name)) headers.append(name, value);
  }
  return headers;
}

/** Passes `request` on to `options.origin` (same path and query) and returns the answer. */
export async function proxyRequest(request: Request, options: ProxyOptions): Promise<Response> {
  const url = new URL(request.url);
  const target = new URL(url.pathname + url.search, options.origin);
  const headers = copyHeaders(request.headers, NOT_FORWARDED);
  for (const [name, value] of Object.entries(options.headers)) headers.set(name, value);

  const controller = new AbortController();
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, ms);
  };
  const clientGone = () => controller.abort();
  request.signal.addEventListener("abort", clientGone, { once: true });

  let body: BodyInit | null = null;
  const streamed = options.body === undefined && request.body !== null &&
    request.method !== "GET" && request.method !== "HEAD";
  if (options.body !== undefined) {
    body = options.body.byteLength > 0 ? options.body : null;
    arm(options.timeoutMs);
  } else if (streamed) {
    // The owner's time starts once the body is all sent; until then the body's own bound holds.
    arm(options.bodyTimeoutMs + options.timeoutMs);
    body = request.body!.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        flush: () => {
          arm(options.timeoutMs);
          options.onBodySent?.();
        },
      }),
    );
  } else {
    arm(options.timeoutMs);
  }

  let answer: Response;
  try {
    answer = await (options.fetch ?? fetch)(target, {
      method: request.method,
      headers,
      body,
      redirect: "manual",
      signal: controller.signal,
      // A streamed request body (Deno and the fetch standard ask for it).
      ...(streamed ? { duplex: "half" } : {}),
    } as RequestInit);
  } catch (error) {
    request.signal.removeEventListener("abort", clientGone);
    const where = { owner: target.origin, path: url.pathname, error: describeError(error) };
    if (timedOut) {
      options.log.warn("the owner of a number did not answer in time", where);
      throw new ApiError(
        "TIMEOUT",
        `The node serving session "${options.phoneNumber}" did not answer within ` +
          `${options.timeoutMs} ms`,
      );
    }
    options.log.warn("forwarding to the owner of a number failed", where);
    throw new ApiError(
      "CLIENT_NOT_READY",
      `Session "${options.phoneNumber}" is moving between nodes: try again shortly`,
    );
  } finally {
    clearTimeout(timer);
  }
  // From here the answer streams for as long as it lasts (an SSE stream is endless); a client
  // that leaves cancels it, which ends the owner's request.
  return new Response(answer.body, {
    status: answer.status,
    statusText: answer.statusText,
    headers: copyHeaders(answer.headers, NOT_RETURNED),
  });
}
