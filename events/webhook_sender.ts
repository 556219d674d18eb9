/**
 * @module
 * What sends one webhook POST, given as plain data (`WebhookPost`): the dispatcher decides what to
 * send, when and to which addresses; a sender signs the body (HMAC-SHA512, as WAHA does), sends it
 * (`pinnedPost` to the checked addresses of a URL set through the API, `fetch` for the operator's
 * trusted URL), and answers with the receiver's status and its `Retry-After`. `createDirectSender`
 * does it on the calling thread; `webhook_sender_worker.ts` does the same in a Worker of its own,
 * so the POSTs' CPU (`fetch`, hyper, TLS, the HMAC) leaves the main thread (bench/README.md).
 */
import type { Logger } from "../logger.ts";
import type { ResolvedAddress } from "../ssrf_guard/address_policy.ts";
import { pinnedPost } from "../ssrf_guard/pinned_post.ts";

/** One POST as the dispatcher made it: plain data, so it can cross to a Worker. */
export interface WebhookPost {
  url: string;
  body: string;
  /** Every header to send, the server's own (`Content-Type`, `X-Webhook-*`) included. */
  headers: [string, string][];
  /** Signs the body (`X-Webhook-Hmac`, `X-Webhook-Hmac-Algorithm`) when set. */
  secret: string | null;
  /** The checked addresses to connect to, or null for a trusted URL (sent with `fetch`). */
  addresses: readonly ResolvedAddress[] | null;
}

/** The receiver's answer, as far as the dispatcher reads it. */
export interface WebhookAnswer {
  status: number;
  retryAfter: string | null;
}

export interface WebhookSender {
  /**
   * Sends the POST; resolves with the receiver's answer whatever its status, rejects on a network
   * error, or with the signal's reason once it aborts.
   */
  post(request: WebhookPost, signal: AbortSignal): Promise<WebhookAnswer>;
  /**
   * Resolves once a post sent now starts at once (a Worker's sender: once its Worker has loaded,
   * or failed, or the sender closed), so that an attempt's time is the receiver's, not a Worker's
   * start.
   */
  ready(): Promise<void>;
  /** Stops: posts still in flight reject. */
  close(): void;
}

const encoder = new TextEncoder();
/** HMAC keys kept imported; a secret that changes leaves its old key behind, so they are capped. */
const MAX_KEYS = 64;

function toHex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Hex HMAC-SHA512 of the body, as WAHA signs webhooks. */
export async function signBody(key: CryptoKey, body: string): Promise<string> {
  return toHex(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
}

/** Sends on the calling thread (`fetch` for trusted URLs: the global one by default). */
export function createDirectSender(options: { fetch?: typeof fetch } = {}): WebhookSender {
  const doFetch = options.fetch ?? fetch;
  const keys = new Map<string, Promise<CryptoKey>>();

  function hmacKey(secret: string): Promise<CryptoKey> {
    let key = keys.get(secret);
    if (key) {
      keys.delete(secret); // Most recently used last: the oldest goes first.
    } else {
      key = crypto.subtle.importKey(
        "raw",
        encoder.encode(secret),
        { name: "HMAC", hash: "SHA-512" },
        false,
        ["sign"],
      );
      if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value!);
    }
    keys.set(secret, key);
    return key;
  }

  return {
    async post(request, signal) {
      const headers = new Headers();
      for (const [name, value] of request.headers) headers.set(name, value);
      if (request.secret) {
        headers.set("X-Webhook-Hmac", await signBody(await hmacKey(request.secret), request.body));
        headers.set("X-Webhook-Hmac-Algorithm", "sha512");
      }
      const { url, body, addresses } = request;
      if (addresses) {
        const answer = await pinnedPost(url, { headers, body, signal, addresses });
        return { status: answer.status, retryAfter: answer.headers.get("retry-after") };
      }
      const response = await doFetch(url, {
        method: "POST",
        headers,
        body,
        signal,
        redirect: "manual",
      });
      await response.body?.cancel().catch(() => {});
      return { status: response.status, retryAfter: response.headers.get("retry-after") };
    },
    ready: () => Promise.resolve(),
    close() {},
  };
}

/** What the main thread sends the sender's Worker: a post to send, or one to abort. */
export type ToSender = { id: number; request: WebhookPost } | { abort: number };
/**
 * What the Worker answers a post: the receiver's answer, or the error the post ended with. (It
 * sends `"ready"` first, once it has loaded, then lists of these.)
 */
export type FromSender =
  | { id: number; answer: WebhookAnswer }
  | { id: number; error: { name: string; message: string } };

const SENDER_WORKER = new URL("./webhook_sender_worker.ts", import.meta.url);

/**
 * Sends from a Worker of its own (`webhook_sender_worker.ts`), started at once (its start would
 * otherwise eat into the first post's time) and again after a failure, at the next post. The
 * posts made in one turn cross together, as one message, and so do the answers. A post whose
 * signal aborts rejects at once and is aborted in the Worker. A Worker that fails (an error it did
 * not catch) fails the posts in flight, which the dispatcher retries, and the next post starts a
 * new one: a sender's failure costs retries, never the server.
 */
export function createWorkerSender(options: {
  log: Logger;
  /** The Worker's script (tests give a failing one). */
  url?: URL;
}): WebhookSender {
  const pending = new Map<number, {
    resolve: (answer: WebhookAnswer) => void;
    reject: (error: Error) => void;
    signal: AbortSignal;
    onAbort: () => void;
  }>();
  let worker: Worker | null = null;
  /** Resolves once the current Worker has loaded (or failed, or the sender closed). */
  let loaded = Promise.withResolvers<void>();
  let outgoing: ToSender[] = [];
  let nextId = 0;
  let closed = false;

  function failAll(reason: string): void {
    for (const [id, entry] of pending) {
      pending.delete(id);
      entry.signal.removeEventListener("abort", entry.onAbort);
      entry.reject(new Error(reason));
    }
  }

  function start(): Worker {
    const started = new Worker(options.url ?? SENDER_WORKER, {
      type: "module",
      name: "webhook sender",
    });
    started.onmessage = (event: MessageEvent<FromSender[] | "ready">) => {
      if (event.data === "ready") return loaded.resolve();
      for (const result of event.data) {
        const entry = pending.get(result.id);
        if (!entry) continue; // Aborted: its caller was answered then.
        pending.delete(result.id);
        entry.signal.removeEventListener("abort", entry.onAbort);
        if ("answer" in result) {
          entry.resolve(result.answer);
        } else {
          entry.reject(Object.assign(new Error(result.error.message), { name: result.error.name }));
        }
      }
    };
    started.onerror = (event) => {
      event.preventDefault();
      options.log.error("the webhook sender's Worker failed; a new one sends the next posts", {
        error: event.message,
      });
      started.terminate();
      if (worker === started) worker = null;
      failAll("The webhook sender stopped");
      // Posts wait no more: the next starts a new Worker, and fails and is retried if it fails.
      loaded.resolve();
    };
    return started;
  }

  function flush(): void {
    const batch = outgoing;
    outgoing = [];
    if (closed || batch.length === 0) return;
    if (!worker) {
      loaded = Promise.withResolvers<void>();
      worker = start();
    }
    worker.postMessage(batch);
  }

  function send(message: ToSender): void {
    if (outgoing.length === 0) queueMicrotask(flush);
    outgoing.push(message);
  }

  worker = start();
  return {
    post(request, signal) {
      if (closed) return Promise.reject(new Error("The webhook sender is closed"));
      if (signal.aborted) return Promise.reject(signal.reason);
      const id = ++nextId;
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          if (!pending.delete(id)) return;
          send({ abort: id });
          reject(signal.reason);
        };
        pending.set(id, { resolve, reject, signal, onAbort });
        signal.addEventListener("abort", onAbort, { once: true });
        send({ id, request });
      });
    },
    ready: () => loaded.promise,
    close() {
      if (closed) return;
      closed = true;
      loaded.resolve();
      worker?.terminate();
      worker = null;
      failAll("The webhook sender is closed");
    },
  };
}
