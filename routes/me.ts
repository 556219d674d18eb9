/**
 * @module
 * `GET /me`: who the credential is (the admin, or which account), so that a client such as the
 * dashboard offers what the caller may do (the admin's delete) without trying it.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import { createRouter } from "./router.ts";
import { errorResponses, jsonResponse, SECURED } from "./schemas.ts";

const MeSchema = z.object({
  kind: z.enum(["admin", "account"]).openapi({
    description: "`admin` may act on every number; `account` on the numbers it owns",
  }),
  accountId: z.string().nullable().openapi({
    description: "The account that owns numbers (a token's `org_id`, else its `sub`); null " +
      "for the admin",
    example: "org_a",
  }),
  via: z.enum(["jwt", "api_key"]),
}).openapi("Me");

const meRoute = createRoute({
  method: "get",
  path: "/me",
  tags: ["Server"],
  summary: "Who the credential is: the admin, or which account",
  security: SECURED,
  responses: { 200: jsonResponse(MeSchema, "The caller"), ...errorResponses() },
});

export function createMeRoutes(deps: { guards: AuthGuards }) {
  return createRouter()
    .guard(deps.guards.requireAuth, meRoute)
    .openapi(meRoute, (c) => {
      const { kind, accountId, via } = c.get("principal");
      return c.json({ kind, accountId, via }, 200);
    });
}
