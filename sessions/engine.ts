/**
 * @module
 * The engine contract: what a WhatsApp backend must offer to the routes, and the plain-data shapes that cross the session Worker's boundary. Every type here is
 * structured-clonable: engines turn library objects into these DTOs inside the Worker, and events
 * leave it through one callback. What a call takes is what its route validated: those types come
 * from the routes' schemas (`routes/engine_inputs.ts`), imported as types only, so a Worker never
 * loads zod.
 */
import type {
  ChatListQuery,
  CreateGroupInput,
  EditMessageInput,
  ForwardMessageInput,
  GroupUpdate,
  MediaMessageFields,
  MembershipRequestsChange,
  MessageListQuery,
  MessageRef,
  MuteChatInput,
  ParticipantsChange,
  PinMessageInput,
  RejectCallInput,
  SendContactInput,
  SendLocationInput,
  SendPollInput,
  SendReactionInput,
  SendTextInput,
  SetChatLabelsInput,
  TypingInput,
  UpdateLabelInput,
  UpsertLabelInput,
} from "../routes/engine_inputs.ts";

export type {
  ChatListQuery,
  CreateGroupInput,
  EditMessageInput,
  ForwardMessageInput,
  GroupUpdate,
  MembershipRequestsChange,
  MessageListQuery,
  MessageRef,
  MuteChatInput,
  ParticipantsChange,
  PinMessageInput,
  RejectCallInput,
  SendContactInput,
  SendLocationInput,
  SendPollInput,
  SendReactionInput,
  SendTextInput,
  SetChatLabelsInput,
  TypingInput,
  UpdateLabelInput,
  UpsertLabelInput,
};

// Status, channels and contact details (issue 20).
import type {
  ChannelSearchInput,
  ChannelTextInput,
  CreateChannelInput,
  TextStatusInput,
  UpdateChannelInput,
} from "../routes/engine_inputs.ts";

export type {
  ChannelSearchInput,
  ChannelTextInput,
  CreateChannelInput,
  TextStatusInput,
  UpdateChannelInput,
};

/** Every WAHA-style status of a session, in the order a start goes through them. */
export const SESSION_STATUSES = [
  "STOPPED",
  "STARTING",
  "SCAN_QR_CODE",
  "WORKING",
  "FAILED",
  "CONFLICT",
] as const;

/** The WAHA-style status of a session, finer than the contract's four `state` values. */
export type SessionStatus = typeof SESSION_STATUSES[number];

/** The contract's `state` values. */
export type ContractState = "CONNECTED" | "DISCONNECTED" | "AUTHENTICATING" | "CONFLICT";

/** Maps a detailed status onto the contract's coarse `state`. */
export function toContractState(status: SessionStatus): ContractState {
  switch (status) {
    case "WORKING":
      return "CONNECTED";
    case "STARTING":
    case "SCAN_QR_CODE":
      return "AUTHENTICATING";
    case "CONFLICT":
      return "CONFLICT";
    case "STOPPED":
    case "FAILED":
      return "DISCONNECTED";
  }
}

export type EngineName = "wwebjs" | "simulator" | "waha";

/** Everything an engine needs to start, decided by the manager from the configuration. */
export interface EngineOptions {
  /** The session's phone number (already validated: 7-15 digits). */
  phoneNumber: string;
  /** The session's own folder under `DATA_DIR/sessions/<phoneNumber>` (auth data lives here). */
  sessionDir: string;
  /** Stop after this many QR codes without a scan (0 = never). */
  qrMaxRetries: number;
  /** Simulator: how long its QR waits before it "is scanned". */
  simulatorScanMs: number;
  /** Simulator only: the folder shared by the simulators of all nodes (`SIMULATOR_CLOUD_DIR`). */
  simulatorCloudDir?: string;
  /** Simulator: the number whose phone "scans" (default: the session's own), to try a wrong phone. */
  simulatorLinkAs?: string;
  /**
   * `ENGINE_CALL_TIMEOUT_MS`, for the engine's own calls that no request waits on (a request's
   * call is bounded by the manager, which alone decides that repeated timeouts mean a wedged
   * session). Absent: those calls are not bounded.
   */
  callTimeoutMs?: number;
  /** whatsapp-web.js: an explicit Chromium binary; otherwise it is looked up. */
  chromePath?: string;
  /** whatsapp-web.js: serve WhatsApp Web from `<webVersionCachePath>/<webVersion>.html`. */
  webVersion?: string;
  webVersionCachePath?: string;
  /** whatsapp-web.js: how long to wait for the page to inject (ms). */
  authTimeoutMs?: number;
  /**
   * whatsapp-web.js: how long a start may take to become ready when nobody has to scan, and how
   * long the sync may take once authenticated (ms); past it the engine reports `fatal`.
   */
  readyTimeoutMs?: number;
  /** whatsapp-web.js: start Chromium with `--no-sandbox` although not root. */
  chromiumNoSandbox?: boolean;
  /**
   * whatsapp-web.js in a cluster: the login is kept in the shared store too. The engine reports it
   * (`login` events) once linked, every `intervalMs`, and when it stops; `restore`, a login the
   * main thread read back (newer than the local one), replaces the local login before Chromium
   * starts.
   */
  loginBackup?: { intervalMs: number; restore?: Uint8Array };
  /**
   * What to do with incoming calls (`CALLS_AUTO_REJECT`, `CALLS_AUTO_REJECT_MESSAGE`): reject each
   * at once, and send the caller `message` when it is not null. Absent: calls ring, and are left
   * to `rejectCall`.
   */
  calls?: { autoReject: boolean; message: string | null };
  /** whatsapp-web.js: the proxy its Chromium sends WhatsApp's traffic through (`proxy.ts`). */
  proxy?: EngineProxy;
  /** The waha engine: the WAHA server that runs the number, and how WAHA reaches us back. */
  waha?: WahaEngineOptions;
}

/** Where a waha-engine number runs (`WAHA_URL`/`WAHA_URLS`) and where WAHA posts its events. */
export interface WahaEngineOptions {
  /** The WAHA server's base URL (the operator's, never a tenant's). */
  url: string;
  /** WAHA's `X-Api-Key`, when it has one. */
  apiKey?: string;
  /** How often the engine asks WAHA for the session's status and QR (ms). */
  pollMs: number;
  /** Our inbound endpoints, as WAHA reaches them; absent: WAHA is given no webhook. */
  webhook?: {
    messageUrl: string;
    statusUrl: string;
    /** Sent by WAHA as `X-Api-Key` (our `WEBHOOK_API_KEY`, else the admin key). */
    apiKey: string;
    /** `WEBHOOK_HMAC_SECRET`: WAHA signs each post with it (`X-Webhook-Hmac`). */
    hmacKey?: string;
  };
}

/** A proxy as the engine gives it to Chromium: its host already resolved and checked. */
export interface EngineProxy {
  /** `--proxy-server`: `scheme://address:port` (an IP), or the name for `https` (its TLS needs it). */
  server: string;
  /** `https` only: `--host-resolver-rules`, so Chromium reaches the checked address by that name. */
  hostResolverRules?: string;
  /** Answered to the proxy's `407` challenge. */
  credentials?: { username: string; password: string };
}

export interface Me {
  /**
   * The linked account's phone-number id (`<digits>@c.us`), resolved from its LID where WhatsApp
   * reports one. An engine that cannot learn the number reports what it has (`<digits>@lid`), and
   * the manager refuses a link it cannot check.
   */
  id: string;
  pushName: string;
  /** The account's LID, when the engine knows it (WAHA's `me.lid`). */
  lid?: string;
}

export interface SentMessage {
  messageId: string;
  /** Unix seconds. */
  timestamp: number;
}

export interface MediaInfo {
  mimetype: string;
  filename: string | null;
}

export interface MessageDto {
  id: string;
  chatId: string;
  from: string;
  to: string;
  /** The sender inside a group. */
  author: string | null;
  /**
   * WhatsApp writes many users by a LID (`<digits>@lid`) instead of their phone number. Beside
   * each of `chatId`, `from`, `to` and `author` that is a LID, its phone-number id
   * (`<digits>@c.us`) when the engine knows it.
   */
  chatPn?: string;
  fromPn?: string;
  toPn?: string;
  authorPn?: string;
  fromMe: boolean;
  /**
   * Who wrote it: `api` when this server sent it, `app` when a person did (on the phone, another
   * linked device, or the other side of the chat). Engines that cannot tell leave it out.
   */
  source?: "api" | "app";
  body: string;
  /** whatsapp-web.js message type: chat, image, video, ptt, audio, document, location, vcard, … */
  type: string;
  /** Unix seconds. */
  timestamp: number;
  hasMedia: boolean;
  media: MediaInfo | null;
  /** -1 error, 0 pending, 1 server, 2 device, 3 read, 4 played. */
  ack: number;
  quotedMsgId: string | null;
  /** Starred by this account; absent when not (or when the engine cannot tell). */
  starred?: boolean;
  /** Pinned in its chat until then (Unix seconds); absent when not, or not known. */
  pinnedUntil?: number;
}

export interface MessagePage {
  messages: MessageDto[];
  hasMore: boolean;
  nextCursor?: string;
}

export interface ChatSummary {
  id: string;
  /** For a chat written by a LID: its phone-number id, when known. */
  pn?: string;
  name: string;
  isGroup: boolean;
  unreadCount: number;
  lastMessage?: { body: string; timestamp: number };
  archived: boolean;
  pinned: boolean;
  muted: boolean;
  /** Marked as unread by hand ("mark as unread"), whatever `unreadCount` says. */
  markedUnread: boolean;
}

export interface ChatDetail extends ChatSummary {
  /** Unix seconds of the last activity. */
  timestamp: number;
  /** Muted until then (Unix seconds); -1 for good, 0 when not muted. */
  muteExpiration: number;
}

export interface ChatPage {
  chats: ChatSummary[];
  total: number;
  page: number;
  hasMore: boolean;
}

export interface ContactDto {
  id: string;
  /** For a contact known by its LID: its phone-number id, when known. */
  pn?: string;
  /** For a contact known by its phone number: its LID, when known. */
  lid?: string;
  /** The phone number's digits; empty for a LID whose phone number is not known. */
  number: string;
  name: string | null;
  pushname: string | null;
  isMyContact: boolean;
  isBusiness: boolean;
  isBlocked: boolean;
  isGroup: boolean;
  isUser: boolean;
}

export interface GroupParticipant {
  id: string;
  /** For a member written by a LID: its phone-number id, when known. */
  pn?: string;
  /** For a member written by phone number: its LID, when known. */
  lid?: string;
  isAdmin: boolean;
  isSuperAdmin: boolean;
}

export interface GroupDto {
  id: string;
  subject: string;
  description: string;
  owner: string | null;
  /** For an owner written by a LID: its phone-number id, when known. */
  ownerPn?: string;
  /** Unix seconds, when known. */
  createdAt: number | null;
  participants: GroupParticipant[];
  settings: GroupSettings;
}

/** What a group keeps to its admins, and whether joining needs an admin's approval. */
export interface GroupSettings {
  messagesAdminsOnly: boolean;
  infoAdminsOnly: boolean;
  /** Only admins add members (WhatsApp's `memberAddMode` is `admin_add`). */
  addMembersAdminsOnly: boolean;
  /** Who asks to join by the link waits for an admin's approval. */
  membershipApproval: boolean;
}

export type ParticipantOutcome =
  | "added"
  | "removed"
  | "already_in"
  | "not_in_group"
  | "not_on_whatsapp"
  | "not_allowed";

export interface ParticipantResult {
  id: string;
  result: ParticipantOutcome;
  message?: string;
}

export interface GroupCreated extends GroupDto {
  results: ParticipantResult[];
}

export interface ProfileDto {
  id: string;
  number: string;
  name: string;
  status: string;
  pictureUrl: string | null;
}

/** A LID and the phone-number id it belongs to (`null` when WhatsApp does not say). */
export interface LidMapping {
  lid: string;
  pn: string | null;
}

/** Media already fetched and checked by the HTTP layer, as base64. */
export interface MediaInput {
  mimetype: string;
  /** Base64 of the bytes. */
  data: string;
  filename: string;
}

export type MediaKind = "image" | "video" | "voice" | "audio" | "file";

/** A media message: what its route validated, with its media field fetched and checked. */
export type SendMediaInput = MediaMessageFields & { kind: MediaKind; media: MediaInput };

/** The media of one message, as base64. */
export interface MessageMediaDto extends MediaInput {}

/** A contact's reaction to a message (`emoji` empty: the reaction was taken back). */
export interface ReactionDto {
  messageId: string;
  chatId: string;
  /** Who reacted. */
  from: string;
  emoji: string;
  /** Unix seconds. */
  timestamp: number;
}

/**
 * A vote on a poll, as WhatsApp reports it: the voter's whole choice now (a new vote replaces the
 * voter's last one; empty: the voter took every choice back).
 */
export interface PollVoteDto {
  /** The vote's own message id (made up from the poll and the voter where an engine has none). */
  id: string;
  /** The poll's message id. */
  pollId: string;
  chatId: string;
  /** Who voted. */
  voter: string;
  selectedOptions: string[];
  /** Unix seconds. */
  timestamp: number;
}

/** A poll and the current choice of each voter who has one. */
export interface PollDto {
  pollId: string;
  chatId: string;
  name: string;
  options: string[];
  multipleAnswers: boolean;
  votes: { voter: string; selectedOptions: string[]; timestamp: number }[];
}

/** What WhatsApp tells of a contact in a chat: typing, recording, paused, online or offline. */
export interface PresenceDto {
  chatId: string;
  participant: string;
  presence: "typing" | "recording" | "paused" | "online" | "offline";
  /** Unix seconds of when the contact was last seen, when known. */
  lastSeen: number | null;
}

/**
 * What a test makes the other side of a simulator session do (`routes/simulator.ts`): a contact or
 * group member writes (`from`, required in a group), reacts, receives and reads the phone's
 * message, votes on a poll, types, goes online or offline, leaves a group (`participant` absent:
 * the phone's own account leaves), or the phone unlinks the device or loses its connection.
 */
export type SimulatorAction =
  | {
    type: "message";
    chatId: string;
    from?: string;
    text: string;
    media?: MediaInput;
    quotedMsgId?: string;
  }
  | { type: "reaction"; messageId: string; from?: string; emoji: string }
  | { type: "poll_vote"; pollId: string; from?: string; options: string[] }
  | { type: "ack"; messageId: string; ack: "delivered" | "read" }
  | {
    type: "presence";
    chatId: string;
    from?: string;
    presence: PresenceDto["presence"];
  }
  | { type: "group_leave"; groupId: string; participant?: string }
  /** A contact calls the phone: `call.received` (`SocialCapabilities`). */
  | { type: "call"; from: string; isVideo: boolean }
  /** The phone creates (no `id`) or edits a label, deletes one, or sets a chat's labels. */
  | { type: "label_upsert"; id?: string; name: string; color?: number }
  | { type: "label_delete"; id: string }
  | { type: "chat_labels"; chatId: string; labelIds: string[] }
  // Group admin (issue 20): another member acts on a group (`group_admin.ts` of the simulator).
  | GroupControlAction
  | { type: "unlink" }
  | { type: "disconnect"; reconnectAfterMs: number }
  /** A contact writes every `everyMs` for `durationMs` by itself (`chatter.ts` of the simulator). */
  | {
    type: "chatter";
    chatId: string;
    from?: string;
    everyMs: number;
    durationMs: number;
    text?: string;
    /** The first message at this Unix ms rather than `everyMs` from now. */
    startAt?: number;
  };

/**
 * Events leave the engine through the one callback given to `start`. The manager turns them into
 * status changes and public events.
 */
export type EngineEvent =
  | { type: "status"; status: SessionStatus; reason?: string; me?: Me }
  /** What the QR encodes; the manager draws it (once, on the main thread) when `GET /qr` asks. */
  | { type: "qr"; value: string }
  | { type: "pairing_code"; code: string }
  | { type: "message"; message: MessageDto }
  | { type: "message.any"; message: MessageDto }
  | { type: "message.ack"; messageId: string; chatId: string; ack: number }
  | { type: "message.reaction"; reaction: ReactionDto }
  /** `poll.vote.failed`: a vote whose poll the engine cannot read (its options unknown). */
  | { type: "poll.vote" | "poll.vote.failed"; vote: PollVoteDto }
  /**
   * A message was revoked for everyone (by us or by its sender): `message` as it is now (type
   * `revoked`), `before` as it was, when the engine still knows.
   */
  | { type: "message.revoked"; message: MessageDto; before: MessageDto | null }
  /** A message's text was edited (by us or by its sender): `message` with its new text. */
  | { type: "message.edited"; message: MessageDto; previousBody: string | null }
  | { type: "presence.update"; presence: PresenceDto }
  /** A label was created or changed (`label.upsert`), or deleted (`label.deleted`). */
  | { type: "label.upsert" | "label.deleted"; label: LabelDto }
  /** A label was put on a chat or taken off it (`label` null: the label is not known). */
  | {
    type: "label.chat.added" | "label.chat.deleted";
    labelId: string;
    chatId: string;
    label: LabelDto | null;
  }
  /** A call rings (`call.received`), or we rejected it (`call.rejected`). */
  | { type: "call.received" | "call.rejected"; call: CallDto }
  /** Members left a group; `participants` empty: the account itself left it. */
  | { type: "group.leave"; groupId: string; participants: string[]; timestamp: number }
  | GroupEvent
  /** The engine logged out (from the phone or by request): its auth data is gone. */
  | { type: "logged_out"; reason: string }
  /** The engine cannot go on (browser gone, page crashed): the worker must be replaced. */
  | { type: "fatal"; reason: string }
  /** A child process that must die with the worker (Chromium's process group leader). */
  | { type: "child_process"; pid: number }
  /**
   * The login as an archive, to be kept off this machine (`loginBackup`); `final`: the last one of
   * this run (made at a stop, with the browser closed).
   */
  | { type: "login"; archive: Uint8Array; final: boolean }
  /** WhatsApp refused the saved login, and the engine deleted it: it is worth nothing anywhere. */
  | { type: "login_rejected" };

export type EngineEventSink = (event: EngineEvent) => void;

/**
 * One WhatsApp account's client. Implementations run inside the session's Worker. Every method
 * takes and returns plain data; failures are thrown as {@link EngineError}.
 */
export interface Engine {
  /** Begins connecting; resolves once the engine is running (it may still wait for a scan). */
  start(onEvent: EngineEventSink): Promise<void>;
  /** Closes the client, keeping its login. */
  stop(): Promise<void>;
  /** Unlinks the device and deletes the login. */
  logout(): Promise<void>;
  /** A code to type on the phone instead of scanning ("link with phone number"). */
  requestPairingCode(phoneNumber: string): Promise<string>;

  sendText(input: SendTextInput): Promise<SentMessage>;
  sendMedia(input: SendMediaInput): Promise<SentMessage>;
  sendLocation(input: SendLocationInput): Promise<SentMessage>;
  sendContact(input: SendContactInput): Promise<SentMessage>;
  sendReaction(input: SendReactionInput): Promise<void>;
  deleteMessage(messageId: string): Promise<void>;
  editMessage(input: EditMessageInput): Promise<SentMessage>;
  /** Sends a copy of a message to another chat (shown there as forwarded). */
  forwardMessage(input: ForwardMessageInput): Promise<void>;
  starMessage(messageId: string): Promise<void>;
  unstarMessage(messageId: string): Promise<void>;
  /** Pins a message in its chat for `duration` seconds (one of WhatsApp's three choices). */
  pinMessage(input: PinMessageInput): Promise<void>;
  unpinMessage(messageId: string): Promise<void>;
  sendSeen(chatId: string): Promise<void>;
  setTyping(input: TypingInput): Promise<void>;
  checkNumber(phone: string): Promise<{ exists: boolean; chatId?: string }>;
  getMessageMedia(message: MessageRef): Promise<MessageMediaDto>;

  sendPoll(input: SendPollInput): Promise<SentMessage>;
  /** A poll this session can see, with its voters' current choices. */
  getPollVotes(messageId: string): Promise<PollDto>;

  listChats(query: ChatListQuery): Promise<ChatPage>;
  getChat(chatId: string): Promise<ChatDetail>;
  /** One page of the chat's messages, newest first: page `page` after `before` (or the newest). */
  listMessages(query: MessageListQuery): Promise<MessagePage>;
  archiveChat(chatId: string): Promise<void>;
  unarchiveChat(chatId: string): Promise<void>;
  /** Mutes a chat for `duration` seconds, or for good when absent. */
  muteChat(input: MuteChatInput): Promise<void>;
  unmuteChat(chatId: string): Promise<void>;
  /** Marks a chat unread ("mark as unread"); `sendSeen` marks it read. */
  markChatUnread(chatId: string): Promise<void>;
  pinChat(chatId: string): Promise<void>;
  unpinChat(chatId: string): Promise<void>;
  /** Deletes every message of a chat on this account, keeping the chat. */
  clearChat(chatId: string): Promise<void>;
  /** Deletes a chat with its messages from this account. */
  deleteChat(chatId: string): Promise<void>;

  listContacts(): Promise<ContactDto[]>;
  getContact(contactId: string): Promise<ContactDto>;
  getProfilePictureUrl(contactId: string): Promise<string | null>;
  blockContact(contactId: string): Promise<void>;
  unblockContact(contactId: string): Promise<void>;

  createGroup(input: CreateGroupInput): Promise<GroupCreated>;
  getGroup(groupId: string): Promise<GroupDto>;
  updateGroup(update: GroupUpdate): Promise<GroupDto>;
  leaveGroup(groupId: string): Promise<void>;
  addParticipants(change: ParticipantsChange): Promise<ParticipantResult[]>;
  removeParticipants(change: ParticipantsChange): Promise<ParticipantResult[]>;
  /** The group's invite code (admins only). */
  getGroupInviteCode(groupId: string): Promise<string>;
  /** Invalidates the group's invite code and answers the new one (admins only). */
  revokeGroupInviteCode(groupId: string): Promise<string>;
  /** Joins the group of an invite code; answers the group's id. */
  joinGroup(code: string): Promise<{ id: string }>;
  /** What an invite code leads to, without joining. */
  getGroupInviteInfo(code: string): Promise<GroupInvitePreview>;
  promoteParticipants(change: ParticipantsChange): Promise<AdminResult[]>;
  demoteParticipants(change: ParticipantsChange): Promise<AdminResult[]>;
  /** The group's picture URL, or null when it has none. */
  getGroupPicture(groupId: string): Promise<string | null>;
  setGroupPicture(input: { groupId: string; media: MediaInput }): Promise<void>;
  deleteGroupPicture(groupId: string): Promise<void>;
  /** Who asked to join a group that needs an admin's approval. */
  listMembershipRequests(groupId: string): Promise<MembershipRequestDto[]>;
  approveMembershipRequests(change: MembershipRequestsChange): Promise<MembershipRequestResult[]>;
  rejectMembershipRequests(change: MembershipRequestsChange): Promise<MembershipRequestResult[]>;

  getProfile(): Promise<ProfileDto>;

  /** Every LID the session knows, with its phone-number id where known. */
  listLids(): Promise<LidMapping[]>;
  /** The phone-number id of a LID (`pn: null` when WhatsApp does not say). */
  findPnByLid(lid: string): Promise<LidMapping>;
  /** The LID of a phone-number id (`lid: null` when WhatsApp does not say). */
  findLidByPn(pn: string): Promise<{ lid: string | null; pn: string }>;
  setProfileName(name: string): Promise<void>;
  setProfileStatus(status: string): Promise<void>;
  setProfilePicture(media: MediaInput): Promise<void>;

  /** WhatsApp Business labels: every label of the account. */
  listLabels(): Promise<LabelDto[]>;
  createLabel(input: UpsertLabelInput): Promise<LabelDto>;
  updateLabel(input: UpdateLabelInput): Promise<LabelDto>;
  /** Deletes a label (and takes it off every chat). */
  deleteLabel(labelId: string): Promise<void>;
  getChatLabels(chatId: string): Promise<LabelDto[]>;
  /** Gives a chat exactly these labels (others it had are taken off). */
  setChatLabels(input: SetChatLabelsInput): Promise<void>;
  /** The chats that have a label. */
  getLabelChats(labelId: string): Promise<ChatSummary[]>;
  /** Our own presence for every contact: online or offline. */
  setPresence(presence: "online" | "offline"): Promise<void>;
  /** What is known of the presence in a chat (a contact, or a group's members); subscribes too. */
  getPresence(chatId: string): Promise<ChatPresencesDto>;
  /** Asks WhatsApp for the presence of a chat's contact(s): `presence.update` events follow. */
  subscribePresence(chatId: string): Promise<void>;
  /** What is known of the presence in every chat subscribed to. */
  listPresences(): Promise<ChatPresencesDto[]>;
  /** Rejects a call that is ringing (`call.rejected` follows). */
  rejectCall(input: RejectCallInput): Promise<void>;
  // ---------- status (stories), channels, contact details (issue 20) ----------
  /** Posts a text status (story) on a coloured background. */
  sendTextStatus(input: TextStatusInput): Promise<SentMessage>;
  /** Posts an image or video status, with an optional caption. */
  sendMediaStatus(input: MediaStatusInput): Promise<SentMessage>;
  /** The statuses the account can see now: its contacts' (and its own), by who posted them. */
  listStatuses(): Promise<StatusesOfContact[]>;
  /** Takes back one of the account's own statuses (NOT_FOUND unless it is one, still up). */
  deleteStatus(messageId: string): Promise<void>;
  /** The channels the account follows, owns or administers (`role` narrows them). */
  listChannels(role?: ChannelRole): Promise<ChannelDto[]>;
  /** One channel, by its id (`…@newsletter`) or its invite code. */
  getChannel(idOrInviteCode: string): Promise<ChannelDto>;
  /** Creates a channel the account owns. */
  createChannel(input: CreateChannelInput): Promise<ChannelDto>;
  /** Renames a channel the account owns or administers, or changes its description. */
  updateChannel(input: UpdateChannelInput): Promise<ChannelDto>;
  /** Deletes a channel the account owns. */
  deleteChannel(channelId: string): Promise<void>;
  followChannel(channelId: string): Promise<void>;
  unfollowChannel(channelId: string): Promise<void>;
  muteChannel(channelId: string): Promise<void>;
  unmuteChannel(channelId: string): Promise<void>;
  /** WhatsApp's channel directory, by text or by one of its views. */
  searchChannels(input: ChannelSearchInput): Promise<ChannelDto[]>;
  /** Posts a text to a channel the account owns or administers. */
  sendChannelText(input: ChannelTextInput): Promise<SentMessage>;
  /** Whether each number is on WhatsApp, in the order given (digits, already validated). */
  checkNumbers(phones: string[]): Promise<NumberCheck[]>;
  /** A contact's "about" text; null when their privacy settings hide it. */
  getContactAbout(contactId: string): Promise<string | null>;
  /** A business account's profile; NOT_FOUND for an account that is not a business. */
  getBusinessProfile(contactId: string): Promise<BusinessProfileDto>;

  /**
   * The simulator only (others reject with NOT_IMPLEMENTED): makes the other side act, through the
   * same events as a real phone's. Answers the message that arrived, for `message`; else null.
   */
  simulate(action: SimulatorAction): Promise<SentMessage | null>;
}

/** The names of the engine's capability calls (everything but the lifecycle). */
export type EngineMethod = Exclude<keyof Engine, "start" | "stop">;

/** How an engine failure maps to HTTP: 404, 501, 400, and 409 for a session that lost its link. */
export type EngineErrorKind = "NOT_FOUND" | "NOT_IMPLEMENTED" | "BAD_REQUEST" | "NOT_READY";

/** An engine failure as plain data: what crosses the Worker boundary in place of the error. */
export interface EngineFailure {
  kind: EngineErrorKind;
  message: string;
}

/** A failure the HTTP layer maps to a status, by its `kind`. */
export class EngineError extends Error {
  readonly kind: EngineErrorKind;
  constructor(kind: EngineErrorKind, message: string) {
    super(message);
    this.kind = kind;
    this.name = "EngineError";
  }

  toFailure(): EngineFailure {
    return { kind: this.kind, message: this.message };
  }

  static fromFailure(failure: EngineFailure): EngineError {
    return new EngineError(failure.kind, failure.message);
  }
}

export function notFound(what: string): EngineError {
  return new EngineError("NOT_FOUND", what);
}

export function notImplemented(capability: string, engine: EngineName): EngineError {
  return new EngineError(
    "NOT_IMPLEMENTED",
    `"${capability}" is not supported by the ${engine} engine`,
  );
}

/** The chat and message housekeeping methods (issue 20), as each engine's module provides them. */
export type OrganizeCapabilities = Pick<
  Engine,
  | "forwardMessage"
  | "starMessage"
  | "unstarMessage"
  | "pinMessage"
  | "unpinMessage"
  | "archiveChat"
  | "unarchiveChat"
  | "muteChat"
  | "unmuteChat"
  | "markChatUnread"
  | "pinChat"
  | "unpinChat"
  | "clearChat"
  | "deleteChat"
>;

// ---------- labels, presence and calls (issue 20) ----------

/** WhatsApp's label colours, by their number (`LabelDto.color`), as WhatsApp Business shows them. */
export const LABEL_COLORS = [
  "#ff9485",
  "#64c4ff",
  "#ffd429",
  "#dfaef0",
  "#99b6c1",
  "#55ccb3",
  "#ff9dff",
  "#d3a91d",
  "#6d7cce",
  "#d7e752",
  "#00d0e2",
  "#ffc5c7",
  "#93ceac",
  "#f74848",
  "#00a0f2",
  "#83e422",
  "#ffaf04",
  "#b5ebff",
  "#9ba6ff",
  "#9368cf",
] as const;

/** A WhatsApp Business label (WAHA's `Label`). */
export interface LabelDto {
  id: string;
  name: string;
  /** The colour's number in {@link LABEL_COLORS}; null for a colour outside them. */
  color: number | null;
  colorHex: string;
}

/** A call to this account (WAHA's `CallData`). */
export interface CallDto {
  id: string;
  /** Who calls. */
  from: string;
  /** Unix seconds. */
  timestamp: number;
  isVideo: boolean;
  isGroup: boolean;
}

/** What is known of the presence in one chat: its contact's, or each group member's. */
export interface ChatPresencesDto {
  chatId: string;
  presences: Omit<PresenceDto, "chatId">[];
}

/** The labels, presence and call methods (issue 20), as each engine's module provides them. */
export type SocialCapabilities = Pick<
  Engine,
  | "listLabels"
  | "createLabel"
  | "updateLabel"
  | "deleteLabel"
  | "getChatLabels"
  | "setChatLabels"
  | "getLabelChats"
  | "setPresence"
  | "getPresence"
  | "subscribePresence"
  | "listPresences"
  | "rejectCall"
>;

// ---------- group admin (issue 20) ----------

/** What an invite code leads to (WhatsApp's preview of a group before joining). */
export interface GroupInvitePreview {
  id: string;
  subject: string;
  description: string;
  owner: string | null;
  /** Unix seconds, when known. */
  createdAt: number | null;
  /** How many members it has. */
  size: number;
  /** Whether an admin must approve who joins by the link. */
  membershipApproval: boolean;
}

export type AdminOutcome = "promoted" | "demoted" | "not_in_group" | "not_allowed";

/** What became of one participant of a promotion or demotion. */
export interface AdminResult {
  id: string;
  result: AdminOutcome;
  message?: string;
}

/** Someone who asked to join a group that needs an admin's approval. */
export interface MembershipRequestDto {
  id: string;
  /** Who made the request (the requester, or a member who tried to add them). */
  addedBy: string | null;
  /** How: `invite_link`, `non_admin_add`, `linked_group_join`, when known. */
  requestMethod: string | null;
  /** Unix seconds. */
  timestamp: number;
}

/** What became of one membership request (`error`: WhatsApp's code, 404 for no such request). */
export interface MembershipRequestResult {
  id: string;
  success: boolean;
  error?: number;
  message?: string;
}

/** A change of a group's info, as `group.v2.update` tells it. */
export type GroupChange = "subject" | "description" | "settings" | "picture";

/**
 * Group events in WAHA's vocabulary: the account joined or was added (`group.v2.join`, with the
 * group and its invite code when we may see it), members joined, left, were promoted or demoted
 * (`group.v2.participants`), the group's info changed (`group.v2.update`, with the group now),
 * a request to join (`group.v2.participants.join-request`).
 * Our own leaving stays the `group.leave` event above.
 */
export type GroupEvent =
  | { type: "group.join"; group: GroupDto; invite: string | null; timestamp: number }
  | {
    type: "group.participants";
    groupId: string;
    change: "join" | "leave" | "promote" | "demote";
    participants: string[];
    timestamp: number;
  }
  | {
    type: "group.update";
    group: GroupDto;
    change: GroupChange;
    /** Who changed it, when known. */
    author: string | null;
    timestamp: number;
  }
  /** Someone asked to join (`created`), or an admin rejected the request (`rejected`). */
  | {
    type: "group.join_request";
    groupId: string;
    action: "created" | "rejected" | "revoked";
    requester: string;
    /** How: `invite_link`, `non_admin_add`, `linked_group_join`, when known. */
    requestMethod: string | null;
    timestamp: number;
  };

/**
 * What a test makes the other side of a group do on the simulator: `by`, an admin of it, promotes
 * or demotes a member (the phone's account included: `participant` absent); changes its info;
 * adds the phone's account to a group (made when it does not exist) or another member joins; a
 * contact asks to join.
 */
export type GroupControlAction =
  | {
    type: "group_admin";
    groupId: string;
    by: string;
    participant?: string;
    action: "promote" | "demote";
  }
  | {
    type: "group_settings";
    groupId: string;
    by: string;
    subject?: string;
    description?: string;
    messagesAdminsOnly?: boolean;
    infoAdminsOnly?: boolean;
  }
  | { type: "group_join"; groupId: string; by?: string; participant?: string; subject?: string }
  | { type: "group_request"; groupId: string; participant: string };

/** The group admin methods (issue 20), as each engine's module provides them. */
export type GroupAdminCapabilities = Pick<
  Engine,
  | "getGroupInviteCode"
  | "revokeGroupInviteCode"
  | "joinGroup"
  | "getGroupInviteInfo"
  | "promoteParticipants"
  | "demoteParticipants"
  | "getGroupPicture"
  | "setGroupPicture"
  | "deleteGroupPicture"
  | "listMembershipRequests"
  | "approveMembershipRequests"
  | "rejectMembershipRequests"
>;

// ---------- status (stories), channels (newsletters), contact details (issue 20) ----------

/** An image or video status: its media fetched and checked by the HTTP layer. */
export interface MediaStatusInput {
  kind: "image" | "video";
  media: MediaInput;
  caption?: string;
}

/** The statuses one account posted that are still up (24 hours), oldest first. */
export interface StatusesOfContact {
  /** Who posted them (the linked account itself for its own). */
  contactId: string;
  /** Unix seconds of the newest. */
  lastStatusAt: number;
  /** How many of them the account has not viewed. */
  unreadCount: number;
  statuses: MessageDto[];
}

/** The account's relation to a channel, in WAHA's words. */
export type ChannelRole = "OWNER" | "ADMIN" | "SUBSCRIBER" | "GUEST";

/** A channel (newsletter), in WAHA's shape plus what WhatsApp tells of it. */
export interface ChannelDto {
  /** `<digits>@newsletter`. */
  id: string;
  name: string;
  description: string;
  /** Its invite link (`https://whatsapp.com/channel/<code>`). */
  invite: string;
  picture: string | null;
  verified: boolean;
  role: ChannelRole;
  /** How many follow it, when WhatsApp says. */
  subscribersCount: number | null;
  muted: boolean;
}

/** One number of a bulk check. */
export interface NumberCheck {
  phone: string;
  exists: boolean;
  chatId?: string;
}

/** What a business account tells of itself. */
export interface BusinessProfileDto {
  id: string;
  description: string;
  categories: string[];
  email: string | null;
  websites: string[];
  address: string | null;
}

/** Status (stories), as each engine's module provides them. */
export type StatusCapabilities = Pick<
  Engine,
  "sendTextStatus" | "sendMediaStatus" | "listStatuses" | "deleteStatus"
>;

/** Channels (newsletters), as each engine's module provides them. */
export type ChannelCapabilities = Pick<
  Engine,
  | "listChannels"
  | "getChannel"
  | "createChannel"
  | "updateChannel"
  | "deleteChannel"
  | "followChannel"
  | "unfollowChannel"
  | "muteChannel"
  | "unmuteChannel"
  | "searchChannels"
  | "sendChannelText"
>;

/** A contact's details beyond the address book, and bulk number checks. */
export type ContactDetailCapabilities = Pick<
  Engine,
  "checkNumbers" | "getContactAbout" | "getBusinessProfile"
>;
