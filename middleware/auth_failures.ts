/**
 * @module
 * What every authenticating middleware does with a failure: log it without the credential, count it
 * against the client's address, and refuse an address that failed too often with `429` before any
 * credential is looked at. Shared by `auth.ts` and `webhook_auth.ts`.
 */
import type { Context } from "hono";
import { ApiError, tooManyRequests, unauthorized } from "../errors.ts";
import type { AppEnv } from "./principal.ts";
import type { FailureLimiter } from "./rate_limit.ts";

/**
 * What the guards log: `auth_failed` (warn; `reason`, `scheme`), `auth_blocked` (warn; an address
 * just got blocked), `auth_forbidden` (info; an account reached for a number it does not own or
 * past its limit), each with `ip`, `method`, `path`, `requestId` where known. Never a credential.
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
  /** Counts 401s per address; without it (or without an address) nothing is slowed down. */
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

/** Throws `429 TOO_MANY_REQUESTS` when the client's address failed too often. */
export function assertNotBlocked(c: Context<AppEnv>, deps: AuthGuardDeps): void {
  const ip = clientIp(c, deps);
  if (!ip || !deps.limiter) return;
  const verdict = deps.limiter.check(ip);
  if (!verdict.blocked) return;
  const seconds = verdict.retryAfterSeconds;
  throw tooManyRequests(`Too many failed authentication attempts, retry in ${seconds} s`, seconds);
}

/** Logs a refused credential and counts it; other errors pass through untouched. */
export function recordFailure(c: Context<AppEnv>, deps: AuthGuardDeps, error: unknown): void {
  if (!(error instanceof ApiError) || error.status !== 401) return;
  const ip = clientIp(c, deps);
  const cause = (error.cause ?? {}) as Partial<FailureCause>;
  deps.log?.({
    level: "warn",
    event: "auth_failed",
    reason: cause.reason ?? "unknown",
    scheme: cause.scheme ?? null,
    ...requestFields(c, ip),
  });
  if (!ip || !deps.limiter) return;
  const verdict = deps.limiter.fail(ip);
  if (verdict.blocked) {
    deps.log?.({
      level: "warn",
      event: "auth_blocked",
      retryAfterSeconds: verdict.retryAfterSeconds,
      ...requestFields(c, ip),
    });
  }
}
