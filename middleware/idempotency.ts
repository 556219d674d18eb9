/**
 * @module
 * `Idempotency-Key` on the POSTs that send or create something (the routes that declare the
 * header; `routes/router.ts` runs this after their guard). A client that does not know whether
 * its request was served (a timeout, a reset connection, a node that died) sends it again with
 * the same key: within 24 hours (the database's clock) the same principal gets the first answer
 * again, with `Idempotent-Replayed: true`, and nothing is sent again. The keys live in the store,
 * so this holds on another node of a cluster and after a failover, and on a single node too.
 *
 * - A request is the same one when its method, path, query and body bytes hash the same; another
 *   request under a used key is `422 IDEMPOTENCY_KEY_REUSED` (a client bug: two requests, one key).
 * - A duplicate that arrives while the first is being served waits for its answer (`waitMs`),
 *   then gets `409 IDEMPOTENCY_KEY_IN_USE` with `Retry-After`.
 * - Kept: answers that say what happened (2xx, and 4xx that the same request would get again).
 *   Not kept, so a retry runs again: 5xx (the server failed; the contract's rule) and the 4xx
 *   that mean "not now" (408 a body that did not arrive, 409 a session not connected yet, 429).
 * - A reservation whose request never answered (its node died mid-request) is taken over after
 *   `abandonedMs`: longer than any request may run, so a live one is never taken over.
 *
 * It runs after authentication and after the guard read the body (bounded, counted while it
 * streamed), so it hashes bytes already in memory and never reads a body itself.
 */
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError, badRequest } from "../errors.ts";
import type { IdempotencyRepository } from "../store/store.ts";
import type { AppEnv, Principal } from "./principal.ts";

export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";
export const REPLAYED_HEADER = "Idempotent-Replayed";
/** How long a key is kept: the same key within this time replays the first answer. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

/** 1 to 255 visible ASCII characters (a UUID, a ULID, the client's own request id). */
const KEY = /^[\x21-\x7e]{1,255}$/;

/** Answers that mean "not now" rather than "this is what happened": not kept. */
const NOT_KEPT = new Set([408, 409, 429]);

export interface IdempotencyOptions {
  store: IdempotencyRepository;
  /** How long a key holds its answer (default 24 h). */
  ttlMs?: number;
  /** How long a duplicate waits for the first request's answer before its 409 (default 10 s). */
  waitMs?: number;
  /** When an unanswered reservation counts as abandoned (default 5 min). */
  abandonedMs?: number;
  /** How often a waiting duplicate looks again (default 100 ms). */
  pollMs?: number;
  /** Where failures to keep or release an answer are reported (the answer still goes out). */
  onError?: (event: string, fields: Record<string, unknown>) => void;
}

/** The principal whose keys these are: the admin, or one account (all its users and keys). */
export function principalKey(principal: Principal): string {
  return principal.kind === "admin" ? "admin" : `account:${principal.accountId}`;
}

/** SHA-256 of what makes a request the same request: method, path, query, body bytes. */
export async function requestHash(c: Context): Promise<string> {
  const url = new URL(c.req.url);
  const head = new TextEncoder().encode(`${c.req.method}\n${c.req.path}\n${url.search}\n`);
  // The guard has read and cached the body; this reads the cache.
  const body = new Uint8Array(await c.req.arrayBuffer());
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function keptAnswer(response: Response): boolean {
  if (response.status >= 500 || NOT_KEPT.has(response.status)) return false;
  return /\bjson\b/i.test(response.headers.get("content-type") ?? "");
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The middleware itself; `main.ts` builds one on the store and hands it to the app. */
export function idempotency(options: IdempotencyOptions): MiddlewareHandler<AppEnv> {
  const { store, onError = () => {} } = options;
  const limits = {
    ttlMs: options.ttlMs ?? IDEMPOTENCY_TTL_MS,
    abandonedMs: options.abandonedMs ?? 5 * 60_000,
  };
  const waitMs = options.waitMs ?? 10_000;
  const pollMs = options.pollMs ?? 100;

  return createMiddleware<AppEnv>(async function idempotencyKey(c, next) {
    const key = c.req.header(IDEMPOTENCY_KEY_HEADER);
    if (key === undefined) return await next();
    if (!KEY.test(key)) {
      throw badRequest(
        `Invalid header "${IDEMPOTENCY_KEY_HEADER}": expected 1 to 255 visible ASCII characters`,
      );
    }
    const principal = principalKey(c.get("principal"));
    const hash = await requestHash(c);
    const waitUntil = performance.now() + waitMs;
    for (;;) {
      const found = await store.begin(principal, key, hash, limits);
      if (found.kind === "done") {
        c.res = new Response(found.response, {
          status: found.status,
          headers: { "Content-Type": "application/json", [REPLAYED_HEADER]: "true" },
        });
        return;
      }
      if (found.kind === "mismatch") {
        throw new ApiError(
          "IDEMPOTENCY_KEY_REUSED",
          `This ${IDEMPOTENCY_KEY_HEADER} was used for another request (another path or body) ` +
            "in the last 24 hours: use a new key for a new request",
        );
      }
      if (found.kind === "reserved") break;
      if (performance.now() >= waitUntil) {
        throw new ApiError(
          "IDEMPOTENCY_KEY_IN_USE",
          `A request with this ${IDEMPOTENCY_KEY_HEADER} is still being served: try again later`,
          { headers: { "Retry-After": "1" } },
        );
      }
      await delay(pollMs);
    }

    const where = { requestId: c.get("requestId"), principal, path: c.req.path };
    try {
      await next();
    } catch (error) {
      await store.release(principal, key, hash).catch((failure) =>
        onError("releasing an idempotency key failed", { ...where, error: String(failure) })
      );
      throw error;
    }
    try {
      if (keptAnswer(c.res)) {
        const response = await c.res.clone().text();
        await store.complete(principal, key, hash, { status: c.res.status, response });
      } else {
        await store.release(principal, key, hash);
      }
    } catch (error) {
      // The work is done and its answer goes out; a retry finds the key in flight until it is
      // abandoned. Answering an error here would invite the retry that sends twice.
      onError("keeping the answer of an idempotency key failed", {
        ...where,
        error: String(error),
      });
    }
  });
}

/** Deletes expired keys every `everyMs` (default hourly); returns the function that stops it. */
export function sweepIdempotencyKeys(
  store: IdempotencyRepository,
  options: { everyMs?: number; ttlMs?: number; onError?: IdempotencyOptions["onError"] } = {},
): () => void {
  const timer = setInterval(() => {
    store.sweep(options.ttlMs ?? IDEMPOTENCY_TTL_MS).catch((error) =>
      options.onError?.("sweeping idempotency keys failed", { error: String(error) })
    );
  }, options.everyMs ?? 3_600_000);
  return () => clearInterval(timer);
}
