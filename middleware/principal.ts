/**
 * @module
 * Who is calling: the principal every authenticated request carries, and the Hono environment
 * type that declares it (and the request id) for handlers and middleware.
 */
import type { MiddlewareHandler } from "hono";

export interface Principal {
  /** `admin` may act on any number; `account` only on the numbers its account owns. */
  kind: "admin" | "account";
  /** The account that owns numbers: a token's `org_id`, else its `sub`; null for the admin. */
  accountId: string | null;
  userId: string | null;
  role: string | null;
  via: "jwt" | "api_key";
}

export interface AppEnv {
  Variables: {
    requestId: string;
    principal: Principal;
    /**
     * The `Idempotency-Key` middleware on the store (`idempotency.ts`), set by the app for the
     * routes that take the header; unset where the app keeps no keys (tests of one route group).
     */
    idempotency?: MiddlewareHandler<AppEnv>;
  };
}
