/**
 * @module
 * A request written by hand on a TCP connection, for tests about what a server does while a body
 * is still on its way: the headers go out at once, the body when (and if) the test sends it, and
 * the response is read as soon as the server writes it, whether or not the body was finished.
 */

export interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
}

export interface RawRequest {
  /** Writes body bytes as they are (for a request with a Content-Length). */
  send(data: string | Uint8Array): Promise<void>;
  /** Writes one chunk of a chunked body; `end()` writes the last one. */
  chunk(data: string | Uint8Array): Promise<void>;
  end(): Promise<void>;
  /** The response, once the server has written it (its body read by Content-Length). */
  response(timeoutMs?: number): Promise<RawResponse>;
  /** Resolves true when the server closed the connection within `timeoutMs`. */
  closedWithin(timeoutMs: number): Promise<boolean>;
  close(): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Opens a connection to 127.0.0.1:`port` and writes the request line and headers. Give either a
 * `Content-Length` or `Transfer-Encoding: chunked` in `headers` when a body is to follow.
 */
export async function openRawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<RawRequest> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const lines = [`${method} ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  await write(conn, lines.join("\r\n") + "\r\n\r\n");

  let received = new Uint8Array();
  let closed = false;
  const waiting: { wake: (() => void) | null } = { wake: null };
  const reading = (async () => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        const next = new Uint8Array(received.length + n);
        next.set(received);
        next.set(buffer.subarray(0, n), received.length);
        received = next;
        waiting.wake?.();
      }
    } catch {
      // Reset by the server: as good as closed.
    }
    closed = true;
    waiting.wake?.();
  })();

  const until = async (done: () => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiting.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      waiting.wake = null;
    }
    return true;
  };

  return {
    send: (data) => write(conn, data),
    chunk: (data) => {
      const bytes = typeof data === "string" ? encoder.encode(data) : data;
      return write(conn, concat(encoder.encode(`${bytes.length.toString(16)}\r\n`), bytes, CRLF));
    },
    end: () => write(conn, "0\r\n\r\n"),
    async response(timeoutMs = 10_000) {
      const parsed = () => parseResponse(received, closed);
      if (!await until(() => parsed() !== null, timeoutMs)) {
        throw new Error(`No response within ${timeoutMs} ms`);
      }
      return parsed()!;
    },
    closedWithin: (timeoutMs) => until(() => closed, timeoutMs),
    close() {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
      void reading;
    },
  };
}

const CRLF = encoder.encode("\r\n");

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

async function write(conn: Deno.Conn, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  for (let offset = 0; offset < bytes.length;) offset += await conn.write(bytes.subarray(offset));
}

function parseResponse(received: Uint8Array, closed: boolean): RawResponse | null {
  const text = decoder.decode(received);
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const [statusLine, ...headerLines] = text.slice(0, end).split("\r\n");
  const headers = new Headers();
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const body = text.slice(end + 4);
  const length = Number(headers.get("content-length") ?? NaN);
  if (Number.isFinite(length) ? body.length < length : !closed) return null;
  return {
    status: Number(statusLine.split(" ")[1]),
    headers,
    body: Number.isFinite(length) ? body.slice(0, length) : body,
  };
}
