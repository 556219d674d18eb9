/**
 * @module
 * The simulator's control API, for testing a bot without a phone: under `/{phoneNumber}/simulator/`
 * a test makes a contact or group member write (text, media from a `data:` URL, a reply), keep
 * writing on its own (`chatter`, a load of incoming messages for one request), react, vote on a
 * poll, receive and read the phone's messages, type, go online or offline, leave a group and call;
 * another member of a group promote or demote, change it, add the phone or join, or a contact ask
 * to join; and makes the phone change its labels, unlink the device or lose its connection. Each
 * effect reaches the engine's events, and so the webhooks and streams, exactly as a real phone's
 * would. Only a session of the simulator engine has it: for any other the routes answer 404. Who
 * may act is who may act on the number: its owner or the admin.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { notFound } from "../errors.ts";
import type { MediaResolver } from "../media/media_input.ts";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionCaller } from "../sessions/ownership.ts";
import type { SimulatorAction } from "../sessions/engine.ts";
import type { SessionManager } from "../sessions/manager.ts";
import {
  checkLabelColor,
  LABEL_FIELDS,
  LabelId,
  labelInput,
  PNG_DATA_URL,
} from "./engine_inputs.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  GroupJid,
  Jid,
  jsonBody,
  jsonResponse,
  MessageId,
  PhoneParams,
  SECURED,
  SentMessageSchema,
  SESSION_CALL_ERRORS,
  SuccessSchema,
} from "./schemas.ts";

const TAG = "Simulator";

const from = Jid.optional().openapi({
  example: "15550000001@c.us",
  description: "Who acts: required in a group (a member); in a person's chat, that person",
});

const SimulatedMessageSchema = z.object({
  chatId: Jid,
  from,
  text: z.string().max(65_536).optional().openapi({
    example: "Hello bot",
    description: "The text, or the caption of the media",
  }),
  mediaUrl: z.string().regex(/^data:/, "expected a data: URL").optional().openapi({
    example: PNG_DATA_URL,
    description: "Media the contact sends, as a data: URL (its type is read from the bytes)",
  }),
  filename: z.string().min(1).max(255).optional().openapi({ example: "photo.png" }),
  replyTo: MessageId.optional().openapi({ description: "The message of the chat this answers" }),
}).refine((m) => (m.text ?? "").length > 0 || m.mediaUrl !== undefined, {
  message: "a message needs a text or a mediaUrl",
}).openapi("SimulatedMessage");

const SimulatedReactionSchema = z.object({
  messageId: MessageId,
  from,
  emoji: z.string().max(32).openapi({
    example: "👍",
    description: "The reaction; an empty string takes it back",
  }),
}).openapi("SimulatedReaction");

const SimulatedPollVoteSchema = z.object({
  pollId: MessageId.openapi({ description: "The poll's message id (from `send-poll`)" }),
  from,
  options: z.array(z.string().min(1).max(100)).max(12).openapi({
    example: ["Pizza"],
    description: "The voter's whole choice now (replacing their last one); empty: taken back",
  }),
}).openapi("SimulatedPollVote");

const SimulatedAckSchema = z.object({
  messageId: MessageId.openapi({ description: "A message the phone sent" }),
  ack: z.enum(["delivered", "read"]).openapi({ example: "read" }),
}).openapi("SimulatedAck");

const SimulatedTypingSchema = z.object({
  chatId: Jid,
  from,
  state: z.enum(["typing", "recording", "paused"]).openapi({ example: "typing" }),
}).openapi("SimulatedTyping");

const SimulatedPresenceSchema = z.object({
  contactId: Jid,
  presence: z.enum(["online", "offline"]).openapi({ example: "online" }),
}).openapi("SimulatedPresence");

const SimulatedLeaveSchema = z.object({
  groupId: GroupJid,
  participant: Jid.optional().openapi({
    description: "The member who leaves; absent: the phone's own account leaves the group",
  }),
}).openapi("SimulatedLeave");

// Group admin (issue 20): what another member of a group does.
const by = Jid.openapi({ example: "15550000001@c.us", description: "The member who acts" });

const SimulatedGroupAdminSchema = z.object({
  groupId: GroupJid,
  by: by.openapi({ description: "An admin of the group, who promotes or demotes" }),
  participant: Jid.optional().openapi({
    description: "Whose role changes; absent: the phone's own account",
  }),
  action: z.enum(["promote", "demote"]).openapi({ example: "promote" }),
}).openapi("SimulatedGroupAdmin");

const SimulatedGroupSettingsSchema = z.object({
  groupId: GroupJid,
  by,
  subject: z.string().trim().min(1).max(100).optional().openapi({ example: "Renamed" }),
  description: z.string().max(2048).optional(),
  messagesAdminsOnly: z.boolean().optional(),
  infoAdminsOnly: z.boolean().optional(),
}).refine((s) =>
  [s.subject, s.description, s.messagesAdminsOnly, s.infoAdminsOnly].some(
    (v) => v !== undefined,
  ), { message: "give at least one of subject, description, messagesAdminsOnly, infoAdminsOnly" })
  .openapi("SimulatedGroupSettings");

const SimulatedGroupJoinSchema = z.object({
  groupId: GroupJid,
  by: Jid.optional().openapi({
    description: "Who adds (an admin); absent: the member joins by the link, or, for the " +
      "phone's account, Alice adds it",
  }),
  participant: Jid.optional().openapi({
    description: "Who joins; absent: the phone's own account is added (the group is made when " +
      "it does not exist)",
  }),
  subject: z.string().trim().min(1).max(100).optional().openapi({
    description: "The subject of a group made for the phone's account",
  }),
}).openapi("SimulatedGroupJoin");

const SimulatedGroupRequestSchema = z.object({
  groupId: GroupJid,
  participant: Jid.openapi({ example: "15550000003@c.us", description: "Who asks to join" }),
}).openapi("SimulatedGroupRequest");

const SimulatedDisconnectSchema = z.object({
  reconnectAfterMs: z.number().int().min(0).max(600_000).openapi({
    example: 1_000,
    description: "When the connection comes back, in ms (the session is AUTHENTICATING meanwhile)",
  }),
}).openapi("SimulatedDisconnect");

const SimulatedCallSchema = z.object({
  from: Jid.openapi({ description: "The contact who calls" }),
  isVideo: z.boolean().default(false).openapi({ description: "A video call (default: voice)" }),
}).openapi("SimulatedCall");

const SimulatedLabelSchema = z.object({
  id: LabelId.optional().openapi({
    description: "The label to edit; absent: the phone creates a new one",
  }),
  ...LABEL_FIELDS,
}).superRefine(checkLabelColor).openapi("SimulatedLabel");

const SimulatedLabelDeleteSchema = z.object({ id: LabelId }).openapi("SimulatedLabelDelete");

const SimulatedChatLabelsSchema = z.object({
  chatId: Jid,
  labelIds: z.array(LabelId).max(100).openapi({
    example: ["1", "2"],
    description: "Every label the chat is to have",
  }),
}).openapi("SimulatedChatLabels");

const SimulatedChatterSchema = z.object({
  chatId: Jid,
  from,
  everyMs: z.number().int().min(10).max(3_600_000).openapi({
    example: 1_000,
    description: "A message every this many ms, the first one `everyMs` from now",
  }),
  durationMs: z.number().int().min(0).max(86_400_000).openapi({
    example: 60_000,
    description: "For this long: `durationMs / everyMs` messages (rounded down); 0 ends the " +
      "chatter under way",
  }),
  text: z.string().min(1).max(1_000).optional().openapi({
    example: "Chatter",
    description: 'How each text starts, followed by "<n> of <count> at <ISO time with ms>"',
  }),
  startAt: z.number().int().positive().optional().openapi({
    example: 1_796_281_318_976,
    description: "The first message at this time (Unix ms) rather than `everyMs` from now, so " +
      "that many numbers' chatters begin together; a time past means now; at most an hour ahead",
  }),
}).refine((body) => body.startAt === undefined || body.startAt <= Date.now() + 3_600_000, {
  message: "startAt is more than an hour ahead",
  path: ["startAt"],
}).openapi("SimulatedChatter");

const errors = errorResponses(...SESSION_CALL_ERRORS);

function controlRoute<T extends z.ZodType>(
  action: string,
  summary: string,
  body: T,
  description: string,
) {
  return createRoute({
    method: "post",
    path: `/{phoneNumber}/simulator/${action}`,
    tags: [TAG],
    summary,
    description: `${description} Simulator sessions only (404 for others).`,
    security: SECURED,
    request: { params: PhoneParams, ...jsonBody(body) },
    responses: { 200: jsonResponse(SuccessSchema, "Done"), ...errors },
  });
}

const messageRoute = createRoute({
  method: "post",
  path: "/{phoneNumber}/simulator/messages",
  tags: [TAG],
  summary: "A contact or group member writes to the phone",
  description: "The message arrives as from a real contact: `message` and `message.any` events, " +
    "the chat's messages, its media. Simulator sessions only (404 for others).",
  security: SECURED,
  request: { params: PhoneParams, ...jsonBody(SimulatedMessageSchema) },
  responses: {
    200: jsonResponse(SentMessageSchema, "The message that arrived"),
    ...errorResponses(...SESSION_CALL_ERRORS, "PAYLOAD_TOO_LARGE"),
  },
});
const reactionRoute = controlRoute(
  "reactions",
  "A contact reacts to a message",
  SimulatedReactionSchema,
  "A `message.reaction` event.",
);
const pollVoteRoute = controlRoute(
  "poll-votes",
  "A contact or group member votes on a poll",
  SimulatedPollVoteSchema,
  "A `poll.vote` event; the poll's votes show it.",
);
const ackRoute = controlRoute(
  "acks",
  "The phone's message is delivered or read",
  SimulatedAckSchema,
  "A `message.ack` event (2 DEVICE, 3 READ); the chat's message shows it.",
);
const typingRoute = controlRoute(
  "typing",
  "A contact starts or stops typing or recording",
  SimulatedTypingSchema,
  "A `presence.update` event.",
);
const presenceRoute = controlRoute(
  "presence",
  "A contact goes online or offline",
  SimulatedPresenceSchema,
  "A `presence.update` event.",
);
const leaveRoute = controlRoute(
  "group-leave",
  "A member, or the phone's account, leaves a group",
  SimulatedLeaveSchema,
  "A `group.v2.participants` event (a member left) or `group.v2.leave` (the account did); the " +
    "group's participants show it.",
);
const callRoute = controlRoute(
  "calls",
  "A contact calls the phone",
  SimulatedCallSchema,
  "A `call.received` event (its `id` and `from` reject it); with CALLS_AUTO_REJECT the call is " +
    "rejected at once (`call.rejected`) and the caller sent CALLS_AUTO_REJECT_MESSAGE.",
);
const labelRoute = controlRoute(
  "labels",
  "The phone creates or edits a label",
  SimulatedLabelSchema,
  "A `label.upsert` event.",
);
const labelDeleteRoute = controlRoute(
  "label-delete",
  "The phone deletes a label",
  SimulatedLabelDeleteSchema,
  "`label.chat.deleted` for each chat that had it, then `label.deleted`.",
);
const chatLabelsRoute = controlRoute(
  "chat-labels",
  "The phone sets a chat's labels",
  SimulatedChatLabelsSchema,
  "`label.chat.added` and `label.chat.deleted` events.",
);

const groupAdminRoute = controlRoute(
  "group-admin",
  "An admin of a group promotes or demotes a member (or the phone's account)",
  SimulatedGroupAdminSchema,
  "A `group.v2.participants` event (promote or demote); the group's participants show it.",
);
const groupSettingsRoute = controlRoute(
  "group-settings",
  "A member changes a group's subject, description or settings",
  SimulatedGroupSettingsSchema,
  "A `group.v2.update` event for each kind of change; settings need an admin, and so does the " +
    "info when only admins edit it.",
);
const groupJoinRoute = controlRoute(
  "group-join",
  "The phone's account is added to a group, or a member joins one",
  SimulatedGroupJoinSchema,
  "`group.v2.join` (the account was added) or `group.v2.participants` (type join).",
);
const groupRequestRoute = controlRoute(
  "group-request",
  "A contact asks to join a group",
  SimulatedGroupRequestSchema,
  "The request waits for an admin (`GET /groups/{groupId}/requests`).",
);
const unlinkRoute = createRoute({
  method: "post",
  path: "/{phoneNumber}/simulator/unlink",
  tags: [TAG],
  summary: "The phone removes this linked device",
  description: "The session logs out as when its device is removed on the phone: " +
    "`session.status` STOPPED, its login gone (the next start shows a QR). Simulator sessions " +
    "only (404 for others).",
  security: SECURED,
  request: { params: PhoneParams },
  responses: { 200: jsonResponse(SuccessSchema, "Done"), ...errors },
});
const chatterRoute = controlRoute(
  "chatter",
  "A contact keeps writing to the phone on its own, every few ms",
  SimulatedChatterSchema,
  "`message` and `message.any` events, one message every `everyMs` for `durationMs`, made inside " +
    "the session (one request for a whole load of incoming messages). Each text ends with its " +
    "number, the count and the time it was made to the millisecond (`Chatter 3 of 10 at " +
    "2026-12-02T15:00:00.123Z`). One chatter per session: a new one replaces the one under way, " +
    "`durationMs: 0` ends it, and so do stopping the session, a logout and a dropped connection.",
);
const disconnectRoute = controlRoute(
  "disconnect",
  "The phone's connection drops, and comes back",
  SimulatedDisconnectSchema,
  "`session.status` STARTING, then WORKING after `reconnectAfterMs`.",
);

export function createSimulatorRoutes(
  deps: { manager: SessionManager; guards: AuthGuards; media: MediaResolver },
) {
  const { manager, guards, media } = deps;

  /** Refuses (404) a number whose session is not the simulator's, or (409) is not connected. */
  async function assertSimulator(phoneNumber: string, caller: SessionCaller): Promise<void> {
    const { engine } = await manager.info(phoneNumber, caller);
    if (engine !== "simulator") {
      throw notFound(`Session "${phoneNumber}" has no simulator: it runs the ${engine} engine`);
    }
    await manager.session(phoneNumber, caller).assertReady();
  }

  async function act(phoneNumber: string, caller: SessionCaller, action: SimulatorAction) {
    await assertSimulator(phoneNumber, caller);
    await manager.session(phoneNumber, caller).simulate(action);
    return { success: true, message: "Done" };
  }

  return createRouter()
    .guard(guards.requireSingleAccountProtected({ media: true }), messageRoute)
    .guard(
      guards.requireSingleAccountProtected(),
      reactionRoute,
      pollVoteRoute,
      ackRoute,
      typingRoute,
      presenceRoute,
      leaveRoute,
      callRoute,
      labelRoute,
      labelDeleteRoute,
      chatLabelsRoute,
      groupAdminRoute,
      groupSettingsRoute,
      groupJoinRoute,
      groupRequestRoute,
      unlinkRoute,
      disconnectRoute,
      chatterRoute,
    )
    .openapi(messageRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const { chatId, from, text, mediaUrl, filename, replyTo } = c.req.valid("json");
      await assertSimulator(phoneNumber, c.get("principal"));
      const resolved = mediaUrl === undefined ? undefined : await media(mediaUrl, {
        field: "mediaUrl",
        kind: "file",
        signal: c.req.raw.signal,
        requestId: c.get("requestId"),
        ...(filename === undefined ? {} : { filename }),
      });
      const sent = await manager.session(phoneNumber, c.get("principal")).simulate({
        type: "message",
        chatId,
        text: text ?? "",
        ...(from === undefined ? {} : { from }),
        ...(resolved ? { media: resolved } : {}),
        ...(replyTo === undefined ? {} : { quotedMsgId: replyTo }),
      });
      return c.json(sent!, 200);
    })
    .openapi(reactionRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const action = { type: "reaction" as const, ...c.req.valid("json") };
      return c.json(await act(phoneNumber, c.get("principal"), action), 200);
    })
    .openapi(pollVoteRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const action = { type: "poll_vote" as const, ...c.req.valid("json") };
      return c.json(await act(phoneNumber, c.get("principal"), action), 200);
    })
    .openapi(ackRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const action = { type: "ack" as const, ...c.req.valid("json") };
      return c.json(await act(phoneNumber, c.get("principal"), action), 200);
    })
    .openapi(typingRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const { chatId, from, state } = c.req.valid("json");
      const action = { type: "presence" as const, chatId, from, presence: state };
      return c.json(await act(phoneNumber, c.get("principal"), action), 200);
    })
    .openapi(presenceRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const { contactId, presence } = c.req.valid("json");
      const action = { type: "presence" as const, chatId: contactId, presence };
      return c.json(await act(phoneNumber, c.get("principal"), action), 200);
    })
    .openapi(leaveRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const action = { type: "group_leave" as const, ...c.req.valid("json") };
      return c.json(await act(phoneNumber, c.get("principal"), action), 200);
    })
    .openapi(callRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const action = { type: "call" as const, ...c.req.valid("json") };
      return c.json(await act(phoneNumber, c.get("principal"), action), 200);
    })
    .openapi(labelRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const { id, ...label } = c.req.valid("json");
      const action = {
        type: "label_upsert" as const,
        ...labelInput(label),
        ...(id === undefined ? {} : { id }),
      };
      return c.json(await act(phoneNumber, c.get("principal"), action), 200);
    })
    .openapi(labelDeleteRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const action = { type: "label_delete" as const, ...c.req.valid("json") };
      return c.json(await act(phoneNumber, c.get("principal"), action), 200);
    })
    .openapi(chatLabelsRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const action = { type: "chat_labels" as const, ...c.req.valid("json") };
      return c.json(await act(phoneNumber, c.get("principal"), action), 200);
    })
    .openapi(groupAdminRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const action = { type: "group_admin" as const, ...c.req.valid("json") };
      return c.json(await act(phoneNumber, c.get("principal"), action), 200);
    })
    .openapi(groupSettingsRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const action = { type: "group_settings" as const, ...c.req.valid("json") };
      return c.json(await act(phoneNumber, c.get("principal"), action), 200);
    })
    .openapi(groupJoinRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const action = { type: "group_join" as const, ...c.req.valid("json") };
      return c.json(await act(phoneNumber, c.get("principal"), action), 200);
    })
    .openapi(groupRequestRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const action = { type: "group_request" as const, ...c.req.valid("json") };
      return c.json(await act(phoneNumber, c.get("principal"), action), 200);
    })
    .openapi(unlinkRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      return c.json(await act(phoneNumber, c.get("principal"), { type: "unlink" }), 200);
    })
    .openapi(disconnectRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const action = { type: "disconnect" as const, ...c.req.valid("json") };
      return c.json(await act(phoneNumber, c.get("principal"), action), 200);
    })
    .openapi(chatterRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const action = { type: "chatter" as const, ...c.req.valid("json") };
      return c.json(await act(phoneNumber, c.get("principal"), action), 200);
    });
}
