/**
 * @module
 * WAHA's groups endpoints (`/api/{session}/groups…`) over the same session calls as the
 * contract's group and group-admin routes, WAHA's `{ id }` participants turned into ids and
 * checked by the contract's schemas. The answers are whatsapp-web.js's (a `GroupChat`, its
 * participants, the group calls' results), as WAHA's WEBJS engine gives them; a change made
 * answers `true` as text. Listing and deleting groups are not covered (`501`).
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AuthGuards } from "../../middleware/guards.ts";
import type { AppEnv } from "../../middleware/principal.ts";
import type { SessionManager } from "../../sessions/manager.ts";
import {
  CreateGroupRequest,
  DescriptionRequest,
  ParticipantsRequest,
  SettingsSecurityChangeInfo,
  SubjectRequest,
  WEBJSAddParticipantsResult,
  WEBJSCreateGroupResult,
  WEBJSGroupChat,
  WEBJSGroupParticipant,
  WEBJSParticipantsStatus,
} from "../../waha/schemas.ts";
import {
  AdminParticipantsSchema,
  CreateGroupSchema,
  GroupDescriptionSchema,
  ParticipantsBodySchema,
} from "../engine_inputs.ts";
import { createRouter } from "../router.ts";
import { GroupParams, jsonResponse, SECURED } from "../schemas.ts";
import {
  inWahaShape,
  sessionNumber,
  SessionPathParams,
  toContractInput,
  WAHA_TAG,
  wahaRoute,
} from "./dialect.ts";
import {
  PARTICIPANTS_CHANGED,
  toWebjsAddParticipantsResult,
  toWebjsCreateGroupResult,
  toWebjsGroupChat,
  toWebjsParticipant,
} from "./shapes.ts";

const tags = [WAHA_TAG];
const GroupPathParams = SessionPathParams.extend({
  id: z.string().openapi({ param: { name: "id", in: "path" }, example: "120363000000000001@g.us" }),
});
const GroupRef = z.object({ groupId: GroupParams.shape.groupId });
const SubjectSchema = z.object({ subject: z.string().trim().min(1).max(100) });
const AdminsOnly = z.object({ adminsOnly: z.boolean() });

const common = { tags, security: SECURED };
const at = (path: string) => `/{phoneNumber}/groups/{id}${path}`;
const params = { params: GroupPathParams };
const withBody = <T extends z.ZodType>(schema: T) => ({
  params: GroupPathParams,
  body: { required: true, content: { "application/json": { schema } } },
});
const json = <T extends z.ZodType>(status: 200 | 201, schema: T) => ({
  [status]: jsonResponse(schema, "Done"),
});
const empty = (status: 200 | 201) => ({ [status]: { description: "Done (no body)" } });
const text = (status: 200 | 201, description = "The invite code") => ({
  [status]: { description, content: { "text/plain": { schema: z.string() } } },
});
/** WAHA answers whatsapp-web.js's `true` of a change made, as text (NestJS sends it so). */
const changed = text(200, "`true`: changed");

const createGroupRoute = wahaRoute({
  ...common,
  method: "post",
  path: "/{phoneNumber}/groups",
  summary: "WAHA: create a group",
  request: {
    params: SessionPathParams,
    body: { required: true, content: { "application/json": { schema: CreateGroupRequest } } },
  },
  responses: { 201: jsonResponse(WEBJSCreateGroupResult, "Created") },
});
const getRoute = wahaRoute({
  ...common,
  method: "get",
  path: at(""),
  summary: "WAHA: a group (whatsapp-web.js's `GroupChat`, as WAHA's WEBJS engine answers it)",
  request: params,
  responses: json(200, WEBJSGroupChat),
});
const leaveRoute = wahaRoute({
  ...common,
  method: "post",
  path: at("/leave"),
  summary: "WAHA: leave a group",
  request: params,
  responses: empty(201),
});
const subjectRoute = wahaRoute({
  ...common,
  method: "put",
  path: at("/subject"),
  summary: "WAHA: change the subject",
  request: withBody(SubjectRequest),
  responses: changed,
});
const descriptionRoute = wahaRoute({
  ...common,
  method: "put",
  path: at("/description"),
  summary: "WAHA: change the description",
  request: withBody(DescriptionRequest),
  responses: changed,
});
const inviteRoute = wahaRoute({
  ...common,
  method: "get",
  path: at("/invite-code"),
  summary: "WAHA: the invite code",
  request: params,
  responses: text(200),
});
const revokeRoute = wahaRoute({
  ...common,
  method: "post",
  path: at("/invite-code/revoke"),
  summary: "WAHA: a new invite code (the old one stops working)",
  request: params,
  responses: text(201),
});
const participantsRoute = wahaRoute({
  ...common,
  method: "get",
  path: at("/participants"),
  summary: "WAHA: the participants",
  request: params,
  responses: json(200, z.array(WEBJSGroupParticipant)),
});
const participantsChange = <T extends z.ZodType>(path: string, summary: string, answer: T) =>
  wahaRoute({
    ...common,
    method: "post",
    path: at(path),
    summary: `WAHA: ${summary}`,
    request: withBody(ParticipantsRequest),
    responses: json(201, answer),
  });
const addRoute = participantsChange(
  "/participants/add",
  "add participants",
  WEBJSAddParticipantsResult,
);
const removeRoute = participantsChange(
  "/participants/remove",
  "remove participants",
  WEBJSParticipantsStatus,
);
const promoteRoute = participantsChange(
  "/admin/promote",
  "make participants admins",
  WEBJSParticipantsStatus,
);
const demoteRoute = participantsChange(
  "/admin/demote",
  "make admins plain participants",
  WEBJSParticipantsStatus,
);
const security = (setting: string) =>
  [
    wahaRoute({
      ...common,
      method: "get",
      path: at(`/settings/security/${setting}`),
      summary: `WAHA: the ${setting} setting`,
      request: params,
      responses: json(200, AdminsOnly),
    }),
    wahaRoute({
      ...common,
      method: "put",
      path: at(`/settings/security/${setting}`),
      summary: `WAHA: change the ${setting} setting`,
      request: withBody(SettingsSecurityChangeInfo),
      responses: changed,
    }),
  ] as const;
const [getInfoRoute, putInfoRoute] = security("info-admin-only");
const [getMessagesRoute, putMessagesRoute] = security("messages-admin-only");
const SETTINGS = [
  [getInfoRoute, putInfoRoute, "infoAdminsOnly"],
  [getMessagesRoute, putMessagesRoute, "messagesAdminsOnly"],
] as const;

const ids = (participants: { id: string }[]) => participants.map((p) => p.id);

export function createWahaGroupRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  const routes = [
    createGroupRoute,
    getRoute,
    leaveRoute,
    subjectRoute,
    descriptionRoute,
    inviteRoute,
    revokeRoute,
    participantsRoute,
    addRoute,
    removeRoute,
    promoteRoute,
    demoteRoute,
    getInfoRoute,
    putInfoRoute,
    getMessagesRoute,
    putMessagesRoute,
  ];
  const session = (c: Context<AppEnv>) =>
    manager.session(sessionNumber(c.req.param("phoneNumber")), c.get("principal"));
  /** The session and the group of the path, the group checked as the contract checks it. */
  const target = (c: Context<AppEnv>) => ({
    session: session(c),
    groupId: toContractInput(GroupRef, { groupId: c.req.param("id") }).groupId,
  });

  const router = inWahaShape(createRouter(), ...routes)
    .guard(guards.requireSingleAccountProtected(), ...routes)
    .openapi(createGroupRoute, async (c) => {
      const { name, participants } = c.req.valid("json");
      const input = toContractInput(CreateGroupSchema, { name, participants: ids(participants) });
      return c.json(toWebjsCreateGroupResult(await session(c).createGroup(input)), 201);
    })
    .openapi(getRoute, async (c) => {
      const { session, groupId } = target(c);
      return c.json(toWebjsGroupChat(await session.getGroup(groupId)), 200);
    })
    .openapi(leaveRoute, async (c) => {
      const { session, groupId } = target(c);
      await session.leaveGroup(groupId);
      return c.body(null, 201);
    })
    .openapi(subjectRoute, async (c) => {
      const { session, groupId } = target(c);
      const { subject } = toContractInput(SubjectSchema, c.req.valid("json"));
      await session.updateGroup({ groupId, subject });
      return c.text("true", 200);
    })
    .openapi(descriptionRoute, async (c) => {
      const { session, groupId } = target(c);
      const { description } = toContractInput(GroupDescriptionSchema, c.req.valid("json"));
      await session.updateGroup({ groupId, description });
      return c.text("true", 200);
    })
    .openapi(inviteRoute, async (c) => {
      const { session, groupId } = target(c);
      return c.text(await session.getGroupInviteCode(groupId), 200);
    })
    .openapi(revokeRoute, async (c) => {
      const { session, groupId } = target(c);
      return c.text(await session.revokeGroupInviteCode(groupId), 201);
    })
    .openapi(participantsRoute, async (c) => {
      const { session, groupId } = target(c);
      const { participants } = await session.getGroup(groupId);
      return c.json(participants.map(toWebjsParticipant), 200);
    })
    .openapi(addRoute, async (c) => {
      const { session, groupId } = target(c);
      const { participants } = toContractInput(ParticipantsBodySchema, {
        participants: ids(c.req.valid("json").participants),
      });
      const results = await session.addParticipants({ groupId, participants });
      return c.json(toWebjsAddParticipantsResult(results), 201);
    })
    .openapi(removeRoute, async (c) => {
      const { session, groupId } = target(c);
      const { participants } = toContractInput(ParticipantsBodySchema, {
        participants: ids(c.req.valid("json").participants),
      });
      await session.removeParticipants({ groupId, participants });
      return c.json(PARTICIPANTS_CHANGED, 201);
    })
    .openapi(promoteRoute, async (c) => {
      const { session, groupId } = target(c);
      const change = toContractInput(AdminParticipantsSchema, c.req.valid("json"));
      await session.promoteParticipants({ groupId, ...change });
      return c.json(PARTICIPANTS_CHANGED, 201);
    })
    .openapi(demoteRoute, async (c) => {
      const { session, groupId } = target(c);
      const change = toContractInput(AdminParticipantsSchema, c.req.valid("json"));
      await session.demoteParticipants({ groupId, ...change });
      return c.json(PARTICIPANTS_CHANGED, 201);
    });
  for (const [get, put, key] of SETTINGS) {
    router
      .openapi(get, async (c) => {
        const { session, groupId } = target(c);
        return c.json({ adminsOnly: (await session.getGroup(groupId)).settings[key] }, 200);
      })
      .openapi(put, async (c) => {
        const { session, groupId } = target(c);
        const { adminsOnly = true } = c.req.valid("json");
        await session.updateGroup({ groupId, [key]: adminsOnly });
        return c.text("true", 200);
      });
  }
  return router;
}
