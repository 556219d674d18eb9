/**
 * @module
 * The three guards the contract names, as the routes consume them. `main.ts` builds them from the
 * auth configuration; routes only pick the right one.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./principal.ts";

export interface AuthGuards {
  /** Any valid credential. */
  requireAuth: MiddlewareHandler<AppEnv>;
  /**
   * A valid credential whose account owns the route's `:phoneNumber` (the admin key owns all).
   * With `claim`, an unowned number becomes the caller's, within the account's limit.
   */
  requireSingleAccountProtected: (options?: { claim?: boolean }) => MiddlewareHandler<AppEnv>;
  /** The inbound WAHA webhooks: the webhook key and, when configured, the body's HMAC. */
  requireWahaProtected: MiddlewareHandler<AppEnv>;
  /** The admin API key only. */
  requireAdmin: MiddlewareHandler<AppEnv>;
}
