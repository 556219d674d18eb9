/**
 * @module
 * The real engine: whatsapp-web.js driving a headless Chromium, one per session, inside the
 * session's Worker. It keeps the login with `LocalAuth` under the session folder, turns the
 * library's events into engine events, reports Chromium's pid so the supervisor can kill its
 * process group, and reports a dead browser or a wedged page as `fatal`.
 */
import wwebjs from "whatsapp-web.js";
import {
  type ChatDetail,
  type ChatListQuery,
  type ChatPage,
  type ContactDto,
  type Engine,
  EngineError,
  type EngineEvent,
  type EngineEventSink,
  type EngineOptions,
  type GroupCreated,
  type GroupDto,
  type GroupUpdate,
  type Me,
  type MediaInput,
  type MessageListQuery,
  type MessageMediaDto,
  type MessagePage,
  notFound,
  type ParticipantResult,
  type ProfileDto,
  type SendContactInput,
  type SendLocationInput,
  type SendMediaInput,
  type SendTextInput,
  type SentMessage,
  type SessionStatus,
  type TypingState,
} from "./engine.ts";
import { qrToDataUrl } from "./qr.ts";
import { BLOCKED_RESOURCE_TYPES, findChromium, lowMemoryArgs } from "./chromium.ts";
import {
  type Lib,
  serialized,
  toChatDetail,
  toChatSummary,
  toContactDto,
  toGroupDto,
  toMessageDto,
  toParticipantResults,
} from "./wwebjs_mappers.ts";

const { Client, LocalAuth, MessageMedia, Location } = wwebjs as Lib;

/** How long one capability call may take before it counts as a timeout. */
const CALL_TIMEOUT_MS = 60_000;
/** Consecutive timeouts after which the page counts as wedged. */
const WEDGED_AFTER = 3;
/** The most messages fetched to page back through a chat. */
const MAX_FETCH = 5_000;
const LOGOUT_REASONS = new Set(["LOGOUT", "UNPAIRED", "UNPAIRED_IDLE"]);

/** Extra knobs for tests and the memory bench (not part of the engine contract). */
export interface WwebjsTuning {
  /** Chromium arguments instead of the low-memory set. */
  chromiumArgs?: string[];
  /** Whether to abort image/font/media requests (default true). */
  blockResources?: boolean;
  /** Capability call timeout (ms). */
  callTimeoutMs?: number;
  /** Receives the page's console output and errors (for debugging a fake or real page). */
  onPageLog?: (line: string) => void;
}

/** Creates the whatsapp-web.js engine for one session. */
export function createWwebjsEngine(options: EngineOptions, tuning: WwebjsTuning = {}): Engine {
  return new WwebjsEngine(options, tuning);
}

function authDir(options: EngineOptions): string {
  return `${options.sessionDir}/auth`;
}

class WwebjsEngine implements Engine {
  readonly #options: EngineOptions;
  readonly #tuning: WwebjsTuning;
  #client: Lib = null;
  #sink: EngineEventSink = () => {};
  #status: SessionStatus = "STOPPED";
  /** Set when we, or the library, close the browser on purpose. */
  #closing = false;
  /** Set while `logout()` unlinks the device: the library's own disconnect is then ours. */
  #loggingOut = false;
  #ended = false;
  #qrCount = 0;
  #pairing = false;
  #timeouts = 0;
  #me: Me | null = null;

  constructor(options: EngineOptions, tuning: WwebjsTuning) {
    this.#options = options;
    this.#tuning = tuning;
  }

  // ---------- lifecycle ----------

  async start(onEvent: EngineEventSink): Promise<void> {
    this.#sink = onEvent;
    this.#setStatus("STARTING");
    const binary = findChromium(this.#options.chromePath);
    const home = `${this.#options.sessionDir}/chromium-home`;
    await Deno.mkdir(home, { recursive: true });
    const local = Boolean(this.#options.webVersionCachePath && this.#options.webVersion);
    const onBrowser = (client: Lib) => this.#onBrowser(client, local);

    class SessionAuth extends LocalAuth {
      constructor(authOptions: Lib) {
        super(authOptions);
      }

      // Runs after Chromium started and before whatsapp-web.js installs its own request handler.
      async afterBrowserInitialized() {
        await super.afterBrowserInitialized?.();
        await onBrowser(this.client);
      }
    }

    const client = new Client({
      authStrategy: new SessionAuth({ clientId: "session", dataPath: authDir(this.#options) }),
      webVersion: this.#options.webVersion,
      webVersionCache: local
        ? { type: "local", path: this.#options.webVersionCachePath, strict: true }
        : { type: "none" },
      authTimeoutMs: this.#options.authTimeoutMs ?? 60_000,
      qrMaxRetries: 0,
      puppeteer: {
        executablePath: binary.path,
        headless: binary.headless,
        args: [
          ...(this.#tuning.chromiumArgs ?? lowMemoryArgs(binary)),
          // A locally served page (the offline fake WhatsApp Web) talks to its server on
          // 127.0.0.1, which Chromium's Local Network Access checks would block.
          ...(local ? ["--disable-features=LocalNetworkAccessChecks"] : []),
        ],
        env: { ...Deno.env.toObject(), HOME: home },
        pipe: false,
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
        protocolTimeout: 120_000,
      },
    });
    this.#client = client;
    this.#listen(client);
    try {
      await client.initialize();
    } catch (error) {
      if (this.#ended) return;
      this.#closing = true;
      await this.#destroy();
      throw new Error(`whatsapp-web.js failed to start: ${describeError(error)}`);
    }
  }

  async stop(): Promise<void> {
    this.#closing = true;
    await this.#destroy();
    this.#end("STOPPED");
  }

  async logout(): Promise<void> {
    this.#closing = true;
    this.#loggingOut = true;
    const client = this.#client;
    try {
      if (client?.pupPage && !client.pupPage.isClosed()) await client.logout();
    } catch {
      // The unlink may fail with the browser already gone; the local login is removed anyway.
    }
    await this.#destroy();
    await this.#removeAuth();
    this.#emit({ type: "logged_out", reason: "Logged out on request" });
    this.#end("STOPPED");
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    if (this.#status !== "SCAN_QR_CODE") {
      throw new EngineError(
        "BAD_REQUEST",
        `Cannot request a pairing code in status "${this.#status}"`,
      );
    }
    this.#pairing = true;
    return await this.#call(() =>
      this.#client.requestPairingCode(phoneNumber.replace(/\D/g, ""), true)
    );
  }

  // ---------- messages ----------

  sendText(input: SendTextInput): Promise<SentMessage> {
    return this.#send(input.chatId, input.text, { quotedMessageId: input.quotedMsgId });
  }

  sendMedia(input: SendMediaInput): Promise<SentMessage> {
    const media = new MessageMedia(input.media.mimetype, input.media.data, input.media.filename);
    return this.#send(input.chatId, media, {
      caption: input.caption,
      quotedMessageId: input.quotedMsgId,
      sendAudioAsVoice: input.kind === "voice",
      sendMediaAsDocument: input.kind === "file",
    });
  }

  sendLocation(input: SendLocationInput): Promise<SentMessage> {
    const location = new Location(input.latitude, input.longitude, {
      name: input.name,
      address: input.address,
    });
    return this.#send(input.chatId, location, { quotedMessageId: input.quotedMsgId });
  }

  sendContact(input: SendContactInput): Promise<SentMessage> {
    return this.#send(input.chatId, input.vcard, {
      quotedMessageId: input.quotedMsgId,
      parseVCards: true,
    });
  }

  async sendReaction(messageId: string, emoji: string): Promise<void> {
    const msg = await this.#message(messageId);
    await this.#call(() => msg.react(emoji));
  }

  async deleteMessage(messageId: string): Promise<void> {
    const msg = await this.#message(messageId);
    if (!msg.fromMe && !(await this.#iAmAdminOf(serialized(msg.id?.remote)))) {
      // whatsapp-web.js would quietly delete it for us only.
      throw new EngineError("BAD_REQUEST", "Only your own messages can be revoked");
    }
    await this.#call(() => msg.delete(true));
    const after = await this.#call(() => this.#client.getMessageById(messageId));
    if (after && after.type !== "revoked") {
      throw new EngineError("BAD_REQUEST", `Message "${messageId}" could not be revoked`);
    }
  }

  async editMessage(messageId: string, text: string): Promise<SentMessage> {
    const msg = await this.#message(messageId);
    if (!msg.fromMe) {
      throw new EngineError("BAD_REQUEST", `Message "${messageId}" is not ours to edit`);
    }
    const edited = await this.#call(() => msg.edit(text));
    if (!edited) throw new EngineError("BAD_REQUEST", `Message "${messageId}" cannot be edited`);
    // The time of the edit, as the simulator reports it (WhatsApp Web keeps it in milliseconds).
    const editedMs = Number(edited._data?.latestEditSenderTimestampMs);
    return {
      messageId: serialized(edited.id),
      timestamp: Math.floor((editedMs > 0 ? editedMs : Date.now()) / 1000),
    };
  }

  async sendSeen(chatId: string): Promise<void> {
    const ok = await this.#call(() => this.#client.sendSeen(chatId));
    if (!ok) throw notFound(`Chat "${chatId}" not found`);
  }

  async setTyping(chatId: string, state: TypingState): Promise<void> {
    const chat = await this.#chat(chatId);
    await this.#call(() =>
      state === "typing"
        ? chat.sendStateTyping()
        : state === "recording"
        ? chat.sendStateRecording()
        : chat.clearState()
    );
  }

  async checkNumber(phone: string): Promise<{ exists: boolean; chatId?: string }> {
    const digits = phone.replace(/@.*$/, "").replace(/\D/g, "");
    const id = await this.#call(() => this.#client.getNumberId(digits));
    return id ? { exists: true, chatId: serialized(id) } : { exists: false };
  }

  async getMessageMedia(chatId: string, messageId: string): Promise<MessageMediaDto> {
    const msg = await this.#message(messageId);
    if (serialized(msg.id?.remote) !== chatId) throw notFound(`Message "${messageId}" not found`);
    const media = msg.hasMedia ? await this.#call(() => msg.downloadMedia()) : null;
    if (!media) throw notFound(`Media of message "${messageId}" not found`);
    return { mimetype: media.mimetype, data: media.data, filename: media.filename ?? "" };
  }

  // ---------- chats ----------

  async listChats(query: ChatListQuery): Promise<ChatPage> {
    const all: Lib[] = await this.#call(() => this.#client.getChats());
    const chats = all
      .filter((c) => Number(c.timestamp ?? 0) > 0 || c.lastMessage)
      .filter((c) => query.archived === undefined || Boolean(c.archived) === query.archived)
      .sort((a, b) => Number(b.timestamp ?? 0) - Number(a.timestamp ?? 0));
    const page = Math.max(1, query.page);
    const start = (page - 1) * query.limit;
    return {
      chats: chats.slice(start, start + query.limit).map(toChatSummary),
      total: chats.length,
      page,
      hasMore: start + query.limit < chats.length,
    };
  }

  async getChat(chatId: string): Promise<ChatDetail> {
    return toChatDetail(await this.#chat(chatId));
  }

  async listMessages(chatId: string, query: MessageListQuery): Promise<MessagePage> {
    const chat = await this.#chat(chatId);
    let want = query.limit + 1;
    for (;;) {
      const fetched: Lib[] = await this.#call(() => chat.fetchMessages({ limit: want }));
      const newestFirst = fetched
        .map((m, i) => ({ m, i }))
        .sort((a, b) => Number(b.m.timestamp) - Number(a.m.timestamp) || b.i - a.i)
        .map((x) => x.m);
      const exhausted = fetched.length < want || want >= MAX_FETCH;
      let start = 0;
      if (query.before) {
        const at = newestFirst.findIndex((m) => serialized(m.id) === query.before);
        if (at < 0) {
          if (exhausted) throw notFound(`Message "${query.before}" not found`);
          want = Math.min(want * 2, MAX_FETCH);
          continue;
        }
        start = at + 1;
      }
      const slice = newestFirst.slice(start, start + query.limit + 1);
      if (slice.length <= query.limit && !exhausted) {
        want = Math.min(want * 2, MAX_FETCH);
        continue;
      }
      const messages = slice.slice(0, query.limit).map((m) => toMessageDto(m, this.#meId()));
      const hasMore = slice.length > query.limit;
      const result: MessagePage = { messages, hasMore };
      if (hasMore && messages.length) result.nextCursor = messages[messages.length - 1].id;
      return result;
    }
  }

  // ---------- contacts ----------

  async listContacts(): Promise<ContactDto[]> {
    const contacts: Lib[] = await this.#call(() => this.#client.getContacts());
    return contacts.map(toContactDto);
  }

  async getContact(contactId: string): Promise<ContactDto> {
    const contact = await this.#contact(contactId);
    return toContactDto(contact);
  }

  async getProfilePictureUrl(contactId: string): Promise<string | null> {
    const url = await this.#call(() => this.#client.getProfilePicUrl(contactId));
    return url ?? null;
  }

  async blockContact(contactId: string): Promise<void> {
    const contact = await this.#contact(contactId);
    await this.#call(() => contact.block());
  }

  async unblockContact(contactId: string): Promise<void> {
    const contact = await this.#contact(contactId);
    await this.#call(() => contact.unblock());
  }

  // ---------- groups ----------

  async createGroup(name: string, participants: string[]): Promise<GroupCreated> {
    const created = await this.#call(() => this.#client.createGroup(name, participants));
    if (typeof created === "string" || !created?.gid) {
      throw new EngineError(
        "BAD_REQUEST",
        typeof created === "string" ? created : "Group not created",
      );
    }
    const group = await this.getGroup(serialized(created.gid));
    // The creator is listed too (as the group's superadmin): the results are about the others.
    const others = Object.fromEntries(
      Object.entries(created.participants ?? {}).filter(([, r]) => !(r as Lib)?.isGroupCreator),
    );
    return { ...group, results: toParticipantResults(others) };
  }

  async getGroup(groupId: string): Promise<GroupDto> {
    return toGroupDto(await this.#group(groupId));
  }

  async updateGroup(groupId: string, update: GroupUpdate): Promise<GroupDto> {
    const group = await this.#group(groupId);
    const steps: [string, () => Promise<boolean>][] = [];
    if (update.subject !== undefined) {
      steps.push(["subject", () => group.setSubject(update.subject)]);
    }
    if (update.description !== undefined) {
      steps.push(["description", () => group.setDescription(update.description)]);
    }
    if (update.messagesAdminsOnly !== undefined) {
      steps.push([
        "messagesAdminsOnly",
        () => group.setMessagesAdminsOnly(update.messagesAdminsOnly),
      ]);
    }
    if (update.infoAdminsOnly !== undefined) {
      steps.push(["infoAdminsOnly", () => group.setInfoAdminsOnly(update.infoAdminsOnly)]);
    }
    for (const [what, step] of steps) {
      const ok = await this.#call(step);
      if (ok === false) throw new EngineError("BAD_REQUEST", `Cannot change the group's ${what}`);
    }
    return await this.getGroup(groupId);
  }

  async leaveGroup(groupId: string): Promise<void> {
    const group = await this.#group(groupId);
    await this.#call(() => group.leave());
  }

  async addParticipants(groupId: string, participants: string[]): Promise<ParticipantResult[]> {
    const group = await this.#group(groupId);
    const result = await this.#call(() => group.addParticipants(participants));
    if (typeof result === "string") throw new EngineError("BAD_REQUEST", result);
    return toParticipantResults(result ?? {});
  }

  async removeParticipants(groupId: string, participants: string[]): Promise<ParticipantResult[]> {
    const before = new Set(toGroupDto(await this.#group(groupId)).participants.map((p) => p.id));
    const present = participants.filter((p) => before.has(p));
    let refusal = "The participant could not be removed";
    if (present.length) {
      const group = await this.#group(groupId);
      try {
        await this.#call(() => group.removeParticipants(present));
      } catch (error) {
        // WhatsApp refuses (not an admin): the participants stay, and say why below.
        if (error instanceof TimeoutError) throw error;
        refusal = `The participant could not be removed: ${describeError(error)}`;
      }
    }
    const after = new Set(toGroupDto(await this.#group(groupId)).participants.map((p) => p.id));
    return participants.map((id): ParticipantResult =>
      !before.has(id)
        ? { id, result: "not_in_group" }
        : after.has(id)
        ? { id, result: "not_allowed", message: refusal }
        : { id, result: "removed" }
    );
  }

  // ---------- profile ----------

  async getProfile(): Promise<ProfileDto> {
    this.#ready();
    const info = this.#client.info;
    const id = serialized(info?.wid);
    let status = "";
    try {
      const me = await this.#call(() => this.#client.getContactById(id));
      status = (await this.#call(() => me.getAbout())) ?? "";
    } catch {
      // The about text is optional.
    }
    let pictureUrl: string | null = null;
    try {
      pictureUrl = await this.getProfilePictureUrl(id);
    } catch {
      // Hidden or unavailable.
    }
    return { id, number: id.split("@")[0], name: String(info?.pushname ?? ""), status, pictureUrl };
  }

  async setProfileName(name: string): Promise<void> {
    this.#ready();
    const ok = await this.#call(() => this.#client.setDisplayName(name));
    if (ok === false) throw new EngineError("BAD_REQUEST", "The display name cannot be changed");
    // whatsapp-web.js reads `info.pushname` once, at ready: keep it current for getProfile().
    this.#client.info.pushname = name;
    if (this.#me) this.#me = { ...this.#me, pushName: name };
  }

  async setProfileStatus(status: string): Promise<void> {
    this.#ready();
    await this.#call(() => this.#client.setStatus(status));
  }

  async setProfilePicture(media: MediaInput): Promise<void> {
    this.#ready();
    const picture = new MessageMedia(media.mimetype, media.data, media.filename);
    const ok = await this.#call(() => this.#client.setProfilePicture(picture));
    if (ok === false) throw new EngineError("BAD_REQUEST", "The profile picture cannot be changed");
  }

  // ---------- internals ----------

  /** Chromium is up: report its pid, watch it, and abort heavy resource requests. */
  async #onBrowser(client: Lib, wwebjsIntercepts: boolean): Promise<void> {
    const browser = client.pupBrowser;
    const page = client.pupPage;
    const pid = browser.process()?.pid;
    if (typeof pid === "number") this.#emit({ type: "child_process", pid });
    browser.on("disconnected", () => this.#fatal("Chromium exited or lost its connection"));
    // With `pipe: true` a child of Chromium may keep the pipe open after Chromium died, so the
    // process's own exit is watched too.
    browser.process()?.once("exit", (code: unknown, signal: unknown) => {
      this.#fatal(`Chromium exited (${signal ?? `code ${code}`})`);
    });
    page.on(
      "error",
      (error: unknown) => this.#fatal(`The WhatsApp page crashed: ${describeError(error)}`),
    );
    page.on("close", () => this.#fatal("The WhatsApp page was closed"));
    const log = this.#tuning.onPageLog;
    if (log) {
      page.on("console", (m: Lib) => log(`console.${m.type()}: ${m.text()}`));
      page.on("pageerror", (e: unknown) => log(`pageerror: ${describeError(e)}`));
      page.on(
        "requestfailed",
        (r: Lib) => log(`requestfailed: ${r.url()} ${r.failure()?.errorText}`),
      );
    }
    if (this.#tuning.blockResources === false) return;
    await page.setRequestInterception(true);
    page.on("request", (req: Lib) => {
      if (BLOCKED_RESOURCE_TYPES.has(req.resourceType()) && !req.url().startsWith("data:")) {
        req.abort("blockedbyclient").catch(() => {});
        // whatsapp-web.js's own handler continues every request after ours: make that a no-op.
        req.continue = () => Promise.resolve();
        req.respond = () => Promise.resolve();
        return;
      }
      if (!wwebjsIntercepts) req.continue().catch(() => {});
    });
  }

  #listen(client: Lib): void {
    client.on("qr", (qr: string) => void this.#onQr(qr));
    client.on("code", (code: string) => this.#emit({ type: "pairing_code", code }));
    client.on("ready", () => {
      const info = client.info ?? {};
      this.#me = { id: serialized(info.wid), pushName: String(info.pushname ?? "") };
      this.#setStatus("WORKING", undefined, this.#me);
    });
    client.on("auth_failure", (message: unknown) => {
      this.#closing = true;
      this.#end("FAILED", `Authentication failed: ${describeError(message)}`);
    });
    client.on("change_state", (state: string) => {
      if (state === "CONFLICT") {
        this.#setStatus("CONFLICT", "WhatsApp is open on another computer or browser");
      }
    });
    client.on("disconnected", (reason: string) => void this.#onDisconnected(String(reason)));
    client.on("message", (m: Lib) => this.#emitMessage("message", m));
    client.on("message_create", (m: Lib) => this.#emitMessage("message.any", m));
    client.on("message_ack", (m: Lib, ack: number) => {
      this.#emit({
        type: "message.ack",
        messageId: serialized(m.id),
        chatId: serialized(m.id?.remote),
        ack: Number(ack),
      });
    });
  }

  async #onQr(qr: string): Promise<void> {
    if (this.#ended) return;
    const max = this.#options.qrMaxRetries;
    if (!this.#pairing) this.#qrCount++;
    if (max > 0 && this.#qrCount > max) {
      this.#closing = true;
      this.#end("STOPPED", `QR code not scanned after ${max} attempts`);
      await this.#destroy();
      return;
    }
    let dataUrl: string;
    try {
      dataUrl = await qrToDataUrl(qr);
    } catch {
      return;
    }
    if (this.#ended) return;
    this.#emit({ type: "qr", value: qr, dataUrl });
    if (this.#status !== "SCAN_QR_CODE") this.#setStatus("SCAN_QR_CODE");
  }

  async #onDisconnected(reason: string): Promise<void> {
    // An unlink we asked for: logout() reports it, once, with its own reason.
    if (this.#ended || this.#loggingOut) return;
    // The library destroys the client right after this event: that close is expected.
    this.#closing = true;
    if (LOGOUT_REASONS.has(reason)) {
      this.#ended = true;
      await this.#destroy();
      await this.#removeAuth();
      this.#emit({ type: "logged_out", reason: `Logged out from the phone (${reason})` });
      this.#status = "STOPPED";
      this.#emit({ type: "status", status: "STOPPED", reason: "Logged out" });
      return;
    }
    if (reason === "CONFLICT") {
      this.#end("CONFLICT", "WhatsApp is open on another computer or browser");
    } else {
      this.#end("FAILED", `Disconnected: ${reason}`);
    }
    await this.#destroy();
  }

  #emitMessage(type: "message" | "message.any", m: Lib): void {
    try {
      this.#emit({ type, message: toMessageDto(m, this.#meId()) });
    } catch {
      // A message the mapper cannot read is dropped rather than killing the Worker.
    }
  }

  #fatal(reason: string): void {
    if (this.#closing || this.#ended) return;
    this.#ended = true;
    this.#status = "FAILED";
    this.#emit({ type: "fatal", reason });
  }

  /** Final state: no more status changes after this. */
  #end(status: SessionStatus, reason?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#setStatus(status, reason);
  }

  #setStatus(status: SessionStatus, reason?: string, me?: Me): void {
    this.#status = status;
    const event: EngineEvent = { type: "status", status };
    if (reason) event.reason = reason;
    if (me) event.me = me;
    this.#emit(event);
  }

  #emit(event: EngineEvent): void {
    try {
      const result = this.#sink(event) as unknown;
      if (result instanceof Promise) result.catch(() => {});
    } catch {
      // The sink belongs to the supervisor; its failures are not ours to handle.
    }
  }

  async #destroy(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    const browser = client.pupBrowser;
    try {
      await withTimeout(Promise.resolve(client.destroy()), 10_000);
    } catch {
      const pid = browser?.process?.()?.pid;
      if (typeof pid === "number") {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
    }
  }

  async #removeAuth(): Promise<void> {
    await Deno.remove(authDir(this.#options), { recursive: true }).catch(() => {});
  }

  #meId(): string | null {
    return this.#me?.id ?? (this.#client?.info?.wid ? serialized(this.#client.info.wid) : null);
  }

  #ready(): void {
    if (this.#status !== "WORKING" || !this.#client?.info) {
      throw new EngineError("BAD_REQUEST", `Session is not connected (status "${this.#status}")`);
    }
  }

  /** Runs one library call with a timeout; repeated timeouts mean the page is wedged. */
  async #call(fn: () => Lib): Promise<Lib> {
    if (this.#ended) {
      throw new EngineError("BAD_REQUEST", `Session is not running (status "${this.#status}")`);
    }
    const ms = this.#tuning.callTimeoutMs ?? CALL_TIMEOUT_MS;
    try {
      const result = await withTimeout(fn(), ms);
      this.#timeouts = 0;
      return result;
    } catch (error) {
      if (error instanceof TimeoutError) {
        this.#timeouts++;
        if (this.#timeouts >= WEDGED_AFTER) {
          this.#fatal(`The WhatsApp page did not answer ${WEDGED_AFTER} calls in a row`);
        }
      }
      throw error;
    }
  }

  async #send(
    chatId: string,
    content: unknown,
    options: Record<string, unknown>,
  ): Promise<SentMessage> {
    this.#ready();
    const clean = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    if (clean.quotedMessageId) clean.ignoreQuoteErrors = false;
    let msg: Lib;
    try {
      msg = await this.#call(() => this.#client.sendMessage(chatId, content, clean));
    } catch (error) {
      if (/quoted message/i.test(describeError(error))) {
        throw notFound(`Message "${clean.quotedMessageId}" not found`);
      }
      throw error;
    }
    if (!msg) throw notFound(`Chat "${chatId}" not found`);
    return {
      messageId: serialized(msg.id),
      timestamp: Number(msg.timestamp ?? Math.floor(Date.now() / 1000)),
    };
  }

  async #chat(chatId: string): Promise<Lib> {
    this.#ready();
    const chat = await this.#call(() => this.#client.getChatById(chatId));
    if (!chat || (!Number(chat.timestamp ?? 0) && !chat.lastMessage && !chat.isGroup)) {
      throw notFound(`Chat "${chatId}" not found`);
    }
    return chat;
  }

  async #group(groupId: string): Promise<Lib> {
    const chat = await this.#chat(groupId);
    if (!chat.isGroup) throw notFound(`Group "${groupId}" not found`);
    return chat;
  }

  /** Whether `chatId` is a group in which we are an admin. */
  async #iAmAdminOf(chatId: string): Promise<boolean> {
    if (!chatId.endsWith("@g.us")) return false;
    const group = toGroupDto(await this.#group(chatId));
    return group.participants.some((p) => p.id === this.#meId() && p.isAdmin);
  }

  async #contact(contactId: string): Promise<Lib> {
    this.#ready();
    const contact = await this.#call(() => this.#client.getContactById(contactId));
    if (
      !contact ||
      (!contact.isWAContact && !contact.isMyContact && !contact.name && !contact.pushname)
    ) {
      throw notFound(`Contact "${contactId}" not found`);
    }
    return contact;
  }

  async #message(messageId: string): Promise<Lib> {
    this.#ready();
    let msg: Lib;
    try {
      msg = await this.#call(() => this.#client.getMessageById(messageId));
    } catch (error) {
      if (error instanceof TimeoutError) throw error;
      msg = null;
    }
    if (!msg) throw notFound(`Message "${messageId}" not found`);
    return msg;
  }
}

class TimeoutError extends Error {
  constructor(ms: number) {
    super(`The call did not finish within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
