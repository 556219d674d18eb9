/**
 * @module
 * The requests that become engine calls: one zod schema for each body, query or path that a route
 * validates and hands to the session, and the type of what it validated (`z.infer`). The engine
 * contract (`sessions/engine.ts`) takes these same types, so a route and the engines cannot
 * disagree on a field. The sessions import them as types only: a session's Worker never loads zod.
 */
import { z } from "@hono/zod-openapi";
import { LABEL_COLORS } from "../sessions/engine.ts";
import {
  type ChatParams,
  type GroupParams,
  Jid,
  type MediaParams,
  MessageId,
  type MessageParams,
  PhoneDigits,
} from "./schemas.ts";
import { buildVCard } from "./vcard.ts";

const quoted = MessageId.optional().openapi({ description: "The message this one replies to" });
const caption = z.string().max(4096).optional().openapi({ example: "Look at this" });

/** A 1×1 PNG, so the examples work from Swagger UI without a reachable URL. */
export const PNG_DATA_URL =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

const mediaField = (what: string, example: string) =>
  z.string().min(1).openapi({
    description: `The ${what}: an http(s) URL (fetched by the server), a data: URL or bare base64`,
    example,
  });

// ---------- messages ----------

export const SendTextSchema = z.object({
  chatId: Jid,
  text: z.string().min(1).max(65_536).openapi({ example: "Hello from wa-gateway" }),
  quotedMsgId: quoted,
  linkPreview: z.boolean().optional().openapi({
    description: "Send a preview card for the first link in the text (default true); a site " +
      "that does not answer within a few seconds gets none",
  }),
}).openapi("SendText");

export const SendImageSchema = z.object({
  chatId: Jid,
  imageUrl: mediaField("image", PNG_DATA_URL),
  caption,
  quotedMsgId: quoted,
}).openapi("SendImage");

export const SendFileSchema = z.object({
  chatId: Jid,
  fileUrl: mediaField("file", "data:text/plain;base64,SGVsbG8gZnJvbSB3YS1nYXRld2F5Cg=="),
  filename: z.string().min(1).max(255).optional().openapi({
    example: "hello.txt",
    description: "The name the recipient sees; derived from the URL or the type when absent",
  }),
  caption,
  quotedMsgId: quoted,
}).openapi("SendFile");

export const SendVideoSchema = z.object({
  chatId: Jid,
  videoUrl: mediaField("video", "data:video/mp4;base64,AAAAGGZ0eXBtcDQyAAAAAG1wNDJpc29t"),
  caption,
  quotedMsgId: quoted,
}).openapi("SendVideo");

const audioField = mediaField("audio", "data:audio/ogg;base64,T2dnUwACAAAAAAAAAAA=");

export const SendVoiceSchema = z.object({ chatId: Jid, audioUrl: audioField, quotedMsgId: quoted })
  .openapi("SendVoice");

export const SendAudioSchema = z.object({ chatId: Jid, audioUrl: audioField, quotedMsgId: quoted })
  .openapi("SendAudio");

export const SendLocationSchema = z.object({
  chatId: Jid,
  latitude: z.number().min(-90).max(90).openapi({ example: 52.520008 }),
  longitude: z.number().min(-180).max(180).openapi({ example: 13.404954 }),
  name: z.string().min(1).max(256).optional().openapi({ example: "Alexanderplatz" }),
  address: z.string().min(1).max(512).optional().openapi({ example: "10178 Berlin" }),
  quotedMsgId: quoted,
}).openapi("SendLocation");

export const ContactCardSchema = z.object({
  name: z.string().trim().min(1).max(256).openapi({ example: "Alice" }),
  phone: PhoneDigits,
  organization: z.string().max(256).optional(),
  email: z.email().optional(),
}).openapi("ContactCard");

export const SendContactSchema = z.object({
  chatId: Jid,
  contact: ContactCardSchema.optional().openapi({
    description: "Name and number; the server builds the vCard. Give this or `vcard`",
  }),
  // Case-sensitive like whatsapp-web.js, which sends anything else as a plain text message.
  vcard: z.string().max(65_536).regex(/^BEGIN:VCARD/, "expected text starting with BEGIN:VCARD")
    .optional().openapi({ description: "A ready vCard 3.0. Give this or `contact`" }),
  quotedMsgId: quoted,
}).superRefine((body, ctx) => {
  if ((body.contact === undefined) === (body.vcard === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["contact"],
      message: "give exactly one of contact and vcard",
    });
  }
}).openapi("SendContact", {
  example: { chatId: "15550000001@c.us", contact: { name: "Bob", phone: "+15550000002" } },
});

export const SendReactionSchema = z.object({
  messageId: MessageId,
  emoji: z.string().max(32).openapi({
    example: "👍",
    description: "The reaction; an empty string removes yours",
  }),
}).openapi("SendReaction");

export const TypingSchema = z.object({
  chatId: Jid,
  state: z.enum(["typing", "recording", "paused"]).openapi({ example: "typing" }),
}).openapi("Typing");

export const EditMessageSchema = z.object({
  text: z.string().min(1).max(65_536).openapi({ example: "Corrected text" }),
}).openapi("EditMessage");

/** WhatsApp's choices for how long a message stays pinned: 24 hours, 7 days, 30 days. */
export const PIN_DURATIONS = [86_400, 604_800, 2_592_000] as const;

export const ForwardMessageSchema = z.object({
  chatId: Jid.openapi({ description: "The chat to forward the message to" }),
}).openapi("ForwardMessage");

export const PinMessageSchema = z.object({
  duration: z.literal(PIN_DURATIONS).openapi({
    example: 604_800,
    description: "Seconds the message stays pinned, as WhatsApp offers them: 86400 (24 hours), " +
      "604800 (7 days) or 2592000 (30 days)",
  }),
}).openapi("PinMessage");

export type SendTextInput = z.infer<typeof SendTextSchema>;
/** What a media message says beside its media (the media field itself is resolved first). */
export type MediaMessageFields = Pick<
  z.infer<typeof SendImageSchema>,
  "chatId" | "caption" | "quotedMsgId"
>;
export type SendLocationInput = z.infer<typeof SendLocationSchema>;
/** The body of `send-contact` with its card turned into vCard text. */
export type SendContactInput = Omit<z.infer<typeof SendContactSchema>, "contact" | "vcard"> & {
  /** The contact card(s) as vCard 3.0 text. */
  vcard: string;
};
/** The body of `send-contact` as the engine takes it: its card, when given, built as vCard text. */
export function toSendContactInput(body: z.infer<typeof SendContactSchema>): SendContactInput {
  const { chatId, contact, vcard, quotedMsgId } = body;
  return {
    chatId,
    vcard: contact ? buildVCard(contact) : vcard!,
    ...(quotedMsgId === undefined ? {} : { quotedMsgId }),
  };
}
export type SendReactionInput = z.infer<typeof SendReactionSchema>;
export type TypingInput = z.infer<typeof TypingSchema>;
/** The message of the path and the body's new text. */
export type EditMessageInput =
  & Pick<z.infer<typeof MessageParams>, "messageId">
  & z.infer<typeof EditMessageSchema>;
/** The message of the path and the chat to forward it to. */
export type ForwardMessageInput =
  & Pick<z.infer<typeof MessageParams>, "messageId">
  & z.infer<typeof ForwardMessageSchema>;
/** The message of the path and how long it stays pinned. */
export type PinMessageInput =
  & Pick<z.infer<typeof MessageParams>, "messageId">
  & z.infer<typeof PinMessageSchema>;
/** One message of one chat, as the media path names it. */
export type MessageRef = Pick<z.infer<typeof MediaParams>, "chatId" | "messageId">;

// ---------- polls ----------

/** WhatsApp's limits: 2 to 12 options, each named once. */
export const PollSchema = z.object({
  name: z.string().trim().min(1).max(255).openapi({ example: "Lunch on Friday?" }),
  options: z.array(z.string().trim().min(1).max(100)).min(2).max(12)
    .refine((options) => new Set(options).size === options.length, {
      message: "each option must differ from the others",
    })
    .openapi({ example: ["Pizza", "Sushi", "Salad"] }),
  multipleAnswers: z.boolean().default(false).openapi({
    description: "Whether a voter may choose several options (default false: one)",
  }),
}).openapi("Poll");

export const SendPollSchema = z.object({ chatId: Jid, poll: PollSchema }).openapi("SendPoll");

/** The body of `send-poll`: the chat, the question and its options. */
export type SendPollInput = z.infer<typeof SendPollSchema>;

// ---------- chats ----------

const queryInt = (name: string, min: number, max: number, fallback: number, description: string) =>
  z.coerce.number().int().min(min).max(max).default(fallback).openapi({
    param: { name, in: "query" },
    example: fallback,
    description,
  });

export const ChatListQuerySchema = z.object({
  page: queryInt("page", 1, 1_000_000, 1, "The page, from 1"),
  limit: queryInt("limit", 1, 100, 20, "Chats per page (at most 100)"),
  archived: z.enum(["true", "false"]).transform((value) => value === "true").optional().openapi({
    param: { name: "archived", in: "query" },
    description: "Only archived (`true`) or only unarchived (`false`) chats; all when absent",
  }),
});

export const MessageListQuerySchema = z.object({
  limit: queryInt("limit", 1, 200, 50, "Messages per page (at most 200)"),
  before: MessageId.optional().openapi({
    param: { name: "before", in: "query" },
    description: "Only messages older than this one: the previous page's `nextCursor`",
  }),
  page: queryInt(
    "page",
    1,
    100,
    1,
    "Skip `page - 1` pages first (from `before` when given); `before` alone is cheaper",
  ),
});

export const MuteChatSchema = z.object({
  duration: z.number().int().min(60).max(10 * 365 * 86_400).optional().openapi({
    example: 28_800,
    description: "Seconds the chat stays muted (WhatsApp's app offers 8 hours, 28800, and 1 " +
      "week, 604800); leave it out to mute the chat for good",
  }),
}).openapi("MuteChat");

export type ChatListQuery = z.infer<typeof ChatListQuerySchema>;
/** The chat of the path and how long it stays muted (absent: for good). */
export type MuteChatInput =
  & Pick<z.infer<typeof ChatParams>, "chatId">
  & z.infer<typeof MuteChatSchema>;
/** The chat of the path and the page the query asks for. */
export type MessageListQuery =
  & Pick<z.infer<typeof ChatParams>, "chatId">
  & z.infer<typeof MessageListQuerySchema>;

// ---------- groups ----------

const Participants = z.array(Jid).min(1).max(256).openapi({
  example: ["15550000002@c.us", "15550000003"],
});

export const CreateGroupSchema = z.object({
  name: z.string().trim().min(1).max(100).openapi({ example: "Project team" }),
  participants: Participants,
}).openapi("CreateGroup");

export const UpdateGroupSchema = z.object({
  subject: z.string().trim().min(1).max(100).optional().openapi({ example: "New subject" }),
  description: z.string().max(2048).optional().openapi({ example: "What this group is about" }),
  messagesAdminsOnly: z.boolean().optional(),
  infoAdminsOnly: z.boolean().optional(),
}).refine((update) => Object.values(update).some((value) => value !== undefined), {
  message: "give at least one of subject, description, messagesAdminsOnly, infoAdminsOnly",
}).openapi("UpdateGroup");

export const ParticipantsBodySchema = z.object({ participants: Participants }).openapi(
  "ParticipantsChange",
);

type GroupOfPath = Pick<z.infer<typeof GroupParams>, "groupId">;

export type CreateGroupInput = z.infer<typeof CreateGroupSchema>;
/** The group of the path and the body's changes. */
export type GroupUpdate = GroupOfPath & z.infer<typeof UpdateGroupSchema>;
/** The group of the path and the participants of the body. */
export type ParticipantsChange = GroupOfPath & z.infer<typeof ParticipantsBodySchema>;

// ---------- labels, presence, calls ----------

export const LabelId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "expected a label id").openapi({
  example: "1",
  description: "A label's id, as `GET /labels` lists them",
});

/** A label's fields (the simulator's control adds the label's id to them). */
export const LABEL_FIELDS = {
  name: z.string().trim().min(1).max(100).openapi({ example: "Lead" }),
  color: z.number().int().min(0).max(LABEL_COLORS.length - 1).optional().openapi({
    example: 0,
    description: "WhatsApp's colour number, 0 to 19 (or give `colorHex`); default 0 for a new " +
      "label, unchanged for an edited one",
  }),
  colorHex: z.string().regex(/^#[0-9a-fA-F]{6}$/, "expected a colour like #ff9485").optional()
    .openapi({
      example: "#ff9485",
      description: "The colour as WAHA's `colorHex`: one of WhatsApp's 20 (see `color`)",
    }),
};

/** Refuses a `colorHex` that is none of WhatsApp's colours, or not the `color` also given. */
export function checkLabelColor(
  body: { color?: number; colorHex?: string },
  ctx: z.RefinementCtx,
): void {
  if (body.colorHex === undefined) return;
  const color = labelColorOf(body.colorHex);
  if (color === null) {
    ctx.addIssue({
      code: "custom",
      path: ["colorHex"],
      message: `not one of WhatsApp's label colours: ${LABEL_COLORS.join(", ")}`,
    });
  } else if (body.color !== undefined && body.color !== color) {
    ctx.addIssue({
      code: "custom",
      path: ["colorHex"],
      message: `is colour ${color}, not ${body.color}: give one of color and colorHex`,
    });
  }
}

export const UpsertLabelSchema = z.object(LABEL_FIELDS).superRefine(checkLabelColor)
  .openapi("LabelBody");

/** The colour number of a label colour's hex value, or null for none of WhatsApp's. */
export function labelColorOf(hex: string): number | null {
  const color = (LABEL_COLORS as readonly string[]).indexOf(hex.toLowerCase());
  return color < 0 ? null : color;
}

/** A label body with its colour as a number (`colorHex` turned into `color`). */
export function labelInput(
  body: { name: string; color?: number; colorHex?: string },
): UpsertLabelInput {
  const color = body.color ?? (body.colorHex === undefined ? null : labelColorOf(body.colorHex));
  return { name: body.name, ...(color === null ? {} : { color }) };
}

export const SetChatLabelsSchema = z.object({
  labels: z.array(z.object({ id: LabelId })).max(100).openapi({
    example: [{ id: "1" }],
    description: "Every label the chat is to have (an empty list takes them all off)",
  }),
}).openapi("SetChatLabels");

export const SetPresenceSchema = z.object({
  presence: z.enum(["online", "offline", "typing", "recording", "paused"]).openapi({
    example: "online",
    description: "`online` and `offline` are ours for every contact (no `chatId`); `typing`, " +
      "`recording` and `paused` are for one chat (`chatId` required)",
  }),
  chatId: Jid.optional(),
}).superRefine((body, ctx) => {
  const global = body.presence === "online" || body.presence === "offline";
  if (global && body.chatId !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["chatId"],
      message: `"${body.presence}" is for every contact: leave chatId out`,
    });
  }
  if (!global && body.chatId === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["chatId"],
      message: `"${body.presence}" is for one chat: chatId is required`,
    });
  }
}).openapi("SetPresence");

export const RejectCallSchema = z.object({
  from: Jid.openapi({ description: "Who calls: `from` of the `call.received` event" }),
  id: z.string().min(1).max(128).openapi({
    example: "ABCDEFGABCDEFGABCDEFGABCDEFG",
    description: "The call: `id` of the `call.received` event",
  }),
}).openapi("RejectCall");

/** A label's name and colour, as `POST /labels` and `PUT /labels/{labelId}` take them. */
export type UpsertLabelInput = { name: string; color?: number };
/** The label of the path and its new name and colour. */
export type UpdateLabelInput = { labelId: string } & UpsertLabelInput;
/** The chat of the path and the labels it is to have. */
export type SetChatLabelsInput =
  & Pick<z.infer<typeof ChatParams>, "chatId">
  & z.infer<typeof SetChatLabelsSchema>;
/** The call to reject: who calls and the call's id. */
export type RejectCallInput = z.infer<typeof RejectCallSchema>;
// ---------- group admin (issue 20) ----------

/** An invite code, or a `https://chat.whatsapp.com/<code>` link: its code. */
export const InviteCode = z.string().trim().min(1).max(512)
  .transform((value, ctx) => {
    const link = /^(?:https?:\/\/)?chat\.whatsapp\.com\/(?:invite\/)?([A-Za-z0-9_-]+)\/?(?:\?.*)?$/i
      .exec(value);
    const code = link ? link[1] : value;
    if (/^[A-Za-z0-9_-]{6,64}$/.test(code)) return code;
    ctx.addIssue({
      code: "custom",
      message: "expected an invite code or a https://chat.whatsapp.com/<code> link",
    });
    return z.NEVER;
  })
  .openapi({ type: "string", example: "https://chat.whatsapp.com/SimulatorInvite01" });

export const JoinGroupSchema = z.object({ code: InviteCode }).openapi("JoinGroup");

/** WAHA's `{ adminsOnly }` of the two security settings. */
export const AdminsOnlySchema = z.object({ adminsOnly: z.boolean().openapi({ example: true }) })
  .openapi("GroupAdminsOnly");

export const GroupDescriptionSchema = z.object({
  description: z.string().max(2048).openapi({ example: "What this group is about" }),
}).openapi("GroupDescription");

/** WAHA's `{ file: { url } }` or `{ file: { mimetype, data } }` (base64). */
export const GroupPictureSchema = z.object({
  file: z.union([
    z.object({ url: z.string().min(1) }),
    z.object({ mimetype: z.string().min(1).max(255).optional(), data: z.string().min(1) }),
  ]).openapi({
    example: { url: PNG_DATA_URL },
    description: "The picture: `url` (an http(s) URL fetched by the server, or a data: URL), or " +
      "`data` (base64) with its `mimetype`",
  }),
}).openapi("GroupPicture");

/** A participant as an id, or as WAHA writes one, `{ id }`: the id. */
const ParticipantRef = z.union([Jid, z.object({ id: Jid }).transform((p) => p.id)]);

/** `{ participants }`: ids, or WAHA's `[{ id }]`. */
export const AdminParticipantsSchema = z.object({
  participants: z.array(ParticipantRef).min(1).max(256).openapi({
    example: ["15550000001@c.us", { id: "15550000002@c.us" }],
    description: "Ids, or WAHA's `{ id }` objects",
  }),
}).openapi("GroupAdminParticipants");

export const MembershipRequestsSchema = z.object({
  participants: z.array(ParticipantRef).min(1).max(256).optional().openapi({
    example: [{ id: "15550000003@c.us" }],
    description: "Whose requests (ids, or WAHA's `{ id }` objects); absent: every pending request",
  }),
}).openapi("MembershipRequestsAction");

/** The group of the path and whose requests (absent: all). */
export type MembershipRequestsChange = GroupOfPath & z.infer<typeof MembershipRequestsSchema>;
// ---------- status (stories), channels (newsletters), contacts (issue 20) ----------

/** WhatsApp's fonts for a text status (0 to 7, as the app and whatsapp-web.js number them). */
export const STATUS_FONTS = 8;

export const TextStatusSchema = z.object({
  text: z.string().trim().min(1).max(700).openapi({ example: "Have a look! https://example.com" }),
  backgroundColor: z.string().regex(/^#[0-9a-fA-F]{6}$/, "expected a colour such as #38b42f")
    .optional().openapi({
      example: "#38b42f",
      description: "The background, as #RRGGBB (WhatsApp's green when absent)",
    }),
  font: z.number().int().min(0).max(STATUS_FONTS - 1).optional().openapi({
    example: 1,
    description: "One of WhatsApp's fonts, 0 to 7 (0 when absent)",
  }),
}).openapi("TextStatus");

export const ImageStatusSchema = z.object({
  imageUrl: mediaField("image", PNG_DATA_URL),
  caption,
}).openapi("ImageStatus");

export const VideoStatusSchema = z.object({
  videoUrl: mediaField("video", "data:video/mp4;base64,AAAAGGZ0eXBtcDQyAAAAAG1wNDJpc29t"),
  caption,
}).openapi("VideoStatus");

/** A channel's id: `<digits>@newsletter`. */
export const NewsletterJid = z.string().regex(
  /^\d{6,32}@newsletter$/,
  "expected a channel id ending in @newsletter",
).openapi({ example: "120363000000000101@newsletter" });

export const CreateChannelSchema = z.object({
  name: z.string().trim().min(1).max(100).openapi({ example: "Our news" }),
  description: z.string().max(2048).optional().openapi({ example: "What we post about" }),
}).openapi("CreateChannel");

const searchLimit = z.number().int().min(1).max(100).default(50).openapi({
  example: 50,
  description: "At most this many channels (default 50)",
});

export const ChannelSearchByTextSchema = z.object({
  text: z.string().trim().min(1).max(100).openapi({ example: "news" }),
  limit: searchLimit,
}).openapi("ChannelSearchByText");

export const CHANNEL_VIEWS = ["RECOMMENDED", "TRENDING", "POPULAR", "NEW"] as const;

export const ChannelSearchByViewSchema = z.object({
  view: z.enum(CHANNEL_VIEWS).openapi({ example: "RECOMMENDED" }),
  countries: z.array(z.string().regex(/^[A-Z]{2}$/, "expected an ISO 3166-1 alpha-2 code"))
    .max(20).optional().openapi({
      example: ["US"],
      description:
        "Channels of these countries (ISO 3166-1 alpha-2); the account's own when absent",
    }),
  limit: searchLimit,
}).openapi("ChannelSearchByView");

export const UpdateChannelSchema = z.object({
  name: z.string().trim().min(1).max(100).optional().openapi({ example: "Our news" }),
  description: z.string().max(2048).optional().openapi({ example: "What we post about" }),
}).refine((update) => update.name !== undefined || update.description !== undefined, {
  message: "give at least one of name, description",
}).openapi("UpdateChannel");

export const ChannelTextSchema = z.object({
  text: z.string().min(1).max(65_536).openapi({ example: "Our first post" }),
}).openapi("ChannelText");

/** At most this many numbers in one check (`POST /{phoneNumber}/contacts/check`). */
export const MAX_NUMBERS_PER_CHECK = 100;

export const CheckNumbersSchema = z.object({
  numbers: z.array(z.string().max(64)).min(1).max(MAX_NUMBERS_PER_CHECK).openapi({
    example: ["+1 555 000 0001", "15559999999"],
    description: `Up to ${MAX_NUMBERS_PER_CHECK} phone numbers, as people write them; one ` +
      "that is not a phone number is answered in its own item",
  }),
}).openapi("CheckNumbers");

export type TextStatusInput = z.infer<typeof TextStatusSchema>;
export type CreateChannelInput = z.infer<typeof CreateChannelSchema>;
/** A directory search: by text, or by one of WhatsApp's views (and countries). */
export type ChannelSearchInput =
  | z.infer<typeof ChannelSearchByTextSchema>
  | z.infer<typeof ChannelSearchByViewSchema>;
/** The channel of the path and the body's changes. */
export type UpdateChannelInput = z.infer<typeof UpdateChannelSchema> & { channelId: string };
/** A text for a channel of ours, and the channel. */
export type ChannelTextInput = z.infer<typeof ChannelTextSchema> & { channelId: string };
