/**
 * @module
 * Group routes: create a group (answering the group plus a result per participant), read it
 * (subject, description, owner, participants with admin flags, settings), update it, leave it,
 * and add or remove participants with a result for each one.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { CreateGroupSchema, ParticipantsBodySchema, UpdateGroupSchema } from "./engine_inputs.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  GroupParams,
  IdempotencyHeaders,
  jsonBody,
  jsonResponse,
  lidBeside,
  PhoneParams,
  pnBeside,
  SECURED,
  SESSION_CALL_ERRORS,
  SuccessSchema,
} from "./schemas.ts";

const ParticipantSchema = z.object({
  id: z.string().openapi({ example: "15550000001@c.us" }),
  pn: pnBeside("For a member written by a LID: the phone-number id, when known"),
  lid: lidBeside("For a member written by phone number: the LID, when known"),
  isAdmin: z.boolean(),
  isSuperAdmin: z.boolean(),
}).openapi("GroupParticipant");

const GroupFields = {
  id: z.string().openapi({ example: "120363000000000001@g.us" }),
  subject: z.string().openapi({ example: "Simulator Group" }),
  description: z.string().openapi({ example: "A group that exists only in the simulator" }),
  owner: z.string().nullable().openapi({ example: "4915550001234@c.us" }),
  ownerPn: pnBeside("When `owner` is a LID: its phone-number id, when known"),
  createdAt: z.number().int().nullable().openapi({ example: 1764086400, description: "Unix s" }),
  participants: z.array(ParticipantSchema),
  settings: z.object({
    messagesAdminsOnly: z.boolean().openapi({ description: "Only admins may send messages" }),
    infoAdminsOnly: z.boolean().openapi({ description: "Only admins may edit the group info" }),
    addMembersAdminsOnly: z.boolean().openapi({ description: "Only admins may add members" }),
    membershipApproval: z.boolean().openapi({
      description: "Who asks to join by the link waits for an admin's approval",
    }),
  }),
};

const GroupSchema = z.object(GroupFields).openapi("Group");

const ParticipantResultSchema = z.object({
  id: z.string().openapi({ example: "15550000002@c.us" }),
  result: z.enum([
    "added",
    "removed",
    "already_in",
    "not_in_group",
    "not_on_whatsapp",
    "not_allowed",
  ]).openapi({ example: "added" }),
  message: z.string().optional().openapi({ description: "Why, when it did not work" }),
}).openapi("ParticipantResult");

const GroupCreatedSchema = z.object({
  ...GroupFields,
  results: z.array(ParticipantResultSchema),
}).openapi("GroupCreated");

const ResultsSchema = z.object({ results: z.array(ParticipantResultSchema) }).openapi(
  "ParticipantResults",
);

const common = { tags: ["Groups"], security: SECURED };
const errors = errorResponses(...SESSION_CALL_ERRORS);

const createGroupRoute = createRoute({
  ...common,
  method: "post",
  path: "/{phoneNumber}/group/create",
  summary: "Create a group",
  request: { params: PhoneParams, headers: IdempotencyHeaders, ...jsonBody(CreateGroupSchema) },
  responses: { 200: jsonResponse(GroupCreatedSchema, "The new group"), ...errors },
});

const getRoute = createRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/group/{groupId}",
  summary: "A group's info, participants and settings",
  request: { params: GroupParams },
  responses: { 200: jsonResponse(GroupSchema, "The group"), ...errors },
});

const updateRoute = createRoute({
  ...common,
  method: "put",
  path: "/{phoneNumber}/group/{groupId}",
  summary: "Change a group's subject, description or settings",
  request: { params: GroupParams, ...jsonBody(UpdateGroupSchema) },
  responses: { 200: jsonResponse(GroupSchema, "The group as it is now"), ...errors },
});

const leaveRoute = createRoute({
  ...common,
  method: "post",
  path: "/{phoneNumber}/group/{groupId}/leave",
  summary: "Leave a group",
  request: { params: GroupParams },
  responses: { 200: jsonResponse(SuccessSchema, "Left"), ...errors },
});

const participantsRoute = (action: "add" | "remove") =>
  createRoute({
    ...common,
    method: "post",
    path: `/{phoneNumber}/group/{groupId}/participants/${action}`,
    summary: action === "add" ? "Add participants" : "Remove participants",
    request: { params: GroupParams, ...jsonBody(ParticipantsBodySchema) },
    responses: { 200: jsonResponse(ResultsSchema, "A result per participant"), ...errors },
  });

const addRoute = participantsRoute("add");
const removeRoute = participantsRoute("remove");

export function createGroupRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  const routes = [createGroupRoute, getRoute, updateRoute, leaveRoute, addRoute, removeRoute];

  return createRouter()
    .guard(guards.requireSingleAccountProtected(), ...routes)
    .openapi(createGroupRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(await session.createGroup(c.req.valid("json")), 200);
    })
    .openapi(getRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      return c.json(await manager.session(phoneNumber, c.get("principal")).getGroup(groupId), 200);
    })
    .openapi(updateRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      const update = { groupId, ...c.req.valid("json") };
      return c.json(
        await manager.session(phoneNumber, c.get("principal")).updateGroup(update),
        200,
      );
    })
    .openapi(leaveRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      await manager.session(phoneNumber, c.get("principal")).leaveGroup(groupId);
      return c.json({ success: true, message: `Left group "${groupId}"` }, 200);
    })
    .openapi(addRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      const change = { groupId, ...c.req.valid("json") };
      const results = await manager.session(phoneNumber, c.get("principal")).addParticipants(
        change,
      );
      return c.json({ results }, 200);
    })
    .openapi(removeRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      const change = { groupId, ...c.req.valid("json") };
      const results = await manager.session(phoneNumber, c.get("principal")).removeParticipants(
        change,
      );
      return c.json({ results }, 200);
    });
}
