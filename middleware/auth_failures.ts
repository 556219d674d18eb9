/**
 * @module
 * What every authenticating middleware does with a failed authentication: log it without the
 * credential, count it against the client's address (`rate_limit.ts`), and answer `429` instead of
 * `401` when that address failed too often. Only failures reach this module: a valid credential is
 * never looked up in the limiter. Shared by `auth.ts` and `webhook_auth.ts`.
 */
import type { Context } from "hono";
import { ApiError, tooManyRequests, unauthorized } from "../errors.ts";
import type { AppEnv } from "./principal.ts";
import type { FailureLimiter } from "./rate_limit.ts";

/**
 * What the guards log: `auth_failed` (warn; `reason`, `scheme`, and `blocked: true` when it was
 * answered 429), `auth_blocked` (warn; an address just got blocked), `auth_forbidden` (info; an
 * account reached for a number it does not own or past its limit), each with `ip`, `method`,
 * `path`, `requestId` where known. Never a credential.
 */
export interface AuthLogEntry {
  level: "info" | "warn";
  event: "auth_failed" | "auth_blocked" | "auth_forbidden";
  [field: string]: unknown;
}

export interface AuthGuardDeps {
  /** Receives one entry per failed authentication, per newly blocked address, per 403. */
  log?: (entry: AuthLogEntry) => void;
  /** The client's address (Deno's `info.remoteAddr.hostname`, or a trusted proxy's header). */
  getClientIp?: (c: Context<AppEnv>) => string | null | undefined;
  /** Counts 401s per client; without it (or without an address) nothing is slowed down. */
  limiter?: FailureLimiter | null;
}

/** Why a credential was refused: a short reason for the log and the scheme that was tried. */
export interface FailureCause {
  reason: string;
  scheme: "bearer" | "api_key" | "webhook" | null;
}

/** A `401 UNAUTHORIZED` that carries, for the log only, why it was refused. */
export function authFailure(cause: FailureCause, message?: string): ApiError {
  const error = unauthorized(message);
  error.cause = cause;
  return error;
}

function clientIp(c: Context<AppEnv>, deps: AuthGuardDeps): string | null {
  return deps.getClientIp?.(c) || null;
}

function requestFields(c: Context<AppEnv>, ip: string | null) {
  return { ip, method: c.req.method, path: c.req.path, requestId: c.get("requestId") ?? null };
}

/**
 * Logs a refused credential, counts it against the client's address, and returns what to throw:
 * the same error, or `429 TOO_MANY_REQUESTS` (with `Retry-After`) when the address was already
 * blocked. Called only after authentication failed, so a valid credential never meets the limiter.
 * Errors other than a 401 are returned untouched and not counted.
 */
export function recordFailure(c: Context<AppEnv>, deps: AuthGuardDeps, error: unknown): unknown {
  if (!(error instanceof ApiError) || error.status !== 401) return error;
  const ip = clientIp(c, deps);
  const cause = (error.cause ?? {}) as Partial<FailureCause>;
  const verdict = ip && deps.limiter ? deps.limiter.fail(ip) : { blocked: false as const };
  deps.log?.({
    level: "warn",
    event: "auth_failed",
    reason: cause.reason ?? "unknown",
    scheme: cause.scheme ?? null,
    ...(verdict.blocked && verdict.refused ? { blocked: true } : {}),
    ...requestFields(c, ip),
  });
  if (!verdict.blocked) return error;
  const seconds = verdict.retryAfterSeconds;
  if (verdict.refused) {
    return tooManyRequests(
      `Too many failed authentication attempts, retry in ${seconds} s`,
      seconds,
    );
  }
  deps.log?.({
    level: "warn",
    event: "auth_blocked",
    retryAfterSeconds: seconds,
    ...requestFields(c, ip),
  });
  return error;
}
