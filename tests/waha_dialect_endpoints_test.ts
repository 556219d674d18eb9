/**
 * @module
 * WAHA's REST dialect on simulator sessions, as a WAHA client calls it. One table: for each
 * covered WAHA endpoint, the request WAHA's docs show; its answer is checked against the schema
 * transcribed from WAHA's API (`waha/schemas.ts`: status and body), and the same table names the
 * contract's route for the same thing and the call both must make. Every call reaching the
 * session manager (and, through `session()`, the engine) is recorded; the WAHA request and the
 * contract's request must each make that call, with the same arguments: a WAHA route that did the
 * work on its own, or differently, fails. Then WAHA's errors: an unknown session, no key, a bad
 * body, another account's number, a body over the limit, and the endpoints not covered (`501`).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { z } from "@hono/zod-openapi";
import { oggOpusHead, tinyPdf, tinyPng } from "../media/test_fixtures.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { UNCOVERED_WAHA_ENDPOINTS, WahaErrorBody } from "../waha/dialect.ts";
import * as Waha from "../waha/schemas.ts";
import { ADMIN_KEY, startSession, startTestApp, type TestApp, waitFor } from "./_helpers.ts";
import { createTestSigner, TEST_ISSUER, workosTokens } from "./_auth_helpers.ts";
import { decodeQrDataUrl } from "./qr_decode.ts";

const PHONE = "4915550003001";
const CREATED = "4915550003002";
const DELETED_BY_CONTRACT = "4915550003003";
const WAITING = "4915550003004";
const ACCOUNTS = "4915550003005";
const ALICE = "15550000001@c.us";
/** A group of the simulator's phone, which it administers. */
const GROUP = "120363000000000001@g.us";
const NEWCOMER = "15550000009@c.us";
const ACCOUNT_KEY = "test-account-key-acme-0123456789";

interface Call {
  name: string;
  args: unknown;
}

/**
 * Arguments as plain data, without the caller (the principal differs in nothing that matters) and
 * with the time in a generated media filename (`voice-<ms>.opus`) left out.
 */
function plain(args: unknown[]): unknown {
  return JSON.parse(JSON.stringify(args, (key, value) => {
    if (key === "caller") return undefined;
    if (key === "filename" && typeof value === "string") return value.replace(/-\d+\./, "-<ms>.");
    const object = value as Record<string, unknown> | null;
    if (object && typeof object === "object" && "via" in object && "kind" in object) return null;
    return value;
  }));
}

/**
 * Records every call that reaches `manager` (replacing its methods in place: the app calls them
 * through the same object) and every engine call made on what its `session()` returns.
 */
function recordCalls(manager: SessionManager) {
  const calls: Call[] = [];
  const target = manager as unknown as Record<string, unknown>;
  for (const name of Object.keys(target)) {
    const original = target[name];
    if (typeof original !== "function") continue;
    target[name] = (...args: unknown[]) => {
      calls.push({ name: `manager.${name}`, args: plain(args) });
      const result = original.apply(manager, args);
      if (name !== "session") return result;
      return new Proxy(result as object, {
        get(client, method) {
          const value = Reflect.get(client, method);
          if (typeof value !== "function") return value;
          return (...callArgs: unknown[]) => {
            calls.push({ name: `session.${String(method)}`, args: plain(callArgs) });
            return value.apply(client, callArgs);
          };
        },
      });
    };
  }
  return { take: () => calls.splice(0) };
}

interface WahaRequest {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A request as a WAHA client sends it: to `/api…`, with `X-Api-Key`. */
function wahaRequest(server: TestApp, request: WahaRequest): Promise<Response> {
  const headers: Record<string, string> = { "X-Api-Key": ADMIN_KEY, ...request.headers };
  let body: string | undefined;
  if (request.body !== undefined) {
    headers["Content-Type"] ??= "application/json";
    body = JSON.stringify(request.body);
  }
  return Promise.resolve(
    server.app.request(`/api${request.path}`, { method: request.method, headers, body }),
  );
}

type Expected = z.ZodType | "png" | "empty" | "text";

async function checkAnswer(
  what: string,
  response: Response,
  status: number,
  expected: Expected,
): Promise<unknown> {
  if (expected === "png") {
    assert.equal(response.status, status, what);
    assert.equal(response.headers.get("content-type"), "image/png", what);
    return new Uint8Array(await response.arrayBuffer());
  }
  const text = await response.text();
  assert.equal(response.status, status, `${what}: ${text}`);
  if (expected === "empty") {
    assert.equal(text, "", `${what}: no body`);
    return null;
  }
  if (expected === "text") {
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain/, what);
    assert.ok(text.length > 0, `${what}: a text`);
    return text;
  }
  const parsed = expected.safeParse(JSON.parse(text));
  assert.ok(parsed.success, `${what}: ${text} does not fit WAHA's schema: ${parsed.error}`);
  return parsed.data;
}

interface Case {
  waha: WahaRequest;
  status: number;
  answer: Expected;
  /** What else the answer must say. */
  check?: (body: unknown) => void;
  /** The contract's route for the same thing (under `/api/whatsapp`). */
  contract: { method: string; path: string; body?: unknown };
  /** The call both must make; `names`: compared by name only (two numbers, or two QR formats). */
  same: string;
  compare?: "args" | "names";
}

const pngDataUrl = (png: Uint8Array) =>
  `data:image/png;base64,${Buffer.from(png).toString("base64")}`;

Deno.test("WAHA's endpoints answer as WAHA's API says and make the contract's session calls", async (t) => {
  const signer = await createTestSigner();
  const server = await startTestApp({
    API_KEYS: `${ACCOUNT_KEY}=acme`,
    JWT_PUBLIC_KEY: signer.publicPem,
    JWT_ISSUER: TEST_ISSUER,
  });
  const linking = await startTestApp({ SIMULATOR_SCAN_MS: "600000" });
  try {
    await startSession(server, PHONE);
    await startSession(linking, WAITING, "AUTHENTICATING");
    await waitFor("the QR", async () => {
      const { body } = await linking.json("GET", `/${WAITING}/state`);
      return body.status === "SCAN_QR_CODE";
    });
    const first = await server.json<{ messageId: string }>("POST", `/${PHONE}/send-text`, {
      body: { chatId: ALICE, text: "a message to point at" },
    });
    assert.equal(first.status, 200);
    const messageId = first.body.messageId;
    const inPath = encodeURIComponent(messageId);
    const png = Buffer.from(tinyPng()).toString("base64");
    const pdf = Buffer.from(tinyPdf()).toString("base64");
    const ogg = Buffer.from(oggOpusHead()).toString("base64");
    const mp4 = "AAAAGGZ0eXBtcDQyAAAAAG1wNDJpc29t";
    let qrValue = "";
    const G = `/${PHONE}/groups/${GROUP}`;

    const sent = (to: string, body: string) => (answer: unknown) => {
      const message = answer as Waha.WAMessage;
      assert.equal(message.fromMe, true);
      assert.equal(message.to, to);
      assert.equal(message.body, body);
      assert.match(message.id, /^true_/);
    };

    const cases: [string, Case][] = [
      ["GET /api/sessions", {
        waha: { method: "GET", path: "/sessions" },
        status: 200,
        answer: Waha.SessionInfo.array(),
        check: (body) => {
          const mine = (body as Waha.SessionInfo[]).find((s) => s.name === PHONE);
          assert.equal(mine?.status, "WORKING");
          assert.equal(mine?.me?.id, `${PHONE}@c.us`);
        },
        contract: { method: "GET", path: "/sessions" },
        same: "manager.list",
      }],
      ["POST /api/sessions", {
        waha: { method: "POST", path: "/sessions", body: { name: CREATED, start: true } },
        status: 201,
        answer: Waha.SessionDTO,
        check: (body) => assert.equal((body as Waha.SessionDTO).name, CREATED),
        contract: { method: "POST", path: `/${CREATED}/start` },
        same: "manager.start",
      }],
      ["GET /api/sessions/{session}", {
        waha: { method: "GET", path: `/sessions/${PHONE}` },
        status: 200,
        answer: Waha.SessionInfo,
        check: (body) => assert.equal((body as Waha.SessionInfo).status, "WORKING"),
        contract: { method: "GET", path: `/${PHONE}/state` },
        same: "manager.info",
      }],
      ["GET /api/sessions/{session}/me", {
        waha: { method: "GET", path: `/sessions/${PHONE}/me` },
        status: 200,
        answer: Waha.MeInfo,
        check: (body) => assert.equal((body as Waha.MeInfo).id, `${PHONE}@c.us`),
        contract: { method: "GET", path: `/${PHONE}/state` },
        same: "manager.info",
      }],
      ["POST /api/sendText", {
        waha: {
          method: "POST",
          path: "/sendText",
          body: { session: PHONE, chatId: ALICE, text: "Hi there!", reply_to: messageId },
        },
        status: 201,
        answer: Waha.WAMessage,
        check: sent(ALICE, "Hi there!"),
        contract: {
          method: "POST",
          path: `/${PHONE}/send-text`,
          body: { chatId: ALICE, text: "Hi there!", quotedMsgId: messageId },
        },
        same: "session.sendText",
      }],
      ["POST /api/sendImage", {
        waha: {
          method: "POST",
          path: "/sendImage",
          body: {
            session: PHONE,
            chatId: ALICE,
            file: { mimetype: "image/png", filename: "dot.png", data: png },
            caption: "a dot",
          },
        },
        status: 201,
        answer: Waha.WAMessage,
        check: sent(ALICE, "a dot"),
        contract: {
          method: "POST",
          path: `/${PHONE}/send-image`,
          body: { chatId: ALICE, imageUrl: png, caption: "a dot" },
        },
        same: "session.sendMedia",
      }],
      ["POST /api/sendFile", {
        waha: {
          method: "POST",
          path: "/sendFile",
          body: {
            session: PHONE,
            chatId: ALICE,
            file: { mimetype: "application/pdf", filename: "doc.pdf", data: pdf },
          },
        },
        status: 201,
        answer: Waha.WAMessage,
        contract: {
          method: "POST",
          path: `/${PHONE}/send-file`,
          body: { chatId: ALICE, fileUrl: pdf, filename: "doc.pdf" },
        },
        same: "session.sendMedia",
      }],
      ["POST /api/sendVoice", {
        waha: {
          method: "POST",
          path: "/sendVoice",
          body: {
            session: PHONE,
            chatId: ALICE,
            file: { mimetype: "audio/ogg; codecs=opus", data: ogg },
          },
        },
        status: 201,
        answer: Waha.WAMessage,
        contract: {
          method: "POST",
          path: `/${PHONE}/send-voice`,
          body: { chatId: ALICE, audioUrl: ogg },
        },
        same: "session.sendMedia",
      }],
      ["POST /api/sendVideo", {
        waha: {
          method: "POST",
          path: "/sendVideo",
          body: {
            session: PHONE,
            chatId: ALICE,
            file: { mimetype: "video/mp4", filename: "video.mp4", data: mp4 },
            caption: "Just watch",
          },
        },
        status: 201,
        answer: Waha.WAMessage,
        contract: {
          method: "POST",
          path: `/${PHONE}/send-video`,
          body: { chatId: ALICE, videoUrl: mp4, caption: "Just watch" },
        },
        same: "session.sendMedia",
      }],
      ["POST /api/sendLocation", {
        waha: {
          method: "POST",
          path: "/sendLocation",
          body: {
            session: PHONE,
            chatId: ALICE,
            latitude: 38.8937255,
            longitude: -77.0969763,
            title: "Our office",
          },
        },
        status: 201,
        answer: Waha.WAMessage,
        contract: {
          method: "POST",
          path: `/${PHONE}/send-location`,
          body: { chatId: ALICE, latitude: 38.8937255, longitude: -77.0969763, name: "Our office" },
        },
        same: "session.sendLocation",
      }],
      ["POST /api/sendContactVcard", {
        waha: {
          method: "POST",
          path: "/sendContactVcard",
          body: {
            session: PHONE,
            chatId: ALICE,
            contacts: [{
              fullName: "John Doe",
              organization: "Company Name",
              phoneNumber: "+91 11111 11111",
              whatsappId: "911111111111",
              vcard: null,
            }],
          },
        },
        status: 201,
        answer: Waha.WAMessage,
        contract: {
          method: "POST",
          path: `/${PHONE}/send-contact`,
          body: {
            chatId: ALICE,
            contact: {
              name: "John Doe",
              phone: "+91 11111 11111",
              organization: "Company Name",
            },
          },
        },
        same: "session.sendContact",
      }],
      ["POST /api/sendPoll", {
        waha: {
          method: "POST",
          path: "/sendPoll",
          body: {
            session: PHONE,
            chatId: ALICE,
            poll: { name: "How are you?", options: ["Awesome!", "Good!", "Not bad!"] },
          },
        },
        status: 201,
        answer: Waha.WAMessage,
        check: sent(ALICE, "How are you?"),
        contract: {
          method: "POST",
          path: `/${PHONE}/send-poll`,
          body: {
            chatId: ALICE,
            poll: { name: "How are you?", options: ["Awesome!", "Good!", "Not bad!"] },
          },
        },
        same: "session.sendPoll",
      }],
      ["PUT /api/reaction", {
        waha: {
          method: "PUT",
          path: "/reaction",
          body: { session: PHONE, messageId, reaction: "👍" },
        },
        status: 200,
        answer: "empty",
        contract: {
          method: "POST",
          path: `/${PHONE}/send-reaction`,
          body: { messageId, emoji: "👍" },
        },
        same: "session.sendReaction",
      }],
      ["PUT /api/star", {
        waha: {
          method: "PUT",
          path: "/star",
          body: { session: PHONE, messageId, chatId: ALICE, star: true },
        },
        status: 200,
        answer: "empty",
        contract: { method: "PUT", path: `/${PHONE}/messages/${inPath}/star` },
        same: "session.starMessage",
      }],
      ["PUT /api/star (false)", {
        waha: {
          method: "PUT",
          path: "/star",
          body: { session: PHONE, messageId, chatId: ALICE, star: false },
        },
        status: 200,
        answer: "empty",
        contract: { method: "DELETE", path: `/${PHONE}/messages/${inPath}/star` },
        same: "session.unstarMessage",
      }],
      ["POST /api/sendSeen", {
        waha: { method: "POST", path: "/sendSeen", body: { session: PHONE, chatId: ALICE } },
        status: 201,
        answer: "empty",
        contract: { method: "POST", path: `/${PHONE}/send-seen`, body: { chatId: ALICE } },
        same: "session.sendSeen",
      }],
      ["POST /api/startTyping", {
        waha: { method: "POST", path: "/startTyping", body: { session: PHONE, chatId: ALICE } },
        status: 201,
        answer: "empty",
        contract: {
          method: "POST",
          path: `/${PHONE}/typing`,
          body: { chatId: ALICE, state: "typing" },
        },
        same: "session.setTyping",
      }],
      ["POST /api/stopTyping", {
        waha: { method: "POST", path: "/stopTyping", body: { session: PHONE, chatId: ALICE } },
        status: 201,
        answer: "empty",
        contract: {
          method: "POST",
          path: `/${PHONE}/typing`,
          body: { chatId: ALICE, state: "paused" },
        },
        same: "session.setTyping",
      }],
      ["POST /api/forwardMessage", {
        waha: {
          method: "POST",
          path: "/forwardMessage",
          body: { session: PHONE, chatId: "15550000002@c.us", messageId },
        },
        status: 201,
        answer: Waha.WEBJSForwardResult,
        check: (body) => assert.deepEqual(body, { sent: true }),
        contract: {
          method: "POST",
          path: `/${PHONE}/messages/${inPath}/forward`,
          body: { chatId: "15550000002@c.us" },
        },
        same: "session.forwardMessage",
      }],
      ["GET /api/{session}/chats", {
        waha: { method: "GET", path: `/${PHONE}/chats?limit=2&offset=1` },
        status: 200,
        answer: Waha.WEBJSChat.array().length(2),
        check: (body) => {
          for (const chat of body as Waha.WEBJSChat[]) {
            assert.equal(chat.id._serialized, `${chat.id.user}@${chat.id.server}`);
          }
        },
        contract: { method: "GET", path: `/${PHONE}/chats?limit=2&page=1` },
        same: "session.listChats",
      }],
      ["GET /api/{session}/chats/overview", {
        waha: { method: "GET", path: `/${PHONE}/chats/overview?limit=2` },
        status: 200,
        answer: Waha.ChatSummary.array().length(2),
        check: (body) => {
          for (const summary of body as Waha.ChatSummary[]) {
            const chat = Waha.WEBJSChat.parse(summary._chat);
            assert.equal(summary.id, chat.id._serialized);
            assert.equal(summary.name, chat.name);
          }
        },
        contract: { method: "GET", path: `/${PHONE}/chats?limit=2&page=1` },
        same: "session.listChats",
      }],
      ["GET /api/{session}/chats/overview?ids=…", {
        waha: { method: "GET", path: `/${PHONE}/chats/overview?ids=${ALICE}` },
        status: 200,
        answer: Waha.ChatSummary.array().length(1),
        check: (body) => assert.equal((body as Waha.ChatSummary[])[0].id, ALICE),
        contract: { method: "GET", path: `/${PHONE}/chats?limit=100&page=1` },
        same: "session.listChats",
      }],
      ["GET /api/{session}/chats/{chatId}/messages", {
        waha: { method: "GET", path: `/${PHONE}/chats/${ALICE}/messages?limit=5` },
        status: 200,
        answer: Waha.WAMessage.array().min(1).max(5),
        check: (body) => {
          const messages = body as Waha.WAMessage[];
          assert.ok(messages.some((m) => m.fromMe && m.to === ALICE), "ours to Alice are there");
        },
        contract: { method: "GET", path: `/${PHONE}/messages/${ALICE}?limit=5` },
        same: "session.listMessages",
      }],
      ["PUT /api/{session}/chats/{chatId}/messages/{messageId}", {
        waha: {
          method: "PUT",
          path: `/${PHONE}/chats/${ALICE}/messages/${inPath}`,
          body: { text: "Hello, world!" },
        },
        status: 200,
        answer: "empty",
        contract: {
          method: "PUT",
          path: `/${PHONE}/messages/${inPath}`,
          body: { text: "Hello, world!" },
        },
        same: "session.editMessage",
      }],
      ["POST /api/{session}/chats/{chatId}/archive", {
        waha: { method: "POST", path: `/${PHONE}/chats/${ALICE}/archive` },
        status: 201,
        answer: "empty",
        contract: { method: "POST", path: `/${PHONE}/chats/${ALICE}/archive` },
        same: "session.archiveChat",
      }],
      ["POST /api/{session}/chats/{chatId}/unarchive", {
        waha: { method: "POST", path: `/${PHONE}/chats/${ALICE}/unarchive` },
        status: 201,
        answer: "empty",
        contract: { method: "POST", path: `/${PHONE}/chats/${ALICE}/unarchive` },
        same: "session.unarchiveChat",
      }],
      ["GET /api/contacts/check-exists", {
        waha: { method: "GET", path: `/contacts/check-exists?session=${PHONE}&phone=15550000001` },
        status: 200,
        answer: Waha.WANumberExistResult,
        contract: { method: "GET", path: `/${PHONE}/check-number/15550000001` },
        same: "session.checkNumber",
      }],
      ["GET /api/contacts/about", {
        waha: { method: "GET", path: `/contacts/about?session=${PHONE}&contactId=${ALICE}` },
        status: 200,
        answer: z.object({ about: z.string().nullable() }),
        contract: { method: "GET", path: `/${PHONE}/contacts/${ALICE}/about` },
        same: "session.getContactAbout",
      }],
      ["GET /api/contacts/profile-picture", {
        waha: {
          method: "GET",
          path: `/contacts/profile-picture?session=${PHONE}&contactId=${ALICE}`,
        },
        status: 200,
        answer: z.object({ profilePictureURL: z.string().nullable() }),
        contract: { method: "GET", path: `/${PHONE}/contact/${ALICE}/profile-picture` },
        same: "session.getProfilePictureUrl",
      }],
      ["GET /api/contacts/all", {
        waha: { method: "GET", path: `/contacts/all?session=${PHONE}` },
        status: 200,
        answer: Waha.WEBJSContact.array().min(1),
        check: (body) => {
          const alice = (body as Waha.WEBJSContact[]).find((contact) => contact.id === ALICE);
          assert.equal(alice?.number, "15550000001");
          assert.equal(alice?.isMe, false);
        },
        contract: { method: "GET", path: `/${PHONE}/contacts` },
        same: "session.listContacts",
      }],
      ["GET /api/contacts", {
        waha: { method: "GET", path: `/contacts?session=${PHONE}&contactId=${ALICE}` },
        status: 200,
        answer: Waha.WEBJSContact,
        check: (body) => assert.equal((body as Waha.WEBJSContact).id, ALICE),
        contract: { method: "GET", path: `/${PHONE}/contact/${ALICE}` },
        same: "session.getContact",
      }],
      ["POST /api/contacts/block", {
        waha: {
          method: "POST",
          path: "/contacts/block",
          body: { session: PHONE, contactId: ALICE },
        },
        status: 201,
        answer: "empty",
        contract: { method: "POST", path: `/${PHONE}/contact/block`, body: { contactId: ALICE } },
        same: "session.blockContact",
      }],
      ["POST /api/contacts/unblock", {
        waha: {
          method: "POST",
          path: "/contacts/unblock",
          body: { session: PHONE, contactId: ALICE },
        },
        status: 201,
        answer: "empty",
        contract: { method: "POST", path: `/${PHONE}/contact/unblock`, body: { contactId: ALICE } },
        same: "session.unblockContact",
      }],
      ["POST /api/{session}/presence", {
        waha: { method: "POST", path: `/${PHONE}/presence`, body: { presence: "online" } },
        status: 201,
        answer: "empty",
        contract: { method: "POST", path: `/${PHONE}/presence`, body: { presence: "online" } },
        same: "session.setPresence",
      }],
      ["POST /api/{session}/presence (in a chat)", {
        waha: {
          method: "POST",
          path: `/${PHONE}/presence`,
          body: { presence: "typing", chatId: ALICE },
        },
        status: 201,
        answer: "empty",
        contract: {
          method: "POST",
          path: `/${PHONE}/presence`,
          body: { presence: "typing", chatId: ALICE },
        },
        same: "session.setTyping",
      }],
      ["POST /api/{session}/presence/{chatId}/subscribe", {
        waha: { method: "POST", path: `/${PHONE}/presence/${ALICE}/subscribe` },
        status: 201,
        answer: "empty",
        contract: { method: "POST", path: `/${PHONE}/presence/${ALICE}/subscribe` },
        same: "session.subscribePresence",
      }],
      ["GET /api/{session}/presence/{chatId}", {
        waha: { method: "GET", path: `/${PHONE}/presence/${ALICE}` },
        status: 200,
        answer: Waha.WAHAChatPresences,
        check: (body) => assert.equal((body as Waha.WAHAChatPresences).id, ALICE),
        contract: { method: "GET", path: `/${PHONE}/presence/${ALICE}` },
        same: "session.getPresence",
      }],
      ["GET /api/{session}/presence", {
        waha: { method: "GET", path: `/${PHONE}/presence` },
        status: 200,
        answer: Waha.WAHAChatPresences.array(),
        contract: { method: "GET", path: `/${PHONE}/presence` },
        same: "session.listPresences",
      }],
      ["DELETE /api/{session}/chats/{chatId}/messages/{messageId}", {
        waha: { method: "DELETE", path: `/${PHONE}/chats/${ALICE}/messages/${inPath}` },
        status: 200,
        answer: "empty",
        contract: { method: "DELETE", path: `/${PHONE}/messages/${inPath}` },
        same: "session.deleteMessage",
      }],
      ["DELETE /api/{session}/chats/{chatId}/messages", {
        waha: { method: "DELETE", path: `/${PHONE}/chats/15550000002@c.us/messages` },
        status: 200,
        answer: "empty",
        contract: { method: "DELETE", path: `/${PHONE}/chats/15550000002@c.us/messages` },
        same: "session.clearChat",
      }],
      ["DELETE /api/{session}/chats/{chatId}", {
        waha: { method: "DELETE", path: `/${PHONE}/chats/15550000002@c.us` },
        status: 200,
        answer: "empty",
        contract: { method: "DELETE", path: `/${PHONE}/chats/15550000002@c.us` },
        same: "session.deleteChat",
      }],
      ["POST /api/{session}/groups", {
        waha: {
          method: "POST",
          path: `/${PHONE}/groups`,
          body: { name: "Project team", participants: [{ id: "15550000002@c.us" }] },
        },
        status: 201,
        answer: Waha.WEBJSCreateGroupResult,
        check: (body) => {
          const created = body as Waha.WEBJSCreateGroupResult;
          assert.equal(created.title, "Project team");
          assert.equal(created.gid.server, "g.us");
          assert.deepEqual(Object.keys(created.participants), ["15550000002@c.us"]);
        },
        contract: {
          method: "POST",
          path: `/${PHONE}/group/create`,
          body: { name: "Project team", participants: ["15550000002@c.us"] },
        },
        same: "session.createGroup",
      }],
      ["GET /api/{session}/groups/{id}", {
        waha: { method: "GET", path: G },
        status: 200,
        answer: Waha.WEBJSGroupChat,
        check: (body) => {
          const group = body as Waha.WEBJSGroupChat;
          assert.equal(group.id._serialized, GROUP);
          assert.equal(group.groupMetadata.id._serialized, GROUP);
          assert.ok(group.groupMetadata.participants.length > 0);
        },
        contract: { method: "GET", path: `/${PHONE}/group/${GROUP}` },
        same: "session.getGroup",
      }],
      ["GET /api/{session}/groups/{id}/participants", {
        waha: { method: "GET", path: `${G}/participants` },
        status: 200,
        answer: Waha.WEBJSGroupParticipant.array().min(1),
        contract: { method: "GET", path: `/${PHONE}/group/${GROUP}` },
        same: "session.getGroup",
      }],
      ["PUT /api/{session}/groups/{id}/subject", {
        waha: { method: "PUT", path: `${G}/subject`, body: { subject: "Renamed" } },
        status: 200,
        answer: "text",
        check: (body) => assert.equal(body, "true"),
        contract: {
          method: "PUT",
          path: `/${PHONE}/groups/${GROUP}/subject`,
          body: { subject: "Renamed" },
        },
        same: "session.updateGroup",
      }],
      ["PUT /api/{session}/groups/{id}/description", {
        waha: { method: "PUT", path: `${G}/description`, body: { description: "About us" } },
        status: 200,
        answer: "text",
        check: (body) => assert.equal(body, "true"),
        contract: {
          method: "PUT",
          path: `/${PHONE}/groups/${GROUP}/description`,
          body: { description: "About us" },
        },
        same: "session.updateGroup",
      }],
      ["GET /api/{session}/groups/{id}/invite-code", {
        waha: { method: "GET", path: `${G}/invite-code` },
        status: 200,
        answer: "text",
        contract: { method: "GET", path: `/${PHONE}/groups/${GROUP}/invite-code` },
        same: "session.getGroupInviteCode",
      }],
      ["POST /api/{session}/groups/{id}/invite-code/revoke", {
        waha: { method: "POST", path: `${G}/invite-code/revoke` },
        status: 201,
        answer: "text",
        contract: { method: "POST", path: `/${PHONE}/groups/${GROUP}/invite-code/revoke` },
        same: "session.revokeGroupInviteCode",
      }],
      ["PUT /api/{session}/groups/{id}/settings/security/messages-admin-only", {
        waha: {
          method: "PUT",
          path: `${G}/settings/security/messages-admin-only`,
          body: { adminsOnly: true },
        },
        status: 200,
        answer: "text",
        check: (body) => assert.equal(body, "true"),
        contract: {
          method: "PUT",
          path: `/${PHONE}/groups/${GROUP}/settings/security/messages-admin-only`,
          body: { adminsOnly: true },
        },
        same: "session.updateGroup",
      }],
      ["GET /api/{session}/groups/{id}/settings/security/messages-admin-only", {
        waha: { method: "GET", path: `${G}/settings/security/messages-admin-only` },
        status: 200,
        answer: z.object({ adminsOnly: z.literal(true) }),
        contract: {
          method: "GET",
          path: `/${PHONE}/groups/${GROUP}/settings/security/messages-admin-only`,
        },
        same: "session.getGroup",
      }],
      ["PUT /api/{session}/groups/{id}/settings/security/info-admin-only", {
        waha: {
          method: "PUT",
          path: `${G}/settings/security/info-admin-only`,
          body: { adminsOnly: false },
        },
        status: 200,
        answer: "text",
        check: (body) => assert.equal(body, "true"),
        contract: {
          method: "PUT",
          path: `/${PHONE}/groups/${GROUP}/settings/security/info-admin-only`,
          body: { adminsOnly: false },
        },
        same: "session.updateGroup",
      }],
      ["GET /api/{session}/groups/{id}/settings/security/info-admin-only", {
        waha: { method: "GET", path: `${G}/settings/security/info-admin-only` },
        status: 200,
        answer: z.object({ adminsOnly: z.literal(false) }),
        contract: {
          method: "GET",
          path: `/${PHONE}/groups/${GROUP}/settings/security/info-admin-only`,
        },
        same: "session.getGroup",
      }],
      ["POST /api/{session}/groups/{id}/participants/add", {
        waha: {
          method: "POST",
          path: `${G}/participants/add`,
          body: { participants: [{ id: NEWCOMER }] },
        },
        status: 201,
        answer: Waha.WEBJSAddParticipantsResult,
        check: (body) => {
          const added = body as Waha.WEBJSAddParticipantsResult;
          assert.deepEqual(Object.keys(added), [NEWCOMER]);
          assert.equal(added[NEWCOMER].code, 200);
        },
        contract: {
          method: "POST",
          path: `/${PHONE}/group/${GROUP}/participants/add`,
          body: { participants: [NEWCOMER] },
        },
        same: "session.addParticipants",
      }],
      ["POST /api/{session}/groups/{id}/admin/promote", {
        waha: {
          method: "POST",
          path: `${G}/admin/promote`,
          body: { participants: [{ id: NEWCOMER }] },
        },
        status: 201,
        answer: Waha.WEBJSParticipantsStatus,
        check: (body) => assert.deepEqual(body, { status: 200 }),
        contract: {
          method: "POST",
          path: `/${PHONE}/groups/${GROUP}/admin/promote`,
          body: { participants: [{ id: NEWCOMER }] },
        },
        same: "session.promoteParticipants",
      }],
      ["POST /api/{session}/groups/{id}/admin/demote", {
        waha: {
          method: "POST",
          path: `${G}/admin/demote`,
          body: { participants: [{ id: NEWCOMER }] },
        },
        status: 201,
        answer: Waha.WEBJSParticipantsStatus,
        check: (body) => assert.deepEqual(body, { status: 200 }),
        contract: {
          method: "POST",
          path: `/${PHONE}/groups/${GROUP}/admin/demote`,
          body: { participants: [{ id: NEWCOMER }] },
        },
        same: "session.demoteParticipants",
      }],
      ["POST /api/{session}/groups/{id}/participants/remove", {
        waha: {
          method: "POST",
          path: `${G}/participants/remove`,
          body: { participants: [{ id: NEWCOMER }] },
        },
        status: 201,
        answer: Waha.WEBJSParticipantsStatus,
        check: (body) => assert.deepEqual(body, { status: 200 }),
        contract: {
          method: "POST",
          path: `/${PHONE}/group/${GROUP}/participants/remove`,
          body: { participants: [NEWCOMER] },
        },
        same: "session.removeParticipants",
      }],
      ["POST /api/{session}/groups/{id}/leave", {
        waha: { method: "POST", path: `${G}/leave` },
        status: 201,
        answer: "empty",
        contract: { method: "POST", path: `/${PHONE}/group/${GROUP}/leave` },
        same: "session.leaveGroup",
      }],
      ["GET /api/{session}/profile", {
        waha: { method: "GET", path: `/${PHONE}/profile` },
        status: 200,
        answer: Waha.MyProfile,
        check: (body) => assert.equal((body as Waha.MyProfile).id, `${PHONE}@c.us`),
        contract: { method: "GET", path: `/${PHONE}/profile` },
        same: "session.getProfile",
      }],
      ["PUT /api/{session}/profile/name", {
        waha: { method: "PUT", path: `/${PHONE}/profile/name`, body: { name: "New Name" } },
        status: 200,
        answer: z.object({ success: z.literal(true) }),
        contract: { method: "PUT", path: `/${PHONE}/profile/name`, body: { name: "New Name" } },
        same: "session.setProfileName",
      }],
      ["PUT /api/{session}/profile/status", {
        waha: { method: "PUT", path: `/${PHONE}/profile/status`, body: { status: "New Status" } },
        status: 200,
        answer: z.object({ success: z.literal(true) }),
        contract: {
          method: "PUT",
          path: `/${PHONE}/profile/status`,
          body: { status: "New Status" },
        },
        same: "session.setProfileStatus",
      }],
      ["GET /api/{session}/lids", {
        waha: { method: "GET", path: `/${PHONE}/lids?limit=2&offset=0` },
        status: 200,
        answer: Waha.LidToPhoneNumber.array().max(2),
        contract: { method: "GET", path: `/${PHONE}/lids?limit=2&offset=0` },
        same: "session.listLids",
      }],
      ["GET /api/{session}/lids/count", {
        waha: { method: "GET", path: `/${PHONE}/lids/count` },
        status: 200,
        answer: Waha.CountResponse,
        contract: { method: "GET", path: `/${PHONE}/lids/count` },
        same: "session.listLids",
      }],
      ["GET /api/{session}/lids/pn/{phone}", {
        waha: { method: "GET", path: `/${PHONE}/lids/pn/15550000001` },
        status: 200,
        answer: Waha.LidToPhoneNumber,
        contract: { method: "GET", path: `/${PHONE}/lids/pn/15550000001` },
        same: "session.findLidByPn",
      }],
      ["POST /api/sessions/{session}/stop", {
        waha: { method: "POST", path: `/sessions/${CREATED}/stop` },
        status: 201,
        answer: Waha.SessionDTO,
        check: (body) => assert.equal((body as Waha.SessionDTO).status, "STOPPED"),
        contract: { method: "POST", path: `/${CREATED}/stop` },
        same: "manager.stop",
      }],
      ["POST /api/sessions/{session}/start", {
        waha: { method: "POST", path: `/sessions/${CREATED}/start` },
        status: 201,
        answer: Waha.SessionDTO,
        contract: { method: "POST", path: `/${CREATED}/start` },
        same: "manager.start",
      }],
      ["POST /api/sessions/{session}/restart", {
        waha: { method: "POST", path: `/sessions/${CREATED}/restart` },
        status: 201,
        answer: Waha.SessionDTO,
        contract: { method: "POST", path: `/${CREATED}/restart` },
        same: "manager.restart",
      }],
      ["POST /api/sessions/{session}/logout", {
        waha: { method: "POST", path: `/sessions/${CREATED}/logout` },
        status: 201,
        answer: Waha.SessionDTO,
        contract: { method: "POST", path: `/${CREATED}/logout` },
        same: "manager.logout",
      }],
      ["DELETE /api/sessions/{session}", {
        waha: { method: "DELETE", path: `/sessions/${CREATED}` },
        status: 200,
        answer: "empty",
        contract: { method: "DELETE", path: `/${DELETED_BY_CONTRACT}` },
        same: "manager.remove",
        compare: "names",
      }],
    ];

    // The QR and the pairing code, on a session that waits for its phone.
    const qrCases: [string, Case][] = [
      ["GET /api/{session}/auth/qr (image)", {
        waha: { method: "GET", path: `/${WAITING}/auth/qr` },
        status: 200,
        answer: "png",
        check: (bytes) => {
          qrValue = decodeQrDataUrl(pngDataUrl(bytes as Uint8Array));
        },
        contract: { method: "GET", path: `/${WAITING}/qr` },
        same: "manager.getQr",
      }],
      ["GET /api/{session}/auth/qr (JSON)", {
        waha: {
          method: "GET",
          path: `/${WAITING}/auth/qr?format=image`,
          headers: { Accept: "application/json" },
        },
        status: 200,
        answer: Waha.Base64File,
        check: (body) => {
          const file = body as Waha.Base64File;
          assert.equal(file.mimetype, "image/png");
          assert.equal(decodeQrDataUrl(`data:image/png;base64,${file.data}`), qrValue);
        },
        contract: { method: "GET", path: `/${WAITING}/qr` },
        same: "manager.getQr",
      }],
      ["GET /api/{session}/auth/qr?format=raw", {
        waha: { method: "GET", path: `/${WAITING}/auth/qr?format=raw` },
        status: 200,
        answer: Waha.QRCodeValue,
        check: (body) => assert.equal((body as Waha.QRCodeValue).value, qrValue),
        contract: { method: "GET", path: `/${WAITING}/qr` },
        same: "manager.getQr",
        compare: "names",
      }],
      ["POST /api/{session}/auth/request-code", {
        waha: {
          method: "POST",
          path: `/${WAITING}/auth/request-code`,
          body: { phoneNumber: WAITING },
        },
        status: 201,
        answer: Waha.PairingCodeResponse,
        check: (body) => assert.match((body as Waha.PairingCodeResponse).code, /^\w{4}-?\w{4}$/),
        contract: {
          method: "POST",
          path: `/${WAITING}/pairing-code`,
          body: { phoneNumber: WAITING },
        },
        same: "manager.requestPairingCode",
      }],
    ];

    await startSession(server, DELETED_BY_CONTRACT);
    const recorders = new Map([
      [server, recordCalls(server.manager)],
      [linking, recordCalls(linking.manager)],
    ]);
    const run = async (on: TestApp, name: string, test: Case) => {
      const recorder = recorders.get(on)!;
      recorder.take();
      const answer = await checkAnswer(
        name,
        await wahaRequest(on, test.waha),
        test.status,
        test.answer,
      );
      test.check?.(answer);
      const wahaCalls = recorder.take();
      const contract = await on.request(test.contract.method, test.contract.path, {
        body: test.contract.body,
      });
      await contract.body?.cancel();
      const contractCalls = recorder.take();
      const made = (calls: Call[]) => calls.filter((call) => call.name === test.same);
      assert.ok(
        made(wahaCalls).length > 0,
        `${name} calls ${test.same}: ${JSON.stringify(wahaCalls)}`,
      );
      assert.ok(made(contractCalls).length > 0, `the contract's route calls ${test.same}`);
      if (test.compare !== "names") {
        assert.deepEqual(
          made(wahaCalls)[0].args,
          made(contractCalls)[0].args,
          `${name} calls ${test.same} as the contract's route does`,
        );
      }
    };

    for (const [name, test] of cases) {
      await t.step(name, async () => {
        if (name.endsWith("/stop") || name.endsWith("/logout")) {
          await waitFor(`${CREATED} to be connected`, async () => {
            const { body } = await server.json("GET", `/${CREATED}/state`);
            return body.status === "WORKING";
          });
        }
        await run(server, name, test);
      });
    }
    for (const [name, test] of qrCases) {
      await t.step(name, () => run(linking, name, test));
    }

    await t.step("WAHA's errors, in WAHA's shape", async () => {
      const error = async (request: WahaRequest, status: number, on = server) => {
        const what = `${request.method} ${request.path}`;
        const body = await checkAnswer(what, await wahaRequest(on, request), status, WahaErrorBody);
        assert.equal((body as WahaErrorBody).statusCode, status, what);
        return body as WahaErrorBody;
      };
      // WAHA's default session name, and a number that is no session: as WAHA, 404.
      await error({
        method: "POST",
        path: "/sendText",
        body: { session: "default", chatId: ALICE, text: "Hi" },
      }, 404);
      await error({ method: "POST", path: "/sendText", body: { chatId: ALICE, text: "Hi" } }, 404);
      await error({ method: "GET", path: "/sessions/4915550009999" }, 404);
      await error({ method: "GET", path: "/default/auth/qr" }, 404);
      await error({ method: "POST", path: "/sessions/4915550009999/start" }, 404);
      // No key, a wrong one: 401.
      const noKey = await server.app.request("/api/sendText", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ session: PHONE, chatId: ALICE, text: "Hi" }),
      });
      await checkAnswer("no key", noKey, 401, WahaErrorBody);
      await error({ method: "GET", path: "/sessions", headers: { "X-Api-Key": "wrong" } }, 401);
      // A body WAHA's schema refuses, and one the contract's rules refuse.
      const missing = await error(
        { method: "POST", path: "/sendText", body: { session: PHONE, text: "Hi" } },
        400,
      );
      assert.match(String(missing.message), /chatId/);
      const badChat = await error(
        { method: "POST", path: "/sendText", body: { session: PHONE, chatId: "x", text: "Hi" } },
        400,
      );
      assert.match(String(badChat.message), /chatId/);
      // A QR for a connected session: WAHA's status pipes answer 422.
      await error({ method: "GET", path: `/${PHONE}/auth/qr` }, 422);
      // A body over the limit (1 MiB for a text), counted while it streams: 413.
      const huge = new TextEncoder().encode(
        JSON.stringify({ session: PHONE, chatId: ALICE, text: "x".repeat(1_100_000) }),
      );
      const streamed = await server.app.request("/api/sendText", {
        method: "POST",
        headers: { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json" },
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(huge);
            controller.close();
          },
        }),
      });
      await checkAnswer("a streamed body over the limit", streamed, 413, WahaErrorBody);
      // Creating a session that exists: WAHA's 422.
      await error({ method: "POST", path: "/sessions", body: { name: PHONE } }, 422);
    });

    await t.step(
      "an account's key: its own numbers only, as on the contract's routes",
      async () => {
        const asAccount = { "X-Api-Key": ACCOUNT_KEY };
        const created = await wahaRequest(server, {
          method: "POST",
          path: "/sessions",
          body: { name: ACCOUNTS, start: true },
          headers: asAccount,
        });
        await checkAnswer("an account creates its number", created, 201, Waha.SessionDTO);
        await waitFor("the account's number to connect", async () => {
          const { body } = await server.json("GET", `/${ACCOUNTS}/state`);
          return body.status === "WORKING";
        });
        const own = await wahaRequest(server, {
          method: "POST",
          path: "/sendText",
          body: { session: ACCOUNTS, chatId: ALICE, text: "from the account" },
          headers: asAccount,
        });
        await checkAnswer("the account sends from its number", own, 201, Waha.WAMessage);
        const other = await wahaRequest(server, {
          method: "POST",
          path: "/sendText",
          body: { session: PHONE, chatId: ALICE, text: "not mine" },
          headers: asAccount,
        });
        await checkAnswer("the account sends from the admin's number", other, 403, WahaErrorBody);
        const listed = await wahaRequest(server, {
          method: "GET",
          path: "/sessions",
          headers: asAccount,
        });
        const sessions = await checkAnswer("its list", listed, 200, Waha.SessionInfo.array());
        assert.deepEqual((sessions as Waha.SessionInfo[]).map((s) => s.name), [ACCOUNTS]);
        const deleting = await wahaRequest(server, {
          method: "DELETE",
          path: `/sessions/${ACCOUNTS}`,
          headers: asAccount,
        });
        await checkAnswer("only the admin deletes", deleting, 403, WahaErrorBody);
      },
    );

    await t.step("a JWT works too, for the same account and under the same rules", async () => {
      const tokens = await workosTokens(signer, { orgId: "acme" });
      const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
      // WAHA's clients send X-Api-Key; with a token, no key (both at once is refused).
      const request = (token: string, rest: WahaRequest) =>
        server.app.request(`/api${rest.path}`, {
          method: rest.method,
          headers: { ...bearer(token), "Content-Type": "application/json" },
          body: rest.body === undefined ? undefined : JSON.stringify(rest.body),
        });
      const listed = await checkAnswer(
        "the account's sessions by token",
        await request(tokens.good, { method: "GET", path: "/sessions" }),
        200,
        Waha.SessionInfo.array(),
      );
      assert.deepEqual((listed as Waha.SessionInfo[]).map((s) => s.name), [ACCOUNTS]);
      const own = await request(tokens.good, {
        method: "POST",
        path: "/sendText",
        body: { session: ACCOUNTS, chatId: ALICE, text: "by token" },
      });
      await checkAnswer("a send by token", own, 201, Waha.WAMessage);
      const other = await request(tokens.good, {
        method: "POST",
        path: "/sendText",
        body: { session: PHONE, chatId: ALICE, text: "not mine" },
      });
      await checkAnswer("another's number by token", other, 403, WahaErrorBody);
      const expired = await request(tokens.expired, { method: "GET", path: "/sessions" });
      await checkAnswer("an expired token", expired, 401, WahaErrorBody);
    });

    await t.step("every WAHA endpoint not covered answers 501 in WAHA's shape", async () => {
      for (const { method, path } of UNCOVERED_WAHA_ENDPOINTS) {
        const url = path.replace(":session", PHONE);
        const response = await wahaRequest(server, {
          method,
          path: url,
          body: method === "GET" ? undefined : {},
        });
        const body = await checkAnswer(`${method} ${url}`, response, 501, WahaErrorBody);
        assert.match(String((body as WahaErrorBody).message), /not supported/);
      }
    });

    await t.step("the OpenAPI document lists them under the WAHA-compatible tag", async () => {
      const doc = await (await server.request("GET", "/swagger/json")).json();
      const tagged = Object.entries(doc.paths as Record<string, Record<string, { tags: string[] }>>)
        .flatMap(([path, ops]) =>
          Object.entries(ops)
            .filter(([, op]) => op.tags.includes("WAHA-compatible"))
            .map(([method]) => `${method.toUpperCase()} ${path}`)
        );
      // Their errors are documented in WAHA's shape, not the contract's.
      const notFound = doc.paths["/api/sendText"].post.responses["404"];
      const shape = JSON.stringify(notFound.content["application/json"].schema);
      assert.match(shape, /"message"/);
      assert.doesNotMatch(shape, /"code"/);
      for (const [name] of [...cases, ...qrCases]) {
        const operation = name.replace(/ \(.*\)$/, "").replace(/\?.*$/, "")
          .replace("{session}", "{phoneNumber}");
        assert.ok(tagged.includes(operation), `${operation} is in the document`);
      }
    });
  } finally {
    await linking.close();
    await server.close();
  }
});
