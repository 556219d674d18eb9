/**
 * @module
 * The endpoints of WAHA's API this server does not cover (`UNCOVERED_WAHA_ENDPOINTS`): each
 * answers an authenticated caller `501` in WAHA's error shape, naming the endpoint, so a WAHA
 * client learns at once what it cannot do here rather than meeting a `404`.
 */
import { Hono } from "hono";
import { ApiError } from "../../errors.ts";
import type { AuthGuards } from "../../middleware/guards.ts";
import type { AppEnv } from "../../middleware/principal.ts";
import { UNCOVERED_WAHA_ENDPOINTS } from "../../waha/dialect.ts";
import { wahaErrorShape } from "./dialect.ts";

export function createWahaNotCoveredRoutes(deps: { guards: AuthGuards }) {
  const router = new Hono<AppEnv>();
  for (const { method, path } of UNCOVERED_WAHA_ENDPOINTS) {
    router.on(method, path, wahaErrorShape, deps.guards.requireAuth, () => {
      throw new ApiError(
        "NOT_IMPLEMENTED",
        `WAHA's ${method} /api${path} is not supported by this server`,
      );
    });
  }
  return router;
}
