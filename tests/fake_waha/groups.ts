/**
 * @module
 * The fake WAHA's groups (`/api/{session}/groups…`), answering in the shapes of WAHA's WEBJS
 * engine (whatsapp-web.js's `GroupChat`, its create and add results, `true`/`false` for a change)
 * and keeping each session's groups: a group created is then read back, participants added or
 * promoted show up, a subject changed stays changed. The account is the superadmin of the groups it
 * creates and an admin of the one every session starts with; another group waits behind the
 * invite code `JOINME` (the account is no admin there; joining again by the code of a group it
 * is in answers WAHA's 500, WhatsApp's `conflict`). Only an admin may change a group: for
 * anyone else a change answers `false` and participants stay as they are, as whatsapp-web.js
 * does. Numbers `1555…@c.us` are on WhatsApp but `15559999999`; others are not (`404` in an add's
 * results), and `15550000004`'s privacy settings refuse being added (`403`), as in the simulator.
 * Each change posts WAHA's group event (`group_events.ts`): creating or joining a group
 * `group.v2.join`, leaving it `group.v2.leave`, adding, removing, promoting, demoting members or
 * approving their requests `group.v2.participants`, the subject, description, a setting or the
 * picture `group.v2.update`.
 */
import {
  CreateGroupRequest,
  DescriptionRequest,
  JoinGroupRequest,
  ParticipantsRequest,
  ProfilePictureRequest,
  SettingsSecurityChangeInfo,
  SubjectRequest,
  type WEBJSAddParticipantsResult,
  type WEBJSCreateGroupResult,
  type WEBJSGroupChat,
  type WEBJSGroupInviteInfo,
  type WEBJSWid,
} from "../../waha/schemas.ts";
import { type GroupNotify, joined, left, participantsChanged, updated } from "./group_events.ts";
import { json, nestError, textAnswer, validate } from "./http.ts";

export interface FakeGroupMember {
  id: string;
  isAdmin: boolean;
  isSuperAdmin: boolean;
}

export interface FakeGroup {
  id: string;
  subject: string;
  desc: string;
  owner: string;
  creation: number;
  announce: boolean;
  restrict: boolean;
  /** New members need an admin's approval. */
  approval: boolean;
  participants: FakeGroupMember[];
  invite: string;
  picture: string | null;
  /** Who asked to join (the group needs an admin's approval). */
  requests: { id: string; timestamp: number }[];
}

/** A session's groups: those it is in, and those it may join by their invite code. */
export interface FakeGroups {
  /** The groups the account is in, by id. */
  mine: Map<string, FakeGroup>;
  /** Groups the account is not in, by invite code. */
  joinable: Map<string, FakeGroup>;
}

export const SEEDED_GROUP = "120363000000000001@g.us";
export const JOINABLE_GROUP = "120363000000000002@g.us";
export const JOINABLE_CODE = "JOINME";

const wid = (id: string): WEBJSWid => ({
  server: id.split("@")[1] ?? "",
  user: id.split("@")[0],
  _serialized: id,
});

const member = (id: string, role: "member" | "admin" | "superadmin" = "member") => ({
  id,
  isAdmin: role !== "member",
  isSuperAdmin: role === "superadmin",
});

/**
 * A new session's groups: one it administers, with Alice and Bob as members and a pending
 * request, and one to join.
 */
export function seedGroups(me: string): FakeGroups {
  const now = Math.floor(Date.now() / 1000);
  const seeded: FakeGroup = {
    id: SEEDED_GROUP,
    subject: "Seeded group",
    desc: "",
    owner: "15550000009@c.us",
    creation: now - 86_400,
    announce: false,
    restrict: false,
    approval: true,
    participants: [
      member("15550000009@c.us", "superadmin"),
      member(me, "admin"),
      member("15550000001@c.us"),
      member("15550000002@c.us"),
    ],
    invite: "INVITE0",
    picture: null,
    requests: [{ id: "15550000007@c.us", timestamp: now - 60 }],
  };
  const joinable: FakeGroup = {
    id: JOINABLE_GROUP,
    subject: "Group to join",
    desc: "Joined by its link",
    owner: "15550000008@c.us",
    creation: now - 3_600,
    announce: false,
    restrict: true,
    approval: false,
    participants: [member("15550000008@c.us", "superadmin"), member("15550000001@c.us")],
    invite: JOINABLE_CODE,
    picture: null,
    requests: [],
  };
  return { mine: new Map([[seeded.id, seeded]]), joinable: new Map([[JOINABLE_CODE, joinable]]) };
}

/**
 * WAHA's answer to joining a group the account is in: WhatsApp refuses it (`conflict`, 409), and
 * WAHA, which maps no engine error, answers 500 with the error serialized.
 */
const alreadyIn = () =>
  json(500, {
    statusCode: 500,
    timestamp: new Date().toISOString(),
    exception: { message: "conflict", name: "ServerStatusCodeError", status: 409 },
  });

/** whatsapp-web.js's `GroupChat` of a group, as WAHA's WEBJS engine answers it. */
function asGroupChat(group: FakeGroup): WEBJSGroupChat {
  return {
    id: wid(group.id),
    name: group.subject,
    isGroup: true,
    unreadCount: 0,
    archived: false,
    pinned: false,
    isMuted: false,
    groupMetadata: {
      id: wid(group.id),
      subject: group.subject,
      desc: group.desc,
      owner: wid(group.owner),
      creation: group.creation,
      restrict: group.restrict,
      announce: group.announce,
      memberAddMode: "all_member_add",
      membershipApprovalMode: group.approval,
      participants: group.participants.map((p) => ({ ...p, id: wid(p.id) })),
    },
  };
}

/** A number the fake says is not on WhatsApp (as the simulator says of it). */
export const NOT_ON_WHATSAPP = "15559999999@c.us";
/** A contact whose privacy settings refuse being added to groups (as the simulator's Dave). */
export const NO_GROUP_ADDS = "15550000004@c.us";
/** The message for an add of someone not on WhatsApp (404). */
export const NOT_ON_WHATSAPP_REFUSAL = "The participant is not on WhatsApp";
/** whatsapp-web.js's message for an add WhatsApp refused for the contact's privacy (403). */
export const PRIVATE_INVITE_ONLY =
  "The participant can be added by sending private invitation only";

/** Whether `id` is on WhatsApp: numbers `1555…`, but one. */
export const onWhatsApp = (id: string) => /^1555\d+@c\.us$/.test(id) && id !== NOT_ON_WHATSAPP;

/** WhatsApp's code for adding `id` to a group: 200, or 404 (not on WhatsApp), 403 (privacy). */
const addCode = (id: string) => !onWhatsApp(id) ? 404 : id === NO_GROUP_ADDS ? 403 : 200;

/** whatsapp-web.js's message for an add's code. */
const addMessage = (code: number) =>
  code === 200
    ? ""
    : code === 403
    ? PRIVATE_INVITE_ONLY
    : code === 404
    ? NOT_ON_WHATSAPP_REFUSAL
    : `Could not add the participant (${code})`;

export interface GroupsRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /**
   * The groups of the (WORKING) session the path names, and how to post its events; refuses as
   * WAHA does otherwise.
   */
  groupsOf(session: string): { groups: FakeGroups; me: string; notify: GroupNotify };
  /** A fresh number, for ids and picture URLs. */
  next(): number;
}

/** Answers a groups call, or null for a path that is not one. */
export function routeGroups(request: GroupsRequest): Response | null {
  const { method, path, query, body } = request;
  const m = path.match(/^\/api\/([^/]+)\/groups(?:\/([^/]+)(\/.*)?)?$/);
  if (!m) return null;
  const { groups, me, notify } = request.groupsOf(m[1]);
  const target = m[2] === undefined ? "" : decodeURIComponent(m[2]);
  const action = `${method} ${m[3] ?? ""}`;

  if (target === "" && method === "POST") {
    const input = validate(CreateGroupRequest, body);
    // Apart from the seeded groups (`120363000…`).
    const id = `120363100000${String(request.next()).padStart(6, "0")}@g.us`;
    const results: WEBJSCreateGroupResult["participants"] = {
      [me]: { statusCode: 200, message: "", isGroupCreator: true, isInviteV4Sent: false },
    };
    const participants = [member(me, "superadmin")];
    for (const { id: who } of input.participants) {
      const code = addCode(who);
      results[who] = {
        statusCode: code,
        message: addMessage(code),
        isGroupCreator: false,
        isInviteV4Sent: false,
      };
      if (code === 200) participants.push(member(who));
    }
    const group: FakeGroup = {
      id,
      subject: input.name,
      desc: "",
      owner: me,
      creation: Math.floor(Date.now() / 1000),
      announce: false,
      restrict: false,
      approval: false,
      participants,
      invite: `INVITE${request.next()}`,
      picture: null,
      requests: [],
    };
    groups.mine.set(id, group);
    joined(notify, group, me, { type: "create", author: me });
    const created: WEBJSCreateGroupResult = {
      title: input.name,
      gid: wid(id),
      participants: results,
    };
    return json(201, created);
  }
  if (target === "join" && method === "POST") {
    const code = validate(JoinGroupRequest, body).code.split("/").pop()!;
    if ([...groups.mine.values()].some((g) => g.invite === code)) return alreadyIn();
    const group = groups.joinable.get(code);
    if (!group) return nestError(404, "Not Found", "Invite code not found");
    groups.joinable.delete(code);
    group.participants.push(member(me));
    groups.mine.set(group.id, group);
    joined(notify, group, me, { type: "invite", author: me });
    return json(200, { id: group.id });
  }
  if (target === "join-info" && method === "GET") {
    const code = validate(JoinGroupRequest, query).code.split("/").pop()!;
    const group = groups.joinable.get(code) ??
      [...groups.mine.values()].find((g) => g.invite === code);
    if (!group) return nestError(404, "Not Found", "Invite code not found");
    const info: WEBJSGroupInviteInfo = {
      id: wid(group.id),
      subject: group.subject,
      desc: group.desc,
      owner: wid(group.owner),
      creation: group.creation,
      size: group.participants.length,
      membershipApprovalMode: group.approval,
    };
    return json(200, info);
  }

  const group = groups.mine.get(target);
  if (!group) return nestError(404, "Not Found", "Group not found");
  const self = group.participants.find((p) => p.id === me);
  const admin = self?.isAdmin === true;
  const find = (id: string) => group.participants.find((p) => p.id === id);
  const participantsOf = () => validate(ParticipantsRequest, body).participants.map((p) => p.id);
  switch (action) {
    case "GET ":
      return json(200, asGroupChat(group));
    case "POST /leave":
      groups.mine.delete(group.id);
      left(notify, group, me);
      return json(201, undefined);
    case "GET /invite-code":
      return textAnswer(200, group.invite);
    case "POST /invite-code/revoke":
      group.invite = `INVITE${request.next()}`;
      return textAnswer(201, group.invite);
    case "PUT /subject": {
      const { subject } = validate(SubjectRequest, body);
      if (admin || !group.restrict) {
        group.subject = subject;
        updated(notify, group, me, "subject", me);
      }
      return json(200, admin || !group.restrict);
    }
    case "PUT /description": {
      const { description } = validate(DescriptionRequest, body);
      if (admin || !group.restrict) {
        group.desc = description;
        updated(notify, group, me, "description", me);
      }
      return json(200, admin || !group.restrict);
    }
    case "PUT /settings/security/messages-admin-only":
    case "PUT /settings/security/info-admin-only": {
      const adminsOnly = validate(SettingsSecurityChangeInfo, body).adminsOnly ?? true;
      if (admin) {
        const announce = action.endsWith("messages-admin-only");
        if (announce) group.announce = adminsOnly;
        else group.restrict = adminsOnly;
        updated(notify, group, me, announce ? "announce" : "restrict", me);
      }
      return json(200, admin);
    }
    case "POST /participants/add": {
      const results: WEBJSAddParticipantsResult = {};
      for (const id of participantsOf()) {
        const code = !admin ? 403 : find(id) ? 409 : addCode(id);
        if (code === 200) group.participants.push(member(id));
        results[id] = { code, message: addMessage(code), isInviteV4Sent: false };
      }
      const added = Object.keys(results).filter((id) => results[id].code === 200);
      participantsChanged(notify, group, "join", added, me);
      return json(200, results);
    }
    case "POST /participants/remove": {
      // Nobody removes the group's creator, and the account leaves rather than removes itself.
      const ids = participantsOf().filter((id) =>
        id !== me && find(id) !== undefined && !find(id)!.isSuperAdmin
      );
      if (admin) {
        group.participants = group.participants.filter((p) => !ids.includes(p.id));
        participantsChanged(notify, group, "leave", ids, me);
      }
      return json(200, { status: 200 });
    }
    case "POST /admin/promote":
    case "POST /admin/demote": {
      const promote = action.endsWith("promote");
      const changed: string[] = [];
      for (const id of participantsOf()) {
        const target = find(id);
        if (admin && target && !target.isSuperAdmin && target.isAdmin !== promote) {
          target.isAdmin = promote;
          changed.push(id);
        }
      }
      participantsChanged(notify, group, promote ? "promote" : "demote", changed, me);
      return json(200, { status: 200 });
    }
    case "GET /picture":
      return json(200, { url: group.picture });
    case "PUT /picture":
    case "DELETE /picture": {
      if (method === "PUT") validate(ProfilePictureRequest, body);
      // WhatsApp has no picture to delete where there is none.
      if (method === "DELETE" && group.picture === null) return json(200, { success: false });
      if (admin || !group.restrict) {
        group.picture = method === "PUT"
          ? `https://pps.whatsapp.net/fake/${group.id}/${request.next()}.jpg`
          : null;
        updated(notify, group, me, "picture", me);
      }
      return json(200, { success: admin || !group.restrict });
    }
    case "GET /participants/join-requests":
      return json(
        200,
        group.requests.map((r) => ({
          requesterId: r.id,
          addedById: r.id,
          parentGroupId: null,
          requestMethod: "invite_link",
          timestamp: r.timestamp,
        })),
      );
    case "POST /participants/join-requests/approve":
    case "POST /participants/join-requests/reject": {
      const approve = action.endsWith("approve");
      const results = participantsOf().map((id) => {
        const pending = group.requests.some((r) => r.id === id);
        if (!pending) return { requesterId: id, success: false, error: 404 };
        if (!admin) return { requesterId: id, success: false, error: 403 };
        group.requests = group.requests.filter((r) => r.id !== id);
        if (approve) group.participants.push(member(id));
        return { requesterId: id, success: true };
      });
      const approved = approve ? results.filter((r) => r.success).map((r) => r.requesterId) : [];
      participantsChanged(notify, group, "join", approved, me);
      return json(200, results);
    }
  }
  return nestError(404, "Not Found", `Cannot ${method} ${path}`);
}
