/**
 * @module
 * WAHA's LID endpoints (`/api/{session}/lids…`, newer than the WAHA version transcribed elsewhere,
 * from its docs): the session's LIDs with their phone numbers, their count, and one mapping either
 * way. Our contract's LID routes already answer in WAHA's shapes; these are the same calls, checks
 * and paging at WAHA's paths.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AuthGuards } from "../../middleware/guards.ts";
import type { AppEnv } from "../../middleware/principal.ts";
import type { SessionManager } from "../../sessions/manager.ts";
import { CountResponse, LidToPhoneNumber } from "../../waha/schemas.ts";
import { LidListQuery, lidPage, LidParams, PnParams } from "../lids.ts";
import { createRouter } from "../router.ts";
import { jsonResponse, SECURED } from "../schemas.ts";
import {
  inWahaShape,
  sessionNumber,
  SessionPathParams,
  toContractInput,
  WAHA_TAG,
  wahaRoute,
} from "./dialect.ts";

const common = { tags: [WAHA_TAG], security: SECURED };
const LidRef = z.object({ lid: LidParams.shape.lid });
const PnRef = z.object({ phone: PnParams.shape.phone });

const listRoute = wahaRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/lids",
  summary: "WAHA: the session's LIDs with their phone numbers (`limit`, `offset`)",
  request: { params: SessionPathParams, query: LidListQuery },
  responses: { 200: jsonResponse(z.array(LidToPhoneNumber), "The mappings") },
});
const countRoute = wahaRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/lids/count",
  summary: "WAHA: how many LIDs the session knows",
  request: { params: SessionPathParams },
  responses: { 200: jsonResponse(CountResponse, "The count") },
});
const byLidRoute = wahaRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/lids/{lid}",
  summary: "WAHA: the phone number of a LID",
  request: {
    params: SessionPathParams.extend({
      lid: z.string().openapi({
        param: { name: "lid", in: "path" },
        example: "100000000000001@lid",
      }),
    }),
  },
  responses: { 200: jsonResponse(LidToPhoneNumber, "The mapping") },
});
const byPnRoute = wahaRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/lids/pn/{phone}",
  summary: "WAHA: the LID of a phone number",
  request: {
    params: SessionPathParams.extend({
      phone: z.string().openapi({ param: { name: "phone", in: "path" }, example: "15550000001" }),
    }),
  },
  responses: { 200: jsonResponse(LidToPhoneNumber, "The mapping") },
});

export function createWahaLidRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  const routes = [listRoute, countRoute, byPnRoute, byLidRoute];
  const session = (c: Context<AppEnv>) =>
    manager.session(sessionNumber(c.req.param("phoneNumber")), c.get("principal"));

  return inWahaShape(createRouter(), ...routes)
    .guard(guards.requireSingleAccountProtected(), ...routes)
    .openapi(listRoute, async (c) => {
      const all = await session(c).listLids();
      return c.json(lidPage(all, c.req.valid("query")), 200);
    })
    .openapi(countRoute, async (c) => {
      return c.json({ count: (await session(c).listLids()).length }, 200);
    })
    .openapi(byPnRoute, async (c) => {
      const client = session(c);
      const { phone } = toContractInput(PnRef, { phone: c.req.valid("param").phone });
      return c.json(await client.findLidByPn(phone), 200);
    })
    .openapi(byLidRoute, async (c) => {
      const client = session(c);
      const { lid } = toContractInput(LidRef, { lid: c.req.valid("param").lid });
      return c.json(await client.findPnByLid(lid), 200);
    });
}
