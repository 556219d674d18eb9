/**
 * @module
 * Group administration with WAHA's paths under `/{phoneNumber}/groups/`: the invite link (read,
 * revoke), joining by an invite code or link and previewing the group behind one, promoting and
 * demoting admins, the two security settings (only admins send, only admins edit the info), the
 * subject and description, the picture (read, set from an image, remove) and the requests to
 * join a group that needs an admin's approval (WAHA's `participants/join-requests`, in its shapes). What WhatsApp keeps to admins is refused for
 * anyone else (`400`, or `not_allowed` for a participant of a promotion).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { badRequest } from "../errors.ts";
import type { MediaResolver } from "../media/media_input.ts";
import type { AuthGuards } from "../middleware/guards.ts";
import type { MembershipRequestResult } from "../sessions/engine.ts";
import type { SessionManager } from "../sessions/manager.ts";
import {
  AdminParticipantsSchema,
  AdminsOnlySchema,
  GroupDescriptionSchema,
  GroupPictureSchema,
  InviteCode,
  JoinGroupSchema,
  MembershipRequestsSchema,
} from "./engine_inputs.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  GroupParams,
  jsonBody,
  jsonResponse,
  PhoneParams,
  SECURED,
  SESSION_CALL_ERRORS,
  SuccessSchema,
} from "./schemas.ts";

const INVITE_BASE = "https://chat.whatsapp.com/";

const InviteSchema = z.object({
  code: z.string().openapi({ example: "SimulatorInvite01" }),
  link: z.string().openapi({ example: "https://chat.whatsapp.com/SimulatorInvite01" }),
}).openapi("GroupInvite");

const JoinedSchema = z.object({
  id: z.string().openapi({ example: "120363000000000002@g.us" }),
}).openapi("GroupJoined");

const PreviewSchema = z.object({
  id: z.string().openapi({ example: "120363000000000002@g.us" }),
  subject: z.string().openapi({ example: "Simulator Invite Group" }),
  description: z.string(),
  owner: z.string().nullable().openapi({ example: "15550000001@c.us" }),
  createdAt: z.number().int().nullable().openapi({ description: "Unix s" }),
  size: z.number().int().openapi({ example: 2, description: "How many members it has" }),
  membershipApproval: z.boolean().openapi({
    description: "Whether an admin must approve who joins by the link",
  }),
}).openapi("GroupInvitePreview");

const AdminResultsSchema = z.object({
  results: z.array(z.object({
    id: z.string().openapi({ example: "15550000001@c.us" }),
    result: z.enum(["promoted", "demoted", "not_in_group", "not_allowed"]),
    message: z.string().optional().openapi({ description: "Why, when it did not work" }),
  })),
}).openapi("GroupAdminResults");

const PictureSchema = z.object({
  url: z.string().nullable().openapi({ example: null, description: "null: no picture" }),
}).openapi("GroupPictureUrl");

/** WAHA's `GroupJoinRequest`. */
const RequestsSchema = z.array(z.object({
  requesterId: z.string().openapi({ example: "15550000003@c.us" }),
  addedById: z.string().nullable().openapi({ example: "15550000003@c.us" }),
  parentGroupId: z.string().nullable().openapi({ example: null }),
  requestMethod: z.string().nullable().openapi({
    example: "invite_link",
    description: "`invite_link`, `non_admin_add` or `linked_group_join`, when known",
  }),
  timestamp: z.number().int().openapi({ example: 1764086400, description: "Unix s" }),
})).openapi("GroupJoinRequests");

/** WAHA's `GroupJoinRequestResult`. */
const RequestResultsSchema = z.array(z.object({
  requesterId: z.string().openapi({ example: "15550000003@c.us" }),
  success: z.boolean().openapi({ example: true }),
  error: z.number().int().optional().openapi({
    example: 404,
    description: "WhatsApp's code when it did not work (404: no such request)",
  }),
  message: z.string().optional().openapi({ description: "Why, when it did not work" }),
})).openapi("GroupJoinRequestResults");

const SubjectSchema = z.object({
  subject: z.string().trim().min(1).max(100).openapi({ example: "New subject" }),
}).openapi("GroupSubject");

const common = { tags: ["Groups"], security: SECURED };
const errors = errorResponses(...SESSION_CALL_ERRORS);

interface RouteOptions<R extends z.ZodType> {
  method: "get" | "post" | "put" | "delete";
  path: string;
  summary: string;
  description?: string;
  response: R;
  what: string;
}

/** A route on one group, without a body: `/{phoneNumber}/groups/{groupId}/…`. */
function groupRoute<R extends z.ZodType>(options: RouteOptions<R>) {
  return createRoute({
    ...common,
    method: options.method,
    path: `/{phoneNumber}/groups/{groupId}${options.path}`,
    summary: options.summary,
    description: options.description ?? "",
    request: { params: GroupParams },
    responses: { 200: jsonResponse(options.response, options.what), ...errors },
  });
}

/** A route on one group with a JSON body. */
function groupBodyRoute<B extends z.ZodType, R extends z.ZodType>(
  options: RouteOptions<R> & { body: B; media?: boolean },
) {
  return createRoute({
    ...common,
    method: options.method,
    path: `/{phoneNumber}/groups/{groupId}${options.path}`,
    summary: options.summary,
    description: options.description ?? "",
    request: { params: GroupParams, ...jsonBody(options.body) },
    responses: {
      200: jsonResponse(options.response, options.what),
      ...(options.media ? errorResponses(...SESSION_CALL_ERRORS, "PAYLOAD_TOO_LARGE") : errors),
    },
  });
}

const inviteRoute = groupRoute({
  method: "get",
  path: "/invite-code",
  summary: "The group's invite link",
  description: "Admins only.",
  response: InviteSchema,
  what: "The invite code and its link",
});
const revokeRoute = groupRoute({
  method: "post",
  path: "/invite-code/revoke",
  summary: "Invalidate the invite link and make a new one",
  description: "Admins only. The old link stops working.",
  response: InviteSchema,
  what: "The new invite code and its link",
});
const joinRoute = createRoute({
  ...common,
  method: "post",
  path: "/{phoneNumber}/groups/join",
  summary: "Join a group by its invite code or link",
  description: "A `group.v2.join` event follows.",
  request: { params: PhoneParams, ...jsonBody(JoinGroupSchema) },
  responses: { 200: jsonResponse(JoinedSchema, "The group joined"), ...errors },
});
const joinInfoRoute = createRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/groups/join-info",
  summary: "Preview the group behind an invite code or link",
  // Optional to the validator, so a bad phone number is named before a missing code.
  request: { params: PhoneParams, query: z.object({ code: InviteCode.optional() }) },
  responses: { 200: jsonResponse(PreviewSchema, "The group, as the link shows it"), ...errors },
});
const adminRoute = (action: "promote" | "demote") =>
  groupBodyRoute({
    method: "post",
    path: `/admin/${action}`,
    summary: action === "promote" ? "Promote participants to admins" : "Demote admins",
    description: "Admins only. A `group.v2.participants` event for those whose role changed.",
    body: AdminParticipantsSchema,
    response: AdminResultsSchema,
    what: "A result per participant",
  });
const promoteRoute = adminRoute("promote");
const demoteRoute = adminRoute("demote");

const SETTINGS = {
  "messages-admin-only": "messagesAdminsOnly",
  "info-admin-only": "infoAdminsOnly",
} as const;
type SettingPath = keyof typeof SETTINGS;
const settingSummary: Record<SettingPath, string> = {
  "messages-admin-only": "only admins may send messages",
  "info-admin-only": "only admins may edit the group's info (subject, description, picture)",
};
const getSettingRoute = (setting: SettingPath) =>
  groupRoute({
    method: "get",
    path: `/settings/security/${setting}`,
    summary: `Whether ${settingSummary[setting]}`,
    response: AdminsOnlySchema,
    what: "The setting",
  });
const putSettingRoute = (setting: SettingPath) =>
  groupBodyRoute({
    method: "put",
    path: `/settings/security/${setting}`,
    summary: `Set whether ${settingSummary[setting]}`,
    description: "Admins only. A `group.v2.update` event follows.",
    body: AdminsOnlySchema,
    response: AdminsOnlySchema,
    what: "The setting now",
  });
const getMessagesSetting = getSettingRoute("messages-admin-only");
const putMessagesSetting = putSettingRoute("messages-admin-only");
const getInfoSetting = getSettingRoute("info-admin-only");
const putInfoSetting = putSettingRoute("info-admin-only");

/** Each security setting's routes, with the group setting they read and change. */
const SECURITY_SETTINGS = [
  [getMessagesSetting, putMessagesSetting, "messagesAdminsOnly"],
  [getInfoSetting, putInfoSetting, "infoAdminsOnly"],
] as const;

const subjectRoute = groupBodyRoute({
  method: "put",
  path: "/subject",
  summary: "Change the group's subject",
  description: "Admins only when only admins edit the info. A `group.v2.update` event follows.",
  body: SubjectSchema,
  response: SuccessSchema,
  what: "Changed",
});
const descriptionRoute = groupBodyRoute({
  method: "put",
  path: "/description",
  summary: "Change the group's description",
  description: "Admins only when only admins edit the info. A `group.v2.update` event follows.",
  body: GroupDescriptionSchema,
  response: SuccessSchema,
  what: "Changed",
});
const getPictureRoute = groupRoute({
  method: "get",
  path: "/picture",
  summary: "The group's picture URL",
  response: PictureSchema,
  what: "The picture's URL, or null",
});
const setPictureRoute = groupBodyRoute({
  method: "put",
  path: "/picture",
  summary: "Set the group's picture",
  description: "An image (cropped square by WhatsApp). Admins only when only admins edit the " +
    "info. A `group.v2.update` event follows.",
  body: GroupPictureSchema,
  response: SuccessSchema,
  what: "Set",
  media: true,
});
const deletePictureRoute = groupRoute({
  method: "delete",
  path: "/picture",
  summary: "Remove the group's picture",
  response: SuccessSchema,
  what: "Removed",
});
const requestsRoute = groupRoute({
  method: "get",
  path: "/participants/join-requests",
  summary: "Pending requests to join the group",
  description: "Admins only; for a group whose admins approve who joins.",
  response: RequestsSchema,
  what: "The requests",
});
const answerRoute = (action: "approve" | "reject") =>
  groupBodyRoute({
    method: "post",
    path: `/participants/join-requests/${action}`,
    summary: action === "approve" ? "Approve requests to join" : "Reject requests to join",
    description: action === "approve"
      ? "Admins only. Approved requesters join (`group.v2.participants`, type join)."
      : "Admins only.",
    body: MembershipRequestsSchema,
    response: RequestResultsSchema,
    what: "A result per request",
  });
const approveRoute = answerRoute("approve");
const rejectRoute = answerRoute("reject");

const invite = (code: string) => ({ code, link: INVITE_BASE + code });

/** WAHA's `GroupJoinRequestResult`s. */
const joinResults = (results: MembershipRequestResult[]) =>
  results.map(({ id, ...rest }) => ({ requesterId: id, ...rest }));

export function createGroupAdminRoutes(
  deps: { manager: SessionManager; guards: AuthGuards; media: MediaResolver },
) {
  const { manager, guards, media } = deps;
  const routes = [
    inviteRoute,
    revokeRoute,
    joinRoute,
    joinInfoRoute,
    promoteRoute,
    demoteRoute,
    getMessagesSetting,
    putMessagesSetting,
    getInfoSetting,
    putInfoSetting,
    subjectRoute,
    descriptionRoute,
    getPictureRoute,
    deletePictureRoute,
    requestsRoute,
    approveRoute,
    rejectRoute,
  ];

  const router = createRouter()
    .guard(guards.requireSingleAccountProtected(), ...routes)
    .guard(guards.requireSingleAccountProtected({ media: true }), setPictureRoute)
    .openapi(inviteRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(invite(await session.getGroupInviteCode(groupId)), 200);
    })
    .openapi(revokeRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(invite(await session.revokeGroupInviteCode(groupId)), 200);
    })
    .openapi(joinRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(await session.joinGroup(c.req.valid("json").code), 200);
    })
    .openapi(joinInfoRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const { code } = c.req.valid("query");
      if (code === undefined) throw badRequest('Invalid query parameter "code": required');
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(await session.getGroupInviteInfo(code), 200);
    })
    .openapi(promoteRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      const results = await session.promoteParticipants({ groupId, ...c.req.valid("json") });
      return c.json({ results }, 200);
    })
    .openapi(demoteRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      const results = await session.demoteParticipants({ groupId, ...c.req.valid("json") });
      return c.json({ results }, 200);
    })
    .openapi(subjectRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      await session.updateGroup({ groupId, subject: c.req.valid("json").subject });
      return c.json({ success: true, message: `Subject of group "${groupId}" changed` }, 200);
    })
    .openapi(descriptionRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      await session.updateGroup({ groupId, description: c.req.valid("json").description });
      return c.json({ success: true, message: `Description of group "${groupId}" changed` }, 200);
    })
    .openapi(getPictureRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json({ url: await session.getGroupPicture(groupId) }, 200);
    })
    .openapi(setPictureRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      await session.assertReady();
      const { file } = c.req.valid("json");
      const source = "url" in file
        ? file.url
        : `data:${file.mimetype ?? "image/jpeg"};base64,${file.data}`;
      const picture = await media(source, {
        field: "file",
        kind: "image",
        signal: c.req.raw.signal,
        requestId: c.get("requestId"),
      });
      await session.setGroupPicture({ groupId, media: picture });
      return c.json({ success: true, message: `Picture of group "${groupId}" set` }, 200);
    })
    .openapi(deletePictureRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      await manager.session(phoneNumber, c.get("principal")).deleteGroupPicture(groupId);
      return c.json({ success: true, message: `Picture of group "${groupId}" removed` }, 200);
    })
    .openapi(requestsRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      const requests = await session.listMembershipRequests(groupId);
      return c.json(
        requests.map((r) => ({
          requesterId: r.id,
          addedById: r.addedBy,
          parentGroupId: null,
          requestMethod: r.requestMethod,
          timestamp: r.timestamp,
        })),
        200,
      );
    })
    .openapi(approveRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      const change = { groupId, ...c.req.valid("json") };
      return c.json(joinResults(await session.approveMembershipRequests(change)), 200);
    })
    .openapi(rejectRoute, async (c) => {
      const { phoneNumber, groupId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      const change = { groupId, ...c.req.valid("json") };
      return c.json(joinResults(await session.rejectMembershipRequests(change)), 200);
    });
  // The two security settings: the same pair of routes, each on its own group setting.
  for (const [get, put, key] of SECURITY_SETTINGS) {
    router
      .openapi(get, async (c) => {
        const { phoneNumber, groupId } = c.req.valid("param");
        const group = await manager.session(phoneNumber, c.get("principal")).getGroup(groupId);
        return c.json({ adminsOnly: group.settings[key] }, 200);
      })
      .openapi(put, async (c) => {
        const { phoneNumber, groupId } = c.req.valid("param");
        const session = manager.session(phoneNumber, c.get("principal"));
        const { adminsOnly } = c.req.valid("json");
        const group = await session.updateGroup({ groupId, [key]: adminsOnly });
        return c.json({ adminsOnly: group.settings[key] }, 200);
      });
  }
  return router;
}
