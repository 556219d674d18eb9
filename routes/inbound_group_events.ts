/**
 * @module
 * WAHA's group events as `POST /webhook/message` accepts them (the schemas of `inbound_webhooks.ts`
 * take each payload here in the envelope they share): we joined or were added to a group
 * (`group.v2.join`, the group as WAHA's `GroupInfo`), we left or were removed (`group.v2.leave`),
 * the group's info changed (`group.v2.update`, the part of `GroupInfo` its engine knows), members
 * joined, left, were promoted or demoted (`group.v2.participants`), and a request to join was
 * made, rejected or taken back (`group.v2.participants.join-request`). Transcribed from WAHA's
 * `groups.events.dto.ts` and `groups.dto.ts`; `_data` is whatever WAHA's engine had (whatsapp-web.js's
 * notification, Baileys' update) and is kept as it came, as are fields WAHA may add. Timestamps are
 * Unix seconds on most of WAHA's engines and milliseconds on some, so neither is required.
 */
import { z } from "@hono/zod-openapi";

const optionalText = z.string().nullable().optional();
const timestamp = z.number().nonnegative().openapi({ example: 1666943582 });
const engineData = z.unknown().optional().openapi({
  description: "What WAHA's engine reported, as it reported it",
});

/** WAHA's `GroupId`. */
const GroupIdSchema = z.looseObject({
  id: z.string().min(1).openapi({ example: "123456789@g.us" }),
});

/** WAHA's `GroupParticipant`: `role` is what the member is now (`left` for who left). */
const GroupParticipantSchema = z.looseObject({
  id: z.string().min(1),
  pn: optionalText.openapi({ description: "The member's phone-number id, when known" }),
  role: z.enum(["left", "participant", "admin", "superadmin"]),
});

/** WAHA's `GroupInfo`. */
const GroupInfoSchema = z.looseObject({
  id: z.string().min(1),
  subject: z.string(),
  description: optionalText,
  invite: optionalText,
  membersCanAddNewMember: z.boolean().optional(),
  membersCanSendMessages: z.boolean().optional(),
  newMembersApprovalRequired: z.boolean().optional(),
  participants: z.array(GroupParticipantSchema),
});

/** WAHA's `GroupV2JoinEvent`. */
const JoinPayloadSchema = z.looseObject({
  timestamp,
  group: GroupInfoSchema,
  _data: engineData,
});

/** WAHA's `GroupV2LeaveEvent`. */
const LeavePayloadSchema = z.looseObject({
  timestamp,
  group: GroupIdSchema,
  _data: engineData,
});

/** WAHA's `GroupV2UpdateEvent`: the group's id and what its engine knows of the rest. */
const UpdatePayloadSchema = z.looseObject({
  timestamp,
  group: GroupInfoSchema.partial().extend({ id: z.string().min(1) }),
  _data: engineData,
});

/** WAHA's `GroupV2ParticipantsEvent`. */
const ParticipantsPayloadSchema = z.looseObject({
  group: GroupIdSchema,
  type: z.enum(["join", "leave", "promote", "demote"]),
  timestamp,
  participants: z.array(GroupParticipantSchema),
  _data: engineData,
});

/** WAHA's `GroupV2ParticipantsJoinRequestEvent`. */
const JoinRequestPayloadSchema = z.looseObject({
  group: GroupIdSchema,
  action: z.enum(["created", "rejected", "revoked"]),
  requesterId: z.string().min(1),
  requesterPn: optionalText,
  requestMethod: optionalText.openapi({ example: "invite_link" }),
  timestamp,
  _data: engineData,
});

/** Each group event's name and the schema of its payload. */
export const GROUP_EVENT_PAYLOADS = [
  ["group.v2.join", JoinPayloadSchema],
  ["group.v2.leave", LeavePayloadSchema],
  ["group.v2.update", UpdatePayloadSchema],
  ["group.v2.participants", ParticipantsPayloadSchema],
  ["group.v2.participants.join-request", JoinRequestPayloadSchema],
] as const;
