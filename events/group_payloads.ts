/**
 * @module
 * WAHA's payloads of the current group events (`group.v2.join`, `group.v2.participants`,
 * `group.v2.update`), from our group events. WAHA's `GroupInfo` names what a member may do:
 * `membersCanSendMessages` is true when everyone may write (WAHA's WEBJS engine copies
 * WhatsApp's `announce` flag there, the opposite; we give the name's meaning), whether members
 * may add others and whether joining needs an admin's approval, and the members
 * carry WAHA's roles (`participant`, `admin`, `superadmin`; `left` for who left).
 */
import type { GroupDto, GroupEvent, GroupParticipant } from "../sessions/engine.ts";

/** WAHA's role of a member. */
function roleOf(p: GroupParticipant): "superadmin" | "admin" | "participant" {
  return p.isSuperAdmin ? "superadmin" : p.isAdmin ? "admin" : "participant";
}

/** WAHA's `pn` of an id: the phone-number id itself, the one known beside a LID, or null. */
function pnOf(id: string, pn?: string): string | null {
  return id.endsWith("@c.us") ? id : pn ?? null;
}

/** WAHA's `GroupInfo` (without members when `participants` is false). */
export function groupInfo(
  group: GroupDto,
  invite: string | null,
  participants = true,
): Record<string, unknown> {
  return {
    id: group.id,
    subject: group.subject,
    description: group.description,
    invite,
    membersCanAddNewMember: !group.settings.addMembersAdminsOnly,
    membersCanSendMessages: !group.settings.messagesAdminsOnly,
    newMembersApprovalRequired: group.settings.membershipApproval,
    ...(participants
      ? {
        participants: group.participants.map((p) => ({
          id: p.id,
          pn: pnOf(p.id, p.pn),
          role: roleOf(p),
        })),
      }
      : {}),
  };
}

const ROLE_AFTER = { join: "participant", leave: "left", promote: "admin", demote: "participant" };

/** The event's WAHA name and payload. */
export function groupEventPayload(
  data: GroupEvent,
): { event: string; payload: Record<string, unknown> } {
  switch (data.type) {
    case "group.join":
      return {
        event: "group.v2.join",
        payload: {
          timestamp: data.timestamp,
          group: groupInfo(data.group, data.invite),
          _data: null,
        },
      };
    case "group.participants":
      return {
        event: "group.v2.participants",
        payload: {
          group: { id: data.groupId },
          type: data.change,
          timestamp: data.timestamp,
          participants: data.participants.map((id) => ({
            id,
            pn: pnOf(id),
            role: ROLE_AFTER[data.change],
          })),
          _data: null,
        },
      };
    case "group.join_request":
      return {
        event: "group.v2.participants.join-request",
        payload: {
          group: { id: data.groupId },
          action: data.action,
          requesterId: data.requester,
          requesterPn: pnOf(data.requester),
          requestMethod: data.requestMethod,
          timestamp: data.timestamp,
          _data: null,
        },
      };
    case "group.update":
      return {
        event: "group.v2.update",
        payload: {
          group: groupInfo(data.group, null, false),
          timestamp: data.timestamp,
          _data: { change: data.change, author: data.author },
        },
      };
  }
}
