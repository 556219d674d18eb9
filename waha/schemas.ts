/**
 * @module
 * WAHA's REST API as data: one zod schema per WAHA DTO class, named as WAHA names the class, with
 * its fields and their optionality (transcribed from WAHA's `src/structures/*.dto.ts`; names and
 * types only). Responses are loose (WAHA may add fields); requests that a fake must check field by
 * field are strict. Engine code imports the types only (a session Worker never loads zod).
 */
import { z } from "@hono/zod-openapi";

// --- src/structures/auth.dto.ts ---

/** WAHA's `QRCodeValue`: the raw text the QR encodes (`GET /api/{session}/auth/qr?format=raw`). */
export const QRCodeValue = z.looseObject({ value: z.string() });
export type QRCodeValue = z.infer<typeof QRCodeValue>;

/** WAHA's `RequestCodeRequest` (`POST /api/{session}/auth/request-code`). */
export const RequestCodeRequest = z.object({
  phoneNumber: z.string(),
  method: z.string().nullable().optional(),
}).strict();
export type RequestCodeRequest = z.infer<typeof RequestCodeRequest>;

/** WAHA's `PairingCodeResponse`. */
export const PairingCodeResponse = z.looseObject({ code: z.string() });
export type PairingCodeResponse = z.infer<typeof PairingCodeResponse>;

// --- src/structures/chatting.dto.ts ---

/** WAHA's `ChatRequest` (with `SessionBaseRequest`'s `session`). */
export const ChatRequest = z.object({ session: z.string(), chatId: z.string() }).strict();
export type ChatRequest = z.infer<typeof ChatRequest>;

/** WAHA's `SendSeenRequest`. */
export const SendSeenRequest = ChatRequest.extend({
  messageId: z.string().optional(),
  participant: z.string().nullable().optional(),
}).strict();
export type SendSeenRequest = z.infer<typeof SendSeenRequest>;

/** WAHA's `VCardContact`. */
export const VCardContact = z.object({ vcard: z.string() }).strict();
export type VCardContact = z.infer<typeof VCardContact>;

/** WAHA's `Contact` (of a contact card). */
export const Contact = z.object({
  fullName: z.string(),
  organization: z.string().optional(),
  phoneNumber: z.string(),
  whatsappId: z.string().optional(),
  vcard: z.string().nullable().optional(),
}).strict();
export type Contact = z.infer<typeof Contact>;

/** WAHA's `MessageContactVcardRequest` (`POST /api/sendContactVcard`). */
export const MessageContactVcardRequest = ChatRequest.extend({
  contacts: z.array(z.union([VCardContact, Contact])),
}).strict();
export type MessageContactVcardRequest = z.infer<typeof MessageContactVcardRequest>;

/** WAHA's `MessageTextRequest` (`POST /api/sendText`). */
export const MessageTextRequest = ChatRequest.extend({
  text: z.string(),
  mentions: z.array(z.string()).optional(),
  reply_to: z.string().optional(),
}).strict();
export type MessageTextRequest = z.infer<typeof MessageTextRequest>;

/** WAHA's `EditMessageRequest` (`PUT /api/{session}/chats/{chatId}/messages/{messageId}`). */
export const EditMessageRequest = z.object({
  text: z.string(),
  mentions: z.array(z.string()).optional(),
}).strict();
export type EditMessageRequest = z.infer<typeof EditMessageRequest>;

/** WAHA's `MessageLocationRequest` (`POST /api/sendLocation`). */
export const MessageLocationRequest = ChatRequest.extend({
  latitude: z.number(),
  longitude: z.number(),
  title: z.string(),
  reply_to: z.string().optional(),
}).strict();
export type MessageLocationRequest = z.infer<typeof MessageLocationRequest>;

/** The `file` of WAHA's `FileRequest` (read when first parsed: its classes come further down). */
const fileField = () => z.union([RemoteFile, BinaryFile]);

/** WAHA's `MessageImageRequest` (`POST /api/sendImage`). */
export const MessageImageRequest = z.object({
  ...ChatRequest.shape,
  get file() {
    return fileField();
  },
  caption: z.string().optional(),
  reply_to: z.string().optional(),
}).strict();
export type MessageImageRequest = z.infer<typeof MessageImageRequest>;

/** WAHA's `MessageFileRequest` (`POST /api/sendFile`). */
export const MessageFileRequest = z.object({
  ...ChatRequest.shape,
  get file() {
    return fileField();
  },
  caption: z.string().optional(),
  reply_to: z.string().optional(),
}).strict();
export type MessageFileRequest = z.infer<typeof MessageFileRequest>;

/** WAHA's `MessageVoiceRequest` (`POST /api/sendVoice`). */
export const MessageVoiceRequest = z.object({
  ...ChatRequest.shape,
  get file() {
    return fileField();
  },
  reply_to: z.string().optional(),
}).strict();
export type MessageVoiceRequest = z.infer<typeof MessageVoiceRequest>;

/** WAHA's `MessageVideoRequest` (`POST /api/sendVideo`). */
export const MessageVideoRequest = z.object({
  ...ChatRequest.shape,
  get file() {
    return fileField();
  },
  caption: z.string().optional(),
  reply_to: z.string().optional(),
  asNote: z.boolean().optional(),
}).strict();
export type MessageVideoRequest = z.infer<typeof MessageVideoRequest>;

/** WAHA's `MessageForwardRequest` (`POST /api/forwardMessage`). */
export const MessageForwardRequest = ChatRequest.extend({ messageId: z.string() }).strict();
export type MessageForwardRequest = z.infer<typeof MessageForwardRequest>;

/** WAHA's `MessageReactionRequest` (`PUT /api/reaction`; `reaction` empty takes it back). */
export const MessageReactionRequest = z.object({
  session: z.string(),
  messageId: z.string(),
  reaction: z.string(),
}).strict();
export type MessageReactionRequest = z.infer<typeof MessageReactionRequest>;

/** WAHA's `MessageStarRequest` (`PUT /api/star`). */
export const MessageStarRequest = z.object({
  session: z.string(),
  messageId: z.string(),
  chatId: z.string(),
  star: z.boolean(),
}).strict();
export type MessageStarRequest = z.infer<typeof MessageStarRequest>;

/** WAHA's `WANumberExistResult` (`GET /api/contacts/check-exists`). */
export const WANumberExistResult = z.looseObject({
  numberExists: z.boolean(),
  chatId: z.string().optional(),
});
export type WANumberExistResult = z.infer<typeof WANumberExistResult>;

/** WAHA's `MessagePoll`. */
export const MessagePoll = z.object({
  name: z.string(),
  options: z.array(z.string()),
  multipleAnswers: z.boolean().optional(),
}).strict();
export type MessagePoll = z.infer<typeof MessagePoll>;

/** WAHA's `MessagePollRequest` (`POST /api/sendPoll`). */
export const MessagePollRequest = ChatRequest.extend({
  poll: MessagePoll,
  reply_to: z.string().optional(),
}).strict();
export type MessagePollRequest = z.infer<typeof MessagePollRequest>;

// --- src/structures/contacts.dto.ts ---

/** WAHA's `ContactRequest` (`POST /api/contacts/block`, `/unblock`). */
export const ContactRequest = z.object({ session: z.string(), contactId: z.string() }).strict();
export type ContactRequest = z.infer<typeof ContactRequest>;

// --- src/structures/files.dto.ts ---

/** WAHA's `RemoteFile`. */
export const RemoteFile = z.object({
  mimetype: z.string(),
  filename: z.string().optional(),
  url: z.string(),
}).strict();
export type RemoteFile = z.infer<typeof RemoteFile>;

/** WAHA's `BinaryFile`: the bytes as base64. */
export const BinaryFile = z.object({
  mimetype: z.string(),
  filename: z.string().optional(),
  data: z.string(),
}).strict();
export type BinaryFile = z.infer<typeof BinaryFile>;

// --- src/structures/responses.dto.ts ---

/** WAHA's `WAMessage`, as its send calls answer and its chats list them. */
export const WAMessage = z.looseObject({
  id: z.string(),
  timestamp: z.number(),
  from: z.string(),
  fromMe: z.boolean(),
  to: z.string(),
  participant: z.string().nullable().optional(),
  body: z.string().nullable().optional(),
  hasMedia: z.boolean().optional(),
  media: z.looseObject({
    url: z.string().nullable().optional(),
    mimetype: z.string().nullable().optional(),
    filename: z.string().nullable().optional(),
  }).nullable().optional(),
  ack: z.number().nullable().optional(),
  ackName: z.string().nullable().optional(),
  author: z.string().nullable().optional(),
  vCards: z.array(z.string()).nullable().optional(),
  replyTo: z.looseObject({ id: z.string().optional() }).nullable().optional(),
  _data: z.unknown().optional(),
});
export type WAMessage = z.infer<typeof WAMessage>;

// --- src/structures/sessions.dto.ts ---

/** WAHA's `SessionConfig` (the webhooks part and the fields beside it). */
export const SessionConfig = z.object({
  get webhooks() {
    return z.array(WebhookConfig).optional();
  },
  metadata: z.record(z.string(), z.string()).optional(),
  proxy: z.object({
    server: z.string(),
    username: z.string().optional(),
    password: z.string().optional(),
  }).optional(),
  debug: z.boolean().optional(),
  noweb: z.object({
    store: z.object({ enabled: z.boolean(), fullSync: z.boolean() }).optional(),
    markOnline: z.boolean().optional(),
  }).optional(),
}).strict();
export type SessionConfig = z.infer<typeof SessionConfig>;

/** WAHA's statuses of a session (`WAHASessionStatus`, src/structures/enums.dto.ts). */
export const WAHASessionStatus = z.enum([
  "STOPPED",
  "STARTING",
  "SCAN_QR_CODE",
  "WORKING",
  "FAILED",
]);
export type WAHASessionStatus = z.infer<typeof WAHASessionStatus>;

/** WAHA's `SessionDTO`. */
export const SessionDTO = z.looseObject({
  name: z.string(),
  status: WAHASessionStatus,
  config: z.unknown().optional(),
});
export type SessionDTO = z.infer<typeof SessionDTO>;

/** WAHA's `MeInfo`. */
export const MeInfo = z.looseObject({ id: z.string(), pushName: z.string().nullable().optional() });
export type MeInfo = z.infer<typeof MeInfo>;

/** WAHA's `SessionInfo` (`GET /api/sessions/{session}`). */
export const SessionInfo = SessionDTO.extend({
  me: MeInfo.nullable().optional(),
  assignedWorker: z.string().optional(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

/** WAHA's `SessionCreateRequest` (`POST /api/sessions`; 422 when the name exists). */
export const SessionCreateRequest = z.object({
  name: z.string().max(54).optional(),
  config: SessionConfig.optional(),
  start: z.boolean().optional(),
}).strict();
export type SessionCreateRequest = z.infer<typeof SessionCreateRequest>;

/** WAHA's `SessionUpdateRequest` (`PUT /api/sessions/{session}`). */
export const SessionUpdateRequest = z.object({ config: SessionConfig.optional() }).strict();
export type SessionUpdateRequest = z.infer<typeof SessionUpdateRequest>;

// --- src/structures/webhooks.config.dto.ts ---

/** WAHA's `RetriesConfiguration`. */
export const RetriesConfiguration = z.object({
  delaySeconds: z.number().optional(),
  attempts: z.number().optional(),
  policy: z.enum(["linear", "exponential", "constant"]).optional(),
}).strict();
export type RetriesConfiguration = z.infer<typeof RetriesConfiguration>;

/** WAHA's `CustomHeader`: a header WAHA adds to its webhook posts. */
export const CustomHeader = z.object({ name: z.string(), value: z.string() }).strict();
export type CustomHeader = z.infer<typeof CustomHeader>;

/** WAHA's `HmacConfiguration`: `key` signs each post (`X-Webhook-Hmac`, HMAC-SHA512). */
export const HmacConfiguration = z.object({ key: z.string().optional() }).strict();
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
  "state.change",
  "group.join",
  "group.leave",
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
}).strict();
export type WebhookConfig = z.infer<typeof WebhookConfig>;
