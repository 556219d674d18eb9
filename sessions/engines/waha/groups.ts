/**
 * @module
 * The waha engine's groups: create, read and change a group (subject, description, the two
 * security settings), add, remove, promote and demote participants, join by an invite code and
 * preview one, the group's picture, and the requests to join it, each over WAHA's
 * `/api/{session}/groups…` calls. WAHA answers with what its engine made (whatsapp-web.js's
 * `GroupChat`, or NOWEB's group metadata), so the group is read in either shape; what became of
 * each participant is told by WAHA's per-participant codes where it gives them, else by the group
 * as it is before and after the change.
 */
import {
  type AdminResult,
  type Engine,
  EngineError,
  type GroupCreated,
  type GroupDto,
  type GroupInvitePreview,
  type GroupParticipant,
  type MembershipRequestDto,
  type MembershipRequestResult,
  notFound,
  type ParticipantOutcome,
  type ParticipantResult,
  type ParticipantsChange,
} from "../../engine.ts";
import type {
  CreateGroupRequest,
  DescriptionRequest,
  GroupJoinRequest,
  GroupJoinRequestResult,
  JoinGroupRequest,
  JoinGroupResponse,
  ParticipantsRequest,
  ProfilePictureRequest,
  Result,
  SettingsSecurityChangeInfo,
  SubjectRequest,
} from "../../../waha/schemas.ts";
import { adminResults } from "../admin_results.ts";
import { segment, type WahaContext } from "./context.ts";
import { idOf, seconds } from "./mappers.ts";

type Loose = Record<string, unknown>;

export type WahaGroupCapabilities = Pick<
  Engine,
  | "createGroup"
  | "getGroup"
  | "updateGroup"
  | "addParticipants"
  | "removeParticipants"
  | "promoteParticipants"
  | "demoteParticipants"
  | "joinGroup"
  | "getGroupInviteInfo"
  | "getGroupPicture"
  | "setGroupPicture"
  | "deleteGroupPicture"
  | "listMembershipRequests"
  | "approveMembershipRequests"
  | "rejectMembershipRequests"
>;

const text = (value: unknown) => typeof value === "string" ? value : "";

/** One member as WAHA's engine lists it: whatsapp-web.js's flags, or NOWEB's `admin` role. */
function toParticipant(raw: unknown): GroupParticipant {
  const member = (raw ?? {}) as Loose;
  const superAdmin = member.isSuperAdmin === true || member.admin === "superadmin";
  return {
    id: idOf(member.id),
    isAdmin: superAdmin || member.isAdmin === true || member.admin === "admin",
    isSuperAdmin: superAdmin,
  };
}

/** WAHA's group: whatsapp-web.js's `GroupChat` (with `groupMetadata`) or NOWEB's metadata. */
export function toGroupDto(raw: unknown): GroupDto {
  const chat = (raw ?? {}) as Loose;
  const meta = (chat.groupMetadata ?? chat) as Loose;
  const owner = idOf(meta.owner);
  return {
    id: idOf(chat.id) || idOf(meta.id),
    subject: text(chat.name) || text(meta.subject),
    description: text(meta.desc),
    owner: owner || null,
    createdAt: seconds(meta.creation),
    participants: (Array.isArray(meta.participants) ? meta.participants : []).map(toParticipant),
    settings: {
      messagesAdminsOnly: meta.announce === true,
      infoAdminsOnly: meta.restrict === true,
      // whatsapp-web.js names the mode; NOWEB says whether every member may add.
      addMembersAdminsOnly: meta.memberAddMode === "admin_add" || meta.memberAddMode === false,
      membershipApproval: meta.membershipApprovalMode === true || meta.joinApprovalMode === true,
    },
  };
}

/** WhatsApp's code for one participant of an add (whatsapp-web.js's), as our outcome. */
function outcomeOf(code: number): ParticipantOutcome {
  if (code === 200) return "added";
  if (code === 409) return "already_in";
  if (code === 404) return "not_on_whatsapp";
  return "not_allowed";
}

/** The per-participant codes of WAHA's answer (whatsapp-web.js's `{ [id]: { code } }`). */
function codesOf(answer: unknown): Map<string, { code: number; message?: string }> {
  const codes = new Map<string, { code: number; message?: string }>();
  if (!answer || typeof answer !== "object" || Array.isArray(answer)) return codes;
  for (const [id, value] of Object.entries(answer as Loose)) {
    const entry = (value ?? {}) as Loose;
    const code = typeof entry.code === "number" ? entry.code : entry.statusCode;
    if (typeof code !== "number") continue;
    codes.set(id, {
      code,
      ...(typeof entry.message === "string" ? { message: entry.message } : {}),
    });
  }
  return codes;
}

const asParticipants = (ids: string[]): ParticipantsRequest => ({
  participants: ids.map((id) => ({ id })),
});

export function createWahaGroups(ctx: WahaContext): WahaGroupCapabilities {
  const { client, path } = ctx;
  const groupPath = (groupId: string, suffix = "") => path(`/groups/${segment(groupId)}${suffix}`);

  async function getGroup(groupId: string): Promise<GroupDto> {
    const answer = await client.call<unknown>({ method: "GET", path: groupPath(groupId) })
      .catch((error) => {
        // WAHA's 404 says nothing of which group: ours names it, as the other engines do.
        if (error instanceof EngineError && error.kind === "NOT_FOUND") {
          throw notFound(`Group "${groupId}" not found`);
        }
        throw error;
      });
    const group = toGroupDto(answer);
    if (!group.id) throw notFound(`Group "${groupId}" not found`);
    return group;
  }

  const memberOf = (group: GroupDto, id: string) => group.participants.find((p) => p.id === id);

  /** What an invite code leads to (WAHA's join-info). */
  async function preview(code: string): Promise<GroupInvitePreview> {
    const info = await client.call<Loose | null>({
      method: "GET",
      path: path("/groups/join-info"),
      query: { code },
    });
    const id = idOf(info?.id);
    if (!info || !id) throw notFound("The invite link is invalid or was revoked");
    const members = Array.isArray(info.participants) ? info.participants : [];
    return {
      id,
      subject: text(info.subject),
      description: text(info.desc),
      owner: idOf(info.owner) || null,
      createdAt: seconds(info.creation),
      size: typeof info.size === "number" ? info.size : members.length,
      membershipApproval: info.membershipApprovalMode === true,
    };
  }

  /** A change WAHA answers `true` or `false` (whatsapp-web.js's), refused when false. */
  async function change(groupId: string, what: string, suffix: string, body: object) {
    const done = await client.call<unknown>({
      method: "PUT",
      path: groupPath(groupId, suffix),
      body,
    });
    if (done === false || done === "false") {
      throw new EngineError("BAD_REQUEST", `Cannot change the group's ${what}`);
    }
  }

  /** Add or remove: WAHA's codes where it gives them, else the group before and after. */
  async function participantsChange(
    { groupId, participants }: ParticipantsChange,
    action: "add" | "remove",
  ): Promise<ParticipantResult[]> {
    const before = await getGroup(groupId);
    // Each once: a participant named again is answered as the first time left them.
    const once = [...new Set(participants)];
    const asked = action === "add" ? once : once.filter((id) => memberOf(before, id));
    const answer = asked.length
      ? await client.call<unknown>({
        method: "POST",
        path: groupPath(groupId, `/participants/${action}`),
        body: asParticipants(asked),
      })
      : null;
    const codes = codesOf(answer);
    const after = asked.length ? await getGroup(groupId) : before;
    const resultOf = (id: string): ParticipantResult => {
      const coded = codes.get(id);
      if (action === "add" && coded) {
        const result = outcomeOf(coded.code);
        return result === "added" || !coded.message ? { id, result } : {
          id,
          result,
          message: coded.message,
        };
      }
      const was = memberOf(before, id);
      const is = memberOf(after, id);
      if (action === "add") {
        return was ? { id, result: "already_in" } : is ? { id, result: "added" } : {
          id,
          result: "not_allowed",
          message: "WhatsApp did not add them",
        };
      }
      return !was ? { id, result: "not_in_group" } : !is ? { id, result: "removed" } : {
        id,
        result: "not_allowed",
        message: "WhatsApp did not remove them",
      };
    };
    const first = new Map<string, ParticipantResult>();
    return participants.map((id) => {
      const earlier = first.get(id);
      if (earlier?.result === "added") return { id, result: "already_in" };
      if (earlier?.result === "removed") return { id, result: "not_in_group" };
      if (earlier) return earlier;
      const result = resultOf(id);
      first.set(id, result);
      return result;
    });
  }

  /** Promote or demote: WAHA answers a status whatever WhatsApp did; the roles after tell. */
  async function setAdmins(
    { groupId, participants }: ParticipantsChange,
    admin: boolean,
  ): Promise<AdminResult[]> {
    const before = await getGroup(groupId);
    const present = participants.filter((id) => memberOf(before, id));
    if (present.length) {
      await client.call({
        method: "POST",
        path: groupPath(groupId, admin ? "/admin/promote" : "/admin/demote"),
        body: asParticipants(present),
      });
    }
    const after = present.length ? await getGroup(groupId) : before;
    const iAmAdmin = memberOf(before, ctx.me)?.isAdmin === true;
    return adminResults(
      participants,
      {
        before: (id) => memberOf(before, id),
        after: (id) => memberOf(after, id),
      },
      admin,
      iAmAdmin,
    );
  }

  async function picture(groupId: string, body?: ProfilePictureRequest): Promise<void> {
    const answer = await client.call<Result | null>({
      method: body ? "PUT" : "DELETE",
      path: groupPath(groupId, "/picture"),
      ...(body ? { body } : {}),
    });
    if (answer?.success === false) {
      throw new EngineError(
        "BAD_REQUEST",
        `WhatsApp did not let this account change the picture of group "${groupId}"`,
      );
    }
  }

  async function joinRequests(
    { groupId, participants }: { groupId: string; participants?: string[] },
    action: "approve" | "reject",
  ): Promise<MembershipRequestResult[]> {
    // WAHA's call names whom; ours may leave them out for every pending request.
    const whom = participants ?? (await listMembershipRequests(groupId)).map((r) => r.id);
    if (!whom.length) return [];
    const answer = await client.call<GroupJoinRequestResult[] | null>({
      method: "POST",
      path: groupPath(groupId, `/participants/join-requests/${action}`),
      body: asParticipants(whom),
    });
    return (answer ?? []).map((r) => ({
      id: r.requesterId,
      success: r.success,
      ...(typeof r.error === "number" ? { error: r.error } : {}),
      ...(r.message ? { message: r.message } : {}),
    }));
  }

  async function listMembershipRequests(groupId: string): Promise<MembershipRequestDto[]> {
    const list = await client.call<GroupJoinRequest[] | null>({
      method: "GET",
      path: groupPath(groupId, "/participants/join-requests"),
    });
    return (list ?? []).map((r) => ({
      id: r.requesterId,
      addedBy: r.addedById ?? null,
      requestMethod: r.requestMethod ?? null,
      timestamp: seconds(r.timestamp) ?? 0,
    }));
  }

  return {
    getGroup,

    async createGroup({ name, participants }): Promise<GroupCreated> {
      const body: CreateGroupRequest = { name, ...asParticipants(participants) };
      const created = await client.call<Loose | null>({
        method: "POST",
        path: path("/groups"),
        body,
      });
      const groupId = idOf(created?.gid) || idOf(created?.id);
      if (!groupId) throw new Error("The WAHA server's answer to a new group has no group id");
      const group = await getGroup(groupId);
      const codes = codesOf(created?.participants);
      const results = participants.map((id): ParticipantResult => {
        const coded = codes.get(id);
        if (coded) {
          const result = outcomeOf(coded.code);
          return result === "added" || !coded.message ? { id, result } : {
            id,
            result,
            message: coded.message,
          };
        }
        return memberOf(group, id) ? { id, result: "added" } : { id, result: "not_allowed" };
      });
      return { ...group, results };
    },

    async updateGroup({ groupId, ...update }) {
      if (update.subject !== undefined) {
        const body: SubjectRequest = { subject: update.subject };
        await change(groupId, "subject", "/subject", body);
      }
      if (update.description !== undefined) {
        const body: DescriptionRequest = { description: update.description };
        await change(groupId, "description", "/description", body);
      }
      if (update.messagesAdminsOnly !== undefined) {
        const body: SettingsSecurityChangeInfo = { adminsOnly: update.messagesAdminsOnly };
        await change(
          groupId,
          "messagesAdminsOnly",
          "/settings/security/messages-admin-only",
          body,
        );
      }
      if (update.infoAdminsOnly !== undefined) {
        const body: SettingsSecurityChangeInfo = { adminsOnly: update.infoAdminsOnly };
        await change(groupId, "infoAdminsOnly", "/settings/security/info-admin-only", body);
      }
      return await getGroup(groupId);
    },

    addParticipants: (change) => participantsChange(change, "add"),
    removeParticipants: (change) => participantsChange(change, "remove"),
    promoteParticipants: (change) => setAdmins(change, true),
    demoteParticipants: (change) => setAdmins(change, false),

    async joinGroup(code) {
      // As WhatsApp Web does with a link, the group is looked at first: for a group the account is
      // in, WAHA would pass WhatsApp's refusal (`conflict`) on as a 500.
      const { id: groupId } = await preview(code);
      const group = await getGroup(groupId).catch(() => null);
      if (group?.participants.some((p) => p.id === ctx.me)) {
        throw new EngineError("BAD_REQUEST", `Already a member of group "${groupId}"`);
      }
      const body: JoinGroupRequest = { code };
      const joined = await client.call<JoinGroupResponse | null>({
        method: "POST",
        path: path("/groups/join"),
        body,
      });
      const id = idOf(joined?.id);
      if (!id) throw new Error("The WAHA server's answer to a join has no group id");
      return { id };
    },

    getGroupInviteInfo: preview,

    async getGroupPicture(groupId) {
      const answer = await client.call<{ url?: string | null } | null>({
        method: "GET",
        path: groupPath(groupId, "/picture"),
      });
      return answer?.url || null;
    },

    setGroupPicture({ groupId, media }) {
      if (!media.mimetype.startsWith("image/")) {
        return Promise.reject(new EngineError("BAD_REQUEST", "A group picture must be an image"));
      }
      return picture(groupId, {
        file: { mimetype: media.mimetype, filename: media.filename, data: media.data },
      });
    },

    deleteGroupPicture: (groupId) => picture(groupId),

    listMembershipRequests,
    approveMembershipRequests: (change) => joinRequests(change, "approve"),
    rejectMembershipRequests: (change) => joinRequests(change, "reject"),
  };
}
