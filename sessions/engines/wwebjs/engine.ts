/**
 * @module
 * The real engine: whatsapp-web.js driving a headless Chromium, one per session, inside the
 * session's Worker. It keeps the login with `LocalAuth` under the session folder, turns the
 * library's events into engine events, reports Chromium's pid so the supervisor can kill its
 * process group, and reports a dead browser, a crashed or wedged page, or a page that does not
 * become ready within `readyTimeoutMs` (the ready watchdog: WhatsApp Web that never finishes
 * loading, or syncs before whatsapp-web.js listens) as `fatal`, which the supervisor restarts
 * under its restart policy. A saved login WhatsApp no longer accepts is an authentication
 * failure: the login is removed and the session FAILED. It reports the linked
 * account (`me`) by its phone number, resolving a LID through the page's LID mapping, and holds
 * back message events until that report is out, so the manager checks the account before any of
 * its traffic leaves. Message events carry the phone number beside every LID they name (looked
 * up in order, one event after the other). This module is the
 * session's lifecycle and events; the capabilities live in `messaging.ts`, `polls.ts`,
 * `organize.ts`, `social.ts` and `directory.ts`, which call through the session as a
 * `WwebjsContext`.
 */
import { wwebjs } from "./lib.ts";
import {
  type Engine,
  EngineError,
  type EngineEvent,
  type EngineEventSink,
  type EngineOptions,
  type EngineProxy,
  type Me,
  type MessageDto,
  notImplemented,
  type SessionStatus,
} from "../../engine.ts";
import { chromiumEnv, findChromium, lowMemoryArgs, runningAsRoot } from "./chromium.ts";
import { type Lib, serialized, toGroupDto, toMessageDto } from "./mappers.ts";
import {
  describeError,
  findGroup,
  iAmAdminOf,
  withTimeout,
  type WwebjsContext,
} from "./context.ts";
import { messagingCapabilities } from "./messaging.ts";
import { directoryCapabilities } from "./directory.ts";
import { pollCapabilities, pollVoteEvent } from "./polls.ts";
import { organizeCapabilities } from "./organize.ts";
import { socialCapabilities } from "./social.ts";
import { groupAdminCapabilities } from "./group_admin.ts";
import { listenToGroups } from "./group_events.ts";
import { idsOfGroup, idsOfMessage, LidBook, pageLidPairs } from "./lids.ts";
import { statusCapabilities } from "./status.ts";
import { channelCapabilities } from "./channels.ts";
import { contactDetailCapabilities } from "./contact_details.ts";
import { interceptPage } from "./interception.ts";
import { installMediaPieces } from "./media_transfer.ts";
import { LINKED_MARKER, LOGIN_DIR, packLogin, unpackLogin } from "./login_archive.ts";
import { chromiumGroupsOn, isRunning, killGroup, spawnedOn, watchLaunch } from "./launch_watch.ts";
import { resolve } from "node:path";

const { Client, LocalAuth } = wwebjs;

/** Message events kept while the linked account is being resolved (a burst at link time). */
const MAX_HELD_EVENTS = 1_000;
/** How long a session may take to become ready when nobody has to scan (WWEBJS_READY_TIMEOUT_MS). */
const READY_TIMEOUT_MS = 60_000;
/** How long a link's preview card may take before the message goes without one. */
const LINK_PREVIEW_TIMEOUT_MS = 5_000;
const LOGOUT_REASONS = new Set(["LOGOUT", "UNPAIRED", "UNPAIRED_IDLE"]);

/** Extra knobs for tests and the memory bench (not part of the engine contract). */
export interface WwebjsTuning {
  /** Chromium arguments instead of the low-memory set. */
  chromiumArgs?: string[];
  /** Whether to abort image/font/media requests (default true). */
  blockResources?: boolean;
  /** Receives the page's console output and errors (for debugging a fake or real page). */
  onPageLog?: (line: string) => void;
}

/**
 * How Chromium ended, when puppeteer's launch failed because the browser process was killed
 * before it was connected to: by a signal ("Code: null"), or, started through Debian's wrapper
 * script, with the script's 128 + signal. A browser that exits on its own (missing libraries, bad
 * flags: a code below 128) cannot start at all: that stays a failed start.
 */
function killedWhileLaunching(error: unknown): string | null {
  const code = /Failed to launch the browser process: +Code: (null|\d+)/.exec(describeError(error))
    ?.[1];
  if (code === undefined) return null;
  if (code === "null") return "killed before it was connected";
  return Number(code) > 128 ? `signal ${Number(code) - 128} before it was connected` : null;
}

/** Creates the whatsapp-web.js engine for one session: its lifecycle plus its capabilities. */
export function createWwebjsEngine(options: EngineOptions, tuning: WwebjsTuning = {}): Engine {
  const session = new WwebjsSession(options, tuning);
  return {
    start: (onEvent) => session.start(onEvent),
    stop: () => session.stop(),
    logout: () => session.logout(),
    requestPairingCode: (phoneNumber) => session.requestPairingCode(phoneNumber),
    ...messagingCapabilities(session),
    ...directoryCapabilities(session),
    ...pollCapabilities(session),
    ...organizeCapabilities(session),
    ...socialCapabilities(session, options.calls),
    ...groupAdminCapabilities(session),
    ...statusCapabilities(session),
    ...channelCapabilities(session),
    ...contactDetailCapabilities(session),
    simulate: () => Promise.reject(notImplemented("simulate", "wwebjs")),
  };
}

function authDir(options: EngineOptions): string {
  return `${options.sessionDir}/${LOGIN_DIR}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** One session's client: start, stop, logout, pairing, and the library's events. */
class WwebjsSession implements WwebjsContext {
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
  /** Chromium's group while it launches (`launch_watch.ts`), until whatsapp-web.js has it. */
  #launch: ReturnType<typeof watchLaunch> | null = null;
  /** The profile folder Chromium runs on (LocalAuth's, resolved as it resolves it). */
  #profile = "";
  #qrCount = 0;
  #pairing = false;
  #me: Me | null = null;
  /** Message events from before the first WORKING report; null once it is out. */
  #held: EngineEvent[] | null = [];
  /** Message events in the order they happened, each once its LIDs are looked up. */
  #traffic: Promise<void> = Promise.resolve();
  readonly #lids = new LidBook((ids) =>
    this.call(() => this.#client.pupPage.evaluate(pageLidPairs, ids))
  );
  /** Chats with a send through the API under way, and how many. */
  #apiSends = new Map<string, number>();
  /** The ready watchdog, while armed. */
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  /** Clients whose browser is already watched. */
  readonly #browserWatched = new WeakSet<object>();
  /** Set when WhatsApp refused the saved login. */
  #loginRejected = false;
  /** How far the start got, for the watchdog's reason. */
  #stage: "loading" | "loaded" | "authenticated" = "loading";
  /** The login's periodic backup (`loginBackup`), once linked. */
  #backupTimer: ReturnType<typeof setInterval> | undefined;
  /** The backup being made, if any (one at a time). */
  #backingUp: Promise<void> | null = null;
  /** What the capability modules listen to on each client (`listenWith`). */
  readonly #moduleListeners: ((client: Lib, emit: (event: EngineEvent) => void) => void)[] = [];

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
    await this.#checkWebVersionCache(local);
    const pinnedPage = local
      ? await Deno.readTextFile(
        `${this.#options.webVersionCachePath}/${this.#options.webVersion}.html`,
      )
      : null;
    const onBrowser = (client: Lib) => this.#onBrowser(client, pinnedPage);
    // A login kept elsewhere that is newer than ours (another node ran the number since).
    const restore = this.#options.loginBackup?.restore;
    if (restore) await unpackLogin(authDir(this.#options), restore);
    const restoring = await exists(`${authDir(this.#options)}/${LINKED_MARKER}`);
    const rejected = () => this.#onLoginRejected();
    const ended = () => this.#ended;

    class SessionAuth extends LocalAuth {
      constructor(authOptions: Lib) {
        super(authOptions);
      }

      // whatsapp-web.js re-creates the login folder after a logout (to show a new QR in the same
      // browser); the session ends there instead, and its login stays deleted.
      async beforeBrowserInitialized() {
        if (ended()) return;
        await super.beforeBrowserInitialized();
      }

      // The engine deletes the whole login folder itself; the library's own removal of the
      // browser profile in it may meet that one.
      async logout() {
        await super.logout().catch(() => {});
      }

      // Runs after Chromium started and before whatsapp-web.js installs its own request handler.
      async afterBrowserInitialized() {
        await super.afterBrowserInitialized?.();
        await onBrowser(this.client);
      }

      // WhatsApp Web asks for a QR although a login was saved: WhatsApp no longer accepts it (the
      // device was unlinked while the session was down). whatsapp-web.js reports auth_failure.
      async onAuthenticationNeeded() {
        if (!restoring) return await super.onAuthenticationNeeded();
        rejected();
        return {
          failed: true,
          restart: false,
          failureEventPayload:
            "WhatsApp no longer accepts the saved login (unlinked on the phone?)",
        };
      }
    }

    // Chromium is watched for from its spawn: one an earlier Worker of this session left running
    // (ended while it launched) is ended first, and this one is reported at once.
    this.#profile = resolve(authDir(this.#options), "session-session");
    for (const group of chromiumGroupsOn(this.#profile)) killGroup(group);
    this.#launch = watchLaunch(this.#profile, (pid) => this.#emit({ type: "child_process", pid }));
    const client = new Client({
      authStrategy: new SessionAuth({ clientId: "session", dataPath: authDir(this.#options) }),
      // A pinned version is served by the engine (interception.ts), not by whatsapp-web.js,
      // whose way of serving it would hand the engine the body of every upload the page makes.
      webVersionCache: { type: "none" },
      authTimeoutMs: this.#options.authTimeoutMs ?? 60_000,
      qrMaxRetries: 0,
      puppeteer: {
        executablePath: binary.path,
        headless: binary.headless,
        args: [
          ...(this.#tuning.chromiumArgs ??
            lowMemoryArgs(binary, runningAsRoot() || this.#options.chromiumNoSandbox === true)),
          // A locally served page (the offline fake WhatsApp Web) talks to its server on
          // 127.0.0.1, which Chromium's Local Network Access checks would block.
          ...(local ? ["--disable-features=LocalNetworkAccessChecks"] : []),
          ...proxyArgs(this.#options.proxy, local),
        ],
        // Chromium gets a reduced environment: the server's keys and secrets stay here.
        env: chromiumEnv(Deno.env.toObject(), home),
        pipe: false,
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
        protocolTimeout: 120_000,
      },
    });
    this.#client = client;
    this.#listen(client);
    // From here until a QR waits for a scan, or until ready, the watchdog runs.
    this.#armWatchdog();
    try {
      await client.initialize();
      this.#guardReinjection(client);
      if (this.#stage === "loading") this.#stage = "loaded";
      if (this.#qrCount > 0) await this.#refreshIdleQr(client);
    } catch (error) {
      if (this.#ended) return;
      // Chromium died under the start (killed, out of memory): a crash for the restart policy,
      // like one after the start, not a start that cannot work.
      // The start may fail on the lost connection a moment before Chromium's exit is seen.
      const died = killedWhileLaunching(error) ?? await this.#chromiumExitWithin(client, 2_000);
      if (this.#ended) return;
      if (died) return this.#fatal(`Chromium exited while starting (${died})`);
      this.#closing = true;
      await this.#destroy();
      throw new Error(`whatsapp-web.js failed to start: ${describeError(error)}`);
    }
  }

  /** How Chromium ended, if it ends within `ms` (null: it still runs, or never ran). */
  async #chromiumExitWithin(client: Lib, ms: number): Promise<string | null> {
    const until = Date.now() + ms;
    for (;;) {
      const ended = this.#chromiumExit(client);
      const watched = client.pupBrowser?.process?.() ?? this.#launch?.found();
      if (ended || watched == null || Date.now() >= until) return ended;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** How Chromium ended, if the one launched for `client` (or found launching) has ended. */
  #chromiumExit(client: Lib): string | null {
    const process = client.pupBrowser?.process?.();
    if (process) {
      if (process.signalCode) return process.signalCode;
      if (process.exitCode !== null && process.exitCode !== undefined) {
        return `code ${process.exitCode}`;
      }
      return null;
    }
    const group = this.#launch?.found();
    return group != null && !isRunning(group) ? "before it was connected" : null;
  }

  async stop(): Promise<void> {
    this.#disarmWatchdog();
    this.#disarmBackup();
    this.#closing = true;
    await this.#destroy();
    // With the browser closed the profile is at rest: the login kept elsewhere is this one.
    if (this.#me && !this.#ended) await this.#backupLogin(true);
    this.#end("STOPPED");
  }

  async logout(): Promise<void> {
    this.#disarmBackup();
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
    return await this.call(() =>
      this.#client.requestPairingCode(phoneNumber.replace(/\D/g, ""), true)
    );
  }

  // ---------- what the capability modules use ----------

  get client(): Lib {
    return this.#client;
  }

  setPushName(name: string): void {
    this.#client.info.pushname = name;
    if (this.#me) this.#me = { ...this.#me, pushName: name };
  }

  sending(chatId: string): () => void {
    // WhatsApp Web may write the chat by the other id (a LID chat for a phone number).
    const ids = [chatId, this.#lids.alternate(chatId)].filter((id): id is string => !!id);
    for (const id of ids) this.#apiSends.set(id, (this.#apiSends.get(id) ?? 0) + 1);
    return () => {
      for (const id of ids) {
        const left = (this.#apiSends.get(id) ?? 1) - 1;
        if (left > 0) this.#apiSends.set(id, left);
        else this.#apiSends.delete(id);
      }
    };
  }

  settled(): Promise<void> {
    return this.#traffic;
  }

  get lids(): LidBook {
    return this.#lids;
  }

  /** A capability module's own library events (calls: `social.ts`), in order with the rest. */
  listenWith(fn: (client: Lib, emit: (event: EngineEvent) => void) => void): void {
    this.#moduleListeners.push(fn);
  }

  isMe(id: string): boolean {
    if (!id) return false;
    const mine = [this.meId(), this.#me?.id, this.#me?.lid].filter(Boolean);
    return mine.includes(id) || mine.some((m) => this.#lids.same(id, m as string));
  }

  // ---------- internals ----------

  /**
   * Chromium is up: report its pid, watch it, refuse heavy resource requests, and serve a pinned
   * version for every load of WhatsApp Web (its own reloads, `/?post_logout=1` after a logout,
   * included). whatsapp-web.js calls this again when it re-opens the login after a logout: once
   * per client is enough.
   */
  async #onBrowser(client: Lib, pinnedPage: string | null): Promise<void> {
    if (this.#browserWatched.has(client)) return;
    this.#browserWatched.add(client);
    this.#launch?.stop();
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
    // It may have ended before these listeners were there.
    const ended = this.#chromiumExit(client);
    if (ended) return this.#fatal(`Chromium exited (${ended})`);
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
    await interceptPage(page, {
      pinnedPage,
      block: this.#tuning.blockResources !== false,
      // Not whatsapp-web.js's `proxyAuthentication`: puppeteer would hold every request for it.
      proxyCredentials: this.#options.proxy?.credentials,
    });
  }

  /**
   * whatsapp-web.js injects itself again after every navigation of the page, from a listener
   * nobody awaits: after a logout (the page reloads with post_logout=1 while the session ends)
   * that fails on a closed browser, harmlessly; while the session runs, a failure there leaves
   * it deaf, so it becomes `fatal` (a restart) instead of an unhandled rejection.
   */
  #guardReinjection(client: Lib): void {
    const inject = client.inject.bind(client);
    client.inject = async () => {
      try {
        await inject();
      } catch (error) {
        if (this.#closing || this.#ended || this.#client !== client) return;
        this.#fatal(
          `WhatsApp Web could not be set up again after it reloaded: ${describeError(error)}`,
        );
      }
    };
  }

  /**
   * WhatsApp Web stops rotating an unscanned QR after a while (`UNPAIRED_IDLE`, "click to reload").
   * whatsapp-web.js means to refresh it, but its handler calls `window.require` in the server,
   * where there is no window, and the QR stays frozen: the refresh is done in the page instead.
   */
  async #refreshIdleQr(client: Lib): Promise<void> {
    await client.pupPage.evaluate(() => {
      const page = globalThis as Lib;
      page.require("WAWebSocketModel").Socket.on("change:state", (_: unknown, state: string) => {
        // Not while a pairing code is shown (whatsapp-web.js renews that one itself).
        if (state === "UNPAIRED_IDLE" && !page.codeInterval) {
          page.require("WAWebCmd").Cmd.refreshQR();
        }
      });
    }).catch(() => {});
  }

  #listen(client: Lib): void {
    client.on("qr", (qr: string) => void this.#onQr(qr));
    client.on("code", (code: string) => this.#emit({ type: "pairing_code", code }));
    client.on("ready", () => void this.#onReady(client));
    client.on("authenticated", () => {
      // Authenticated: the sync that makes it ready gets a fresh watchdog of its own.
      this.#stage = "authenticated";
      this.#armWatchdog();
    });
    client.on("auth_failure", (message: unknown) => void this.#onAuthFailure(message));
    client.on("change_state", (state: string) => {
      if (state === "CONFLICT") {
        this.#setStatus("CONFLICT", "WhatsApp is open on another computer or browser");
      }
    });
    client.on("disconnected", (reason: string) => void this.#onDisconnected(String(reason)));
    client.on("message", (m: Lib) => this.#emitMessage("message", m));
    client.on("message_create", (m: Lib) => this.#emitMessage("message.any", m));
    client.on("vote_update", (vote: Lib) => {
      try {
        this.#emitTraffic(pollVoteEvent(vote, (id) => this.isMe(id)));
      } catch {
        // A vote the mapper cannot read is dropped rather than killing the Worker.
      }
    });
    client.on("message_revoke_everyone", (after: Lib, before: Lib) => {
      const message = this.#toDto(after);
      if (!message) return;
      const earlier = before ? this.#toDto(before) : null;
      this.#emitTraffic({ type: "message.revoked", message, before: earlier }, [
        ...idsOfMessage(message),
        ...(earlier ? idsOfMessage(earlier) : []),
      ]);
    });
    client.on("message_edit", (m: Lib, _newBody: unknown, prevBody: unknown) => {
      // whatsapp-web.js reports any change of a message's text as an edit, a message decrypted
      // late (its text filled in) included; an edit is what WhatsApp marks with its edit key.
      if (!m?._data?.latestEditMsgKey) return;
      const message = this.#toDto(m);
      if (!message) return;
      const previousBody = typeof prevBody === "string" ? prevBody : null;
      this.#emitTraffic({ type: "message.edited", message, previousBody }, idsOfMessage(message));
    });
    listenToGroups(client, {
      ctx: this,
      emit: (event) => this.#emitTraffic(event),
      group: async (groupId) => {
        const group = toGroupDto(await findGroup(this, groupId));
        await this.#lids.resolve(idsOfGroup(group));
        return this.#lids.group(group);
      },
      invite: async (groupId) => {
        try {
          if (!(await iAmAdminOf(this, groupId))) return null;
          return await groupAdminCapabilities(this).getGroupInviteCode(groupId);
        } catch {
          return null;
        }
      },
    });
    client.on("message_ack", (m: Lib, ack: number) => {
      this.#emitTraffic({
        type: "message.ack",
        messageId: serialized(m.id),
        chatId: serialized(m.id?.remote),
        ack: Number(ack),
      });
    });
    for (const listen of this.#moduleListeners) listen(client, (event) => this.#emitTraffic(event));
  }

  async #onReady(client: Lib): Promise<void> {
    this.#disarmWatchdog();
    const info = client.info ?? {};
    const id = await this.#phoneNumberId(client, serialized(info.wid));
    const lid = await this.#ownLid(client, id);
    await this.#boundLinkPreviews(client);
    await this.call(() => installMediaPieces((fn, ...args) => client.pupPage.evaluate(fn, ...args)))
      .catch(() => {});
    if (this.#ended || this.#client !== client) return;
    this.#me = { id, pushName: String(info.pushname ?? ""), ...(lid ? { lid } : {}) };
    await Deno.writeTextFile(`${authDir(this.#options)}/${LINKED_MARKER}`, id).catch(() => {});
    this.#setStatus("WORKING", undefined, this.#me);
    this.#armBackup();
    // After the events already queued, in their order; later ones go out at once.
    this.#traffic = this.#traffic.then(() => {
      const held = this.#held ?? [];
      this.#held = null;
      for (const event of held) this.#emit(event);
    });
  }

  /**
   * whatsapp-web.js awaits a link's preview card inside the send (WhatsApp fetches the site): a
   * slow site would hold the message, and the session's call slot, for as long as it takes. The
   * page's fetch gets a time bound; past it the message goes without a card.
   */
  async #boundLinkPreviews(client: Lib): Promise<void> {
    await this.call(() =>
      client.pupPage.evaluate((ms: number) => {
        const page = globalThis as Lib;
        if (page.waGatewayPreviewsBounded) return;
        page.waGatewayPreviewsBounded = true;
        const action = page.require("WAWebLinkPreviewChatAction");
        const fetchCard = action.getLinkPreview;
        action.getLinkPreview = (...args: unknown[]) =>
          Promise.race([
            Promise.resolve(fetchCard.apply(action, args)).catch(() => null),
            new Promise((resolve) => setTimeout(() => resolve(null), ms)),
          ]);
      }, LINK_PREVIEW_TIMEOUT_MS)
    ).catch(() => {});
  }

  /** Our LID (WhatsApp Web's `getMaybeMeLidUser()`), learnt with our phone number. */
  async #ownLid(client: Lib, pn: string): Promise<string | undefined> {
    try {
      const lid = await this.call(() =>
        client.pupPage.evaluate(() =>
          (globalThis as Lib).require("WAWebUserPrefsMeUser").getMaybeMeLidUser()?._serialized
        )
      );
      if (typeof lid !== "string" || !lid.endsWith("@lid")) return undefined;
      this.#lids.learn(lid, pn);
      return lid;
    } catch {
      return undefined;
    }
  }

  /**
   * The linked account's phone-number id. whatsapp-web.js takes `info.wid` from
   * `getMaybeMePnUser()`, else `getMaybeMeLidUser()`: a LID is resolved the library's way,
   * `getContactLidAndPhone` (WhatsApp Web's LID mapping, else a query to WhatsApp). Unresolved, the
   * LID is reported as it is, and the manager refuses a link it cannot check.
   */
  async #phoneNumberId(client: Lib, wid: string): Promise<string> {
    if (!wid.endsWith("@lid")) return wid;
    try {
      // No request waits on this call, so no manager timeout bounds it: the setting does.
      const lookup = this.call(() => client.getContactLidAndPhone([wid]));
      const ms = this.#options.callTimeoutMs;
      const [ids] = ms ? await withTimeout(lookup, ms) : await lookup;
      if (typeof ids?.pn === "string" && ids.pn.endsWith("@c.us")) return ids.pn;
    } catch {
      // Reported as the LID below.
    }
    return wid;
  }

  async #onQr(qr: string): Promise<void> {
    if (this.#ended) return;
    // Waiting for a person to scan is not a start that hangs.
    this.#disarmWatchdog();
    const max = this.#options.qrMaxRetries;
    if (!this.#pairing) this.#qrCount++;
    if (max > 0 && this.#qrCount > max) {
      this.#closing = true;
      this.#end("STOPPED", `QR code not scanned after ${max} attempts`);
      await this.#destroy();
      return;
    }
    this.#emit({ type: "qr", value: qr });
    if (this.#status !== "SCAN_QR_CODE") this.#setStatus("SCAN_QR_CODE");
  }

  async #onDisconnected(reason: string): Promise<void> {
    // An unlink we asked for: logout() reports it, once, with its own reason.
    if (this.#ended || this.#loggingOut) return;
    // The library destroys the client right after this event: that close is expected.
    this.#closing = true;
    if (LOGOUT_REASONS.has(reason)) {
      this.#ended = true;
      this.#disarmBackup();
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

  /**
   * A library message as our DTO, or null when the mapper cannot read it (such a message is
   * dropped rather than killing the Worker).
   */
  #toDto(m: Lib): MessageDto | null {
    try {
      return toMessageDto(m, (id) => this.isMe(id));
    } catch {
      return null;
    }
  }

  #emitMessage(type: "message" | "message.any", m: Lib): void {
    const message = this.#toDto(m);
    if (!message) return;
    // whatsapp-web.js creates our message while sendMessage runs: a message of ours in a chat
    // we are sending to through the API is that one; any other was written on a device.
    message.source = message.fromMe && this.#apiSends.has(message.chatId) ? "api" : "app";
    this.#emitTraffic({ type, message }, idsOfMessage(message));
  }

  /**
   * A message event, in order after the ones before it, with the phone number beside each LID it
   * names; held back until the linked account has been reported.
   */
  #emitTraffic(event: EngineEvent, ids: string[] = []): void {
    this.#traffic = this.#traffic.then(async () => {
      if (ids.length && !this.#ended) await this.#lids.resolve(ids).catch(() => {});
      let out = event;
      if (
        event.type === "message" || event.type === "message.any" ||
        event.type === "message.edited"
      ) {
        out = { ...event, message: this.#lids.message(event.message) };
      } else if (event.type === "message.revoked") {
        const before = event.before ? this.#lids.message(event.before) : null;
        out = { ...event, message: this.#lids.message(event.message), before };
      }
      if (this.#held === null) this.#emit(out);
      else if (this.#held.length < MAX_HELD_EVENTS) this.#held.push(out);
    });
  }

  #fatal(reason: string): void {
    this.#disarmWatchdog();
    this.#disarmBackup();
    if (this.#closing || this.#ended) return;
    this.#ended = true;
    this.#status = "FAILED";
    this.#emit({ type: "fatal", reason });
  }

  #armWatchdog(): void {
    this.#disarmWatchdog();
    if (this.#ended) return;
    const ms = this.#options.readyTimeoutMs ?? READY_TIMEOUT_MS;
    this.#watchdog = setTimeout(() => {
      this.#watchdog = undefined;
      this.#fatal(
        this.#stage === "loading"
          ? `WhatsApp Web did not finish loading within ${ms} ms`
          : this.#stage === "loaded"
          ? `WhatsApp Web loaded but did not become ready within ${ms} ms (it never reported ` +
            "its sync)"
          : `Authenticated, but WhatsApp Web did not become ready within ${ms} ms`,
      );
    }, ms);
  }

  #disarmWatchdog(): void {
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
  }

  /** A pinned WhatsApp Web version must be in the cache folder: say so plainly if it is not. */
  async #checkWebVersionCache(local: boolean): Promise<void> {
    if (!local) return;
    const file = `${this.#options.webVersionCachePath}/${this.#options.webVersion}.html`;
    if (await exists(file)) return;
    throw new Error(
      `WhatsApp Web ${this.#options.webVersion} is not in WWEBJS_WEB_CACHE_PATH (no ` +
        `${this.#options.webVersion}.html there): add the file or unset WWEBJS_WEB_VERSION`,
    );
  }

  /** The saved login was refused (whatsapp-web.js reports auth_failure next). */
  #onLoginRejected(): void {
    this.#disarmWatchdog();
    this.#closing = true;
    this.#loginRejected = true;
  }

  /** FAILED, saying why; a refused login is removed first, so the next start shows a QR. */
  async #onAuthFailure(message: unknown): Promise<void> {
    this.#closing = true;
    this.#disarmWatchdog();
    if (this.#loginRejected) {
      await this.#destroy();
      await this.#removeAuth();
      this.#emit({ type: "login_rejected" });
    }
    this.#end("FAILED", `Authentication failed: ${describeError(message)}`);
  }

  /**
   * Linked, with `loginBackup`: the login is reported now (so another node can go on without a
   * scan from here on) and every `intervalMs` while the session runs.
   */
  #armBackup(): void {
    const backup = this.#options.loginBackup;
    if (!backup || this.#backupTimer !== undefined) return;
    void this.#backupLogin(false);
    this.#backupTimer = setInterval(() => void this.#backupLogin(false), backup.intervalMs);
  }

  #disarmBackup(): void {
    if (this.#backupTimer !== undefined) clearInterval(this.#backupTimer);
    this.#backupTimer = undefined;
  }

  /**
   * Packs the login and reports it. One at a time: a periodic one while another runs is skipped;
   * the final one (at a stop) waits for it. A login that cannot be packed is logged and the session
   * goes on: the next backup tries again.
   */
  async #backupLogin(final: boolean): Promise<void> {
    if (!this.#options.loginBackup) return;
    if (this.#backingUp) {
      if (!final) return;
      await this.#backingUp;
    }
    const run = (async () => {
      try {
        const archive = await packLogin(authDir(this.#options), LINKED_MARKER);
        if (archive && (final || !this.#ended)) this.#emit({ type: "login", archive, final });
      } catch (error) {
        console.error(JSON.stringify({
          time: new Date().toISOString(),
          level: "warn",
          msg: "packing the login for its backup failed",
          session: this.#options.phoneNumber,
          error: describeError(error),
        }));
      }
    })();
    this.#backingUp = run;
    await run;
    if (this.#backingUp === run) this.#backingUp = null;
  }

  /** Final state: no more status changes after this. */
  #end(status: SessionStatus, reason?: string): void {
    this.#disarmWatchdog();
    this.#disarmBackup();
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
    this.#launch?.stop();
    const client = this.#client;
    if (!client) return;
    const browser = client.pupBrowser;
    if (!browser) {
      // Stopped while Chromium launches: whatsapp-web.js has no browser to close yet, and the
      // Worker ends after this, so the Chromium spawned on our profile is ended here.
      const group = spawnedOn(this.#profile);
      if (group !== null) killGroup(group);
    }
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

  /** Our id as the page writes it (a LID when WhatsApp reports us by one), for `fromMe` checks. */
  meId(): string | null {
    return this.#client?.info?.wid ? serialized(this.#client.info.wid) : this.#me?.id ?? null;
  }

  /**
   * Whether a session may be called is the manager's rule (only while WORKING); this checks only
   * what the capabilities need of the library: a client that fired `ready` (so `client.info` and
   * the page's store exist) and has not ended since.
   */
  ready(): void {
    if (this.#ended || !this.#client?.info) {
      throw new EngineError("NOT_READY", `Session is not connected (status "${this.#status}")`);
    }
  }

  /**
   * Runs one library call, unless the session ended. Not timed here: the manager bounds every
   * call with `ENGINE_CALL_TIMEOUT_MS` and ends a session whose calls keep timing out (a page
   * that stops answering is that), one rule for every engine.
   */
  async call(fn: () => Lib): Promise<Lib> {
    if (this.#ended) {
      throw new EngineError("NOT_READY", `Session is not running (status "${this.#status}")`);
    }
    return await fn();
  }
}

/**
 * Chromium's flags for the number's proxy: every request of the page goes through it. A locally
 * served WhatsApp Web (the offline fake) talks to 127.0.0.1, which Chromium never proxies unless
 * told `<-loopback>`: there that traffic is WhatsApp's, so it goes through the proxy too.
 */
function proxyArgs(proxy: EngineProxy | undefined, local: boolean): string[] {
  if (!proxy) return [];
  return [
    `--proxy-server=${proxy.server}`,
    ...(proxy.hostResolverRules ? [`--host-resolver-rules=${proxy.hostResolverRules}`] : []),
    ...(local ? ["--proxy-bypass-list=<-loopback>"] : []),
  ];
}
