/**
 * @module
 * The wwebjs engine's group administration through whatsapp-web.js's public API:
 * `GroupChat.getInviteCode/revokeInvite/promoteParticipants/demoteParticipants/setPicture/
 * deletePicture`, `Client.getInviteInfo/acceptInvite/getProfilePicUrl` and the membership request
 * calls. The library answers "no" in several shapes (an invite code of `undefined`, `false` for a
 * picture, `{ status: 200 }` for a promotion WhatsApp refused), so each outcome is checked against
 * the group as WhatsApp Web holds it afterwards and a refusal is answered as one.
 */
import { adminResults } from "../admin_results.ts";
import { wwebjs } from "./lib.ts";
import {
  type AdminResult,
  EngineError,
  type GroupAdminCapabilities,
  type GroupInvitePreview,
  type MembershipRequestDto,
  type MembershipRequestResult,
  type MembershipRequestsChange,
  notFound,
  type ParticipantsChange,
} from "../../engine.ts";
import { type Lib, serialized, toGroupDto } from "./mappers.ts";
import { findGroup, TimeoutError, type WwebjsContext } from "./context.ts";

const { MessageMedia } = wwebjs;

function refuse(message: string): EngineError {
  return new EngineError("BAD_REQUEST", message);
}

/** A failure of WhatsApp's (not a timeout of ours): answered as `failure`. */
function refusal(error: unknown, failure: EngineError): EngineError | unknown {
  return error instanceof TimeoutError || error instanceof EngineError ? error : failure;
}

/** WAHA's name of how a request was made (WhatsApp Web says `InviteLink`, `NonAdminAdd`, …). */
export function requestMethodOf(method: unknown): string | null {
  if (typeof method !== "string" || !method) return null;
  return method.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

export function groupAdminCapabilities(ctx: WwebjsContext): GroupAdminCapabilities {
  async function getGroupInviteCode(groupId: string): Promise<string> {
    const group = await findGroup(ctx, groupId);
    // whatsapp-web.js answers undefined when WhatsApp refuses (not an admin).
    const code = await ctx.call(() => group.getInviteCode());
    if (typeof code !== "string" || !code) {
      throw refuse(`Only admins of group "${groupId}" can see its invite link`);
    }
    return code;
  }

  async function revokeGroupInviteCode(groupId: string): Promise<string> {
    const group = await findGroup(ctx, groupId);
    let code: unknown;
    try {
      code = await ctx.call(() => group.revokeInvite());
    } catch (error) {
      throw refusal(error, refuse(`Only admins of group "${groupId}" can reset its invite link`));
    }
    if (typeof code !== "string" || !code) {
      throw refuse(`Only admins of group "${groupId}" can reset its invite link`);
    }
    return code;
  }

  /** WhatsApp's preview of the group behind a code, or 404 for a code that leads nowhere. */
  async function preview(code: string): Promise<Lib> {
    ctx.ready();
    let info: Lib;
    try {
      info = await ctx.call(() => ctx.client.getInviteInfo(code));
    } catch (error) {
      throw refusal(error, notFound("The invite link is invalid or was revoked"));
    }
    if (!info?.id) throw notFound("The invite link is invalid or was revoked");
    return info;
  }

  async function getGroupInviteInfo(code: string): Promise<GroupInvitePreview> {
    const info = await preview(code);
    const participants = Array.isArray(info.participants) ? info.participants : [];
    return {
      id: serialized(info.id),
      subject: String(info.subject ?? ""),
      description: String(info.desc ?? ""),
      owner: info.owner ? serialized(info.owner) : null,
      createdAt: Number(info.creation) || null,
      size: Number(info.size ?? participants.length),
      membershipApproval: Boolean(info.membershipApprovalMode),
    };
  }

  async function joinGroup(code: string): Promise<{ id: string }> {
    // As WhatsApp Web does with a link: the group is looked at first, then joined.
    const groupId = serialized((await preview(code)).id);
    const mine = await ctx.call(() => ctx.client.getChatById(groupId)).catch(() => null);
    if (mine?.isGroup && toGroupDto(mine).participants.some((p) => ctx.isMe(p.id))) {
      throw refuse(`Already a member of group "${groupId}"`);
    }
    let id: unknown;
    try {
      id = await ctx.call(() => ctx.client.acceptInvite(code));
    } catch (error) {
      throw refusal(error, refuse(`WhatsApp did not let this account join group "${groupId}"`));
    }
    return { id: typeof id === "string" && id ? id : groupId };
  }

  /**
   * whatsapp-web.js answers `{ status: 200 }` whatever WhatsApp said: who is an admin afterwards
   * tells what happened to each participant.
   */
  async function setAdmins(
    { groupId, participants }: ParticipantsChange,
    admin: boolean,
  ): Promise<AdminResult[]> {
    const roles = async () => {
      const members = toGroupDto(await findGroup(ctx, groupId)).participants;
      await ctx.lids.resolve([...members.map((m) => m.id), ...participants]);
      return (id: string) => members.find((m) => ctx.lids.same(m.id, id));
    };
    const before = await roles();
    const present = participants.filter((id) => before(id));
    const iAmAdmin = toGroupDto(await findGroup(ctx, groupId)).participants.some((p) =>
      ctx.isMe(p.id) && p.isAdmin
    );
    if (present.length) {
      const group = await findGroup(ctx, groupId);
      try {
        await ctx.call(() =>
          admin ? group.promoteParticipants(present) : group.demoteParticipants(present)
        );
      } catch (error) {
        // WhatsApp refused (not an admin): the roles stay, and the results say so.
        if (error instanceof TimeoutError) throw error;
      }
    }
    const after = await roles();
    return adminResults(participants, { before, after }, admin, iAmAdmin);
  }

  async function getGroupPicture(groupId: string): Promise<string | null> {
    await findGroup(ctx, groupId);
    const url = await ctx.call(() => ctx.client.getProfilePicUrl(groupId));
    return typeof url === "string" && url ? url : null;
  }

  async function setGroupPicture(
    { groupId, media }: {
      groupId: string;
      media: { mimetype: string; data: string; filename: string };
    },
  ): Promise<void> {
    if (!media.mimetype.startsWith("image/")) throw refuse("A group picture must be an image");
    const group = await findGroup(ctx, groupId);
    const picture = new MessageMedia(media.mimetype, media.data, media.filename);
    const ok = await ctx.call(() => group.setPicture(picture));
    if (ok !== true) {
      throw refuse(`WhatsApp did not let this account change the picture of group "${groupId}"`);
    }
  }

  async function deleteGroupPicture(groupId: string): Promise<void> {
    const group = await findGroup(ctx, groupId);
    let ok: unknown;
    try {
      ok = await ctx.call(() => group.deletePicture());
    } catch (error) {
      throw refusal(error, refuse(`Group "${groupId}" has no picture to remove`));
    }
    // Undefined: there is no picture, or the account may not remove it.
    if (ok !== true) {
      throw refuse(`Group "${groupId}" has no picture this account may remove`);
    }
  }

  async function listMembershipRequests(groupId: string): Promise<MembershipRequestDto[]> {
    await findGroup(ctx, groupId);
    let requests: Lib[];
    try {
      requests = await ctx.call(() => ctx.client.getGroupMembershipRequests(groupId));
    } catch (error) {
      throw refusal(error, refuse(`Only admins of group "${groupId}" can see requests to join`));
    }
    return (requests ?? []).map((r) => ({
      id: serialized(r.id),
      addedBy: r.addedBy ? serialized(r.addedBy) : null,
      requestMethod: requestMethodOf(r.requestMethod),
      timestamp: Number(r.t) || 0,
    }));
  }

  async function answerRequests(
    { groupId, participants }: MembershipRequestsChange,
    approve: boolean,
  ): Promise<MembershipRequestResult[]> {
    const group = await findGroup(ctx, groupId);
    const pending = (await listMembershipRequests(groupId)).map((r) => r.id);
    const asked = participants ?? pending;
    const known = asked.filter((id) => pending.includes(id));
    const options = { requesterIds: known, sleep: null };
    const results: Lib[] = known.length
      ? await ctx.call(() =>
        approve
          ? group.approveGroupMembershipRequests(options)
          : group.rejectGroupMembershipRequests(options)
      )
      : [];
    return asked.map((id): MembershipRequestResult => {
      if (!pending.includes(id)) {
        return { id, success: false, error: 404, message: "No pending request to join from them" };
      }
      const r = (results ?? []).find((x) => serialized(x?.requesterId) === id);
      if (!r || r.error) {
        const message = String(r?.message ?? "WhatsApp did not answer");
        return { id, success: false, error: Number(r?.error) || 500, message };
      }
      return { id, success: true };
    });
  }

  return {
    getGroupInviteCode,
    revokeGroupInviteCode,
    joinGroup,
    getGroupInviteInfo,
    promoteParticipants: (change) => setAdmins(change, true),
    demoteParticipants: (change) => setAdmins(change, false),
    getGroupPicture,
    setGroupPicture,
    deleteGroupPicture,
    listMembershipRequests,
    approveMembershipRequests: (change) => answerRequests(change, true),
    rejectMembershipRequests: (change) => answerRequests(change, false),
  };
}
