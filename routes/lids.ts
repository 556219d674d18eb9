/**
 * @module
 * LID routes, in WAHA's shape: WhatsApp writes many users by a LID (`<digits>@lid`) instead of
 * their phone number. `GET /{phoneNumber}/lids` lists the LIDs the session knows with their
 * phone-number ids (`pn`, `null` where WhatsApp does not say), `…/lids/count` counts them,
 * `…/lids/{lid}` maps one LID to its phone number and `…/lids/pn/{phone}` a phone number to its
 * LID.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  jsonResponse,
  PhoneParams,
  SECURED,
  SESSION_CALL_ERRORS,
} from "./schemas.ts";

const LidMappingSchema = z.object({
  lid: z.string().nullable().openapi({
    example: "100000000000001@lid",
    description: "The LID; null when WhatsApp does not say which LID the number has",
  }),
  pn: z.string().nullable().openapi({
    example: "15550000001@c.us",
    description: "The phone-number id; null when WhatsApp does not say which number it is",
  }),
}).openapi("LidToPhoneNumber");

const LidCountSchema = z.object({ count: z.number().int().min(0).openapi({ example: 3 }) })
  .openapi("LidCount");

export const LidListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({
    param: { name: "limit", in: "query" },
    example: 100,
  }),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0).openapi({
    param: { name: "offset", in: "query" },
    example: 0,
  }),
});

/** A LID as `<digits>@lid` or bare digits (as WAHA takes it). */
export const LidParams = PhoneParams.extend({
  lid: z.string().regex(/^\d{1,30}(?:@lid)?$/, "expected a LID such as 100000000000001@lid")
    .transform((value) => value.endsWith("@lid") ? value : `${value}@lid`)
    .openapi({ param: { name: "lid", in: "path" }, example: "100000000000001@lid" }),
});

/** A phone number as digits (a leading `+` dropped) or `<digits>@c.us`. */
export const PnParams = PhoneParams.extend({
  phone: z.string().regex(/^\+?\d{5,20}(?:@c\.us)?$/, "expected a phone number")
    .transform((value) => `${value.replace(/^\+/, "").replace(/@c\.us$/, "")}@c.us`)
    .openapi({ param: { name: "phone", in: "path" }, example: "15550000001" }),
});

const common = { tags: ["Contacts"], security: SECURED };
const errors = errorResponses(...SESSION_CALL_ERRORS);

const listRoute = createRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/lids",
  summary: "The LIDs the session knows, with their phone numbers",
  request: { params: PhoneParams, query: LidListQuery },
  responses: { 200: jsonResponse(z.array(LidMappingSchema), "The LIDs, by LID"), ...errors },
});

const countRoute = createRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/lids/count",
  summary: "How many LIDs the session knows",
  request: { params: PhoneParams },
  responses: { 200: jsonResponse(LidCountSchema, "The count"), ...errors },
});

const byLidRoute = createRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/lids/{lid}",
  summary: "The phone number of a LID",
  request: { params: LidParams },
  responses: { 200: jsonResponse(LidMappingSchema, "The LID and its phone number"), ...errors },
});

const byPnRoute = createRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/lids/pn/{phone}",
  summary: "The LID of a phone number",
  request: { params: PnParams },
  responses: { 200: jsonResponse(LidMappingSchema, "The phone number and its LID"), ...errors },
});

/** One page of a session's LIDs, as `GET …/lids` (ours and WAHA's) answers it. */
export function lidPage<T>(all: T[], page: { limit: number; offset: number }): T[] {
  return all.slice(page.offset, page.offset + page.limit);
}

const routes = [listRoute, countRoute, byLidRoute, byPnRoute] as const;

export function createLidRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  return createRouter()
    .guard(guards.requireSingleAccountProtected(), ...routes)
    .openapi(listRoute, async (c) => {
      const { limit, offset } = c.req.valid("query");
      const all = await manager.session(c.req.valid("param").phoneNumber, c.get("principal"))
        .listLids();
      return c.json(lidPage(all, { limit, offset }), 200);
    })
    .openapi(countRoute, async (c) => {
      const all = await manager.session(c.req.valid("param").phoneNumber, c.get("principal"))
        .listLids();
      return c.json({ count: all.length }, 200);
    })
    .openapi(byLidRoute, async (c) => {
      const { phoneNumber, lid } = c.req.valid("param");
      return c.json(await manager.session(phoneNumber, c.get("principal")).findPnByLid(lid), 200);
    })
    .openapi(byPnRoute, async (c) => {
      const { phoneNumber, phone } = c.req.valid("param");
      return c.json(await manager.session(phoneNumber, c.get("principal")).findLidByPn(phone), 200);
    });
}
