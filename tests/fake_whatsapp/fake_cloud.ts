/**
 * @module
 * A fake "WhatsApp cloud" for tests: an HTTP server on 127.0.0.1 that the fake WhatsApp Web page
 * (`page/2.3000.1017054665.html`) talks to, and that the test drives like the phone and the rest
 * of the world: scan the QR (with the account's own phone or another number's), type a pairing
 * code, deliver messages and acks, unlink the device, open WhatsApp Web elsewhere. It records what
 * the page sent. The linked account can be reported to the page by its LID only, the way WhatsApp
 * Web may report `me`, with or without the mapping to its phone number; users, chats and groups
 * can be written by LID (`lidMap`, `serverLidMap`, `accountLid`, groups' `addressingMode`). It
 * also plays WhatsApp's rougher sides: a page that syncs before whatsapp-web.js listens or never
 * finishes loading, QR codes that go idle, media the CDN expired, messages that arrive before
 * their keys, slow link previews, messages written on the phone, votes on polls. It collects what the page could
 * not give whatsapp-web.js (`strictness`) and fails `close()` on it. Start it with
 * {@link startFakeCloud}; it writes the page, with its own URL filled in, into a temporary
 * `webVersionCache` folder for whatsapp-web.js.
 */

/** What the phone holds about a chat, as seeded by a test. */
export interface SeedChat {
  id: string;
  name?: string;
  archived?: boolean;
  pinned?: boolean;
  unreadCount?: number;
  muteExpiration?: number;
  group?: Omit<CloudGroup, "id">;
  /** The ids of the chat's labels (a business account's). */
  labels?: string[];
}

/** A WhatsApp Business label as the cloud holds it. */
export interface CloudLabel {
  id: string;
  name: string;
  /** WhatsApp's colour number (0-19). */
  colorIndex: number;
}

/** A call to the account (see {@link FakeCloud.call}) and whether the page rejected it. */
export interface CloudCall {
  id: string;
  from: string;
  isVideo: boolean;
  /** Unix seconds. */
  offerTime: number;
  /** The reject stanza the page sent for it, if any. */
  rejected: { from: string; to: string; creator: string } | null;
}

export interface SeedContact {
  id: string;
  name?: string;
  pushname?: string;
  shortName?: string;
  isMyContact?: boolean;
  isBusiness?: boolean;
  isWAContact?: boolean;
  isContactBlocked?: boolean;
  profilePicUrl?: string;
  /** The contact's "about" text. */
  about?: string;
  /** Their privacy settings hide their "about" text. */
  aboutHidden?: boolean;
  /** A business account's profile, as WhatsApp Web's BusinessProfile model holds it. */
  businessProfile?: Record<string, unknown>;
}

/** A group as the cloud holds it (and sends it to the page). */
export interface CloudGroup {
  id: string;
  subject: string;
  desc?: string;
  descId?: string;
  owner?: string;
  creation?: number;
  announce?: boolean;
  restrict?: boolean;
  /** `lid`: WhatsApp addresses the group's members (and its messages' authors) by LID. */
  addressingMode?: "pn" | "lid";
  participants: { id: string; isAdmin?: boolean; isSuperAdmin?: boolean }[];
  /** The group's invite code, once an admin asked for one. */
  invite?: string;
  /** Requests to join, waiting for an admin. */
  requests?: { id: string; addedBy?: string; requestMethod: string; t: number }[];
  /** Only admins approve who joins by the link. */
  membershipApprovalMode?: boolean;
  /** Who may add members (WhatsApp's default: everyone). */
  memberAddMode?: "admin_add" | "all_member_add";
  /** The group's picture URL (sent to the page; the cloud keeps it in `pictures`). */
  picture?: string;
}

/** What another member does to a group from their phone (`FakeCloud.actInGroup`). */
export type GroupActByOther =
  | { promote: string[] }
  | { demote: string[] }
  | { subject: string }
  | { desc: string }
  | { announce: boolean }
  | { restrict: boolean };

/** A message as the cloud and the page exchange it (`id` is the stanza id). */
export interface CloudMessage {
  id: string;
  chatId: string;
  from: string;
  to: string;
  author?: string;
  fromMe: boolean;
  type: string;
  body?: string;
  caption?: string;
  mimetype?: string;
  filename?: string;
  directPath?: string;
  t: number;
  ack: number;
  quotedMsgId?: string | null;
  lat?: number;
  lng?: number;
  loc?: string;
  vcardFormattedName?: string;
  /** Starred by the account (synced from any of its devices). */
  star?: boolean;
  /** Pinned in its chat until then (Unix seconds). */
  pinnedUntil?: number;
  /** For `poll_creation`: the question, its options and how many a voter may choose (0: any). */
  pollName?: string;
  pollOptions?: { name: string; localId: number }[];
  pollSelectableOptionsCount?: number;
}

/** A vote cast on the phone of a contact or group member (`FakeCloud.vote`). */
export interface CloudVote {
  /** The vote's stanza id. */
  id: string;
  /** The poll's serialized id. */
  pollId: string;
  voter: string;
  /** The options chosen, by their place in the poll (`localId`). */
  selectedOptionLocalIds: number[];
  senderTimestampMs: number;
}

/** A channel (newsletter) as WhatsApp's servers hold it, with the account's relation to it. */
export interface CloudChannel {
  /** `<digits>@newsletter`. */
  id: string;
  name: string;
  description?: string;
  inviteCode: string;
  verified?: boolean;
  subscribers?: number;
  /** The account's relation to it. */
  role: "owner" | "admin" | "subscriber" | "guest";
  /** The account muted it. */
  muted?: boolean;
  /** Unix seconds. */
  createdAt?: number;
}

/** A status (story) a contact posted, as the page learns it at link time. */
export interface CloudStatus {
  /** Who posted it. */
  contactId: string;
  /** The stanza id. */
  id: string;
  body: string;
  type?: string;
  t: number;
  /** Already viewed on one of the account's devices. */
  viewed?: boolean;
}

/** A status the page posted: a text with its colour (ARGB) and font, or media with a caption. */
export interface StatusPost {
  type: string;
  text?: string;
  color?: number;
  font?: number;
  caption?: string;
  media: { mimetype: string; data: string } | null;
  /** The serialized id of the message the page posted (media statuses). */
  id?: string;
}

/** A message the page sent, with its media resolved. */
export interface SentRecord {
  /** The serialized id (`true_<chat>_<id>`). */
  id: string;
  chatId: string;
  type: string;
  body?: string;
  caption?: string;
  quotedMsgId: string | null;
  media: { mimetype: string; filename: string; data: string } | null;
  /** For `location`: the coordinates and the description (name and address lines). */
  location?: { latitude: number; longitude: number; description: string | null };
  /** For `vcard`: the name shown on the card. */
  vcardName?: string;
  /** For `ptt` (voice notes). */
  isPtt?: boolean;
  /**
   * For `poll_creation`: the question, the options in order, how many a voter may choose (1, or
   * 0 for any number) and whether the page sent the 32-byte secret votes are encrypted with.
   */
  poll?: { name: string; options: string[]; selectableOptionsCount: number; hasSecret: boolean };
  /** For `groups_v4_invite`: the private invitation to a group. */
  invite?: { groupId: string; groupName: string; code: string };
  /** Sent as a forward of another message. */
  forwarded: boolean;
  /** The link preview card sent with a text, if any. */
  linkPreview: { url: string; title: string; description: string } | null;
  /**
   * The stanza's `type` attribute and media type, as WhatsApp Web derives them from the message's
   * protobuf (the functions whatsapp-web.js patches: a location is sent as `text`, not media).
   */
  stanza: { type: string; mediatype: string | null };
  raw: Record<string, unknown>;
}

/** The card WhatsApp's servers make for a link. */
export interface LinkPreviewCard {
  title: string;
  description: string;
}

/** A profile picture the page set (JPEG data URLs, as WhatsApp Web crops them). */
export interface PictureRecord {
  id: string;
  thumb: string;
  picture: string;
  url: string;
}

export interface FakeCloudOptions {
  /** The account's own id. */
  me?: string;
  pushName?: string;
  /** How often an unscanned QR is replaced (ms). */
  qrRotateMs?: number;
  /**
   * After this many replacements an unscanned QR stops rotating and the page goes
   * `UNPAIRED_IDLE` ("click to reload"), until it asks for a refresh. Never, by default.
   */
  qrIdleAfter?: number;
  /** How many recent messages per chat the page gets at link time (the rest via history). */
  recentPerChat?: number;
  chats?: SeedChat[];
  contacts?: SeedContact[];
  /** Numbers (`<digits>@c.us`) registered on WhatsApp besides the contacts. */
  registered?: string[];
  /** Numbers whose privacy settings refuse being added to groups (they get an invitation). */
  refuseGroupAdd?: string[];
  /** The account's own "about" text. */
  about?: string;
  /** The account's LID: the page then reports `me` by it (see {@link LinkingPhone}). */
  meLid?: string;
  /**
   * The account's LID in normal operation (the page knows it beside the phone number and writes
   * to LID chats as it). Unlike {@link meLid}, `me` is still reported by its phone number.
   */
  accountLid?: string;
  /**
   * LIDs and the phone numbers WhatsApp Web knows them by at link time (`<lid>` → `<pn>`). Chats,
   * contacts, group members and authors are then written by the LID wherever a test seeds them
   * so; a LID in none of these maps has no phone number WhatsApp will tell.
   */
  lidMap?: Record<string, string>;
  /** LID mappings WhatsApp's server reveals when asked (a number check), not known at link time. */
  serverLidMap?: Record<string, string>;
  /** The cards WhatsApp's servers make for links (by URL); other links get none. */
  linkPreviews?: Record<string, LinkPreviewCard>;
  /** How long fetching a link's card takes (a slow site). */
  linkPreviewDelayMs?: number;
  /** A WhatsApp Business account (the page's platform `smba`): it has labels. */
  business?: boolean;
  /** The business account's labels. */
  labels?: CloudLabel[];
  /** Channels WhatsApp knows: those the account follows or runs reach the page at link time. */
  channels?: CloudChannel[];
  /** Statuses the account's contacts posted. */
  statuses?: CloudStatus[];
}

/** The phone that links a device, and how the page is to report its account. */
export interface LinkingPhone {
  /** Its account (`<digits>@c.us`); the cloud's own `me` by default. */
  phone?: string;
  /**
   * Its LID (`<digits>@lid`): the page reports `me` by it alone (`getMaybeMePnUser()` empty) and
   * maps it to `phone` (WhatsApp Web's LID mapping), unless `unmapped`.
   */
  lid?: string;
  /** WhatsApp Web knows the LID but not its phone number. */
  unmapped?: boolean;
}

type PageEvent = Record<string, unknown> & { type: string };

/** A stanza as WhatsApp Web's WAWap builds it. */
interface Stanza {
  tag: string;
  attrs: Record<string, unknown>;
  content?: Stanza[];
}

interface Device {
  id: string;
  keys: { staticKey: string; identityKey: string; advSecret: string; platform: string };
  paired: boolean;
  ref: string | null;
  pairingMode: boolean;
  events: { seq: number; event: PageEvent }[];
  seq: number;
  waiters: Set<() => void>;
  timer?: ReturnType<typeof setInterval>;
}

const WEB_VERSION = "2.3000.1017054665";
const PAGE_TEMPLATE = new URL(`./page/${WEB_VERSION}.html`, import.meta.url);

/** A 1x1 PNG. */
const PIXEL =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

function randomToken(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Base64, natively: the cloud shares the test's thread with the server's supervisor, whose
 * heartbeat checks a large media file's slow encoding would delay.
 */
function base64(bytes: Uint8Array): string {
  return (bytes as Uint8Array & { toBase64(): string }).toBase64();
}

/** The fake cloud: state, controls and the HTTP server. */
export class FakeCloud {
  readonly me: string;
  /** The account's display name (changed by the page's setPushname). */
  pushName: string;
  /** The account's "about" text (changed by the page's setMyStatus). */
  about: string;
  readonly webVersion = WEB_VERSION;
  webVersionCachePath = "";
  url = "";
  qrRotateMs: number;
  qrIdleAfter: number;
  /** The query of every page load (`?post_logout=1` after a logout), in order. */
  readonly pageLoads: string[] = [];
  /** How often a page asked for a fresh QR. */
  qrRefreshes = 0;
  /** The credential of the linked device, or null when nothing is linked. */
  credential: string | null = null;
  /** The phone that linked the device, while one is linked. */
  linkedBy: Required<Pick<LinkingPhone, "phone">> & LinkingPhone | null = null;
  readonly #meLid?: string;
  readonly accountLid?: string;
  readonly lidMap: Map<string, string>;
  readonly serverLidMap: Map<string, string>;
  readonly sent: SentRecord[] = [];
  /** Votes cast on polls, oldest first (see {@link vote}). */
  readonly votes: CloudVote[] = [];
  /** Other things the page did: seen, presence, reactions, revokes, blocks, logout. */
  readonly actions: Record<string, unknown>[] = [];
  readonly pairingCodes: { device: string; phone: string; code: string }[] = [];
  /** Every ref issued, in order. */
  readonly refsIssued: string[] = [];
  readonly chats = new Map<string, SeedChat>();
  readonly contacts = new Map<string, SeedContact>();
  readonly messages = new Map<string, CloudMessage[]>();
  readonly registered: Set<string>;
  readonly refuseGroupAdd: Set<string>;
  /** Profile pictures set by the page, newest last. */
  readonly pictures: PictureRecord[] = [];
  readonly media = new Map<string, { mimetype: string; filename: string; bytes: Uint8Array }>();
  readonly devices = new Map<string, Device>();
  /** Channels WhatsApp knows, by id (see {@link CloudChannel}). */
  readonly channels = new Map<string, CloudChannel>();
  /** Statuses the contacts posted. */
  readonly statuses: CloudStatus[] = [];
  /** Statuses the page posted, oldest first. */
  readonly statusPosts: StatusPost[] = [];
  /** The serialized ids of statuses the page took back. */
  readonly revokedStatuses: string[] = [];
  /** Texts the page posted to channels. */
  readonly channelPosts: { channelId: string; type: string; body: string; id: string }[] = [];
  /**
   * What the page could not give whatsapp-web.js (`missing-module`, `missing-export`) and errors
   * its listeners threw (`listener-error`). WhatsApp Web swallows both and the library's hooks
   * then do nothing, so {@link close} fails the test when there are any, unless `allowed` names
   * them: the strict fake's contract.
   */
  readonly strictness: { kind: string; what: string }[] = [];
  #recentPerChat: number;
  readonly linkPreviews: Map<string, LinkPreviewCard>;
  linkPreviewDelayMs: number;
  /**
   * The page marks its store synced before whatsapp-web.js listens (a restored login then never
   * becomes ready): applies to pages that link or restore from now on.
   */
  syncBeforeListen = false;
  /** The page never finishes loading (a frame it waits for is never answered), from now on. */
  hangLoad = false;
  /** Answers held back (slow or never), released when the cloud closes. */
  readonly #held = new Set<() => void>();
  /** How often the page's avatar image was asked for (the engine refuses images). */
  imageRequests = 0;
  /** Every download of media from the CDN (by direct path), in order. */
  readonly mediaDownloads: string[] = [];
  /** Media the CDN expired, still on the sender's phone (by serialized message id). */
  readonly #onPhone = new Map<string, { mimetype: string; filename: string; bytes: Uint8Array }>();
  /** Re-uploads the phone was asked for (serialized message ids). */
  readonly mediaRetries: string[] = [];
  /** How long the phone takes to upload expired media again. */
  reuploadDelayMs = 0;
  /** Links whose card the page asked for. */
  readonly previewRequests: string[] = [];
  /** Messages delivered before their keys, waiting for the page to ask for a resend. */
  readonly #undecrypted = new Map<string, CloudMessage>();
  /** What the page asked the phone to resend (serialized ids). */
  readonly resendRequests: string[] = [];
  readonly business: boolean;
  readonly labels: CloudLabel[];
  /** Calls to the account, oldest first (see {@link call}). */
  readonly calls: CloudCall[] = [];
  #server?: Deno.HttpServer;
  #closed = false;
  #clock = 0;
  #seedClock = Math.floor(Date.now() / 1000) - 100_000;

  constructor(seed: FakeCloudOptions = {}) {
    // The cloud changes what it holds: a seed shared by several tests must stay as written.
    const options = structuredClone(seed);
    this.me = options.me ?? "4915550001@c.us";
    this.pushName = options.pushName ?? "Fake Me";
    this.qrRotateMs = options.qrRotateMs ?? 20_000;
    this.qrIdleAfter = options.qrIdleAfter ?? Infinity;
    this.#recentPerChat = options.recentPerChat ?? 5;
    for (const c of options.chats ?? []) this.chats.set(c.id, c);
    for (const c of options.contacts ?? []) this.contacts.set(c.id, c);
    this.registered = new Set(options.registered ?? []);
    this.refuseGroupAdd = new Set(options.refuseGroupAdd ?? []);
    this.about = options.about ?? "Hey there! I am using WhatsApp.";
    this.#meLid = options.meLid;
    this.accountLid = options.accountLid;
    this.lidMap = new Map(Object.entries(options.lidMap ?? {}));
    this.serverLidMap = new Map(Object.entries(options.serverLidMap ?? {}));
    this.linkPreviews = new Map(Object.entries(options.linkPreviews ?? {}));
    this.linkPreviewDelayMs = options.linkPreviewDelayMs ?? 0;
    this.business = options.business ?? false;
    this.labels = options.labels ?? [];
    for (const c of options.channels ?? []) this.channels.set(c.id, c);
    this.statuses.push(...(options.statuses ?? []));
  }

  /** A group's current state, or undefined. */
  group(id: string): CloudGroup | undefined {
    const g = this.chats.get(id)?.group;
    if (!g) return undefined;
    const picture = this.pictures.findLast((p) => p.id === id)?.url;
    return { id, ...structuredClone(g), ...(picture ? { picture } : {}) };
  }

  /**
   * Whether a number or LID is on WhatsApp: a registered number or a contact that is, or the
   * other id of one (a LID and the number it maps to are one account).
   */
  isRegistered(id: string): boolean {
    if (this.#knownAccount(id)) return true;
    for (const [lid, pn] of [...this.lidMap, ...this.serverLidMap]) {
      if ((lid === id && this.#knownAccount(pn)) || (pn === id && this.#knownAccount(lid))) {
        return true;
      }
    }
    return false;
  }

  #knownAccount(id: string): boolean {
    const c = this.contacts.get(id);
    return id === this.me || id === this.accountLid || this.registered.has(id) ||
      (!!c && c.isWAContact !== false);
  }

  /** How the account is written in a chat: by its LID in LID chats and LID-addressed groups. */
  #meIn(chatId: string): string {
    const lidChat = chatId.endsWith("@lid") ||
      this.chats.get(chatId)?.group?.addressingMode === "lid";
    return lidChat && this.accountLid ? this.accountLid : this.me;
  }

  /** Whether an id is the linked account, by its number or its LID. */
  isMe(id: string): boolean {
    return id === this.me || (!!this.accountLid && id === this.accountLid);
  }

  /** The LID and phone number the server may tell the page belong together with `id`. */
  #lidPair(id: string): { lid?: string; pn?: string } {
    const all = [...this.lidMap, ...this.serverLidMap];
    const found = id.endsWith("@lid")
      ? all.find(([lid]) => lid === id)
      : all.find(([, pn]) => pn === id);
    return found ? { lid: found[0], pn: found[1] } : {};
  }

  // ---------- test controls ----------

  /** Adds a stored message to a chat (history the page can page through). */
  seedMessage(
    input: Partial<CloudMessage> & { chatId: string; body: string; fromMe?: boolean },
  ): string {
    // Seeded history lies in the past, a minute apart, before anything sent or delivered live.
    this.#seedClock += 60;
    const m = this.#makeMessage({ t: this.#seedClock, ...input });
    this.#store(m);
    return serializedId(m);
  }

  /** The QR string the newest unlinked device shows now, if any. */
  currentQr(): string | null {
    const d = this.#waitingDevice();
    return d?.ref ? qrString(d) : null;
  }

  /**
   * A phone scans `value`, which must be what a waiting device shows: the account's own phone, or
   * `by.phone`'s (a user scanning with the wrong phone).
   */
  scanQr(value: string, by: LinkingPhone = {}): void {
    const d = [...this.devices.values()].find((x) => !x.paired && x.ref && qrString(x) === value);
    if (!d) throw new Error(`No device shows the QR "${value.slice(0, 24)}…"`);
    this.#pair(d, by);
  }

  /** The user types a pairing code on the phone. */
  enterPairingCode(code: string): void {
    const p = this.pairingCodes.find((x) => x.code === code);
    const d = p && this.devices.get(p.device);
    if (!d || d.paired) throw new Error(`Unknown pairing code "${code}"`);
    this.#pair(d, {});
  }

  /** A message arrives from someone; returns its serialized id. */
  deliverIncoming(input: {
    from: string;
    body?: string;
    chatId?: string;
    type?: string;
    caption?: string;
    media?: { mimetype: string; data: Uint8Array; filename?: string };
    quotedMsgId?: string;
    /**
     * The message reaches the page before its keys (WhatsApp Web shows "Waiting for this
     * message"): the page gets a `ciphertext` and the content only once it asks for a resend.
     */
    undecryptable?: boolean;
  }): string {
    let directPath: string | undefined;
    if (input.media) {
      directPath = "m/" + randomToken(8);
      this.media.set(directPath, {
        mimetype: input.media.mimetype,
        filename: input.media.filename ?? "",
        bytes: input.media.data,
      });
    }
    const chatId = input.chatId ?? input.from;
    const m = this.#makeMessage({
      chatId,
      from: chatId,
      author: chatId.endsWith("@g.us") ? input.from : undefined,
      fromMe: false,
      body: input.body ?? "",
      caption: input.caption,
      type: input.type ?? (input.media ? input.media.mimetype.split("/")[0] : "chat"),
      mimetype: input.media?.mimetype,
      filename: input.media?.filename,
      directPath,
      quotedMsgId: input.quotedMsgId,
    });
    this.#store(m);
    if (input.undecryptable) {
      this.#undecrypted.set(serializedId(m), m);
      this.#pushPaired({
        type: "message",
        message: { ...m, type: "ciphertext", body: "", caption: undefined, directPath: undefined },
      });
    } else {
      this.#pushPaired({ type: "message", message: m });
    }
    return serializedId(m);
  }

  /**
   * The CDN drops a message's media, as WhatsApp's does after a while; the sender's phone still
   * has it and uploads it again when asked, unless `phoneHasIt` is false.
   */
  expireMedia(serialized: string, { phoneHasIt = true } = {}): void {
    const m = this.#find(serialized);
    const stored = m?.directPath ? this.media.get(m.directPath) : undefined;
    if (!m?.directPath || !stored) throw new Error(`No media for "${serialized}"`);
    this.media.delete(m.directPath);
    if (phoneHasIt) this.#onPhone.set(serialized, stored);
  }

  /**
   * The account's own phone writes a message (not this device): its id is the phone's kind
   * (`3A…`), not WhatsApp Web's `3EB0…`. Returns its serialized id.
   */
  writeOnPhone(input: { chatId: string; body: string }): string {
    const m = this.#makeMessage({
      id: "3A" + randomToken(9).toUpperCase(),
      chatId: input.chatId,
      fromMe: true,
      body: input.body,
      ack: 1,
    });
    this.#store(m);
    this.#pushPaired({ type: "message", message: m });
    return serializedId(m);
  }

  /**
   * A contact (or, in a group, a member) votes on a poll from their phone: `options` is their
   * whole choice now, by name (empty: they take their vote back). The page gets the vote, as
   * WhatsApp delivers it, by the options' places in the poll. Returns the vote's stanza id.
   */
  vote(pollId: string, voter: string, options: string[]): string {
    // By its key: our own message in a group is named with our id as participant too.
    const [fromMe, chatId, stanza] = pollId.split("_");
    const poll = this.messages.get(chatId)?.find((m) =>
      m.id === stanza && String(m.fromMe) === fromMe
    );
    if (!poll?.pollOptions) throw new Error(`No poll "${pollId}"`);
    const selectedOptionLocalIds = options.map((name) => {
      const option = poll.pollOptions!.find((o) => o.name === name);
      if (!option) throw new Error(`Poll "${pollId}" has no option "${name}"`);
      return option.localId;
    });
    const vote: CloudVote = {
      id: "AC" + randomToken(8).toUpperCase(),
      pollId,
      voter,
      selectedOptionLocalIds,
      senderTimestampMs: Date.now(),
    };
    this.votes.push(vote);
    this.#pushPaired({ type: "poll_vote", vote });
    return vote.id;
  }

  /** The sender of a message deletes it for everyone. */
  revokeBySender(serialized: string): void {
    this.#revoke(serialized);
    this.#pushPaired({ type: "revoke", id: serialized });
  }

  /** The sender of a message edits its text. */
  editBySender(serialized: string, body: string): void {
    const m = this.#find(serialized);
    if (!m) throw new Error(`No message "${serialized}"`);
    m.body = body;
    const editId = "AC" + randomToken(8).toUpperCase();
    this.#pushPaired({ type: "edit", id: serialized, body, editId, at: Date.now() });
  }

  /** The recipient's phone acknowledges a message (2 delivered, 3 read). */
  ack(serialized: string, ack: number): void {
    for (const list of this.messages.values()) {
      const m = list.find((x) => serializedId(x) === serialized);
      if (m) m.ack = ack;
    }
    this.#pushPaired({ type: "ack", id: serialized, ack });
  }

  /**
   * A contact calls the account: the page adds the call to its call collection (which
   * whatsapp-web.js hooks) as WhatsApp Web does on a call offer. Returns the call's id.
   */
  call(from: string, { isVideo = false }: { isVideo?: boolean } = {}): string {
    const call: CloudCall = {
      id: randomToken(16).toUpperCase(),
      from,
      isVideo,
      offerTime: Math.floor(Date.now() / 1000),
      rejected: null,
    };
    this.calls.push(call);
    this.#pushPaired({
      type: "call",
      call: { id: call.id, peerJid: from, isVideo, isGroup: false, offerTime: call.offerTime },
    });
    return call.id;
  }

  /** The user unlinks the device on the phone. */
  logoutFromPhone(): void {
    this.credential = null;
    this.linkedBy = null;
    this.#pushPaired({ type: "logout" });
    for (const d of this.devices.values()) d.paired = false;
  }

  /** WhatsApp Web is opened in another browser. */
  openElsewhere(): void {
    this.#pushPaired({ type: "conflict" });
  }

  /** The page's main thread hangs for good (a wedged WhatsApp Web). */
  freezePage(): void {
    this.#pushPaired({ type: "freeze" });
  }

  /** Waits `ms` (forever for Infinity), or until the cloud closes. */
  #hold(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        clearTimeout(timer);
        this.#held.delete(done);
        resolve();
      };
      if (Number.isFinite(ms)) timer = setTimeout(done, ms);
      this.#held.add(done);
    });
  }

  /** Resolves once `predicate` holds (polling), or rejects after `timeoutMs`. */
  async waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const v = predicate();
      if (v) return v;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error("Timed out waiting on the fake cloud");
  }

  // ---------- server ----------

  async start(): Promise<void> {
    const server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: () => {} },
      (req) => this.#handle(req),
    );
    this.#server = server;
    this.url = `http://127.0.0.1:${server.addr.port}`;
    this.webVersionCachePath = await Deno.makeTempDir({ prefix: "fake_wa_web_" });
    const html = (await Deno.readTextFile(PAGE_TEMPLATE)).replaceAll(
      "__FAKE_CLOUD_URL__",
      this.url,
    );
    await Deno.writeTextFile(`${this.webVersionCachePath}/${WEB_VERSION}.html`, html);
  }

  /**
   * Stops the cloud and removes its page. Throws when the page reported what it could not give
   * whatsapp-web.js or a listener error (see {@link strictness}) that `allowed` does not match.
   */
  async close(allowed: (record: { kind: string; what: string }) => boolean = () => false) {
    if (this.#closed) return;
    this.#closed = true;
    for (const d of this.devices.values()) {
      if (d.timer !== undefined) clearInterval(d.timer);
      for (const w of d.waiters) w();
    }
    for (const release of this.#held) release();
    await this.#server?.shutdown();
    await Deno.remove(this.webVersionCachePath, { recursive: true }).catch(() => {});
    const unexpected = this.strictness.filter((r) => !allowed(r));
    if (unexpected.length) {
      throw new Error(
        "The fake WhatsApp Web could not give whatsapp-web.js what it read, or a listener " +
          `threw:\n${unexpected.map((r) => `  ${r.kind}: ${r.what}`).join("\n")}`,
      );
    }
  }

  async #handle(req: Request): Promise<Response> {
    const cors = {
      "access-control-allow-origin": "*",
      "access-control-allow-headers": "content-type",
      "access-control-allow-methods": "GET, POST, OPTIONS",
      "access-control-allow-private-network": "true",
    };
    if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: cors });
    const url = new URL(req.url);
    try {
      const result = await this.#route(req, url);
      if (result instanceof Response) {
        for (const [k, v] of Object.entries(cors)) result.headers.set(k, v);
        return result;
      }
      return Response.json(result, { headers: cors });
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500;
      return Response.json({ error: String((error as Error).message ?? error) }, {
        status,
        headers: cors,
      });
    }
  }

  async #route(req: Request, url: URL): Promise<unknown> {
    const path = url.pathname;
    if (req.method === "GET" && path === "/events") {
      return await this.#events(
        url.searchParams.get("device") ?? "",
        Number(url.searchParams.get("since") ?? 0),
      );
    }
    if (req.method === "GET" && path === "/avatar.png") {
      this.imageRequests++;
      return new Response(Uint8Array.from(atob(PIXEL), (c) => c.charCodeAt(0)), {
        headers: { "content-type": "image/png" },
      });
    }
    if (req.method === "GET" && path === "/frame") {
      if (this.hangLoad && !this.#closed) await this.#hold(Infinity);
      return new Response("<!doctype html><title>frame</title>", {
        headers: { "content-type": "text/html" },
      });
    }
    if ((req.method === "GET" || req.method === "HEAD") && path.startsWith("/media/")) {
      const directPath = path.slice("/media/".length);
      const m = this.media.get(directPath);
      if (!m) return new Response(null, { status: 404 });
      if (req.method === "GET") this.mediaDownloads.push(directPath);
      return new Response(req.method === "HEAD" ? null : m.bytes.slice(), {
        headers: { "content-type": m.mimetype, "content-length": String(m.bytes.length) },
      });
    }
    if (req.method === "GET" && path.startsWith("/pp/")) {
      const p = this.pictures.find((x) => new URL(x.url).pathname === path);
      if (!p) return new Response("no such picture", { status: 404 });
      const bytes = Uint8Array.from(atob(p.picture.split(",")[1] ?? ""), (c) => c.charCodeAt(0));
      return new Response(bytes, { headers: { "content-type": "image/jpeg" } });
    }
    if (req.method === "POST" && path === "/upload") {
      const bytes = new Uint8Array(await req.arrayBuffer());
      const directPath = "m/" + randomToken(8);
      this.media.set(directPath, {
        mimetype: url.searchParams.get("mimetype") ?? "application/octet-stream",
        filename: url.searchParams.get("filename") ?? "",
        bytes,
      });
      return { directPath, mediaKey: randomToken(16) };
    }
    if (req.method !== "POST") return new Response("not found", { status: 404 });
    const body = await req.json() as Record<string, unknown> & { device: string };
    const device = this.devices.get(body.device);
    if (path.startsWith("/status-") || path.startsWith("/channel-")) {
      return this.#statusOrChannel(path, body);
    }
    switch (path) {
      case "/strictness":
        this.strictness.push({ kind: String(body.kind), what: String(body.what) });
        return { ok: true };
      case "/media-retry": {
        const id = String(body.id);
        this.mediaRetries.push(id);
        if (this.reuploadDelayMs > 0) await this.#hold(this.reuploadDelayMs);
        const stored = this.#onPhone.get(id);
        const m = this.#find(id);
        if (!stored || !m) throw Object.assign(new Error("media gone"), { status: 404 });
        const directPath = "m/" + randomToken(8);
        this.media.set(directPath, stored);
        m.directPath = directPath;
        this.#onPhone.delete(id);
        return { directPath };
      }
      case "/placeholder-resend":
        for (const id of body.ids as string[]) {
          this.resendRequests.push(id);
          const m = this.#undecrypted.get(id);
          if (!m) continue;
          this.#undecrypted.delete(id);
          this.#pushPaired({ type: "decrypted", message: m });
        }
        return { ok: true };
      case "/link-preview": {
        const url = String(body.url);
        this.previewRequests.push(url);
        if (this.linkPreviewDelayMs > 0) await this.#hold(this.linkPreviewDelayMs);
        const card = this.linkPreviews.get(url);
        return { preview: card ? { url, ...card } : null };
      }
      case "/hello":
        return this.#hello(body);
      case "/paired-ack":
        return { ok: true };
      case "/refresh-qr":
        this.qrRefreshes++;
        if (device && !device.paired) {
          this.#newRef(device, true);
          this.#rotate(device);
        }
        return { ok: true };
      case "/pairing-code": {
        if (!device || device.paired) {
          throw Object.assign(new Error("not waiting"), { status: 400 });
        }
        device.pairingMode = true;
        if (device.timer !== undefined) clearInterval(device.timer);
        const alphabet = "ABCDEFGHJKLMNPQRSTVWXYZ0123456789";
        const code = Array.from(
          crypto.getRandomValues(new Uint8Array(8)),
          (x) => alphabet[x % alphabet.length],
        ).join("");
        this.pairingCodes.push({ device: device.id, phone: String(body.phone), code });
        return { code };
      }
      case "/send":
        return this.#send(body.message as Record<string, unknown>);
      case "/history":
        return this.#history(String(body.chatId), body.before as string | null, Number(body.count));
      case "/exists": {
        const id = String(body.id);
        return { exists: this.isRegistered(id), ...this.#lidPair(id) };
      }
      case "/profile-pic": {
        const id = String(body.id);
        const set = this.pictures.findLast((p) => p.id === id);
        return { url: set?.url ?? this.contacts.get(id)?.profilePicUrl ?? null };
      }
      case "/edit":
        return this.#edit(body);
      case "/pushname":
        this.pushName = String(body.name);
        this.actions.push({ action: "pushname", name: this.pushName });
        return { ok: true };
      case "/about-set":
        this.about = String(body.status);
        this.actions.push({ action: "about", status: this.about });
        return { ok: true };
      case "/about-get": {
        const id = String(body.id);
        if (this.isMe(id)) return { status: this.about };
        const c = this.contacts.get(id);
        if (!c) throw Object.assign(new Error("no such user"), { status: 404 });
        if (c.aboutHidden) return {};
        return { status: c.about ?? "" };
      }
      case "/picture-set": {
        const id = String(body.id);
        if (!this.isMe(id)) this.#assertMayEditInfo(id);
        const url = `${this.url}/pp/${encodeURIComponent(id)}/${this.pictures.length + 1}.jpg`;
        this.pictures.push({ id, thumb: String(body.thumb), picture: String(body.picture), url });
        this.actions.push({ action: "picture", id });
        if (id.endsWith("@g.us")) this.#notifyGroup(id, "picture", this.#meIn(id), []);
        return { url };
      }
      case "/picture-delete": {
        const id = String(body.id);
        if (!this.isMe(id)) this.#assertMayEditInfo(id);
        for (let i = this.pictures.length - 1; i >= 0; i--) {
          if (this.pictures[i].id === id) this.pictures.splice(i, 1);
        }
        this.actions.push({ action: "picture-delete", id });
        if (id.endsWith("@g.us")) this.#notifyGroup(id, "picture", this.#meIn(id), []);
        return { ok: true };
      }
      case "/group-invite-code":
        return { code: this.#inviteOf(String(body.id), false) };
      case "/group-invite-reset":
        return { code: this.#inviteOf(String(body.id), true), group: this.group(String(body.id)) };
      case "/group-invite-info":
        return { info: this.#invitePreview(String(body.code)) };
      case "/group-invite-join":
        return this.#joinByInvite(String(body.code));
      case "/group-promote":
      case "/group-demote":
        return this.#setAdmins(
          String(body.id),
          body.participants as string[],
          path === "/group-promote",
        );
      case "/group-requests": {
        const id = String(body.id);
        this.#existingGroup(id);
        if (!this.#isAdmin(id)) throw this.#forbidden();
        return { requests: this.chats.get(id)!.group!.requests ?? [] };
      }
      case "/group-request-action":
        return this.#answerRequest(String(body.id), String(body.participant), !!body.approve);
      case "/group-get":
        return { group: this.#existingGroup(String(body.id)) };
      case "/group-create":
        return this.#createGroup(body);
      case "/group-subject":
      case "/group-description":
      case "/group-property":
      case "/group-leave":
      case "/group-remove":
        return this.#changeGroup(path.slice("/group-".length), body);
      case "/group-add":
        return this.#addToGroup(String(body.id), String(body.participant));
      case "/logout":
        this.credential = null;
        this.linkedBy = null;
        if (device) device.paired = false;
        this.actions.push({ action: "logout" });
        return { ok: true };
      case "/star":
      case "/pin-msg":
      case "/chat-archive":
      case "/chat-pin":
      case "/chat-mute":
      case "/chat-unread":
      case "/chat-clear":
      case "/chat-delete":
        return this.#organize(path.slice(1), body);
      case "/revoke":
        this.#revoke(String(body.id));
        this.actions.push({ action: "revoke", id: body.id });
        return { ok: true };
      case "/stanza":
        return this.#stanza(body.stanza as Stanza);
      case "/chat-labels":
        return this.#chatLabels(body);
      case "/available":
      case "/takeover":
      case "/seen":
      case "/presence":
      case "/react":
      case "/block": {
        const { device: _d, ...rest } = body;
        this.actions.push({ action: path.slice(1), ...rest });
        if (path === "/block") {
          const c = this.contacts.get(String(body.id));
          if (c) c.isContactBlocked = Boolean(body.blocked);
        }
        return { ok: true };
      }
    }
    return new Response("not found", { status: 404 });
  }

  /** A stanza the page cast (WhatsApp Web's own, built with WAWap): a call's rejection. */
  #stanza(stanza: Stanza): unknown {
    const [child] = stanza.content ?? [];
    if (stanza.tag !== "call" || child?.tag !== "reject") {
      throw Object.assign(new Error(`The fake cloud takes no "${stanza.tag}" stanza`), {
        status: 400,
      });
    }
    const call = this.calls.find((c) => c.id === child.attrs["call-id"]);
    if (!call) throw Object.assign(new Error("no such call"), { status: 404 });
    call.rejected = {
      from: String(stanza.attrs.from),
      to: String(stanza.attrs.to),
      creator: String(child.attrs["call-creator"]),
    };
    return { ok: true };
  }

  /** Labels put on and taken off chats (`Label.addOrRemoveLabels`): a business's only. */
  #chatLabels(body: Record<string, unknown>): unknown {
    if (!this.business) throw Object.assign(new Error("not a business"), { status: 403 });
    const actions = body.actions as { id: string; type: "add" | "remove" }[];
    for (const chatId of body.chatIds as string[]) {
      const chat = this.chats.get(chatId) ?? { id: chatId };
      const labels = new Set(chat.labels ?? []);
      for (const action of actions) {
        if (!this.labels.some((l) => l.id === String(action.id))) {
          throw Object.assign(new Error(`no label "${action.id}"`), { status: 404 });
        }
        if (action.type === "add") labels.add(String(action.id));
        else labels.delete(String(action.id));
      }
      chat.labels = [...labels];
      this.chats.set(chatId, chat);
      this.actions.push({ action: "chat-labels", chatId, labels: chat.labels });
    }
    return { ok: true };
  }

  #hello(body: Record<string, unknown> & { device: string }): unknown {
    const keys = body.keys as Device["keys"];
    const d: Device = {
      id: body.device,
      keys,
      paired: false,
      ref: null,
      pairingMode: false,
      events: [],
      seq: 0,
      waiters: new Set(),
    };
    this.devices.set(d.id, d);
    this.pageLoads.push(String(body.search ?? ""));
    if (body.cred && body.cred === this.credential) {
      d.paired = true;
      return { paired: true, ...this.#account(), snapshot: this.#snapshot() };
    }
    this.#newRef(d, false);
    this.#rotate(d);
    return { paired: false, ref: d.ref };
  }

  /** Replaces an unscanned QR every `qrRotateMs`, going idle after `qrIdleAfter` of them. */
  #rotate(d: Device): void {
    if (d.timer !== undefined) clearInterval(d.timer);
    let rotations = 0;
    d.timer = setInterval(() => {
      if (this.#closed || d.paired || d.pairingMode) {
        clearInterval(d.timer);
        return;
      }
      if (rotations++ >= this.qrIdleAfter) {
        clearInterval(d.timer);
        this.#push(d, { type: "idle" });
        return;
      }
      this.#newRef(d, true);
    }, this.qrRotateMs);
  }

  #newRef(d: Device, push: boolean): void {
    d.ref = `2@${randomToken(12)}`;
    this.refsIssued.push(d.ref);
    if (push) this.#push(d, { type: "ref", ref: d.ref });
  }

  #pair(d: Device, by: LinkingPhone): void {
    if (d.timer !== undefined) clearInterval(d.timer);
    this.credential = randomToken(16);
    const phone = by.phone ?? this.me;
    this.linkedBy = { ...by, phone, lid: by.lid ?? (phone === this.me ? this.#meLid : undefined) };
    d.paired = true;
    this.#push(d, {
      type: "paired",
      cred: this.credential,
      ...this.#account(),
      snapshot: this.#snapshot(),
    });
  }

  /** Who the page is linked as: its account, its LID and whether the page may map it. */
  #account(by: LinkingPhone & { phone: string } = this.linkedBy ?? { phone: this.me }) {
    return {
      me: by.phone,
      meLid: by.lid ?? (by.phone === this.me ? this.accountLid : undefined) ?? null,
      reportByLid: !!by.lid,
      syncBeforeListen: this.syncBeforeListen,
      lidMapped: !by.unmapped,
      lidMap: Object.fromEntries(this.lidMap),
      platform: this.business ? "smba" : "android",
      pushName: by.phone === this.me ? this.pushName : `Phone of ${by.phone.split("@")[0]}`,
    };
  }

  #snapshot(): unknown {
    const chats = [...this.chats.values()].map((c) => {
      const list = this.messages.get(c.id) ?? [];
      return { ...c, t: list.length ? list[list.length - 1].t : 0 };
    });
    const messages = [...this.messages.values()].flatMap((l) => l.slice(-this.#recentPerChat));
    return {
      chats,
      contacts: [...this.contacts.values()],
      messages,
      labels: this.labels,
      channels: [...this.channels.values()].filter((c) => c.role !== "guest"),
      statuses: this.statuses,
    };
  }

  // ---------- status (stories) and channels ----------

  /** What the page asks of status and channels (issue 20). */
  #statusOrChannel(path: string, body: Record<string, unknown>): unknown {
    const notFound = () => Object.assign(new Error("no such channel"), { status: 404 });
    const channel = (id: unknown) => {
      const c = this.channels.get(String(id));
      if (!c) throw notFound();
      return c;
    };
    switch (path) {
      case "/status-post": {
        const directPath = body.directPath as string | undefined;
        const m = directPath ? this.media.get(directPath) : undefined;
        this.statusPosts.push({
          type: String(body.type),
          ...(body.text === undefined ? {} : { text: String(body.text) }),
          ...(body.color === undefined ? {} : { color: Number(body.color) }),
          ...(body.font === undefined ? {} : { font: Number(body.font) }),
          ...(body.caption === undefined ? {} : { caption: String(body.caption) }),
          ...(body.id === undefined ? {} : { id: String(body.id) }),
          media: m ? { mimetype: m.mimetype, data: base64(m.bytes) } : null,
        });
        return { t: this.#tick() };
      }
      case "/status-revoke":
        this.revokedStatuses.push(String(body.id));
        return { ok: true };
      case "/channel-get":
        return { channel: channel(body.id) };
      case "/channel-by-invite": {
        const found = [...this.channels.values()].find((c) => c.inviteCode === body.code);
        if (!found) throw notFound();
        return { channel: found };
      }
      case "/channel-subscribe":
      case "/channel-unsubscribe": {
        const c = channel(body.id);
        if (c.role === "owner") throw Object.assign(new Error("owner"), { status: 400 });
        const follow = path === "/channel-subscribe";
        c.role = follow ? "subscriber" : "guest";
        if (!follow) c.muted = false;
        this.actions.push({ action: follow ? "channel-follow" : "channel-unfollow", id: c.id });
        return { channel: c };
      }
      case "/channel-setting": {
        const c = channel(body.id);
        if (c.role === "guest") throw Object.assign(new Error("not following"), { status: 400 });
        c.muted = Boolean(body.muted);
        this.actions.push({ action: "channel-mute", id: c.id, muted: c.muted });
        return { channel: c };
      }
      case "/channel-create": {
        const id = `120363${String(100_000_000_000 + this.channels.size + 1)}@newsletter`;
        const c: CloudChannel = {
          id,
          name: String(body.name),
          description: (body.description as string | null) ?? "",
          inviteCode: `0029Va${randomToken(8)}`,
          role: "owner",
          subscribers: 0,
          createdAt: this.#tick(),
        };
        this.channels.set(id, c);
        this.actions.push({ action: "channel-create", id });
        return { channel: c };
      }
      case "/channel-edit": {
        const c = channel(body.id);
        if (c.role !== "owner" && c.role !== "admin") {
          throw Object.assign(new Error("not an admin"), { status: 403 });
        }
        if (typeof body.name === "string") c.name = body.name;
        if (typeof body.description === "string") c.description = body.description;
        this.actions.push({ action: "channel-edit", id: c.id });
        return { channel: c };
      }
      case "/channel-delete": {
        const c = channel(body.id);
        if (c.role !== "owner") throw Object.assign(new Error("not the owner"), { status: 403 });
        this.channels.delete(c.id);
        this.actions.push({ action: "channel-delete", id: c.id });
        return { ok: true };
      }
      case "/channel-search": {
        const text = String(body.searchText ?? "").toLowerCase();
        const limit = Number(body.limit);
        const found = [...this.channels.values()]
          .filter((c) => c.role !== "owner")
          .filter((c) => !text || c.name.toLowerCase().includes(text))
          .sort((a, b) =>
            body.view === "NEW"
              ? (b.createdAt ?? 0) - (a.createdAt ?? 0)
              : (b.subscribers ?? 0) - (a.subscribers ?? 0)
          );
        this.actions.push({ action: "channel-search", ...body, device: undefined });
        return { channels: found.slice(0, limit) };
      }
      case "/channel-send": {
        const c = channel(body.id);
        if (c.role !== "owner" && c.role !== "admin") {
          throw Object.assign(new Error("not an admin"), { status: 403 });
        }
        const serverId = this.channelPosts.length + 100;
        this.channelPosts.push({
          channelId: c.id,
          type: String(body.type),
          body: String(body.body ?? ""),
          id: String(body.msgId),
        });
        return { t: this.#tick(), serverId };
      }
    }
    return new Response("not found", { status: 404 });
  }

  #history(chatId: string, before: string | null, count: number): unknown {
    const list = this.messages.get(chatId) ?? [];
    let end = list.length;
    if (before) {
      const i = list.findIndex((m) => serializedId(m) === before);
      end = i < 0 ? 0 : i;
    }
    return { messages: list.slice(Math.max(0, end - count), end) };
  }

  #send(msg: Record<string, unknown>): unknown {
    const chatId = String(msg.chatId);
    const id = String(msg.id);
    const stanza = id.split("_")[2];
    const directPath = msg.directPath as string | undefined;
    const m = directPath ? this.media.get(directPath) : undefined;
    const t = this.#tick();
    this.sent.push({
      id,
      chatId,
      type: String(msg.type),
      body: msg.body as string | undefined,
      caption: msg.caption as string | undefined,
      quotedMsgId: (msg.quotedMsgId as string | null) ?? null,
      media: m ? { mimetype: m.mimetype, filename: m.filename, data: base64(m.bytes) } : null,
      ...(msg.type === "location"
        ? {
          location: {
            latitude: Number(msg.lat),
            longitude: Number(msg.lng),
            description: (msg.loc as string | undefined) ?? null,
          },
        }
        : {}),
      ...(msg.type === "vcard" ? { vcardName: String(msg.vcardFormattedName ?? "") } : {}),
      ...(msg.type === "ptt" ? { isPtt: Boolean(msg.isPtt) } : {}),
      ...(msg.type === "poll_creation"
        ? {
          poll: {
            name: String(msg.pollName),
            options: (msg.pollOptions as { name: string }[]).map((o) => o.name),
            selectableOptionsCount: Number(msg.pollSelectableOptionsCount),
            hasSecret: msg.messageSecretLength === 32,
          },
        }
        : {}),
      ...(msg.type === "groups_v4_invite"
        ? {
          invite: {
            groupId: String(msg.inviteGrp),
            groupName: String(msg.inviteGrpName),
            code: String(msg.inviteCode),
          },
        }
        : {}),
      forwarded: Boolean(msg.isForwarded),
      linkPreview: (msg.linkPreview as SentRecord["linkPreview"]) ?? null,
      stanza: msg.stanza as SentRecord["stanza"],
      raw: msg,
    });
    if (!this.chats.has(chatId)) this.chats.set(chatId, { id: chatId });
    this.#store({
      id: stanza,
      chatId,
      from: this.#meIn(chatId),
      to: chatId,
      fromMe: true,
      type: String(msg.type),
      body: msg.body as string | undefined,
      caption: msg.caption as string | undefined,
      mimetype: msg.mimetype as string | undefined,
      filename: msg.filename as string | undefined,
      directPath,
      t,
      ack: 1,
      quotedMsgId: (msg.quotedMsgId as string | null) ?? null,
      lat: msg.lat as number | undefined,
      lng: msg.lng as number | undefined,
      loc: msg.loc as string | undefined,
      vcardFormattedName: msg.vcardFormattedName as string | undefined,
      pollName: msg.pollName as string | undefined,
      pollOptions: msg.pollOptions as CloudMessage["pollOptions"],
      pollSelectableOptionsCount: msg.pollSelectableOptionsCount as number | undefined,
    });
    return { t };
  }

  #find(serialized: string): CloudMessage | undefined {
    for (const list of this.messages.values()) {
      const m = list.find((x) => serializedId(x) === serialized);
      if (m) return m;
    }
    return undefined;
  }

  /**
   * What the account's devices keep in sync about chats and messages: stars, message pins,
   * archive, chat pins, mutes, the unread mark, clearing and deleting. Each is recorded in
   * `actions` and kept, so a page that links later sees it.
   */
  #organize(what: string, body: Record<string, unknown>): unknown {
    const { device: _d, ...rest } = body;
    const chatOf = (id: string) => {
      const chat = this.chats.get(id);
      if (!chat) throw Object.assign(new Error("no such chat"), { status: 404 });
      return chat;
    };
    switch (what) {
      case "star":
        for (const id of body.ids as string[]) {
          const m = this.#find(id);
          if (m) m.star = Boolean(body.star);
        }
        break;
      case "pin-msg": {
        const m = this.#find(String(body.id));
        if (!m || m.type === "revoked") {
          this.actions.push({ action: what, ...rest, refused: true });
          return { ok: false };
        }
        if (body.pin) m.pinnedUntil = this.#tick() + Number(body.duration);
        else delete m.pinnedUntil;
        break;
      }
      case "chat-archive":
        chatOf(String(body.chatId)).archived = Boolean(body.archive);
        break;
      case "chat-pin":
        chatOf(String(body.chatId)).pinned = Boolean(body.pin);
        break;
      case "chat-mute":
        chatOf(String(body.chatId)).muteExpiration = Number(body.expiration);
        break;
      case "chat-unread":
        chatOf(String(body.chatId)).unreadCount = body.unread ? -1 : 0;
        break;
      case "chat-clear": {
        const id = String(body.chatId);
        chatOf(id);
        const kept = (this.messages.get(id) ?? []).filter((m) => body.keepStarred && m.star);
        this.messages.set(id, kept);
        break;
      }
      case "chat-delete": {
        const id = String(body.chatId);
        chatOf(id);
        this.chats.delete(id);
        this.messages.delete(id);
        break;
      }
    }
    this.actions.push({ action: what, ...rest });
    return { ok: true };
  }

  #revoke(id: string): void {
    const m = this.#find(id);
    if (!m) throw Object.assign(new Error("no such message"), { status: 404 });
    m.type = "revoked";
    m.body = "";
    m.caption = undefined;
  }

  #edit(body: Record<string, unknown>): unknown {
    const id = String(body.id);
    const m = this.#find(id);
    if (!m) throw Object.assign(new Error("no such message"), { status: 404 });
    if (!m.fromMe || m.type === "revoked") {
      throw Object.assign(new Error("not editable"), { status: 403 });
    }
    const field = typeof body.body === "string" ? "body" : "caption";
    const text = String(body[field]);
    m[field] = text;
    this.actions.push({ action: "edit", id, [field]: text });
    return { ok: true };
  }

  // ---------- groups ----------

  #existingGroup(id: string): CloudGroup {
    const g = this.group(id);
    if (!g) throw Object.assign(new Error("item-not-found"), { status: 404 });
    return g;
  }

  #isAdmin(groupId: string): boolean {
    const g = this.chats.get(groupId)?.group;
    return !!g?.participants.some((p) => this.isMe(p.id) && p.isAdmin);
  }

  #forbidden(): Error {
    return Object.assign(new Error("forbidden"), { status: 403 });
  }

  #inviteCode(): { inviteCode: string; inviteCodeExp: number } {
    return {
      inviteCode: randomToken(12),
      inviteCodeExp: Math.floor(Date.now() / 1000) + 7 * 86_400,
    };
  }

  #createGroup(body: Record<string, unknown>): unknown {
    const id = `120363${String(Date.now()).slice(-9)}${
      String(Math.floor(Math.random() * 1000)).padStart(3, "0")
    }@g.us`;
    const group: NonNullable<SeedChat["group"]> = {
      subject: String(body.title),
      desc: "",
      owner: this.me,
      creation: this.#tick(),
      announce: Boolean(body.announce),
      restrict: Boolean(body.restrict),
      participants: [{ id: this.me, isAdmin: true, isSuperAdmin: true }],
    };
    const results: Record<string, unknown>[] = [{ id: this.me, type: "superadmin" }];
    for (const p of (body.participants as string[]) ?? []) {
      if (!this.isRegistered(p)) {
        results.push({ id: p, type: "participant", error: 404 });
      } else if (this.refuseGroupAdd.has(p)) {
        results.push({ id: p, type: "participant", error: 403, ...this.#inviteCode() });
      } else {
        group.participants.push({ id: p });
        results.push({ id: p, type: "participant" });
      }
    }
    this.chats.set(id, { id, name: group.subject, group });
    this.actions.push({
      action: "group-create",
      id,
      subject: group.subject,
      participants: group.participants.map((p) => p.id),
    });
    return { group: this.group(id), participants: results };
  }

  #changeGroup(what: string, body: Record<string, unknown>): unknown {
    const id = String(body.id);
    this.#existingGroup(id);
    const g = this.chats.get(id)!.group!;
    const member = g.participants.some((p) => this.isMe(p.id));
    if (!member) throw this.#forbidden();
    const admin = this.#isAdmin(id);
    let record: Record<string, unknown>;
    switch (what) {
      case "subject":
        if (g.restrict && !admin) throw this.#forbidden();
        g.subject = String(body.subject);
        this.chats.get(id)!.name = g.subject;
        record = { subject: g.subject };
        break;
      case "description":
        if (g.restrict && !admin) throw this.#forbidden();
        g.desc = String(body.desc);
        g.descId = String(body.descId);
        record = { desc: g.desc };
        break;
      case "property": {
        if (!admin) throw this.#forbidden();
        const on = Number(body.value) === 1;
        if (body.property === "announcement") g.announce = on;
        else if (body.property === "restrict") g.restrict = on;
        else throw Object.assign(new Error("bad property"), { status: 400 });
        record = { property: body.property, value: on };
        break;
      }
      case "leave":
        g.participants = g.participants.filter((p) => !this.isMe(p.id));
        record = {};
        break;
      default: {
        if (!admin) throw this.#forbidden();
        const ids = (body.participants as string[]) ?? [];
        g.participants = g.participants.filter((p) => !ids.includes(p.id));
        record = { participants: ids };
      }
    }
    this.actions.push({ action: `group-${what}`, id, ...record });
    const subtype = what === "property"
      ? (body.property === "announcement" ? "announce" : "restrict")
      : what === "subject" || what === "description" || what === "leave" || what === "remove"
      ? what
      : null;
    const recipients = what === "leave"
      ? [this.#meIn(id)]
      : what === "remove"
      ? (body.participants as string[]) ?? []
      : [];
    if (subtype) this.#notifyGroup(id, subtype, this.#meIn(id), recipients);
    return { group: this.group(id) };
  }

  #addToGroup(id: string, participant: string): unknown {
    const g = this.chats.get(id)?.group;
    if (!g) return { clientError: 404 };
    if (!this.#isAdmin(id)) return { clientError: 403, group: this.group(id) };
    let outcome: Record<string, unknown>;
    if (g.participants.some((p) => p.id === participant)) outcome = { error: 409 };
    else if (!this.isRegistered(participant)) outcome = { error: 404 };
    else if (this.refuseGroupAdd.has(participant)) outcome = { error: 403, ...this.#inviteCode() };
    else {
      g.participants.push({ id: participant });
      outcome = {};
    }
    this.actions.push({
      action: "group-add",
      id,
      participant,
      result: outcome.error ?? 200,
    });
    return { ...outcome, group: this.group(id) };
  }

  // ---------- group admin (issue 20) ----------

  /**
   * Another member acts on a group from their phone: `by` (an admin, for what only admins may
   * do) promotes or demotes members, or changes the subject, description or a setting. The page
   * gets the group's new state and the notification (gp2) that tells of it.
   */
  actInGroup(groupId: string, by: string, act: GroupActByOther): void {
    const g = this.#existingGroup(groupId) && this.chats.get(groupId)!.group!;
    const admin = g.participants.some((p) => p.id === by && p.isAdmin);
    if (!g.participants.some((p) => p.id === by)) throw new Error(`"${by}" is not a member`);
    if ("promote" in act || "demote" in act) {
      if (!admin) throw new Error(`"${by}" is not an admin`);
      const promote = "promote" in act;
      const ids = "promote" in act ? act.promote : act.demote;
      for (const p of g.participants) if (ids.includes(p.id)) p.isAdmin = promote;
      this.#notifyGroup(groupId, promote ? "promote" : "demote", by, ids);
    } else if ("subject" in act) {
      g.subject = act.subject;
      this.chats.get(groupId)!.name = act.subject;
      this.#notifyGroup(groupId, "subject", by, []);
    } else if ("desc" in act) {
      g.desc = act.desc;
      this.#notifyGroup(groupId, "description", by, []);
    } else {
      if (!admin) throw new Error(`"${by}" is not an admin`);
      if ("announce" in act) g.announce = act.announce;
      else g.restrict = act.restrict;
      this.#notifyGroup(groupId, "announce" in act ? "announce" : "restrict", by, []);
    }
  }

  /** `by` adds the account to a group (made here with them as its admin). */
  addMeToGroup(group: CloudGroup, by: string): void {
    const { id, ...rest } = structuredClone(group);
    if (!rest.participants.some((p) => this.isMe(p.id))) rest.participants.push({ id: this.me });
    this.chats.set(id, { id, name: rest.subject, group: rest });
    this.#notifyGroup(id, "add", by, [this.me]);
  }

  /** `participant` joins a group by its link (`add`: an admin of it adds them). */
  joinGroup(groupId: string, participant: string, add?: { by: string }): void {
    const g = this.#existingGroup(groupId) && this.chats.get(groupId)!.group!;
    g.participants.push({ id: participant });
    this.#notifyGroup(groupId, add ? "add" : "invite", add?.by ?? participant, [participant]);
  }

  /** `by` (an admin) removes members, the account too, or without `by` `participant` leaves. */
  leaveGroupBy(groupId: string, participants: string[], by?: string): void {
    const g = this.#existingGroup(groupId) && this.chats.get(groupId)!.group!;
    if (by && !g.participants.some((p) => p.id === by && p.isAdmin)) {
      throw new Error(`"${by}" is not an admin`);
    }
    g.participants = g.participants.filter((p) => !participants.includes(p.id));
    this.#notifyGroup(groupId, by ? "remove" : "leave", by ?? participants[0], participants);
  }

  /** `participant` asks to join a group whose admins approve who joins. */
  requestToJoin(groupId: string, participant: string): void {
    const g = this.#existingGroup(groupId) && this.chats.get(groupId)!.group!;
    g.requests = [...(g.requests ?? []), {
      id: participant,
      addedBy: participant,
      requestMethod: "InviteLink",
      t: this.#tick(),
    }];
    this.#notifyGroup(groupId, "membership_approval_request", participant, []);
  }

  /** A group the account is not in, reachable by an invite code (a link someone shared). */
  offerInvite(group: CloudGroup & { invite: string }): void {
    this.#elsewhere.set(group.invite, structuredClone(group));
  }

  readonly #elsewhere = new Map<string, CloudGroup>();

  /** The group's new state to the page, then the gp2 notification WhatsApp sends of a change. */
  #notifyGroup(groupId: string, subtype: string, author: string, recipients: string[]): void {
    this.#pushPaired({ type: "group", group: this.group(groupId) });
    this.#pushPaired({
      type: "message",
      message: {
        id: "GP" + randomToken(8).toUpperCase(),
        chatId: groupId,
        from: groupId,
        to: this.#meIn(groupId),
        author,
        fromMe: false,
        type: "gp2",
        subtype,
        recipients,
        body: "",
        t: this.#tick(),
        ack: 0,
      },
    });
  }

  /** Settings are an admin's; the subject, description and picture too once `restrict` is on. */
  #assertMayEditInfo(groupId: string): void {
    const g = this.#existingGroup(groupId) && this.chats.get(groupId)!.group!;
    if (!g.participants.some((p) => this.isMe(p.id))) throw this.#forbidden();
    if (g.restrict && !this.#isAdmin(groupId)) throw this.#forbidden();
  }

  #inviteOf(groupId: string, reset: boolean): string {
    const g = this.#existingGroup(groupId) && this.chats.get(groupId)!.group!;
    if (!this.#isAdmin(groupId)) throw this.#forbidden();
    if (reset || !g.invite) g.invite = randomToken(11).slice(0, 22);
    this.actions.push({ action: reset ? "group-invite-reset" : "group-invite-code", id: groupId });
    return g.invite;
  }

  #groupByInvite(code: string): CloudGroup {
    for (const c of this.chats.values()) {
      if (c.group?.invite === code) return this.group(c.id)!;
    }
    const elsewhere = this.#elsewhere.get(code);
    if (elsewhere) return structuredClone(elsewhere);
    throw Object.assign(new Error("item-not-found"), { status: 404 });
  }

  #invitePreview(code: string): unknown {
    const g = this.#groupByInvite(code);
    return {
      id: g.id,
      subject: g.subject,
      desc: g.desc ?? "",
      owner: g.owner,
      creation: g.creation,
      size: g.participants.length,
      participants: g.participants,
      membershipApprovalMode: !!g.membershipApprovalMode,
    };
  }

  #joinByInvite(code: string): unknown {
    const g = this.#groupByInvite(code);
    if (g.participants.some((p) => this.isMe(p.id))) {
      throw Object.assign(new Error("conflict"), { status: 409 });
    }
    const { id, ...rest } = g;
    rest.participants.push({ id: this.me });
    this.chats.set(id, { id, name: rest.subject, group: rest });
    this.#elsewhere.delete(code);
    this.actions.push({ action: "group-join", id, code });
    this.#notifyGroup(id, "invite", this.me, [this.me]);
    return { group: this.group(id) };
  }

  #setAdmins(groupId: string, ids: string[], promote: boolean): unknown {
    const g = this.#existingGroup(groupId) && this.chats.get(groupId)!.group!;
    if (!this.#isAdmin(groupId)) throw this.#forbidden();
    const changed: string[] = [];
    for (const p of g.participants) {
      if (!ids.includes(p.id) || p.isSuperAdmin) continue;
      if (!!p.isAdmin !== promote) changed.push(p.id);
      p.isAdmin = promote;
    }
    this.actions.push({
      action: promote ? "group-promote" : "group-demote",
      id: groupId,
      participants: ids,
    });
    if (changed.length) {
      this.#notifyGroup(groupId, promote ? "promote" : "demote", this.#meIn(groupId), changed);
    }
    return { group: this.group(groupId) };
  }

  #answerRequest(groupId: string, participant: string, approve: boolean): unknown {
    const g = this.#existingGroup(groupId) && this.chats.get(groupId)!.group!;
    if (!this.#isAdmin(groupId)) return { error: 401, group: this.group(groupId) };
    if (!(g.requests ?? []).some((r) => r.id === participant)) {
      return { error: 404, group: this.group(groupId) };
    }
    g.requests = (g.requests ?? []).filter((r) => r.id !== participant);
    this.actions.push({ action: "group-request", id: groupId, participant, approve });
    if (approve) {
      g.participants.push({ id: participant });
      this.#notifyGroup(groupId, "add", this.#meIn(groupId), [participant]);
    }
    return { group: this.group(groupId) };
  }

  async #events(deviceId: string, since: number): Promise<unknown> {
    const d = this.devices.get(deviceId);
    if (!d) return { events: [], next: since };
    const pending = () => d.events.filter((e) => e.seq > since);
    if (!pending().length && !this.#closed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          d.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, 15_000);
        d.waiters.add(done);
      });
    }
    const list = pending();
    return {
      events: list.map((e) => e.event),
      next: list.length ? list[list.length - 1].seq : since,
    };
  }

  #push(d: Device, event: PageEvent): void {
    d.events.push({ seq: ++d.seq, event });
    for (const w of [...d.waiters]) w();
  }

  #pushPaired(event: PageEvent): void {
    for (const d of this.devices.values()) if (d.paired) this.#push(d, event);
  }

  #waitingDevice(): Device | undefined {
    return [...this.devices.values()].reverse().find((d) => !d.paired && !d.pairingMode);
  }

  #tick(): number {
    const now = Math.floor(Date.now() / 1000);
    this.#clock = Math.max(this.#clock + 1, now);
    return this.#clock;
  }

  #makeMessage(
    input: Partial<CloudMessage> & { chatId: string; body?: string; fromMe?: boolean },
  ): CloudMessage {
    const fromMe = input.fromMe ?? false;
    return {
      id: input.id ?? (fromMe ? "3EB0" : "AC") + randomToken(8).toUpperCase(),
      chatId: input.chatId,
      from: input.from ?? (fromMe ? this.#meIn(input.chatId) : input.chatId),
      to: input.to ?? (fromMe ? input.chatId : this.#meIn(input.chatId)),
      author: input.author,
      fromMe,
      type: input.type ?? "chat",
      body: input.body,
      caption: input.caption,
      mimetype: input.mimetype,
      filename: input.filename,
      directPath: input.directPath,
      t: input.t ?? this.#tick(),
      ack: input.ack ?? (fromMe ? 3 : 0),
      quotedMsgId: input.quotedMsgId ?? null,
      pollName: input.pollName,
      pollOptions: input.pollOptions,
      pollSelectableOptionsCount: input.pollSelectableOptionsCount,
    };
  }

  #store(m: CloudMessage): void {
    if (!this.chats.has(m.chatId)) this.chats.set(m.chatId, { id: m.chatId });
    const list = this.messages.get(m.chatId) ?? [];
    list.push(m);
    list.sort((a, b) => a.t - b.t);
    this.messages.set(m.chatId, list);
  }

  // ---------- several accounts behind one server (fake_cloud_hub.ts) ----------

  /** Serves one request as this cloud's own server would (a hub serving several accounts). */
  handle(req: Request): Promise<Response> {
    return this.#handle(req);
  }

  /**
   * Hands the waiting device that shows `qr` over to `account` (the cloud of the phone about to
   * scan it), with its page's pending long poll: a QR belongs to no account until a phone scans
   * it. Returns the device's id; throws when no device of this cloud shows it.
   */
  transferWaitingDevice(qr: string, account: FakeCloud): string {
    const d = [...this.devices.values()].find((x) => !x.paired && x.ref && qrString(x) === qr);
    if (!d) throw new Error(`No device shows the QR "${qr.slice(0, 24)}…"`);
    this.devices.delete(d.id);
    account.devices.set(d.id, d);
    return d.id;
  }
}

/** `<fromMe>_<chat>_<id>[_<author>]`, the way whatsapp-web.js names messages. */
export function serializedId(m: CloudMessage): string {
  return `${m.fromMe}_${m.chatId}_${m.id}` +
    (m.author && m.chatId.endsWith("@g.us") ? `_${m.author}` : "");
}

function qrString(d: Device): string {
  return [d.ref, d.keys.staticKey, d.keys.identityKey, d.keys.advSecret, d.keys.platform].join(",");
}

/** Starts a fake cloud on a free port of 127.0.0.1, with its page written out. */
export async function startFakeCloud(options: FakeCloudOptions = {}): Promise<FakeCloud> {
  const cloud = new FakeCloud(options);
  await cloud.start();
  return cloud;
}
