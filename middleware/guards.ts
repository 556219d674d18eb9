/**
 * @module
 * The guards the contract names, as the routes consume them. `main.ts` builds them from the auth
 * configuration; each route group attaches the right one to its routes (`router.guard()` in
 * `routes/router.ts`), so it runs first. Every guard reads the request's body, bounded, once the
 * caller is let through, and never before.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./principal.ts";

export interface AuthGuards {
  /** Any valid credential. */
  requireAuth: MiddlewareHandler<AppEnv>;
  /**
   * A valid credential whose account owns the route's `:phoneNumber` (the admin key owns all).
   * With `claim` (start), a number nobody owns may be named too, within the account's limit.
   * With `media`, the body may be as large as `BODY_MAX_BYTES` (base64 media); 1 MiB otherwise.
   */
  requireSingleAccountProtected: (
    options?: { claim?: boolean; media?: boolean },
  ) => MiddlewareHandler<AppEnv>;
  /**
   * For routes that name their number in the body's `session` field (WAHA's `POST /api/sendText`),
   * or in the query's (WAHA's `GET /api/contacts/…?session=`):
   * a valid credential, then the body (bounded as above, `media` alike), then the account scoping
   * of `requireSingleAccountProtected` on that number and, in a cluster, the way to its owner.
   */
  requireSessionInBody: (options?: { media?: boolean }) => MiddlewareHandler<AppEnv>;
  /** The inbound WAHA webhooks: the webhook key and, when configured, the body's HMAC. */
  requireWahaProtected: MiddlewareHandler<AppEnv>;
  /** The admin API key only. */
  requireAdmin: MiddlewareHandler<AppEnv>;
}
