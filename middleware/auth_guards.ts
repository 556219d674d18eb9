/**
 * @module
 * `createAuthGuards`: the composition of the auth middlewares into the `AuthGuards` the routes
 * consume (`guards.ts`). One call, from `config.auth` and the app's dependencies, builds one
 * authenticator and one failure limiter shared by every guard. Each guard, once the caller is
 * authenticated and allowed, reads the request's body within its limits (`body.ts`): no body byte
 * is read for a caller who is refused.
 */
import type { Context, MiddlewareHandler, Next } from "hono";
import { createMiddleware } from "hono/factory";
import type { Config } from "../config.ts";
import { forbidden } from "../errors.ts";
import { type BodyLimits, readBody, SMALL_BODY_MAX_BYTES } from "./body.ts";
import type { SessionRepository } from "../store/store.ts";
import type { AuthGuards } from "./guards.ts";
import type { AppEnv } from "./principal.ts";
import type { AuthGuardDeps } from "./auth_failures.ts";
import {
  authenticateContext,
  type Authenticator,
  type AuthenticatorDeps,
  checkNumberAccess,
  createAuthenticator,
  requireAuth,
  requireSingleAccountProtected,
} from "./auth.ts";
import { requireWahaProtected } from "./webhook_auth.ts";
import { createFailureLimiter, type FailureLimiterOptions } from "./rate_limit.ts";

export interface CreateAuthGuardsDeps
  extends Omit<AuthGuardDeps, "limiter">, Partial<AuthenticatorDeps> {
  /** The admin key: `API_KEY`, or the one generated at first start. */
  adminKey: string;
  sessions: Pick<SessionRepository, "get" | "previewClaim">;
  /** Thresholds of the 401 limiter; `false` turns it off. */
  limiter?: FailureLimiterOptions | false;
  /**
   * Body limits: `mediaMaxBytes` (`BODY_MAX_BYTES`) for the routes that take media, 1 MiB for the
   * others, and `timeoutMs` (`BODY_TIMEOUT_MS`) for all.
   */
  body: { mediaMaxBytes: number; timeoutMs: number; smallMaxBytes?: number };
  /**
   * In a cluster, where a request for a number this node does not own goes to its owner
   * (`cluster/forward.ts`): `byPath` runs once the caller is let through and before the body is
   * read; `byBody` once an inbound webhook's body is read.
   */
  forward?: { byPath: MiddlewareHandler<AppEnv>; byBody: MiddlewareHandler<AppEnv> };
}

/**
 * Runs `guard`, then, if it let the request through, `route` (which may answer by forwarding the
 * request to another node, its body unread), then reads the body within `limits`.
 */
function thenReadBody(
  guard: MiddlewareHandler<AppEnv>,
  limits: BodyLimits,
  route?: MiddlewareHandler<AppEnv>,
): MiddlewareHandler<AppEnv> {
  const read = async (c: Context<AppEnv>, next: Next) => {
    await readBody(c, limits);
    await next();
  };
  return async function guardThenBody(c, next) {
    await guard(
      c,
      route ? () => route(c, () => read(c, next)) as Promise<void> : () => read(c, next),
    );
  };
}

/** Runs `guard`, then `route` (the webhooks' guard reads the body itself). */
function thenRoute(
  guard: MiddlewareHandler<AppEnv>,
  route?: MiddlewareHandler<AppEnv>,
): MiddlewareHandler<AppEnv> {
  if (!route) return guard;
  return async function guardThenRoute(c, next) {
    await guard(c, () => route(c, next) as Promise<void>);
  };
}

/**
 * The number a request names in its body's `session` (read already), or else in its query's
 * (WAHA's `GET /api/contacts/check-exists?session=…`), when it is a string.
 */
async function sessionNamedIn(c: Context<AppEnv>): Promise<string | undefined> {
  try {
    const text = await c.req.text();
    const session = text ? (JSON.parse(text) as { session?: unknown } | null)?.session : undefined;
    if (typeof session === "string") return session;
  } catch {
    // The route's validation answers it.
  }
  return c.req.query("session");
}

/**
 * Builds the guards synchronously, so the composition root stays synchronous. The authenticator is
 * built in the background: await `ready` at startup, which rejects with a `ConfigError` naming the
 * variable on bad auth settings (until then, and if it failed, requests wait for or fail with it).
 */
export function createAuthGuards(
  auth: Config["auth"],
  deps: CreateAuthGuardsDeps,
): AuthGuards & { ready: Promise<void>; authenticator: Authenticator } {
  const { adminKey, sessions, log, getClientIp, limiter: limits, body, forward, ...jwtOptions } =
    deps;
  const route = forward?.byPath;
  const building = createAuthenticator(auth, { ...jwtOptions, adminKey });
  const ready = building.then(() => undefined);
  // Whoever awaits `ready` sees the error; nobody awaiting it must not crash the process.
  ready.catch(() => {});
  const authenticator: Authenticator = {
    authenticate: async (headers) => (await building).authenticate(headers),
  };
  const limiter = limits === false ? null : createFailureLimiter(limits);
  const small = { maxBytes: body.smallMaxBytes ?? SMALL_BODY_MAX_BYTES, timeoutMs: body.timeoutMs };
  const media = { maxBytes: body.mediaMaxBytes, timeoutMs: body.timeoutMs };
  const guard = { log, getClientIp, limiter, authenticator };
  const scoped = { ...guard, sessions, maxNumbersPerAccount: auth.maxNumbersPerAccount };
  const owned = requireSingleAccountProtected(scoped);
  const guarded = {
    owned: thenReadBody(owned, small, route),
    ownedMedia: thenReadBody(owned, media, route),
    claiming: thenReadBody(requireSingleAccountProtected({ ...scoped, claim: true }), small, route),
  };
  const sessionInBody = (limits: BodyLimits): MiddlewareHandler<AppEnv> =>
    async function requireSessionInBody(c, next) {
      const principal = await authenticateContext(c, guard);
      // Authenticated first: no body byte is read for a refused caller.
      await readBody(c, limits);
      await checkNumberAccess(c, principal, await sessionNamedIn(c), scoped);
      if (forward) return await forward.byBody(c, next);
      await next();
    };
  const bodyNamed = { small: sessionInBody(small), media: sessionInBody(media) };
  const admin: MiddlewareHandler<AppEnv> = createMiddleware<AppEnv>(
    async function requireAdmin(c, next) {
      const result = await authenticateContext(c, guard);
      if (result.kind !== "admin") throw forbidden("Only the admin API key may do this");
      return next();
    },
  );
  return {
    ready,
    authenticator,
    requireAuth: thenReadBody(requireAuth(guard), small, route),
    requireSingleAccountProtected: (options = {}) =>
      options.claim ? guarded.claiming : options.media ? guarded.ownedMedia : guarded.owned,
    requireSessionInBody: (options = {}) => options.media ? bodyNamed.media : bodyNamed.small,
    requireWahaProtected: thenRoute(
      requireWahaProtected({
        log,
        getClientIp,
        limiter,
        apiKey: auth.webhookApiKey ?? adminKey,
        hmacSecret: auth.webhookHmacSecret,
        body: small,
      }),
      forward?.byBody,
    ),
    requireAdmin: thenReadBody(admin, small, route),
  };
}
