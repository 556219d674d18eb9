/**
 * @module
 * Channels (newsletters), with WAHA's paths and shapes: the channels the account follows, owns or
 * administers (`GET /{phoneNumber}/channels`, `?role=` narrows them), one channel by its id or its
 * invite code or link, WhatsApp's directory (search by text or by view), and what a follower or
 * an owner does: follow, unfollow, mute, unmute; create, rename or describe, delete, post a text.
 * None of it needs WhatsApp's approval of a business.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionClient, SessionManager } from "../sessions/manager.ts";
import {
  ChannelSearchByTextSchema,
  ChannelSearchByViewSchema,
  ChannelTextSchema,
  CreateChannelSchema,
  NewsletterJid,
  UpdateChannelSchema,
} from "./engine_inputs.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  IdempotencyHeaders,
  jsonBody,
  jsonResponse,
  PhoneParams,
  SECURED,
  SentMessageSchema,
  SESSION_CALL_ERRORS,
  SuccessSchema,
} from "./schemas.ts";

const TAG = "Channels";
const ROLES = ["OWNER", "ADMIN", "SUBSCRIBER", "GUEST"] as const;

const ChannelSchema = z.object({
  id: z.string().openapi({ example: "120363000000000101@newsletter" }),
  name: z.string().openapi({ example: "WhatsApp" }),
  description: z.string().openapi({ example: "Official channel" }),
  invite: z.string().openapi({ example: "https://whatsapp.com/channel/0029VaSimWhatsApp00000000" }),
  picture: z.string().nullable(),
  verified: z.boolean(),
  role: z.enum(ROLES).openapi({
    example: "SUBSCRIBER",
    description: "The account's relation to it: GUEST when it neither follows nor runs it",
  }),
  subscribersCount: z.number().int().nullable().openapi({ example: 1234 }),
  muted: z.boolean(),
}).openapi("Channel");

const ChannelListSchema = z.object({ channels: z.array(ChannelSchema) }).openapi("ChannelList");

/** A channel's id; bad input is refused before the session is asked. */
const ChannelParams = PhoneParams.extend({
  channelId: NewsletterJid.openapi({ param: { name: "channelId", in: "path" } }),
});

/** A channel's id, or its invite code (the part of the link after `/channel/`). */
const ChannelOrCodeParams = PhoneParams.extend({
  channelId: z.string().regex(
    /^(?:\d{6,32}@newsletter|[A-Za-z0-9_-]{8,64})$/,
    "expected a channel id ending in @newsletter or an invite code",
  ).openapi({
    param: { name: "channelId", in: "path" },
    example: "0029VaSimNews000000000000",
    description: "The channel's id (…@newsletter) or its invite code, from " +
      "https://whatsapp.com/channel/<code>",
  }),
});

const RoleQuery = z.object({
  role: z.enum(ROLES).optional().openapi({
    param: { name: "role", in: "query" },
    description: "Only the channels where the account has this role",
  }),
});

const errors = errorResponses(...SESSION_CALL_ERRORS);
const common = { tags: [TAG], security: SECURED };

const listRoute = createRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/channels",
  summary: "The channels the account follows, owns or administers",
  request: { params: PhoneParams, query: RoleQuery },
  responses: { 200: jsonResponse(ChannelListSchema, "The channels"), ...errors },
});

const createChannelRoute = createRoute({
  ...common,
  method: "post",
  path: "/{phoneNumber}/channels",
  summary: "Create a channel (the account owns it)",
  request: { params: PhoneParams, headers: IdempotencyHeaders, ...jsonBody(CreateChannelSchema) },
  responses: { 200: jsonResponse(ChannelSchema, "The new channel"), ...errors },
});

const searchRoute = <T extends z.ZodType>(by: "text" | "view", body: T, summary: string) =>
  createRoute({
    ...common,
    method: "post",
    path: `/{phoneNumber}/channels/search/by-${by}`,
    summary,
    request: { params: PhoneParams, ...jsonBody(body) },
    responses: { 200: jsonResponse(ChannelListSchema, "The channels found"), ...errors },
  });

const byTextRoute = searchRoute(
  "text",
  ChannelSearchByTextSchema,
  "Search WhatsApp's channel directory by text",
);
const byViewRoute = searchRoute(
  "view",
  ChannelSearchByViewSchema,
  "WhatsApp's channel directory: recommended, trending, popular or new channels",
);

const getRoute = createRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/channels/{channelId}",
  summary: "One channel, by its id or its invite code",
  request: { params: ChannelOrCodeParams },
  responses: { 200: jsonResponse(ChannelSchema, "The channel"), ...errors },
});

const updateRoute = createRoute({
  ...common,
  method: "put",
  path: "/{phoneNumber}/channels/{channelId}",
  summary: "Rename a channel the account owns or administers, or change its description",
  request: { params: ChannelParams, ...jsonBody(UpdateChannelSchema) },
  responses: { 200: jsonResponse(ChannelSchema, "The channel as it is now"), ...errors },
});

const deleteRoute = createRoute({
  ...common,
  method: "delete",
  path: "/{phoneNumber}/channels/{channelId}",
  summary: "Delete a channel the account owns",
  request: { params: ChannelParams },
  responses: { 200: jsonResponse(SuccessSchema, "Deleted"), ...errors },
});

const postTextRoute = createRoute({
  ...common,
  method: "post",
  path: "/{phoneNumber}/channels/{channelId}/messages",
  summary: "Post a text to a channel the account owns or administers",
  request: { params: ChannelParams, headers: IdempotencyHeaders, ...jsonBody(ChannelTextSchema) },
  responses: { 200: jsonResponse(SentMessageSchema, "Posted"), ...errors },
});

function actionRoute(action: string, summary: string) {
  return createRoute({
    ...common,
    method: "post",
    path: `/{phoneNumber}/channels/{channelId}/${action}`,
    summary,
    request: { params: ChannelParams },
    responses: { 200: jsonResponse(SuccessSchema, "Done"), ...errors },
  });
}

/** The actions without a body, the call each makes, and what its answer says. */
const ACTIONS: [
  ReturnType<typeof actionRoute>,
  (s: SessionClient, id: string) => Promise<void>,
  string,
][] = [
  [actionRoute("follow", "Follow a channel"), (s, id) => s.followChannel(id), "followed"],
  [actionRoute("unfollow", "Unfollow a channel"), (s, id) => s.unfollowChannel(id), "unfollowed"],
  [
    actionRoute("mute", "Mute a channel the account follows"),
    (s, id) => s.muteChannel(id),
    "muted",
  ],
  [actionRoute("unmute", "Unmute a channel"), (s, id) => s.unmuteChannel(id), "unmuted"],
];

export function createChannelRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;

  const router = createRouter()
    .guard(
      guards.requireSingleAccountProtected(),
      listRoute,
      createChannelRoute,
      byTextRoute,
      byViewRoute,
      getRoute,
      updateRoute,
      deleteRoute,
      postTextRoute,
      ...ACTIONS.map(([route]) => route),
    )
    // The directory's static paths first: `search` is no channel id.
    .openapi(byTextRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const channels = await manager.session(phoneNumber, c.get("principal")).searchChannels(
        c.req.valid("json"),
      );
      return c.json({ channels }, 200);
    })
    .openapi(byViewRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const channels = await manager.session(phoneNumber, c.get("principal")).searchChannels(
        c.req.valid("json"),
      );
      return c.json({ channels }, 200);
    })
    .openapi(listRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const { role } = c.req.valid("query");
      return c.json({
        channels: await manager.session(phoneNumber, c.get("principal")).listChannels(role),
      }, 200);
    })
    .openapi(createChannelRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      return c.json(
        await manager.session(phoneNumber, c.get("principal")).createChannel(c.req.valid("json")),
        200,
      );
    })
    .openapi(getRoute, async (c) => {
      const { phoneNumber, channelId } = c.req.valid("param");
      return c.json(
        await manager.session(phoneNumber, c.get("principal")).getChannel(channelId),
        200,
      );
    })
    .openapi(updateRoute, async (c) => {
      const { phoneNumber, channelId } = c.req.valid("param");
      const update = { ...c.req.valid("json"), channelId };
      return c.json(
        await manager.session(phoneNumber, c.get("principal")).updateChannel(update),
        200,
      );
    })
    .openapi(deleteRoute, async (c) => {
      const { phoneNumber, channelId } = c.req.valid("param");
      await manager.session(phoneNumber, c.get("principal")).deleteChannel(channelId);
      return c.json({ success: true, message: `Channel "${channelId}" deleted` }, 200);
    })
    .openapi(postTextRoute, async (c) => {
      const { phoneNumber, channelId } = c.req.valid("param");
      const { text } = c.req.valid("json");
      return c.json(
        await manager.session(phoneNumber, c.get("principal")).sendChannelText({ channelId, text }),
        200,
      );
    });
  for (const [route, act, done] of ACTIONS) {
    router.openapi(route, async (c) => {
      const { phoneNumber, channelId } = c.req.valid("param");
      await act(manager.session(phoneNumber, c.get("principal")), channelId);
      return c.json({ success: true, message: `Channel "${channelId}" ${done}` }, 200);
    });
  }
  return router;
}
