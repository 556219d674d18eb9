/**
 * @module
 * Reading a request body, bounded in size and time. The guards call `readBody` once the caller is
 * authenticated and allowed, so an anonymous client cannot make the server read (or hold) a single
 * body byte. The body is read whole, because every route that takes one needs all of it, and handed
 * to Hono's body cache, so the validators and handlers read it from memory.
 *
 * - A declared `Content-Length` is judged from the header: over the limit is `413` before a byte is
 *   read, and Deno's server delivers no more than it declares, so reading it through Deno's fast
 *   path (`text()`, not the stream) is bounded too.
 * - A body of unknown length (chunked, HTTP/2) is counted while it streams and cut at the limit.
 * - Either way, a body that has not fully arrived within `timeoutMs` of the first read is cut with
 *   `408`: a client that trickles bytes holds a connection for that long at most.
 * - An empty body sent as JSON reads as `{}`, so an optional JSON body may be left out with its
 *   header still set, and a required one fails validation naming its first missing field.
 *
 * `closeUnreadBodies()` ends the connection after answering a request whose body was not read
 * (refused before it, or cut): otherwise the HTTP server would read the rest to reuse the
 * connection, and an unauthenticated client could stream into it for as long as it likes.
 */
import type { Context, MiddlewareHandler } from "hono";
import { ApiError, badRequest, payloadTooLarge, requestTimeout } from "../errors.ts";

export interface BodyLimits {
  /** The largest body, in bytes. */
  maxBytes: number;
  /** How long the whole body may take to arrive once reading starts (`BODY_TIMEOUT_MS`). */
  timeoutMs: number;
}

/** The cap of routes that take no media: a 65,536-character text of emoji, ten webhooks. */
export const SMALL_BODY_MAX_BYTES = 1024 * 1024;

const JSON_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

/**
 * Reads the request's body within the limits and caches it on `c.req` (as text and bytes); a
 * request without a body, or a GET/HEAD, is left alone. Throws `413`, `408`, or `400` when the
 * body cannot be read (the client went away mid-body).
 */
export async function readBody(c: Context, limits: BodyLimits): Promise<void> {
  const request = c.req.raw;
  if (request.method === "GET" || request.method === "HEAD") return;
  if (c.req.bodyCache.arrayBuffer) return;
  const declared = request.headers.get("content-length");
  const chunked = request.headers.has("transfer-encoding");
  let bytes: Uint8Array;
  if (declared !== null && !chunked) {
    const length = Number(declared);
    if (length > limits.maxBytes) throw tooLarge(limits.maxBytes);
    bytes = length === 0
      ? new Uint8Array()
      : new Uint8Array(await withDeadline(request.arrayBuffer(), limits.timeoutMs));
  } else {
    // Touching `request.body` takes Deno off its fast path: only for bodies without a length.
    const stream = request.body;
    bytes = stream ? await readCounted(stream, limits) : new Uint8Array();
  }
  const text = bytes.length === 0 && JSON_TYPE.test(request.headers.get("content-type") ?? "")
    ? "{}"
    : new TextDecoder().decode(bytes);
  const cache = c.req.bodyCache as Record<string, Promise<unknown>>;
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  cache.arrayBuffer = Promise.resolve(whole ? bytes.buffer : bytes.slice().buffer);
  cache.text = Promise.resolve(text);
}

function tooLarge(maxBytes: number) {
  return payloadTooLarge(`The request body is over ${maxBytes} bytes`);
}

function timedOut(timeoutMs: number) {
  return requestTimeout(`The request body did not arrive within ${timeoutMs} ms`);
}

async function withDeadline<T>(reading: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut(timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([reading, deadline]);
  } catch (error) {
    throw readFailure(error);
  } finally {
    clearTimeout(timer);
  }
}

async function readCounted(
  stream: ReadableStream<Uint8Array>,
  limits: BodyLimits,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut(limits.timeoutMs)), limits.timeoutMs);
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), deadline]);
      if (done) break;
      size += value.byteLength;
      if (size > limits.maxBytes) throw tooLarge(limits.maxBytes);
      chunks.push(value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw readFailure(error);
  } finally {
    clearTimeout(timer);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Our own refusals pass; anything else is a body the client stopped sending. */
function readFailure(error: unknown) {
  if (error instanceof ApiError) return error;
  return badRequest("The request body could not be read");
}

/**
 * Records that the request's body was read to its end by other means (streamed on to the node that
 * serves it), so its connection may be kept: there is nothing left in it to drain.
 */
export function markBodyConsumed(c: Context): void {
  const cache = c.req.bodyCache as Record<string, Promise<unknown>>;
  cache.arrayBuffer ??= Promise.resolve(new ArrayBuffer(0));
}

/** App-level: `Connection: close` on the answer to a request whose body was not read whole. */
export function closeUnreadBodies(): MiddlewareHandler {
  return async function closeUnreadBodies(c, next) {
    await next();
    const headers = c.req.raw.headers;
    const length = headers.get("content-length");
    const hasBody = headers.has("transfer-encoding") || (length !== null && length !== "0");
    if (hasBody && !c.req.bodyCache.arrayBuffer) c.res.headers.set("Connection", "close");
  };
}
