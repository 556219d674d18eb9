/**
 * @module
 * WAHA's API as data: its request and response DTOs (devlikeapro/waha, `src/structures/*.dto.ts`),
 * transcribed as zod schemas, one per DTO class and named exactly as the class, with the field
 * names, types and optionality WAHA declares (a field with a default in WAHA is optional here).
 * Grouped by WAHA's source file, in alphabetical order; inside a section, in the file's order.
 * Requests and responses strip fields they do not name (WAHA ignores them too); the fake WAHA
 * of the tests checks requests strictly (`tests/fake_waha/`), so our engine cannot send a field
 * WAHA does not have. Engine code imports the types only (a session Worker never loads zod).
 */
import { z } from "@hono/zod-openapi";

// --- src/core/engines/webjs/session.webjs.core.ts ---
// WAHA's WEBJS engine answers chats, contacts and groups with whatsapp-web.js's own objects as
// JSON (WAHA has no DTO class for them; its docs say the answer depends on the engine). Our engine
// is whatsapp-web.js, so these are transcribed from whatsapp-web.js's structures (Chat,
// GroupChat, Contact and the group calls' results), each named `WEBJS` + the structure. A field
// whatsapp-web.js copies from WhatsApp Web's model without a default is optional (JSON leaves an
// undefined one out).

/** whatsapp-web.js's `ChatId`/`ContactId`: an id as `{ server, user, _serialized }`. */
export const WEBJSWid = z.object({
  server: z.string(),
  user: z.string(),
  _serialized: z.string(),
});
export type WEBJSWid = z.infer<typeof WEBJSWid>;

/** whatsapp-web.js's `Message`, as a chat's `lastMessage` (the fields a chat list shows). */
export const WEBJSMessage = z.object({
  id: z.object({ fromMe: z.boolean(), remote: z.string(), id: z.string(), _serialized: z.string() })
    .optional(),
  body: z.string(),
  type: z.string().optional(),
  timestamp: z.number(),
  from: z.string().optional(),
  to: z.string().optional(),
  fromMe: z.boolean().optional(),
  ack: z.number().optional(),
  hasMedia: z.boolean().optional(),
});
export type WEBJSMessage = z.infer<typeof WEBJSMessage>;

/** whatsapp-web.js's `Chat` (`unreadCount` is -1 for a chat marked unread by hand). */
export const WEBJSChat = z.object({
  id: WEBJSWid,
  name: z.string(),
  isGroup: z.boolean(),
  isReadOnly: z.boolean().optional(),
  unreadCount: z.number(),
  timestamp: z.number().optional(),
  archived: z.boolean(),
  pinned: z.boolean(),
  isLocked: z.boolean().optional(),
  isMuted: z.boolean(),
  muteExpiration: z.number().optional(),
  lastMessage: WEBJSMessage.optional(),
});
export type WEBJSChat = z.infer<typeof WEBJSChat>;

/** whatsapp-web.js's `GroupParticipant`. */
export const WEBJSGroupParticipant = z.object({
  id: WEBJSWid,
  isAdmin: z.boolean(),
  isSuperAdmin: z.boolean(),
});
export type WEBJSGroupParticipant = z.infer<typeof WEBJSGroupParticipant>;

/** whatsapp-web.js's `GroupMetadata` (`restrict`: info admins only; `announce`: messages). */
export const WEBJSGroupMetadata = z.object({
  id: WEBJSWid,
  subject: z.string(),
  desc: z.string().optional(),
  owner: WEBJSWid.optional(),
  creation: z.number().optional(),
  restrict: z.boolean().optional(),
  announce: z.boolean().optional(),
  /** Who may add members: `admin_add` or `all_member_add`. */
  memberAddMode: z.string().optional(),
  /** Who joins by the link waits for an admin's approval. */
  membershipApprovalMode: z.boolean().optional(),
  participants: z.array(WEBJSGroupParticipant),
});
export type WEBJSGroupMetadata = z.infer<typeof WEBJSGroupMetadata>;

/** whatsapp-web.js's `GroupChat`: a `Chat` with its `groupMetadata`. */
export const WEBJSGroupChat = WEBJSChat.partial().extend({
  id: WEBJSWid,
  name: z.string(),
  isGroup: z.literal(true),
  groupMetadata: WEBJSGroupMetadata,
});
export type WEBJSGroupChat = z.infer<typeof WEBJSGroupChat>;

/** whatsapp-web.js's `Contact`, as WAHA answers it (`id` turned into its serialized string). */
export const WEBJSContact = z.object({
  id: z.string(),
  number: z.string(),
  isBusiness: z.boolean(),
  isEnterprise: z.boolean().optional(),
  name: z.string().optional(),
  pushname: z.string().optional(),
  shortName: z.string().optional(),
  type: z.string().optional(),
  verifiedName: z.string().optional(),
  isMe: z.boolean(),
  isUser: z.boolean(),
  isGroup: z.boolean(),
  isWAContact: z.boolean().optional(),
  isMyContact: z.boolean(),
  isBlocked: z.boolean(),
});
export type WEBJSContact = z.infer<typeof WEBJSContact>;

/** whatsapp-web.js's `CreateGroupResult` (participants by id). */
export const WEBJSCreateGroupResult = z.object({
  title: z.string(),
  gid: WEBJSWid,
  participants: z.record(
    z.string(),
    z.object({
      statusCode: z.number(),
      message: z.string(),
      isGroupCreator: z.boolean(),
      isInviteV4Sent: z.boolean(),
    }),
  ),
});
export type WEBJSCreateGroupResult = z.infer<typeof WEBJSCreateGroupResult>;

/** whatsapp-web.js's `AddParticipantsResult` (by participant id). */
export const WEBJSAddParticipantsResult = z.record(
  z.string(),
  z.object({ code: z.number(), message: z.string(), isInviteV4Sent: z.boolean() }),
);
export type WEBJSAddParticipantsResult = z.infer<typeof WEBJSAddParticipantsResult>;

/** whatsapp-web.js's answer to removing, promoting or demoting participants. */
export const WEBJSParticipantsStatus = z.object({ status: z.number() });
export type WEBJSParticipantsStatus = z.infer<typeof WEBJSParticipantsStatus>;

/**
 * whatsapp-web.js's `getInviteInfo` answer, as WAHA's `GET /api/{session}/groups/join-info` gives
 * it (WhatsApp's group metadata behind an invite code; `size` is how many members it has).
 */
export const WEBJSGroupInviteInfo = z.object({
  id: WEBJSWid,
  subject: z.string(),
  desc: z.string().optional(),
  owner: WEBJSWid.optional(),
  creation: z.number().optional(),
  size: z.number().optional(),
  membershipApprovalMode: z.boolean().optional(),
  participants: z.array(WEBJSGroupParticipant).optional(),
});
export type WEBJSGroupInviteInfo = z.infer<typeof WEBJSGroupInviteInfo>;

/** WAHA's WEBJS answer to `GET /api/contacts/about` (null: their privacy hides it). */
export const WEBJSContactAbout = z.object({ about: z.string().nullable() });
export type WEBJSContactAbout = z.infer<typeof WEBJSContactAbout>;

/** WAHA's WEBJS `forwardMessage` answer (its own object, not a message). */
export const WEBJSForwardResult = z.object({ sent: z.boolean() });
export type WEBJSForwardResult = z.infer<typeof WEBJSForwardResult>;

// --- src/structures/auth.dto.ts ---

/** WAHA's `QRCodeFormat` enum. */
export const QRCodeFormat = z.enum(["image", "raw"]);
export type QRCodeFormat = z.infer<typeof QRCodeFormat>;

/** WAHA's `QRCodeQuery`. */
export const QRCodeQuery = z.object({ format: QRCodeFormat.optional() });
export type QRCodeQuery = z.infer<typeof QRCodeQuery>;

/** WAHA's `QRCodeValue`. */
export const QRCodeValue = z.object({ value: z.string() });
export type QRCodeValue = z.infer<typeof QRCodeValue>;

/** WAHA's `RequestCodeRequest`. */
export const RequestCodeRequest = z.object({
  phoneNumber: z.string(),
  method: z.string().optional(),
  localeLanguage: z.string().optional(),
  localeCountry: z.string().optional(),
});
export type RequestCodeRequest = z.infer<typeof RequestCodeRequest>;

/** WAHA's `PairingCodeResponse`. */
export const PairingCodeResponse = z.object({ code: z.string() });
export type PairingCodeResponse = z.infer<typeof PairingCodeResponse>;

// --- src/structures/base.dto.ts ---

/** WAHA's `SessionQuery` (`session` defaults to `default`). */
export const SessionQuery = z.object({ session: z.string().optional() });
export type SessionQuery = z.infer<typeof SessionQuery>;

/** WAHA's `SessionBaseRequest` (`session` defaults to `default`). */
export const SessionBaseRequest = z.object({ session: z.string().optional() });
export type SessionBaseRequest = z.infer<typeof SessionBaseRequest>;

/** WAHA's `Result` (newer WAHA): what a change answers. */
export const Result = z.object({ success: z.boolean() });
export type Result = z.infer<typeof Result>;

/** WAHA's `CountResponse` (newer WAHA). */
export const CountResponse = z.object({ count: z.number().int() });
export type CountResponse = z.infer<typeof CountResponse>;

// --- src/structures/calls.dto.ts ---

/** WAHA's `RejectCallRequest` (`POST /api/{session}/calls/reject`, newer WAHA): who calls, the call. */
export const RejectCallRequest = z.object({ from: z.string(), id: z.string() });
export type RejectCallRequest = z.infer<typeof RejectCallRequest>;

// --- src/structures/channels.dto.ts ---
// (WAHA after 2024.10: `:id/follow` and the like, and the directory search.)

/** WAHA's `CreateChannelRequest` (the picture as a `RemoteFile` or a `BinaryFile`). */
export const CreateChannelRequest = z.object({
  name: z.string(),
  description: z.string().optional(),
  // Read when first parsed: the file shapes come further down (chatting.dto.ts).
  get picture() {
    return fileOf(RemoteFileShape, BinaryFileShape).optional();
  },
});
export type CreateChannelRequest = z.infer<typeof CreateChannelRequest>;

/** WAHA's `ChannelRole` enum. */
export const ChannelRole = z.enum(["OWNER", "ADMIN", "SUBSCRIBER", "GUEST"]);
export type ChannelRole = z.infer<typeof ChannelRole>;

/** WAHA's `ListChannelsQuery` (`role`: a `ChannelRoleFilter`, any role but GUEST). */
export const ListChannelsQuery = z.object({
  role: z.enum(["OWNER", "ADMIN", "SUBSCRIBER"]).optional(),
});
export type ListChannelsQuery = z.infer<typeof ListChannelsQuery>;

/** WAHA's `ChannelPublicInfo`: a channel as the directory shows it (its `ChannelBase`). */
export const ChannelPublicInfo = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  invite: z.string(),
  preview: z.string().optional(),
  picture: z.string().optional(),
  verified: z.boolean(),
  subscribersCount: z.number(),
});
export type ChannelPublicInfo = z.infer<typeof ChannelPublicInfo>;

/** WAHA's `Channel`: a channel and the account's role in it. */
export const Channel = ChannelPublicInfo.extend({ role: ChannelRole });
export type Channel = z.infer<typeof Channel>;

/** WAHA's `ChannelSearchByView` (`limit` 50, `startCursor` "", `countries` ["US"] by default). */
export const ChannelSearchByView = z.object({
  limit: z.number().optional(),
  startCursor: z.string().optional(),
  view: z.string().optional(),
  countries: z.array(z.string()).optional(),
  categories: z.array(z.string()).optional(),
});
export type ChannelSearchByView = z.infer<typeof ChannelSearchByView>;

/** WAHA's `ChannelSearchByText` (`limit` 50 and `startCursor` "" by default). */
export const ChannelSearchByText = z.object({
  limit: z.number().optional(),
  startCursor: z.string().optional(),
  text: z.string(),
  categories: z.array(z.string()).optional(),
});
export type ChannelSearchByText = z.infer<typeof ChannelSearchByText>;

/** WAHA's `ChannelListResult`: a page of the directory. */
export const ChannelListResult = z.object({
  page: z.object({
    startCursor: z.string().nullable(),
    endCursor: z.string().nullable(),
    hasNextPage: z.boolean(),
    hasPreviousPage: z.boolean(),
  }),
  channels: z.array(ChannelPublicInfo),
});
export type ChannelListResult = z.infer<typeof ChannelListResult>;

// --- src/structures/chats.dto.ts ---

/** WAHA's `GetChatMessagesQuery` (`limit` defaults to 100, `downloadMedia` to true). */
export const GetChatMessagesQuery = z.object({
  limit: z.coerce.number().int().optional(),
  downloadMedia: z.string().optional(),
});
export type GetChatMessagesQuery = z.infer<typeof GetChatMessagesQuery>;

/** WAHA's `GetChatsQuery`. */
export const GetChatsQuery = z.object({
  limit: z.coerce.number().int().optional(),
  offset: z.coerce.number().int().optional(),
});
export type GetChatsQuery = z.infer<typeof GetChatsQuery>;

/**
 * WAHA's query of `GET /api/{session}/chats/overview` (newer WAHA, from its docs; the class name
 * is ours): `limit` (20 by default), `offset`, and `ids` to keep only those chats.
 */
export const ChatsOverviewQuery = z.object({
  limit: z.coerce.number().int().optional(),
  offset: z.coerce.number().int().optional(),
  ids: z.union([z.string(), z.array(z.string())]).optional(),
});
export type ChatsOverviewQuery = z.infer<typeof ChatsOverviewQuery>;

/**
 * WAHA's `ChatSummary` (newer WAHA, from its docs): a chat list's row. `lastMessage` is WAHA's
 * message (null when none) and `_chat` the engine's own chat (for WEBJS, `WEBJSChat`).
 */
export const ChatSummary = z.object({
  id: z.string(),
  name: z.string().nullable(),
  picture: z.string().nullable(),
  lastMessage: z.looseObject({}).nullable(),
  _chat: z.looseObject({}),
});
export type ChatSummary = z.infer<typeof ChatSummary>;

/** WAHA's `GetChatMessageQuery` (newer WAHA; `downloadMedia` is true by default). */
export const GetChatMessageQuery = z.object({ downloadMedia: z.string().optional() });
export type GetChatMessageQuery = z.infer<typeof GetChatMessageQuery>;

/**
 * WAHA's `PinMessageRequest` (newer WAHA, `POST /api/{session}/chats/{chatId}/messages/{id}/pin`):
 * how long, in seconds (WAHA's `PinDuration`: 86400, 604800 or 2592000).
 */
export const PinMessageRequest = z.object({ duration: z.number().optional() });
export type PinMessageRequest = z.infer<typeof PinMessageRequest>;

/** WAHA's `ChatPictureQuery` (newer WAHA; `refresh` skips its 24-hour cache, false by default). */
export const ChatPictureQuery = z.object({ refresh: z.string().optional() });
export type ChatPictureQuery = z.infer<typeof ChatPictureQuery>;

/** WAHA's `ChatPictureResponse` (newer WAHA; the URL is null or absent for no picture). */
export const ChatPictureResponse = z.object({ url: z.string().nullable().optional() });
export type ChatPictureResponse = z.infer<typeof ChatPictureResponse>;

// --- src/structures/chatting.dto.ts ---

/** WAHA's `CheckNumberStatusQuery`. */
export const CheckNumberStatusQuery = SessionQuery.extend({ phone: z.string() });
export type CheckNumberStatusQuery = z.infer<typeof CheckNumberStatusQuery>;

/** WAHA's `ChatRequest`. */
export const ChatRequest = SessionBaseRequest.extend({ chatId: z.string() });
export type ChatRequest = z.infer<typeof ChatRequest>;

/** WAHA's `SendSeenRequest`. */
export const SendSeenRequest = ChatRequest.extend({
  messageId: z.string().optional(),
  participant: z.string().optional(),
});
export type SendSeenRequest = z.infer<typeof SendSeenRequest>;

/** WAHA's `MessageRequest`. */
export const MessageRequest = SessionBaseRequest.extend({ messageId: z.string() });
export type MessageRequest = z.infer<typeof MessageRequest>;

/** WAHA's `VCardContact`. */
export const VCardContact = z.object({ vcard: z.string() });
export type VCardContact = z.infer<typeof VCardContact>;

/** WAHA's `Contact` (a card built from its fields; `vcard` null unless given). */
export const Contact = z.object({
  fullName: z.string(),
  organization: z.string().optional(),
  phoneNumber: z.string(),
  whatsappId: z.string().optional(),
  vcard: z.string().nullable().optional(),
});
export type Contact = z.infer<typeof Contact>;

/** WAHA's `MessageContactVcardRequest`. */
export const MessageContactVcardRequest = ChatRequest.extend({
  contacts: z.array(z.union([VCardContact, Contact])),
});
export type MessageContactVcardRequest = z.infer<typeof MessageContactVcardRequest>;

/** WAHA's `MessageTextRequest`. */
export const MessageTextRequest = ChatRequest.extend({
  text: z.string(),
  mentions: z.array(z.string()).optional(),
  reply_to: z.string().optional(),
});
export type MessageTextRequest = z.infer<typeof MessageTextRequest>;

/** WAHA's `EditMessageRequest`. */
export const EditMessageRequest = z.object({
  text: z.string(),
  mentions: z.array(z.string()).optional(),
});
export type EditMessageRequest = z.infer<typeof EditMessageRequest>;

/** WAHA's `MessageLocationRequest`. */
export const MessageLocationRequest = ChatRequest.extend({
  latitude: z.number(),
  longitude: z.number(),
  title: z.string(),
  reply_to: z.string().optional(),
});
export type MessageLocationRequest = z.infer<typeof MessageLocationRequest>;

// WAHA's `FileRequest` is not exported; its `file` is a `RemoteFile` or a `BinaryFile`.
const fileOf = <R extends z.ZodType, B extends z.ZodType>(remote: R, binary: B) =>
  z.union([remote, binary]);

/** WAHA's `RemoteFile` (also in files.dto.ts; here as chatting's file field uses it). */
const RemoteFileShape = z.object({
  mimetype: z.string(),
  filename: z.string().optional(),
  url: z.string(),
});
const BinaryFileShape = z.object({
  mimetype: z.string(),
  filename: z.string().optional(),
  data: z.string(),
});

/** WAHA's `MessageImageRequest`. */
export const MessageImageRequest = ChatRequest.extend({
  file: fileOf(RemoteFileShape, BinaryFileShape),
  caption: z.string().optional(),
  reply_to: z.string().optional(),
});
export type MessageImageRequest = z.infer<typeof MessageImageRequest>;

/** WAHA's `MessageFileRequest`. */
export const MessageFileRequest = ChatRequest.extend({
  file: fileOf(RemoteFileShape, BinaryFileShape),
  caption: z.string().optional(),
  reply_to: z.string().optional(),
});
export type MessageFileRequest = z.infer<typeof MessageFileRequest>;

/** WAHA's `MessageVoiceRequest`. */
export const MessageVoiceRequest = ChatRequest.extend({
  file: fileOf(RemoteFileShape, BinaryFileShape),
  reply_to: z.string().optional(),
});
export type MessageVoiceRequest = z.infer<typeof MessageVoiceRequest>;

/** WAHA's `MessageVideoRequest`. */
export const MessageVideoRequest = ChatRequest.extend({
  file: fileOf(RemoteFileShape, BinaryFileShape),
  caption: z.string().optional(),
  reply_to: z.string().optional(),
  asNote: z.boolean().optional(),
});
export type MessageVideoRequest = z.infer<typeof MessageVideoRequest>;

/** WAHA's `MessageForwardRequest`. */
export const MessageForwardRequest = ChatRequest.extend({ messageId: z.string() });
export type MessageForwardRequest = z.infer<typeof MessageForwardRequest>;

/** WAHA's `MessageReactionRequest`. */
export const MessageReactionRequest = MessageRequest.extend({ reaction: z.string() });
export type MessageReactionRequest = z.infer<typeof MessageReactionRequest>;

/** WAHA's `MessageStarRequest`. */
export const MessageStarRequest = MessageRequest.extend({
  chatId: z.string(),
  star: z.boolean(),
});
export type MessageStarRequest = z.infer<typeof MessageStarRequest>;

/** WAHA's `WANumberExistResult`. */
export const WANumberExistResult = z.object({
  numberExists: z.boolean(),
  chatId: z.string().optional(),
});
export type WANumberExistResult = z.infer<typeof WANumberExistResult>;

/** WAHA's `MessagePoll`. */
export const MessagePoll = z.object({
  name: z.string(),
  options: z.array(z.string()),
  multipleAnswers: z.boolean().optional(),
});
export type MessagePoll = z.infer<typeof MessagePoll>;

/** WAHA's `MessagePollRequest`. */
export const MessagePollRequest = ChatRequest.extend({
  poll: MessagePoll,
  reply_to: z.string().optional(),
});
export type MessagePollRequest = z.infer<typeof MessagePollRequest>;

// --- src/structures/contacts.dto.ts ---

/** WAHA's `ContactQuery`. */
export const ContactQuery = SessionQuery.extend({ contactId: z.string() });
export type ContactQuery = z.infer<typeof ContactQuery>;

/** WAHA's `ContactRequest`. */
export const ContactRequest = SessionBaseRequest.extend({ contactId: z.string() });
export type ContactRequest = z.infer<typeof ContactRequest>;

// --- src/structures/files.dto.ts ---

/** WAHA's `Base64File`. */
export const Base64File = z.object({ mimetype: z.string(), data: z.string() });
export type Base64File = z.infer<typeof Base64File>;

/** WAHA's `RemoteFile`. */
export const RemoteFile = RemoteFileShape;
export type RemoteFile = z.infer<typeof RemoteFile>;

/** WAHA's `BinaryFile`. */
export const BinaryFile = BinaryFileShape;
export type BinaryFile = z.infer<typeof BinaryFile>;

// --- src/structures/groups.dto.ts ---

/** WAHA's `Participant`. */
export const Participant = z.object({ id: z.string() });
export type Participant = z.infer<typeof Participant>;

/** WAHA's `SettingsSecurityChangeInfo` (`adminsOnly` defaults to true). */
export const SettingsSecurityChangeInfo = z.object({ adminsOnly: z.boolean().optional() });
export type SettingsSecurityChangeInfo = z.infer<typeof SettingsSecurityChangeInfo>;

/** WAHA's `ParticipantsRequest`. */
export const ParticipantsRequest = z.object({ participants: z.array(Participant) });
export type ParticipantsRequest = z.infer<typeof ParticipantsRequest>;

/** WAHA's `DescriptionRequest`. */
export const DescriptionRequest = z.object({ description: z.string() });
export type DescriptionRequest = z.infer<typeof DescriptionRequest>;

/** WAHA's `SubjectRequest`. */
export const SubjectRequest = z.object({ subject: z.string() });
export type SubjectRequest = z.infer<typeof SubjectRequest>;

/** WAHA's `CreateGroupRequest`. */
export const CreateGroupRequest = z.object({
  name: z.string(),
  participants: z.array(Participant),
});
export type CreateGroupRequest = z.infer<typeof CreateGroupRequest>;

/**
 * WAHA's `JoinGroupRequest` (newer WAHA): an invite code or link, the body of `POST
 * /api/{session}/groups/join` and the query of `GET /api/{session}/groups/join-info`.
 */
export const JoinGroupRequest = z.object({ code: z.string() });
export type JoinGroupRequest = z.infer<typeof JoinGroupRequest>;

/** WAHA's `JoinGroupResponse` (newer WAHA): the group joined. */
export const JoinGroupResponse = z.object({ id: z.string() });
export type JoinGroupResponse = z.infer<typeof JoinGroupResponse>;

/**
 * WAHA's `GroupJoinRequest` (newer WAHA, `GET /api/{session}/groups/{id}/participants/
 * join-requests`): who asked to join, who added them, and how (`invite_link`, `non_admin_add`,
 * `linked_group_join`).
 */
export const GroupJoinRequest = z.object({
  requesterId: z.string(),
  addedById: z.string().nullable(),
  parentGroupId: z.string().nullable(),
  requestMethod: z.string().nullable(),
  timestamp: z.number(),
});
export type GroupJoinRequest = z.infer<typeof GroupJoinRequest>;

/**
 * WAHA's `GroupJoinRequestResult` (newer WAHA): one request approved or rejected (`POST
 * …/participants/join-requests/approve|reject` with a `ParticipantsRequest`); `error` is
 * WhatsApp's code when it did not work.
 */
export const GroupJoinRequestResult = z.object({
  requesterId: z.string(),
  success: z.boolean(),
  error: z.number().optional(),
  message: z.string().optional(),
});
export type GroupJoinRequestResult = z.infer<typeof GroupJoinRequestResult>;

// --- src/structures/labels.dto.ts ---
// (WAHA after 2024.10 adds creating, changing and deleting labels.)

/**
 * WAHA's `LabelBody`: a label's name and colour, by its number (`color`) or its hex (`colorHex`,
 * one of WhatsApp's 20); WAHA wants exactly one of the two (422 otherwise).
 */
export const LabelBody = z.object({
  name: z.string(),
  colorHex: z.string().optional(),
  color: z.number().optional(),
});
export type LabelBody = z.infer<typeof LabelBody>;

/** WAHA's `Label`. */
export const Label = z.object({
  id: z.string(),
  name: z.string(),
  color: z.number(),
  colorHex: z.string(),
});
export type Label = z.infer<typeof Label>;

/** WAHA's `LabelID`. */
export const LabelID = z.object({ id: z.string() });
export type LabelID = z.infer<typeof LabelID>;

/** WAHA's `SetLabelsRequest` (`PUT /api/{session}/labels/chats/{chatId}`): the chat's whole set. */
export const SetLabelsRequest = z.object({ labels: z.array(LabelID) });
export type SetLabelsRequest = z.infer<typeof SetLabelsRequest>;

/** What WAHA's `DELETE /api/{session}/labels/{labelId}` answers (no DTO class; the name is ours). */
export const LabelDeleted = z.object({ result: z.boolean() });
export type LabelDeleted = z.infer<typeof LabelDeleted>;

// --- src/structures/lids.dto.ts ---
// (WAHA after 2024.10, from its docs: GET /api/{session}/lids…)

/** WAHA's `LidToPhoneNumber` (either may be missing; ours says null). */
export const LidToPhoneNumber = z.object({
  lid: z.string().nullable().optional(),
  pn: z.string().nullable().optional(),
});
export type LidToPhoneNumber = z.infer<typeof LidToPhoneNumber>;

/** WAHA's `LidsListQueryParams` (`limit` 100 and `offset` 0 by default). */
export const LidsListQueryParams = z.object({
  limit: z.coerce.number().int().optional(),
  offset: z.coerce.number().int().optional(),
});
export type LidsListQueryParams = z.infer<typeof LidsListQueryParams>;

// --- src/structures/presence.dto.ts ---

/** WAHA's `WAHAPresenceStatus` enum (enums.dto.ts). */
export const WAHAPresenceStatus = z.enum(["offline", "online", "typing", "recording", "paused"]);
export type WAHAPresenceStatus = z.infer<typeof WAHAPresenceStatus>;

/** WAHA's `WAHAPresenceData`. */
export const WAHAPresenceData = z.object({
  participant: z.string(),
  lastKnownPresence: WAHAPresenceStatus,
  lastSeen: z.number().nullable().optional(),
});
export type WAHAPresenceData = z.infer<typeof WAHAPresenceData>;

/** WAHA's `WAHAChatPresences`. */
export const WAHAChatPresences = z.object({
  id: z.string(),
  presences: z.array(WAHAPresenceData),
});
export type WAHAChatPresences = z.infer<typeof WAHAChatPresences>;

/** WAHA's `WAHASessionPresence`. */
export const WAHASessionPresence = z.object({
  presence: WAHAPresenceStatus,
  chatId: z.string().optional(),
});
export type WAHASessionPresence = z.infer<typeof WAHASessionPresence>;

// --- src/structures/profile.dto.ts ---
// (WAHA after 2024.10, from its docs: GET/PUT /api/{session}/profile…)

/** WAHA's `MyProfile`. */
export const MyProfile = z.object({
  id: z.string(),
  name: z.string(),
  picture: z.string().nullable(),
});
export type MyProfile = z.infer<typeof MyProfile>;

/** WAHA's `ProfileNameRequest`. */
export const ProfileNameRequest = z.object({ name: z.string() });
export type ProfileNameRequest = z.infer<typeof ProfileNameRequest>;

/** WAHA's `ProfileStatusRequest`. */
export const ProfileStatusRequest = z.object({ status: z.string() });
export type ProfileStatusRequest = z.infer<typeof ProfileStatusRequest>;

/**
 * WAHA's `ProfilePictureRequest`: the picture as a `RemoteFile` or a `BinaryFile`; also the body
 * of `PUT /api/{session}/groups/{id}/picture`.
 */
export const ProfilePictureRequest = z.object({
  file: fileOf(RemoteFileShape, BinaryFileShape),
});
export type ProfilePictureRequest = z.infer<typeof ProfilePictureRequest>;

// --- src/structures/responses.dto.ts ---

/** WAHA's `WALocation`. */
export const WALocation = z.object({
  description: z.string().optional(),
  latitude: z.string(),
  longitude: z.string(),
});
export type WALocation = z.infer<typeof WALocation>;

/** WAHA's `WAMessage` (with the fields of its base class, `WAMessageBase`). */
export const WAMessage = z.object({
  id: z.string(),
  timestamp: z.number(),
  from: z.string(),
  fromMe: z.boolean(),
  to: z.string(),
  participant: z.string().nullable().optional(),
  body: z.string(),
  hasMedia: z.boolean(),
  // WAHA's `WAMedia`.
  media: z.object({
    url: z.string().nullable().optional(),
    mimetype: z.string().nullable().optional(),
    filename: z.string().nullable().optional(),
    error: z.unknown().optional(),
  }).nullable().optional(),
  mediaUrl: z.string().nullable().optional(),
  ack: z.number(),
  ackName: z.string(),
  author: z.string().nullable().optional(),
  location: WALocation.nullable().optional(),
  vCards: z.array(z.string()).optional(),
  // WAHA's `ReplyToMessage`.
  replyTo: z.object({
    id: z.string().optional(),
    participant: z.string().optional(),
    body: z.string().optional(),
  }).nullable().optional(),
  _data: z.unknown().optional(),
});
export type WAMessage = z.infer<typeof WAMessage>;

// --- src/structures/sessions.dto.ts ---

/** WAHA's `ListSessionsQuery`. */
export const ListSessionsQuery = z.object({ all: z.string().optional() });
export type ListSessionsQuery = z.infer<typeof ListSessionsQuery>;

/** WAHA's `ProxyConfig`. */
export const ProxyConfig = z.object({
  server: z.string(),
  username: z.string().optional(),
  password: z.string().optional(),
});
export type ProxyConfig = z.infer<typeof ProxyConfig>;

/** WAHA's `SessionConfig` (webhooks, metadata, proxy, debug, noweb). */
export const SessionConfig = z.object({
  // Read when first parsed: `WebhookConfig` comes further down (webhooks.config.dto.ts).
  get webhooks() {
    return z.array(WebhookConfig).optional();
  },
  metadata: z.record(z.string(), z.string()).optional(),
  proxy: ProxyConfig.optional(),
  debug: z.boolean().optional(),
  noweb: z.object({
    store: z.object({ enabled: z.boolean(), fullSync: z.boolean() }).optional(),
    markOnline: z.boolean().optional(),
  }).optional(),
});
export type SessionConfig = z.infer<typeof SessionConfig>;

/** WAHA's `WAHASessionStatus` enum (enums.dto.ts), as `SessionDTO.status` uses it. */
export const WAHASessionStatus = z.enum([
  "STOPPED",
  "STARTING",
  "SCAN_QR_CODE",
  "WORKING",
  "FAILED",
]);
export type WAHASessionStatus = z.infer<typeof WAHASessionStatus>;

/** WAHA's `SessionDTO`. */
export const SessionDTO = z.object({
  name: z.string(),
  status: WAHASessionStatus,
  config: SessionConfig.nullable().optional(),
});
export type SessionDTO = z.infer<typeof SessionDTO>;

/** WAHA's `MeInfo`. */
export const MeInfo = z.object({ id: z.string(), pushName: z.string() });
export type MeInfo = z.infer<typeof MeInfo>;

/** WAHA's `SessionInfo`. */
export const SessionInfo = SessionDTO.extend({
  me: MeInfo.nullable().optional(),
  assignedWorker: z.string().optional(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

/** WAHA's `SessionCreateRequest`. */
export const SessionCreateRequest = z.object({
  name: z.string().optional(),
  config: SessionConfig.optional(),
  start: z.boolean().optional(),
});
export type SessionCreateRequest = z.infer<typeof SessionCreateRequest>;

/** WAHA's `SessionUpdateRequest` (`PUT /api/sessions/{session}`). */
export const SessionUpdateRequest = z.object({ config: SessionConfig.optional() });
export type SessionUpdateRequest = z.infer<typeof SessionUpdateRequest>;

// --- src/structures/status.dto.ts ---
// Newer WAHA takes a status's audience as optional: without `contacts` it goes to all contacts.

/** WAHA's chat id of statuses (`BROADCAST_ID`). */
export const BROADCAST_ID = "status@broadcast";

/** WAHA's `StatusRequest`: whom a status goes to (absent: all contacts). */
const StatusRequest = z.object({ contacts: z.array(z.string()).optional() });

/** WAHA's `TextStatus`. */
export const TextStatus = StatusRequest.extend({
  text: z.string(),
  backgroundColor: z.string().optional(),
  font: z.number().optional(),
});
export type TextStatus = z.infer<typeof TextStatus>;

/** WAHA's `ImageStatus`: the image as a `RemoteFile` or a `BinaryFile`. */
export const ImageStatus = StatusRequest.extend({
  file: fileOf(RemoteFileShape, BinaryFileShape),
  caption: z.string().optional(),
});
export type ImageStatus = z.infer<typeof ImageStatus>;

/** WAHA's `VideoStatus`: the video as a `RemoteFile` or a `BinaryFile`. */
export const VideoStatus = StatusRequest.extend({
  file: fileOf(RemoteFileShape, BinaryFileShape),
  caption: z.string().optional(),
});
export type VideoStatus = z.infer<typeof VideoStatus>;

/** WAHA's `DeleteStatusRequest`: the status's own message id (without the chat). */
export const DeleteStatusRequest = StatusRequest.extend({ id: z.string() });
export type DeleteStatusRequest = z.infer<typeof DeleteStatusRequest>;

// --- src/structures/webhooks.config.dto.ts ---

/** WAHA's `RetriesConfiguration`. */
export const RetriesConfiguration = z.object({
  delaySeconds: z.number().optional(),
  attempts: z.number().optional(),
  policy: z.enum(["linear", "exponential", "constant"]).optional(),
});
export type RetriesConfiguration = z.infer<typeof RetriesConfiguration>;

/** WAHA's `CustomHeader`: a header WAHA adds to its webhook posts. */
export const CustomHeader = z.object({ name: z.string(), value: z.string() });
export type CustomHeader = z.infer<typeof CustomHeader>;

/** WAHA's `HmacConfiguration`: `key` signs each post (`X-Webhook-Hmac`, HMAC-SHA512). */
export const HmacConfiguration = z.object({ key: z.string().optional() });
export type HmacConfiguration = z.infer<typeof HmacConfiguration>;

/** WAHA's event names (`WAHAEvents`, src/structures/enums.dto.ts). */
export const WAHAEvents = z.enum([
  "session.status",
  "message",
  "message.reaction",
  "message.any",
  "message.ack",
  "message.waiting",
  "message.revoked",
  "message.edited",
  "state.change",
  "group.join",
  "group.leave",
  "group.v2.join",
  "group.v2.leave",
  "group.v2.update",
  "group.v2.participants",
  "group.v2.participants.join-request",
  "presence.update",
  "poll.vote",
  "poll.vote.failed",
  "chat.archive",
  "call.received",
  "call.accepted",
  "call.rejected",
  "label.upsert",
  "label.deleted",
  "label.chat.added",
  "label.chat.deleted",
]);
export type WAHAEvents = z.infer<typeof WAHAEvents>;

/** WAHA's `WebhookConfig`: where WAHA posts which events of a session. */
export const WebhookConfig = z.object({
  url: z.url({ protocol: /^https?$/ }),
  events: z.array(WAHAEvents),
  hmac: HmacConfiguration.optional(),
  retries: RetriesConfiguration.optional(),
  customHeaders: z.array(CustomHeader).optional(),
});
export type WebhookConfig = z.infer<typeof WebhookConfig>;
