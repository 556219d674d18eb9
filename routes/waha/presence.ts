/**
 * @module
 * WAHA's presence endpoints (`/api/{session}/presence…`): the contract's presence routes already
 * speak WAHA's shapes; these answer at WAHA's paths, with WAHA's statuses, through the same
 * session calls (`applyPresence`, `toWaha` of `routes/presence.ts`).
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AuthGuards } from "../../middleware/guards.ts";
import type { AppEnv } from "../../middleware/principal.ts";
import type { SessionManager } from "../../sessions/manager.ts";
import { WAHAChatPresences, WAHASessionPresence } from "../../waha/schemas.ts";
import { SetPresenceSchema } from "../engine_inputs.ts";
import { applyPresence, toWaha } from "../presence.ts";
import { createRouter } from "../router.ts";
import { Jid, jsonResponse, SECURED } from "../schemas.ts";
import {
  ChatPathParams,
  inWahaShape,
  sessionNumber,
  SessionPathParams,
  toContractInput,
  WAHA_TAG,
  wahaRoute,
} from "./dialect.ts";

const tags = [WAHA_TAG];
const ChatRef = z.object({ chatId: Jid });

const setRoute = wahaRoute({
  method: "post",
  path: "/{phoneNumber}/presence",
  tags,
  summary: "WAHA: set the session's presence (online/offline), or one in a chat (typing…)",
  security: SECURED,
  request: {
    params: SessionPathParams,
    body: { required: true, content: { "application/json": { schema: WAHASessionPresence } } },
  },
  responses: { 201: { description: "Done (no body)" } },
});

const listRoute = wahaRoute({
  method: "get",
  path: "/{phoneNumber}/presence",
  tags,
  summary: "WAHA: the presences of every chat subscribed to",
  security: SECURED,
  request: { params: SessionPathParams },
  responses: { 200: jsonResponse(z.array(WAHAChatPresences), "The presences") },
});

const getRoute = wahaRoute({
  method: "get",
  path: "/{phoneNumber}/presence/{chatId}",
  tags,
  summary: "WAHA: a chat's presence (subscribing to it)",
  security: SECURED,
  request: { params: ChatPathParams },
  responses: { 200: jsonResponse(WAHAChatPresences, "The presence") },
});

const subscribeRoute = wahaRoute({
  method: "post",
  path: "/{phoneNumber}/presence/{chatId}/subscribe",
  tags,
  summary: "WAHA: subscribe to a chat's presence",
  security: SECURED,
  request: { params: ChatPathParams },
  responses: { 201: { description: "Done (no body)" } },
});

export function createWahaPresenceRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  const routes = [setRoute, listRoute, getRoute, subscribeRoute];
  const session = (c: Context<AppEnv>) =>
    manager.session(sessionNumber(c.req.param("phoneNumber")), c.get("principal"));
  const chatOf = (c: Context<AppEnv>) =>
    toContractInput(ChatRef, { chatId: c.req.param("chatId") }).chatId;

  return inWahaShape(createRouter(), ...routes)
    .guard(guards.requireSingleAccountProtected(), ...routes)
    .openapi(setRoute, async (c) => {
      const client = session(c);
      await applyPresence(client, toContractInput(SetPresenceSchema, c.req.valid("json")));
      return c.body(null, 201);
    })
    .openapi(listRoute, async (c) => {
      return c.json((await session(c).listPresences()).map(toWaha), 200);
    })
    .openapi(getRoute, async (c) => {
      const client = session(c);
      return c.json(toWaha(await client.getPresence(chatOf(c))), 200);
    })
    .openapi(subscribeRoute, async (c) => {
      const client = session(c);
      await client.subscribePresence(chatOf(c));
      return c.body(null, 201);
    });
}
