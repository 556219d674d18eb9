/**
 * @module
 * An HTTP client of one WAHA server, as the waha engine uses it: JSON in and out, WAHA's
 * `X-Api-Key`, and a timeout on every call, so a hung WAHA never hangs a request. WAHA's answers
 * become the engine's failures: its 400 a BAD_REQUEST, its 404 a NOT_FOUND, its 422 (the session
 * is not in the status the call needs) and an unreachable server NOT_READY; anything else (a 500)
 * a plain error, which the HTTP layer answers 500. Messages name no address (the operator's WAHA
 * is not the tenant's business); the detail stays in `detail` for the logs. A file WAHA serves (a
 * message's media) is downloaded the same way, with the same key.
 */
import { EngineError } from "../../engine.ts";

export interface WahaClientOptions {
  url: string;
  apiKey?: string;
  /** Each call gives up after this long (ms). */
  timeoutMs: number;
  /** Aborts every call in flight (the engine stops). */
  signal?: AbortSignal;
}

/** WAHA answered with a status the engine does not map (a 500); `status` is WAHA's. */
export class WahaServerError extends Error {
  constructor(readonly status: number, readonly detail: string) {
    super(
      status === 401 || status === 403
        ? `The WAHA server refused WAHA_API_KEY (HTTP ${status})`
        : `The WAHA server failed (HTTP ${status})`,
    );
    this.name = "WahaServerError";
  }
}

/** WAHA did not answer within the timeout. */
export class WahaTimeoutError extends Error {
  constructor() {
    super("The WAHA server did not answer in time");
    this.name = "WahaTimeoutError";
  }
}

export interface WahaCall {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
}

export interface WahaClient {
  /** WAHA's parsed answer (null for an empty one). */
  call<T>(request: WahaCall): Promise<T>;
  /** The bytes of a file WAHA serves (a message's media), refused past `maxBytes`. */
  download(path: string, maxBytes: number): Promise<WahaFile>;
}

export interface WahaFile {
  bytes: Uint8Array;
  /** WAHA's `Content-Type`, when it says. */
  contentType: string | null;
}

export function createWahaClient(options: WahaClientOptions): WahaClient {
  const base = options.url.replace(/\/+$/, "");

  /** WAHA's answer to `request`, once it is a success; its failures as the engine's. */
  async function send(
    request: WahaCall,
  ): Promise<{ response: Response; timeout: AbortSignal }> {
    const url = new URL(`${base}${request.path}`);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { Accept: "application/json" };
    if (options.apiKey) headers["X-Api-Key"] = options.apiKey;
    if (request.body !== undefined) headers["Content-Type"] = "application/json";
    const timeout = AbortSignal.timeout(request.timeoutMs ?? options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    let response: Response;
    try {
      response = await fetch(url, {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal,
      });
    } catch (error) {
      if (timeout.aborted) throw new WahaTimeoutError();
      if (options.signal?.aborted) {
        throw new EngineError("NOT_READY", "The session's engine is stopping");
      }
      throw new EngineError(
        "NOT_READY",
        `The WAHA server cannot be reached (${(error as Error)?.name ?? "error"})`,
      );
    }
    if (response.ok) return { response, timeout };
    const text = await readText(response, timeout);
    const what = `${request.method} ${request.path}`;
    switch (response.status) {
      case 400:
        throw new EngineError("BAD_REQUEST", `WAHA refused the request: ${wahaMessage(text)}`);
      case 404:
        throw new EngineError("NOT_FOUND", `WAHA found no such item: ${wahaMessage(text)}`);
      case 422:
        throw new EngineError(
          "NOT_READY",
          `WAHA's session is not ready for this: ${wahaMessage(text)}`,
        );
      case 501:
        throw new EngineError("NOT_IMPLEMENTED", `WAHA's engine cannot do this: ${what}`);
      default:
        throw new WahaServerError(response.status, `${what}: ${text.slice(0, 500)}`);
    }
  }

  return {
    async call<T>(request: WahaCall): Promise<T> {
      const { response, timeout } = await send(request);
      const text = await readText(response, timeout);
      // NestJS sends a string a controller returns (an invite code) as text, not JSON.
      const isJson = /json/i.test(response.headers.get("content-type") ?? "");
      return (!text ? null : isJson ? JSON.parse(text) : text) as T;
    },

    async download(path: string, maxBytes: number): Promise<WahaFile> {
      const { response, timeout } = await send({ method: "GET", path });
      const declared = Number(response.headers.get("content-length"));
      const tooLarge = () =>
        new EngineError("BAD_REQUEST", `The media is larger than ${maxBytes} bytes`);
      if (declared > maxBytes) {
        await response.body?.cancel();
        throw tooLarge();
      }
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await response.arrayBuffer());
      } catch {
        if (timeout.aborted) throw new WahaTimeoutError();
        throw new EngineError("NOT_READY", "The WAHA server's answer was cut off");
      }
      if (bytes.byteLength > maxBytes) throw tooLarge();
      return { bytes, contentType: response.headers.get("content-type") };
    },
  };
}

/** An answer's text; a timeout or a connection lost while reading it as the engine's failure. */
async function readText(response: Response, timeout: AbortSignal): Promise<string> {
  try {
    return await response.text();
  } catch {
    if (timeout.aborted) throw new WahaTimeoutError();
    throw new EngineError("NOT_READY", "The WAHA server's answer was cut off");
  }
}

/** The `message` of WAHA's error body (NestJS's `{ statusCode, message, error }`), or its text. */
function wahaMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    const message = Array.isArray(body.message) ? body.message.join("; ") : body.message;
    if (typeof message === "string" && message) return message.slice(0, 300);
  } catch {
    // not JSON: its text
  }
  return text.slice(0, 300) || "no details";
}
