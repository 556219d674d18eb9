/**
 * @module
 * WAHA's profile endpoints (`/api/{session}/profile…`, newer than the WAHA version transcribed
 * elsewhere, from its docs): the linked account's profile, its name and its status (about), over
 * the same session calls and checks as the contract's profile routes. Its picture (set, delete)
 * is not covered (`501`).
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AuthGuards } from "../../middleware/guards.ts";
import type { AppEnv } from "../../middleware/principal.ts";
import type { SessionManager } from "../../sessions/manager.ts";
import { MyProfile, ProfileNameRequest, ProfileStatusRequest } from "../../waha/schemas.ts";
import { NameSchema, StatusSchema } from "../profile.ts";
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
const Success = z.object({ success: z.boolean() });

const getRoute = wahaRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/profile",
  summary: "WAHA: the linked account's profile",
  request: { params: SessionPathParams },
  responses: { 200: jsonResponse(MyProfile, "The profile") },
});

const change = <T extends z.ZodType>(what: string, schema: T) =>
  wahaRoute({
    ...common,
    method: "put",
    path: `/{phoneNumber}/profile/${what}`,
    summary: `WAHA: change the profile's ${what}`,
    request: {
      params: SessionPathParams,
      body: { required: true, content: { "application/json": { schema } } },
    },
    responses: { 200: jsonResponse(Success, "Changed") },
  });
const nameRoute = change("name", ProfileNameRequest);
const statusRoute = change("status", ProfileStatusRequest);

export function createWahaProfileRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  const routes = [getRoute, nameRoute, statusRoute];
  const session = (c: Context<AppEnv>) =>
    manager.session(sessionNumber(c.req.param("phoneNumber")), c.get("principal"));

  return inWahaShape(createRouter(), ...routes)
    .guard(guards.requireSingleAccountProtected(), ...routes)
    .openapi(getRoute, async (c) => {
      const profile = await session(c).getProfile();
      return c.json({ id: profile.id, name: profile.name, picture: profile.pictureUrl }, 200);
    })
    .openapi(nameRoute, async (c) => {
      const client = session(c);
      const { name } = toContractInput(NameSchema, c.req.valid("json"));
      await client.setProfileName(name);
      return c.json({ success: true }, 200);
    })
    .openapi(statusRoute, async (c) => {
      const client = session(c);
      const { status } = toContractInput(StatusSchema, c.req.valid("json"));
      await client.setProfileStatus(status);
      return c.json({ success: true }, 200);
    });
}
