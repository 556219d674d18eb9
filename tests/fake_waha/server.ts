/**
 * @module
 * A fake WAHA server on 127.0.0.1 for the waha engine's tests, written from WAHA's published API
 * (`waha/schemas.ts`): its session calls (create, update, start, stop, logout, info, me), the QR
 * (raw, only while the session waits for a scan), pairing codes, the sends, chats and messages
 * (each message kept as WAHA's WEBJS engine lists it: `messages.ts`) and number checks; its
 * contacts are `contacts.ts`'s, its groups `groups.ts`'s, its profile and LIDs `profile.ts`'s, its
 * presence, labels and calls `social.ts`'s, its chat overview, marks and media files `chats.ts`'s,
 * its channels `channels.ts`'s, its status (stories) `status.ts`'s, its way of answering
 * `http.ts`'s.
 * Like WAHA it checks `X-Api-Key`, validates each request body against WAHA's DTO (400 with
 * NestJS's error body for a wrong one), answers 404 for an unknown session, 422 when the session
 * is not in the status a call needs, and 201 to a POST (NestJS's default). It posts the webhooks
 * of each session's config that WAHA posts for what happens here (`session.status`; `message` for
 * a contact's message; `message.any` for every message, ours too; `message.revoked` and
 * `message.edited` for ours revoked or edited; `message.ack` for a receipt; `message.reaction`
 * for a contact's reaction; `poll.vote` for a contact's vote; `group.v2.*` for a change of a
 * group: `group_events.ts`; the label, presence and call events of `social.ts`), signed as WAHA
 * signs them (`X-Webhook-Hmac`: hex HMAC-SHA512 of the body with `hmac.key`).
 *
 * A test drives it: `scan` links a session, `incoming` makes a contact write (a file too), `ack`
 * delivers or reads a message, `react` makes a contact react to one, `vote` vote in a poll of
 * ours, `groupChange` changes a group from the phone or as another member would, `social`
 * changes a contact's presence, makes a contact call, the phone answer a call or change labels
 * (`social.ts`), `postEvent` posts any event (a malformed one too), `failWith` makes every call
 * answer that status (500), `hang` makes every call wait until the server closes, `olderWaha`
 * answers as WAHA 2024.10 (no profile call).
 * Every request is recorded with its parsed body.
 */
import { z } from "@hono/zod-openapi";
import { signHmac } from "../../events/test_receivers.ts";
import {
  ChatRequest,
  EditMessageRequest,
  MessageContactVcardRequest,
  MessageFileRequest,
  MessageForwardRequest,
  MessageImageRequest,
  MessageLocationRequest,
  MessagePollRequest,
  MessageReactionRequest,
  MessageStarRequest,
  MessageTextRequest,
  MessageVideoRequest,
  MessageVoiceRequest,
  RequestCodeRequest,
  SendSeenRequest,
  type SessionConfig,
  SessionCreateRequest,
  SessionUpdateRequest,
  type WAHASessionStatus,
  type WAMessage,
} from "../../waha/schemas.ts";
import {
  asWebjsChat,
  type FakeChatMarks,
  routeChatExtras,
  seedChatMarks,
  storeMedia,
} from "./chats.ts";
import { type FakeChannel, routeChannels, seedChannels } from "./channels.ts";
import { type FakeContacts, routeContacts, seedContacts } from "./contacts.ts";
import { changeGroup } from "./group_events.ts";
import { type FakeGroups, onWhatsApp, routeGroups, seedGroups } from "./groups.ts";
import { json, nestError, Refusal, validate } from "./http.ts";
import {
  acked,
  bareId,
  edited,
  mediaTypeOf,
  pollVoteOf,
  reactionOf,
  replyToOf,
  revoked,
  type SendBody,
  sentContent,
} from "./messages.ts";
import { type FakeProfile, routeProfile, seedProfile } from "./profile.ts";
import { type FakeStatus, routeStatus } from "./status.ts";
import {
  type FakeSocial,
  routeSocial,
  seedSocial,
  type SocialControls,
  socialControls,
} from "./social.ts";

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

export interface PostedWebhook {
  url: string;
  event: string;
  body: string;
  headers: Record<string, string>;
  status: number;
}

interface FakeSession {
  name: string;
  status: WAHASessionStatus;
  config: SessionConfig;
  me: { id: string; pushName: string } | null;
  qr: number;
  /** Messages by chat, oldest first. */
  chats: Map<string, WAMessage[]>;
  /** Chats marked unread, pinned messages, media files (`chats.ts`). */
  marks: FakeChatMarks;
  /** The groups the account is in, and those it may join (`groups.ts`). */
  groups: FakeGroups;
  /** Its status, picture and LIDs (`profile.ts`). */
  profile: FakeProfile;
  /** Its presence and labels (`social.ts`). */
  social: FakeSocial;
  /** The channels it knows, its own and the directory's (`channels.ts`). */
  channels: Map<string, FakeChannel>;
  /** Whom it blocked (`contacts.ts`). */
  contacts: FakeContacts;
  /** The statuses it posted, by their own message id (`status.ts`). */
  statuses: Map<string, FakeStatus>;
}

export interface FakeWaha {
  url: string;
  requests: RecordedRequest[];
  webhooks: PostedWebhook[];
  sessions: Map<string, FakeSession>;
  /** Answer every call with this status (null: answer normally). */
  failWith: number | null;
  /** Every call waits, unanswered, until the server closes. */
  hang: boolean;
  /** Answer as WAHA 2024.10 does, which has no `GET /api/{session}/profile` (404). */
  olderWaha: boolean;
  /** The phone scans the QR: the session is WORKING as `<name>@c.us` (or `as`). */
  scan(name: string, as?: string): Promise<void>;
  /** A contact writes to the session (with a file): stored, and posted as a `message` webhook. */
  incoming(
    name: string,
    from: string,
    text: string,
    media?: { mimetype: string; filename: string; data: string },
  ): Promise<WAMessage>;
  /** WhatsApp's receipt of a message (2 delivered, 3 read, 4 played): kept, posted as `message.ack`. */
  ack(name: string, messageId: string, ack: number): Promise<WAMessage>;
  /** `from` reacts to a message in its chat with the session (`""` takes it back): posted. */
  react(name: string, from: string, messageId: string, emoji: string): Promise<void>;
  /** `from` votes in a poll of ours in its chat with the session: posted as `poll.vote`. */
  vote(name: string, from: string, pollId: string, selectedOptions: string[]): Promise<void>;
  /**
   * A group of the session changes from the phone or by another member (`action` and `body` as
   * the simulator's control of that name: `group_events.ts`), and WAHA's event is posted; throws
   * for a change WhatsApp would refuse.
   */
  groupChange(name: string, action: string, body: Record<string, unknown>): Promise<void>;
  /** What happens on the session's phone and from its contacts: presence, calls, labels. */
  social(name: string): SocialControls;
  /** Posts `payload` as the session's `event`, as WAHA posts its events (a malformed one too). */
  postEvent(name: string, event: string, payload: unknown): Promise<void>;
  /** The calls made to `path` (exactly), in order. */
  callsTo(path: string, method?: string): RecordedRequest[];
  close(): Promise<void>;
}

/** The send calls: WAHA's path and the DTO its body must be. */
const SENDS: Record<string, z.ZodType> = {
  "/api/sendText": MessageTextRequest,
  "/api/sendImage": MessageImageRequest,
  "/api/sendFile": MessageFileRequest,
  "/api/sendVoice": MessageVoiceRequest,
  "/api/sendVideo": MessageVideoRequest,
  "/api/sendLocation": MessageLocationRequest,
  "/api/sendContactVcard": MessageContactVcardRequest,
  "/api/sendPoll": MessagePollRequest,
};

export function startFakeWaha(options: { apiKey?: string; port?: number } = {}): FakeWaha {
  const requests: RecordedRequest[] = [];
  const webhooks: PostedWebhook[] = [];
  const sessions = new Map<string, FakeSession>();
  const closing = new AbortController();
  const posting = new Set<Promise<void>>();
  let counter = 0;

  function sessionNamed(name: string | undefined, needs?: WAHASessionStatus[]): FakeSession {
    const session = name === undefined ? undefined : sessions.get(name);
    if (!session) throw new Refusal(nestError(404, "Not Found", "Session not found"));
    if (needs && !needs.includes(session.status)) {
      throw new Refusal(
        nestError(
          422,
          "Unprocessable Entity",
          `Session status is not as expected. Try again later or restart the session. ` +
            `Status: ${session.status}, expected: ${needs.join(", ")}`,
        ),
      );
    }
    return session;
  }

  function post(session: FakeSession, event: string, payload: unknown): Promise<void> {
    const hooks = (session.config.webhooks ?? []).filter((h) => h.events.includes(event as never));
    const done = Promise.all(hooks.map(async (hook) => {
      const body = JSON.stringify({
        id: `evt_${crypto.randomUUID().replaceAll("-", "")}`,
        timestamp: Date.now(),
        event,
        session: session.name,
        me: session.me,
        payload,
        engine: "NOWEB",
        environment: { version: "fake", engine: "NOWEB", tier: "CORE", browser: null },
      });
      const headers: Record<string, string> = {
        "Content-Type": "application/json",
        "X-Webhook-Request-Id": crypto.randomUUID(),
        "X-Webhook-Timestamp": String(Date.now()),
      };
      if (hook.hmac?.key) {
        headers["X-Webhook-Hmac"] = await signHmac(hook.hmac.key, body);
        headers["X-Webhook-Hmac-Algorithm"] = "sha512";
      }
      for (const header of hook.customHeaders ?? []) headers[header.name] = header.value;
      let status = 0;
      try {
        const response = await fetch(hook.url, { method: "POST", headers, body });
        await response.body?.cancel();
        status = response.status;
      } catch {
        status = -1;
      }
      webhooks.push({ url: hook.url, event, body, headers, status });
    })).then(() => {});
    posting.add(done);
    done.finally(() => posting.delete(done));
    return done;
  }

  function setStatus(session: FakeSession, status: WAHASessionStatus): Promise<void> {
    session.status = status;
    return post(session, "session.status", { name: session.name, status });
  }

  function start(session: FakeSession): void {
    if (session.status !== "STOPPED" && session.status !== "FAILED") return;
    void setStatus(session, "STARTING").then(() =>
      setStatus(session, session.me ? "WORKING" : "SCAN_QR_CODE")
    );
  }

  /**
   * A message of ours in `chatId`, with what `content` keeps on it (given the new id): stored,
   * and posted as a `message.any` webhook, as WAHA posts every message created.
   */
  function sentMessage(
    session: FakeSession,
    chatId: string,
    content: (id: string) => Partial<WAMessage>,
  ): WAMessage {
    const id = `true_${chatId}_FAKE${(++counter).toString().padStart(16, "0")}`;
    const message: WAMessage = {
      id,
      timestamp: Math.floor(Date.now() / 1000) + counter,
      from: session.me!.id,
      fromMe: true,
      to: chatId,
      body: "",
      hasMedia: false,
      ack: 1,
      ackName: "SERVER",
      ...content(id),
    };
    const chat = session.chats.get(chatId) ?? [];
    chat.push(message);
    session.chats.set(chatId, chat);
    void post(session, "message.any", message);
    return message;
  }

  function messageById(session: FakeSession, chatId: string, id: string): WAMessage {
    const message = session.chats.get(chatId)?.find((m) => m.id === id);
    if (!message) throw new Refusal(nestError(404, "Not Found", "Message not found"));
    return message;
  }

  async function route(request: Request, url: URL, body: unknown): Promise<Response> {
    const path = url.pathname;
    const method = request.method;
    const query = Object.fromEntries(url.searchParams);
    let m: RegExpMatchArray | null;

    // ----- sessions -----
    if (path === "/api/sessions" && method === "POST") {
      const create = validate(SessionCreateRequest, body);
      const name = create.name ?? `session_${++counter}`;
      if (sessions.has(name)) {
        return nestError(
          422,
          "Unprocessable Entity",
          `Session '${name}' already exists. Use PUT to update it.`,
        );
      }
      const session: FakeSession = {
        name,
        status: "STOPPED",
        config: create.config ?? {},
        me: null,
        qr: 0,
        chats: new Map(),
        marks: seedChatMarks(),
        groups: seedGroups(`${name}@c.us`),
        profile: seedProfile(),
        social: seedSocial(),
        channels: seedChannels(),
        contacts: seedContacts(),
        statuses: new Map(),
      };
      sessions.set(name, session);
      if (create.start) start(session);
      return json(201, { name, status: session.status, config: session.config });
    }
    if ((m = path.match(/^\/api\/sessions\/([^/]+)$/))) {
      const session = sessionNamed(m[1]);
      if (method === "GET") {
        return json(200, { name: session.name, status: session.status, me: session.me });
      }
      if (method === "PUT") {
        const update = validate(SessionUpdateRequest, body);
        const running = session.status !== "STOPPED";
        session.status = "STOPPED";
        session.config = update.config ?? {};
        if (running) start(session);
        return json(200, { name: session.name, status: session.status });
      }
    }
    if ((m = path.match(/^\/api\/sessions\/([^/]+)\/(start|stop|logout|me)$/))) {
      const session = sessionNamed(m[1]);
      if (m[2] === "me" && method === "GET") return json(200, session.me);
      if (method === "POST" && m[2] === "start") start(session);
      if (method === "POST" && m[2] === "stop") await setStatus(session, "STOPPED");
      if (method === "POST" && m[2] === "logout") {
        session.me = null;
        if (session.status !== "STOPPED") {
          session.status = "STOPPED";
          start(session);
        }
      }
      return json(201, { name: session.name, status: session.status });
    }

    // ----- auth -----
    if ((m = path.match(/^\/api\/([^/]+)\/auth\/qr$/)) && method === "GET") {
      const session = sessionNamed(m[1], ["SCAN_QR_CODE"]);
      if (query.format !== "raw") return new Response("png", { status: 200 });
      return json(200, { value: `2@fake-waha-qr,${session.name},${session.qr}` });
    }
    if ((m = path.match(/^\/api\/([^/]+)\/auth\/request-code$/)) && method === "POST") {
      sessionNamed(m[1], ["SCAN_QR_CODE"]);
      validate(RequestCodeRequest, body);
      return json(201, { code: "ABCD-EFGH" });
    }

    // ----- chatting -----
    const send = SENDS[path];
    if (send && method === "POST") {
      const input = validate(send, body) as SendBody & { session: string; reply_to?: string };
      const session = sessionNamed(input.session, ["WORKING"]);
      const quoted = input.reply_to ? messageById(session, input.chatId, input.reply_to) : null;
      const message = sentMessage(session, input.chatId, (id) => ({
        ...sentContent(path, input, { marks: session.marks, session: session.name, id }),
        ...(quoted ? { replyTo: replyToOf(quoted) } : {}),
      }));
      return json(201, message);
    }
    if (path === "/api/forwardMessage" && method === "POST") {
      const input = validate(MessageForwardRequest, body);
      const session = sessionNamed(input.session, ["WORKING"]);
      const original = messageById(session, input.messageId.split("_")[1], input.messageId);
      // The copy has the original's content (type, body, media, location, cards), nothing else.
      const { _data, body: text, hasMedia, media, location, vCards } = original;
      const copy = sentMessage(session, input.chatId, () => ({
        _data,
        body: text,
        hasMedia,
        media,
        location,
        vCards,
      }));
      return json(201, copy);
    }
    if (path === "/api/star" && method === "PUT") {
      const input = validate(MessageStarRequest, body);
      messageById(sessionNamed(input.session, ["WORKING"]), input.chatId, input.messageId);
      return json(200, undefined);
    }
    if (path === "/api/sendSeen" && method === "POST") {
      const seen = validate(SendSeenRequest, body);
      const { marks, chats } = sessionNamed(seen.session, ["WORKING"]);
      marks.unread.delete(seen.chatId);
      marks.seen.set(seen.chatId, chats.get(seen.chatId)?.at(-1)?.timestamp ?? 0);
      return json(201, undefined);
    }
    if ((path === "/api/startTyping" || path === "/api/stopTyping") && method === "POST") {
      sessionNamed(validate(ChatRequest, body).session, ["WORKING"]);
      return json(201, undefined);
    }
    if (path === "/api/reaction" && method === "PUT") {
      sessionNamed(validate(MessageReactionRequest, body).session, ["WORKING"]);
      return json(200, undefined);
    }
    if (path === "/api/contacts/check-exists" && method === "GET") {
      sessionNamed(query.session, ["WORKING"]);
      const exists = /^\d+$/.test(query.phone ?? "") && onWhatsApp(`${query.phone}@c.us`);
      return json(
        200,
        exists ? { numberExists: true, chatId: `${query.phone}@c.us` } : {
          numberExists: false,
        },
      );
    }
    const contacts = routeContacts({
      method,
      path,
      query,
      body,
      contactsOf(name) {
        const session = sessionNamed(name, ["WORKING"]);
        return {
          contacts: session.contacts,
          chats: session.chats,
          me: { id: session.me!.id, picture: session.profile.picture },
        };
      },
    });
    if (contacts) return contacts;

    // ----- chats -----
    const extras = routeChatExtras({
      method,
      path,
      query,
      body,
      chatsOf(name) {
        const session = sessionNamed(name, ["WORKING"]);
        return { chats: session.chats, marks: session.marks };
      },
    });
    if (extras) return extras;
    if ((m = path.match(/^\/api\/([^/]+)\/chats$/)) && method === "GET") {
      const session = sessionNamed(m[1], ["WORKING"]);
      const chats = [...session.chats.entries()].map(([id, messages]) =>
        asWebjsChat(id, messages, session.marks)
      ).sort((a, b) => (b.timestamp ?? 0) - (a.timestamp ?? 0));
      const offset = Number(query.offset ?? 0);
      const limit = query.limit === undefined ? chats.length : Number(query.limit);
      return json(200, chats.slice(offset, offset + limit));
    }
    if ((m = path.match(/^\/api\/([^/]+)\/chats\/([^/]+)(\/archive|\/unarchive|\/messages)?$/))) {
      const session = sessionNamed(m[1], ["WORKING"]);
      const chatId = decodeURIComponent(m[2]);
      const action = `${method} ${m[3] ?? ""}`;
      if (action === "POST /archive" || action === "POST /unarchive") return json(201, undefined);
      // Clearing a chat keeps it, empty; deleting it removes it.
      if (action === "DELETE /messages") {
        if (session.chats.has(chatId)) session.chats.set(chatId, []);
        return json(200, undefined);
      }
      if (action === "DELETE ") {
        session.chats.delete(chatId);
        return json(200, undefined);
      }
    }
    if ((m = path.match(/^\/api\/([^/]+)\/chats\/([^/]+)\/messages$/)) && method === "GET") {
      const session = sessionNamed(m[1], ["WORKING"]);
      const chatId = decodeURIComponent(m[2]);
      const limit = Number(query.limit ?? 100);
      const messages = session.chats.get(chatId) ?? [];
      // WAHA answers the newest `limit`, newest first.
      return json(200, messages.slice(-limit).reverse());
    }
    if ((m = path.match(/^\/api\/([^/]+)\/chats\/([^/]+)\/messages\/([^/]+)$/))) {
      const session = sessionNamed(m[1], ["WORKING"]);
      const chatId = decodeURIComponent(m[2]);
      const message = messageById(session, chatId, decodeURIComponent(m[3]));
      const chat = session.chats.get(chatId)!;
      if (method === "DELETE") {
        // WhatsApp revokes our own messages for everyone; anyone else's it deletes for us only.
        if (message.fromMe) {
          chat[chat.indexOf(message)] = revoked(message);
          void post(session, "message.revoked", {
            after: revoked(message),
            before: message,
            revokedMessageId: bareId(message.id),
          });
        } else {
          chat.splice(chat.indexOf(message), 1);
        }
        return json(200, undefined);
      }
      if (method === "PUT") {
        const { text } = validate(EditMessageRequest, body);
        // whatsapp-web.js edits only our own text messages (it answers null otherwise).
        if (message.fromMe && (message._data as { type?: string })?.type === "chat") {
          message.body = text;
          void post(session, "message.edited", edited(message));
        }
        return json(200, undefined);
      }
    }
    // ----- groups -----
    const groups = routeGroups({
      method,
      path,
      query,
      body,
      groupsOf(name) {
        const session = sessionNamed(name, ["WORKING"]);
        return {
          groups: session.groups,
          me: session.me!.id,
          notify: (event, payload) => void post(session, event, payload),
        };
      },
      next: () => ++counter,
    });
    if (groups) return groups;
    const newer = !(fake.olderWaha && /^\/api\/[^/]+\/profile$/.test(path));
    const profile = newer && routeProfile({
      method,
      path,
      query,
      body,
      sessionOf(name) {
        const session = sessionNamed(name, ["WORKING"]);
        return { profile: session.profile, me: session.me! };
      },
      next: () => ++counter,
    });
    if (profile) return profile;
    const social = routeSocial({
      method,
      path,
      body,
      socialOf: (name) => sessionNamed(name, ["WORKING"]).social,
      postOf: (name) => (event, payload) => post(sessionNamed(name), event, payload),
    });
    if (social) return social;
    const channels = routeChannels({
      method,
      path,
      query,
      body,
      channelsOf: (name) => sessionNamed(name, ["WORKING"]).channels,
      next: () => ++counter,
    });
    if (channels) return channels;
    const status = routeStatus({
      method,
      path,
      body,
      statusOf(name) {
        const session = sessionNamed(name, ["WORKING"]);
        return { statuses: session.statuses, me: session.me!.id };
      },
      next: () => ++counter,
    });
    if (status) return status;
    return nestError(404, "Not Found", `Cannot ${method} ${path}`);
  }

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: options.port ?? 0, onListen: () => {}, signal: closing.signal },
    async (request) => {
      const url = new URL(request.url);
      const text = await request.text();
      let body: unknown = undefined;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          return nestError(400, "Bad Request", "Unexpected token in JSON");
        }
      }
      requests.push({
        method: request.method,
        // As WAHA's router sees it: each segment decoded (`%40` is `@`).
        path: url.pathname.split("/").map(decodeURIComponent).join("/"),
        query: Object.fromEntries(url.searchParams),
        body,
      });
      if (fake.hang) {
        await new Promise<void>((resolve) => {
          if (closing.signal.aborted) resolve();
          closing.signal.addEventListener("abort", () => resolve(), { once: true });
        });
        return new Response(null, { status: 503 });
      }
      if (options.apiKey && request.headers.get("x-api-key") !== options.apiKey) {
        return nestError(401, "Unauthorized", "Unauthorized");
      }
      if (fake.failWith !== null) {
        return nestError(fake.failWith, "Internal Server Error", "Internal server error");
      }
      try {
        return await route(request, url, body);
      } catch (error) {
        if (error instanceof Refusal) return error.response;
        throw error;
      }
    },
  );

  const fake: FakeWaha = {
    url: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    requests,
    webhooks,
    sessions,
    failWith: null,
    hang: false,
    olderWaha: false,
    async scan(name, as) {
      const session = sessionNamed(name, ["SCAN_QR_CODE"]);
      session.me = { id: `${as ?? name}@c.us`, pushName: "Fake Phone" };
      await setStatus(session, "WORKING");
    },
    async incoming(name, from, text, media) {
      const session = sessionNamed(name, ["WORKING"]);
      const id = `false_${from}_FAKEIN${(++counter).toString().padStart(14, "0")}`;
      const message: WAMessage = {
        id,
        timestamp: Math.floor(Date.now() / 1000) + counter,
        from,
        fromMe: false,
        to: session.me!.id,
        body: text,
        hasMedia: media !== undefined,
        ...(media ? { media: storeMedia(session.marks, name, id, media) } : {}),
        ack: 2,
        ackName: "DEVICE",
        _data: { type: media ? mediaTypeOf(media.mimetype) : "chat" },
      };
      const chat = session.chats.get(from) ?? [];
      chat.push(message);
      session.chats.set(from, chat);
      await post(session, "message", message);
      await post(session, "message.any", message);
      return message;
    },
    async ack(name, messageId, ack) {
      const session = sessionNamed(name, ["WORKING"]);
      for (const messages of session.chats.values()) {
        const index = messages.findIndex((m) => m.id === messageId);
        if (index < 0) continue;
        const receipt = acked(messages[index], ack);
        messages[index] = receipt.message;
        await post(session, "message.ack", receipt.body);
        return receipt.message;
      }
      throw new Error(`no message ${messageId} in the fake WAHA's ${name}`);
    },
    async react(name, from, messageId, emoji) {
      const session = sessionNamed(name, ["WORKING"]);
      const message = messageById(session, from, messageId);
      const id = `false_${from}_FAKER${(++counter).toString().padStart(15, "0")}`;
      await post(
        session,
        "message.reaction",
        reactionOf({ id, from, chatId: from, emoji }, message),
      );
    },
    async vote(name, from, pollId, selectedOptions) {
      const session = sessionNamed(name, ["WORKING"]);
      const poll = messageById(session, from, pollId);
      const id = `false_${from}_FAKEV${(++counter).toString().padStart(15, "0")}`;
      const body = pollVoteOf({ id, from, me: session.me!.id, selectedOptions }, poll);
      await post(session, "poll.vote", body);
    },
    async groupChange(name, action, body) {
      const session = sessionNamed(name, ["WORKING"]);
      const posts: Promise<void>[] = [];
      changeGroup(session.groups, session.me!.id, action, body, (event, payload) => {
        posts.push(post(session, event, payload));
      });
      await Promise.all(posts);
    },
    social(name) {
      const session = sessionNamed(name, ["WORKING"]);
      return socialControls(session.social, (event, payload) => post(session, event, payload));
    },
    postEvent: (name, event, payload) => post(sessionNamed(name), event, payload),
    callsTo(path, method) {
      return requests.filter((r) => r.path === path && (!method || r.method === method));
    },
    async close() {
      closing.abort();
      await server.finished;
      await Promise.all([...posting]);
    },
  };
  return fake;
}
