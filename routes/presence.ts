/**
 * @module
 * Presence, with WAHA's paths and shapes: set ours (`POST /{phoneNumber}/presence`: `online` or
 * `offline` for every contact, `typing`, `recording` or `paused` in one chat), read what is known
 * of a chat's presence (`GET …/presence/{chatId}`, which subscribes to it too), subscribe to it
 * (`POST …/presence/{chatId}/subscribe`), and list every chat subscribed to (`GET …/presence`). What contacts show arrives as `presence.update` events.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { ChatPresencesDto } from "../sessions/engine.ts";
import type { SessionClient, SessionManager } from "../sessions/manager.ts";
import { SetPresenceSchema } from "./engine_inputs.ts";
import { createRouter } from "./router.ts";
import {
  ChatParams,
  errorResponses,
  jsonBody,
  jsonResponse,
  PhoneParams,
  SECURED,
  SESSION_CALL_ERRORS,
  SuccessSchema,
} from "./schemas.ts";

const TAG = "Presence";

const ChatPresencesSchema = z.object({
  id: z.string().openapi({ example: "15550000001@c.us", description: "The chat" }),
  presences: z.array(z.object({
    participant: z.string().openapi({ example: "15550000001@c.us" }),
    lastKnownPresence: z.enum(["typing", "recording", "paused", "online", "offline"]).openapi({
      example: "online",
    }),
    lastSeen: z.number().int().nullable().openapi({
      example: 1764086400,
      description: "Unix seconds, when the contact shares it",
    }),
  })),
}).openapi("ChatPresences");

const errors = errorResponses(...SESSION_CALL_ERRORS);

const setRoute = createRoute({
  method: "post",
  path: "/{phoneNumber}/presence",
  tags: [TAG],
  summary: "Set our presence: online or offline, or typing, recording or paused in a chat",
  description: "WhatsApp sends no notifications to the phone while a linked device is online: " +
    "set `offline` when the bot is done.",
  security: SECURED,
  request: { params: PhoneParams, ...jsonBody(SetPresenceSchema) },
  responses: { 200: jsonResponse(SuccessSchema, "Set"), ...errors },
});
const listRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/presence",
  tags: [TAG],
  summary: "What is known of the presence in every chat subscribed to",
  security: SECURED,
  request: { params: PhoneParams },
  responses: {
    200: jsonResponse(z.array(ChatPresencesSchema), "Each subscribed chat's presences"),
    ...errors,
  },
});
const getRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/presence/{chatId}",
  tags: [TAG],
  summary: "What is known of a chat's presence (a contact, or a group's members); subscribes too",
  security: SECURED,
  request: { params: ChatParams },
  responses: { 200: jsonResponse(ChatPresencesSchema, "The chat's presences"), ...errors },
});
const subscribeRoute = createRoute({
  method: "post",
  path: "/{phoneNumber}/presence/{chatId}/subscribe",
  tags: [TAG],
  summary: "Subscribe to a chat's presence: `presence.update` events follow",
  security: SECURED,
  request: { params: ChatParams },
  responses: { 200: jsonResponse(SuccessSchema, "Subscribed"), ...errors },
});

/** WAHA's `WAHAChatPresences` from the engine's. */
export function toWaha(presences: ChatPresencesDto): z.infer<typeof ChatPresencesSchema> {
  return {
    id: presences.chatId,
    presences: presences.presences.map((p) => ({
      participant: p.participant,
      lastKnownPresence: p.presence,
      lastSeen: p.lastSeen,
    })),
  };
}

/**
 * Sets a presence as `SetPresenceSchema` allows it: `online`/`offline` ours for every contact, the
 * others in one chat (for this route and WAHA's `POST /api/{session}/presence`).
 */
export async function applyPresence(
  session: Pick<SessionClient, "setPresence" | "setTyping">,
  input: z.infer<typeof SetPresenceSchema>,
): Promise<void> {
  const { presence, chatId } = input;
  if (presence === "online" || presence === "offline") await session.setPresence(presence);
  else await session.setTyping({ chatId: chatId!, state: presence });
}

export function createPresenceRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  return createRouter()
    .guard(guards.requireSingleAccountProtected(), setRoute, listRoute, getRoute, subscribeRoute)
    .openapi(setRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const { presence, chatId } = c.req.valid("json");
      await applyPresence(manager.session(phoneNumber, c.get("principal")), { presence, chatId });
      if (presence === "online" || presence === "offline") {
        return c.json({ success: true, message: `Presence set to ${presence}` }, 200);
      }
      return c.json({ success: true, message: `Presence in "${chatId}" set to ${presence}` }, 200);
    })
    .openapi(listRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const all = await manager.session(phoneNumber, c.get("principal")).listPresences();
      return c.json(all.map(toWaha), 200);
    })
    .openapi(getRoute, async (c) => {
      const { phoneNumber, chatId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(toWaha(await session.getPresence(chatId)), 200);
    })
    .openapi(subscribeRoute, async (c) => {
      const { phoneNumber, chatId } = c.req.valid("param");
      await manager.session(phoneNumber, c.get("principal")).subscribePresence(chatId);
      return c.json({ success: true, message: `Subscribed to the presence of "${chatId}"` }, 200);
    });
}
