/**
 * @module
 * Authentication and account scoping for the HTTP API. `createAuthenticator` turns request headers
 * into a `Principal` (a JWT in `Authorization: Bearer`, or an API key in `X-Api-Key`); `requireAuth`
 * sets it on the context; `requireSingleAccountProtected` also holds an account to the numbers it
 * owns (the first account to start a number owns it, up to `MAX_NUMBERS_PER_ACCOUNT`), while the
 * admin key may act on any number. `requireWahaProtected` (inbound webhooks) lives in
 * `webhook_auth.ts` and is re-exported here.
 */
import { createMiddleware } from "hono/factory";
import type { Context } from "hono";
import { ApiError } from "../errors.ts";
import { assertMayAct, claimRefusal } from "../sessions/ownership.ts";
import { isPhoneNumber } from "../sessions/phone_number.ts";
import type { SessionRepository } from "../store/store.ts";
import type { AppEnv, Principal } from "./principal.ts";
import { createApiKeyVerifier } from "./api_keys.ts";
import { createJwtVerifier, type JwtConfig, type JwtOptions } from "./jwt.ts";
import { authFailure, type AuthGuardDeps, recordFailure } from "./auth_failures.ts";

export { requireWahaProtected, type WahaProtectedDeps } from "./webhook_auth.ts";
export { authFailure, type AuthGuardDeps } from "./auth_failures.ts";
export { createFailureLimiter, type FailureLimiterOptions } from "./rate_limit.ts";

/** The part of `config.auth` the authenticator reads. */
export interface AuthConfig extends JwtConfig {
  accountKeys: readonly { key: string; accountId: string }[];
}

export interface AuthenticatorDeps extends JwtOptions {
  /** The admin key: `API_KEY`, or the one generated at first start. */
  adminKey: string;
}

export interface Authenticator {
  /** The caller's principal; throws `401 UNAUTHORIZED` when the credentials are missing or bad. */
  authenticate(headers: Headers): Promise<Principal>;
}

/**
 * Builds the authenticator from the configuration; rejects (with a `ConfigError` naming the
 * variable) when a key, the algorithms or the issuer settings cannot work.
 *
 * A request must carry exactly one credential: sending both `Authorization` and `X-Api-Key` is a
 * 401, so a caller never silently gets the privileges of the header it did not mean.
 */
export async function createAuthenticator(
  config: AuthConfig,
  deps: AuthenticatorDeps,
): Promise<Authenticator> {
  const { adminKey, ...jwtOptions } = deps;
  const [keys, jwt] = await Promise.all([
    createApiKeyVerifier({ adminKey, accountKeys: config.accountKeys }),
    createJwtVerifier(config, jwtOptions),
  ]);

  return {
    async authenticate(headers) {
      const authorization = headers.get("authorization");
      const apiKey = headers.get("x-api-key");
      if (authorization !== null && apiKey !== null) {
        throw authFailure(
          { reason: "both_credentials", scheme: null },
          "Send either Authorization or X-Api-Key, not both",
        );
      }
      if (apiKey !== null) {
        const principal = apiKey.length > 0 ? keys.verify(apiKey) : null;
        if (!principal) {
          throw authFailure({ reason: "bad_api_key", scheme: "api_key" }, "Invalid API key");
        }
        return principal;
      }
      if (authorization === null) {
        throw authFailure(
          { reason: "no_credentials", scheme: null },
          "Missing credentials: send Authorization: Bearer <token> or X-Api-Key",
        );
      }
      const match = /^Bearer +([A-Za-z0-9_.~+/-]+=*) *$/i.exec(authorization);
      if (!match) {
        throw authFailure(
          { reason: "malformed_authorization", scheme: "bearer" },
          "Malformed Authorization header: expected Bearer <token>",
        );
      }
      if (!jwt) {
        throw authFailure(
          { reason: "jwt_not_configured", scheme: "bearer" },
          "Bearer tokens are not accepted: no JWT key is configured",
        );
      }
      try {
        return await jwt.verify(match[1]);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        const claim = (error as { claim?: unknown }).claim;
        const reason = typeof code !== "string"
          ? "ERR_JWT_VERIFY"
          : code === "ERR_JWT_CLAIM_VALIDATION_FAILED" && typeof claim === "string"
          ? `${code}:${claim}`
          : code;
        const message = code === "ERR_JWT_EXPIRED" ? "Token has expired" : "Invalid token";
        throw authFailure({ reason, scheme: "bearer" }, message);
      }
    },
  };
}

export interface RequireAuthDeps extends AuthGuardDeps {
  authenticator: Authenticator;
}

/**
 * Authenticates, sets `principal` and returns it; or refuses: throws 401, or 429 when the
 * credential failed and the client's address failed too often. The credential is always checked
 * first: a valid one passes whatever its address did. For guards built on top of this one.
 */
export async function authenticateContext(
  c: Context<AppEnv>,
  deps: RequireAuthDeps,
): Promise<Principal> {
  let principal: Principal;
  try {
    principal = await deps.authenticator.authenticate(c.req.raw.headers);
  } catch (error) {
    throw recordFailure(c, deps, error);
  }
  c.set("principal", principal);
  return principal;
}

/** Any valid credential; sets `c.var.principal`. For routes without a phone number. */
export function requireAuth(deps: RequireAuthDeps) {
  return createMiddleware<AppEnv>(async function requireAuth(c, next) {
    await authenticateContext(c, deps);
    return next();
  });
}

export interface SingleAccountDeps extends RequireAuthDeps {
  sessions: Pick<SessionRepository, "get" | "previewClaim">;
  /** `MAX_NUMBERS_PER_ACCOUNT`. */
  maxNumbersPerAccount: number;
  /**
   * Only for the `start` route: an account may name a number nobody owns yet (the manager claims
   * it when the start takes effect); refusals it would meet are answered here, before the body.
   */
  claim?: boolean;
}

/**
 * `requireAuth`, then account scoping on routes with a `:phoneNumber` param: the admin passes; an
 * account gets `404` for a number that is not started and `403 FORBIDDEN` for a number it does not
 * own, reads included. With `claim` (start), an account may also name a number nobody owns, within
 * its limit. This is the check when the request arrives; the manager and the webhook store check
 * again when the action takes effect (`sessions/ownership.ts`).
 */
export function requireSingleAccountProtected(deps: SingleAccountDeps) {
  return createMiddleware<AppEnv>(async function requireSingleAccountProtected(c, next) {
    const principal = await authenticateContext(c, deps);
    await checkNumberAccess(c, principal, c.req.param("phoneNumber"), deps);
    return next();
  });
}

/**
 * The account scoping of `requireSingleAccountProtected` for a number found anywhere (a path
 * parameter, or a body's `session` field once the body is read): the admin passes; an account
 * gets `404` for a number that is not started and `403` for one it does not own (with `claim`, it
 * may name a number nobody owns, within its limit). A missing or malformed number passes: the
 * route's validation answers it.
 */
export async function checkNumberAccess(
  c: Context<AppEnv>,
  principal: Principal,
  phoneNumber: string | undefined,
  deps: SingleAccountDeps,
): Promise<void> {
  const { sessions, maxNumbersPerAccount: max, claim = false } = deps;
  if (principal.kind === "admin" || !phoneNumber || !isPhoneNumber(phoneNumber)) return;
  const accountId = principal.accountId!;
  try {
    if (claim) {
      const outcome = await sessions.previewClaim(phoneNumber, {
        ownerAccountId: accountId,
        max,
      });
      const refusal = claimRefusal(outcome, phoneNumber, accountId, max);
      if (refusal) throw refusal;
    } else {
      assertMayAct(phoneNumber, await sessions.get(phoneNumber), principal);
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      deps.log?.({
        level: "info",
        event: "auth_forbidden",
        accountId,
        phoneNumber,
        reason: error.message,
        path: c.req.path,
        requestId: c.get("requestId") ?? null,
      });
    }
    throw error;
  }
}
