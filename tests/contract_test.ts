/**
 * @module
 * The contract as a whole: the OpenAPI document passes an external validator and lists every
 * path of `spec/api-contract.md` (written out here, not derived from the routes), every session
 * endpoint documents its errors and examples; and, on each engine, every one of them answers 409
 * while the session waits for its QR scan, 404 when there is no session, 400 for a malformed
 * number, and, once connected, 501 exactly for what the engine's table in `_engines.ts` says.
 */
import assert from "node:assert/strict";
import SwaggerParser from "@apidevtools/swagger-parser";
import { oggOpusHead } from "../media/test_fixtures.ts";
import {
  answersNotImplemented,
  ENGINES,
  NOT_IMPLEMENTED_ON,
  notImplementedOn,
  startEngine,
} from "./_engines.ts";
import { startTestApp, waitFor } from "./_helpers.ts";

const BASE = "/api/whatsapp";

/** Every operation of the contract, as `METHOD path` with OpenAPI path templates. */
const CONTRACT = [
  "GET /health",
  "POST /{phoneNumber}/start",
  "POST /{phoneNumber}/stop",
  "POST /{phoneNumber}/restart",
  "POST /{phoneNumber}/logout",
  "GET /{phoneNumber}/qr",
  "GET /{phoneNumber}/state",
  "POST /{phoneNumber}/pairing-code",
  "GET /sessions",
  "POST /{phoneNumber}/send-text",
  "POST /{phoneNumber}/send-image",
  "POST /{phoneNumber}/send-file",
  "POST /{phoneNumber}/send-video",
  "POST /{phoneNumber}/send-voice",
  "POST /{phoneNumber}/send-audio",
  "POST /{phoneNumber}/send-location",
  "POST /{phoneNumber}/send-contact",
  "POST /{phoneNumber}/send-reaction",
  "DELETE /{phoneNumber}/messages/{messageId}",
  "PUT /{phoneNumber}/messages/{messageId}",
  "POST /{phoneNumber}/send-seen",
  "POST /{phoneNumber}/typing",
  "GET /{phoneNumber}/check-number/{phone}",
  "GET /{phoneNumber}/messages/{chatId}/{messageId}/media",
  "GET /{phoneNumber}/chats",
  "GET /{phoneNumber}/chat/{chatId}",
  "GET /{phoneNumber}/messages/{chatId}",
  "GET /{phoneNumber}/contacts",
  "GET /{phoneNumber}/contact/{contactId}",
  "GET /{phoneNumber}/contact/{contactId}/profile-picture",
  "POST /{phoneNumber}/contact/block",
  "POST /{phoneNumber}/contact/unblock",
  "POST /{phoneNumber}/group/create",
  "GET /{phoneNumber}/group/{groupId}",
  "PUT /{phoneNumber}/group/{groupId}",
  "POST /{phoneNumber}/group/{groupId}/leave",
  "POST /{phoneNumber}/group/{groupId}/participants/add",
  "POST /{phoneNumber}/group/{groupId}/participants/remove",
  "GET /{phoneNumber}/profile",
  "PUT /{phoneNumber}/profile/name",
  "PUT /{phoneNumber}/profile/status",
  "PUT /{phoneNumber}/profile/picture",
  "POST /webhook/message",
  "POST /webhook/state-change",
];

/** Operations beyond the contract (issue 20), held to the same rules as the contract's own. */
const BEYOND_CONTRACT = [
  "POST /{phoneNumber}/send-poll",
  "GET /{phoneNumber}/polls/{messageId}/votes",
  "GET /{phoneNumber}/labels",
  "POST /{phoneNumber}/labels",
  "PUT /{phoneNumber}/labels/{labelId}",
  "DELETE /{phoneNumber}/labels/{labelId}",
  "GET /{phoneNumber}/labels/chats/{chatId}",
  "PUT /{phoneNumber}/labels/chats/{chatId}",
  "GET /{phoneNumber}/labels/{labelId}/chats",
  "POST /{phoneNumber}/presence",
  "GET /{phoneNumber}/presence",
  "GET /{phoneNumber}/presence/{chatId}",
  "POST /{phoneNumber}/presence/{chatId}/subscribe",
  "POST /{phoneNumber}/calls/reject",
  // LIDs, with WAHA's paths.
  "GET /{phoneNumber}/lids",
  "GET /{phoneNumber}/lids/count",
  "GET /{phoneNumber}/lids/{lid}",
  "GET /{phoneNumber}/lids/pn/{phone}",
  // Group admin, with WAHA's paths.
  "GET /{phoneNumber}/groups/{groupId}/invite-code",
  "POST /{phoneNumber}/groups/{groupId}/invite-code/revoke",
  "POST /{phoneNumber}/groups/join",
  "GET /{phoneNumber}/groups/join-info",
  "POST /{phoneNumber}/groups/{groupId}/admin/promote",
  "POST /{phoneNumber}/groups/{groupId}/admin/demote",
  "GET /{phoneNumber}/groups/{groupId}/settings/security/messages-admin-only",
  "PUT /{phoneNumber}/groups/{groupId}/settings/security/messages-admin-only",
  "GET /{phoneNumber}/groups/{groupId}/settings/security/info-admin-only",
  "PUT /{phoneNumber}/groups/{groupId}/settings/security/info-admin-only",
  "PUT /{phoneNumber}/groups/{groupId}/subject",
  "PUT /{phoneNumber}/groups/{groupId}/description",
  "GET /{phoneNumber}/groups/{groupId}/picture",
  "PUT /{phoneNumber}/groups/{groupId}/picture",
  "DELETE /{phoneNumber}/groups/{groupId}/picture",
  "GET /{phoneNumber}/groups/{groupId}/participants/join-requests",
  "POST /{phoneNumber}/groups/{groupId}/participants/join-requests/approve",
  "POST /{phoneNumber}/groups/{groupId}/participants/join-requests/reject",
  "POST /{phoneNumber}/status/text",
  "POST /{phoneNumber}/status/image",
  "POST /{phoneNumber}/status/video",
  "POST /{phoneNumber}/status/delete",
  "GET /{phoneNumber}/status",
  "GET /{phoneNumber}/channels",
  "POST /{phoneNumber}/channels",
  "POST /{phoneNumber}/channels/search/by-text",
  "POST /{phoneNumber}/channels/search/by-view",
  "GET /{phoneNumber}/channels/{channelId}",
  "DELETE /{phoneNumber}/channels/{channelId}",
  "PUT /{phoneNumber}/channels/{channelId}",
  "POST /{phoneNumber}/channels/{channelId}/messages",
  "POST /{phoneNumber}/channels/{channelId}/follow",
  "POST /{phoneNumber}/channels/{channelId}/unfollow",
  "POST /{phoneNumber}/channels/{channelId}/mute",
  "POST /{phoneNumber}/channels/{channelId}/unmute",
  "POST /{phoneNumber}/contacts/check",
  "GET /{phoneNumber}/contacts/{contactId}/about",
  "GET /{phoneNumber}/contacts/{contactId}/business-profile",
];

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
/** A video's first bytes, enough for a video the API takes. */
const MP4 = "data:video/mp4;base64,AAAAGGZ0eXBtcDQyAAAAAG1wNDJpc29t";
/** An Ogg Opus header, enough for audio the API takes. */
const OGG = `data:audio/ogg;base64,${oggOpusHead().toBase64()}`;
const MSG = "true_15550000001@c.us_3EB0C0FFEE";
const GROUP = "120363000000000001@g.us";
const CHANNEL = "120363000000000101@newsletter";

/** The endpoints that need a connected session, with a valid request for each. */
const SESSION_CALLS: [string, string, unknown?][] = [
  ["POST", "send-text", { chatId: "15550000001", text: "hi" }],
  ["POST", "send-image", { chatId: "15550000001", imageUrl: PNG }],
  ["POST", "send-file", { chatId: "15550000001", fileUrl: PNG }],
  ["POST", "send-video", { chatId: "15550000001", videoUrl: PNG }],
  ["POST", "send-voice", { chatId: "15550000001", audioUrl: OGG }],
  ["POST", "send-audio", { chatId: "15550000001", audioUrl: OGG }],
  ["POST", "send-location", { chatId: "15550000001", latitude: 1, longitude: 2 }],
  ["POST", "send-contact", { chatId: "15550000001", contact: { name: "A", phone: "155500" } }],
  ["POST", "send-reaction", { messageId: MSG, emoji: "👍" }],
  ["DELETE", `messages/${MSG}`],
  ["PUT", `messages/${MSG}`, { text: "x" }],
  ["POST", "send-seen", { chatId: "15550000001" }],
  ["POST", "typing", { chatId: "15550000001", state: "typing" }],
  ["GET", "check-number/15550000001"],
  ["GET", `messages/15550000001@c.us/${MSG}/media`],
  ["GET", "chats"],
  ["GET", "chat/15550000001"],
  ["GET", "messages/15550000001"],
  ["GET", "contacts"],
  ["GET", "contact/15550000001"],
  ["GET", "contact/15550000001/profile-picture"],
  ["POST", "contact/block", { contactId: "15550000001" }],
  ["POST", "contact/unblock", { contactId: "15550000001" }],
  ["POST", "group/create", { name: "x", participants: ["15550000001"] }],
  ["GET", `group/${GROUP}`],
  ["PUT", `group/${GROUP}`, { subject: "x" }],
  ["POST", `group/${GROUP}/leave`],
  ["POST", `group/${GROUP}/participants/add`, { participants: ["15550000001"] }],
  ["POST", `group/${GROUP}/participants/remove`, { participants: ["15550000001"] }],
  ["GET", "profile"],
  ["PUT", "profile/name", { name: "x" }],
  ["PUT", "profile/status", { status: "x" }],
  ["PUT", "profile/picture", { imageUrl: PNG }],
  ["POST", "send-poll", { chatId: "15550000001", poll: { name: "x", options: ["a", "b"] } }],
  ["GET", `polls/${MSG}/votes`],
  // Beyond the contract (issue 20): chat and message housekeeping.
  ["POST", `messages/${MSG}/forward`, { chatId: "15550000002" }],
  ["PUT", `messages/${MSG}/star`],
  ["DELETE", `messages/${MSG}/star`],
  ["POST", `messages/${MSG}/pin`, { duration: 86400 }],
  ["DELETE", `messages/${MSG}/pin`],
  ["POST", "chats/15550000001/archive"],
  ["POST", "chats/15550000001/unarchive"],
  ["POST", "chats/15550000001/mute", { duration: 28800 }],
  ["POST", "chats/15550000001/unmute"],
  ["POST", "chats/15550000001/read"],
  ["POST", "chats/15550000001/unread"],
  ["POST", "chats/15550000001/pin"],
  ["POST", "chats/15550000001/unpin"],
  ["DELETE", "chats/15550000001/messages"],
  ["DELETE", "chats/15550000001"],
  // Beyond the contract (issue 20): labels, presence, calls.
  ["GET", "labels"],
  ["POST", "labels", { name: "Lead" }],
  ["PUT", "labels/1", { name: "Lead" }],
  ["DELETE", "labels/1"],
  ["GET", "labels/chats/15550000001"],
  ["PUT", "labels/chats/15550000001", { labels: [{ id: "1" }] }],
  ["GET", "labels/1/chats"],
  ["POST", "presence", { presence: "online" }],
  ["GET", "presence"],
  ["GET", "presence/15550000001"],
  ["POST", "presence/15550000001/subscribe"],
  ["POST", "calls/reject", { from: "15550000001", id: "ABCDEF0123456789" }],
  // LIDs (issue 22).
  ["GET", "lids?limit=10&offset=0"],
  ["GET", "lids/count"],
  ["GET", "lids/100000000000001@lid"],
  ["GET", "lids/pn/15550000001"],
  // Beyond the contract (issue 20): group admin.
  ["GET", `groups/${GROUP}/invite-code`],
  ["POST", `groups/${GROUP}/invite-code/revoke`],
  ["POST", "groups/join", { code: "https://chat.whatsapp.com/SimulatorInvite01" }],
  ["GET", "groups/join-info?code=SimulatorInvite01"],
  ["POST", `groups/${GROUP}/admin/promote`, { participants: ["15550000001"] }],
  ["POST", `groups/${GROUP}/admin/demote`, { participants: ["15550000001"] }],
  ["GET", `groups/${GROUP}/settings/security/messages-admin-only`],
  ["PUT", `groups/${GROUP}/settings/security/messages-admin-only`, { adminsOnly: true }],
  ["GET", `groups/${GROUP}/settings/security/info-admin-only`],
  ["PUT", `groups/${GROUP}/settings/security/info-admin-only`, { adminsOnly: true }],
  ["PUT", `groups/${GROUP}/subject`, { subject: "x" }],
  ["PUT", `groups/${GROUP}/description`, { description: "x" }],
  ["GET", `groups/${GROUP}/picture`],
  ["PUT", `groups/${GROUP}/picture`, { file: { mimetype: "image/png", data: PNG } }],
  ["DELETE", `groups/${GROUP}/picture`],
  ["GET", `groups/${GROUP}/participants/join-requests`],
  ["POST", `groups/${GROUP}/participants/join-requests/approve`, {}],
  ["POST", `groups/${GROUP}/participants/join-requests/reject`, { participants: ["15550000003"] }],
  // Beyond the contract (issue 20): status, channels, contact details.
  ["POST", "status/text", { text: "x" }],
  ["POST", "status/image", { imageUrl: PNG }],
  ["POST", "status/video", { videoUrl: MP4 }],
  ["POST", "status/delete", { id: MSG }],
  ["GET", "status"],
  ["GET", "channels"],
  ["POST", "channels", { name: "x" }],
  ["POST", "channels/search/by-text", { text: "x" }],
  ["POST", "channels/search/by-view", { view: "NEW" }],
  ["GET", `channels/${CHANNEL}`],
  ["DELETE", `channels/${CHANNEL}`],
  ["PUT", `channels/${CHANNEL}`, { name: "x" }],
  ["POST", `channels/${CHANNEL}/messages`, { text: "x" }],
  ["POST", `channels/${CHANNEL}/follow`],
  ["POST", `channels/${CHANNEL}/unfollow`],
  ["POST", `channels/${CHANNEL}/mute`],
  ["POST", `channels/${CHANNEL}/unmute`],
  ["POST", "contacts/check", { numbers: ["15550000001"] }],
  ["GET", "contacts/15550000001/about"],
  ["GET", "contacts/15550000001/business-profile"],
];

type Operation = {
  parameters?: { name: string; in: string; schema?: { example?: unknown } }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, unknown>;
};
type Doc = { paths: Record<string, Record<string, Operation>>; components: unknown };

/** Whether a schema (following `$ref`s into the document) carries an example anywhere. */
function hasExample(doc: Doc, schema: unknown, seen = new Set<unknown>()): boolean {
  if (schema === null || typeof schema !== "object" || seen.has(schema)) return false;
  seen.add(schema);
  const node = schema as Record<string, unknown>;
  if ("example" in node || "examples" in node) return true;
  if (typeof node.$ref === "string") {
    const target = node.$ref.replace(/^#\//, "").split("/")
      .reduce<unknown>((at, key) => (at as Record<string, unknown>)?.[key], doc);
    return hasExample(doc, target, seen);
  }
  return Object.values(node).some((value) => hasExample(doc, value, seen));
}

Deno.test("the OpenAPI document lists, validates and documents every endpoint", async (t) => {
  const server = await startTestApp();
  try {
    const response = await server.request("GET", "/swagger/json", { anonymous: true });
    assert.equal(response.status, 200);
    const doc = await response.json() as Doc;

    await t.step("the OpenAPI document passes @apidevtools/swagger-parser", async () => {
      await SwaggerParser.validate(structuredClone(doc) as never);
    });

    await t.step("the OpenAPI document lists every path of the contract", () => {
      const listed = new Set(
        Object.entries(doc.paths).flatMap(([path, item]) =>
          Object.keys(item).map((method) =>
            `${method.toUpperCase()} ${path.slice(BASE.length) || "/"}`
          )
        ),
      );
      const missing = [...CONTRACT, ...BEYOND_CONTRACT].filter((operation) =>
        !listed.has(operation)
      );
      assert.deepEqual(missing, [], "operations of the contract missing from the document");
    });

    await t.step("every session endpoint documents its errors, parameters and examples", () => {
      for (const [method, path] of [...CONTRACT, ...BEYOND_CONTRACT].map((e) => e.split(" "))) {
        if (
          !path.startsWith("/{phoneNumber}/") ||
          /\/(start|stop|restart|logout|qr|state|pairing-code)$/.test(path)
        ) {
          continue;
        }
        const operation = doc.paths[BASE + path]?.[method.toLowerCase()];
        assert.ok(operation, `${method} ${path}`);
        for (const status of ["200", "400", "401", "404", "409", "500", "501", "504"]) {
          assert.ok(operation.responses[status], `${method} ${path} documents ${status}`);
        }
        for (const name of [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])) {
          const parameter = operation.parameters?.find((p) => p.name === name && p.in === "path");
          assert.ok(parameter, `${method} ${path} declares the path parameter ${name}`);
          assert.ok(hasExample(doc, parameter.schema), `${method} ${path}: ${name} has an example`);
        }
        if (operation.requestBody) {
          const schema = operation.requestBody.content["application/json"]?.schema;
          assert.ok(hasExample(doc, schema), `${method} ${path}: the body has an example`);
        }
        const ok = operation.responses["200"] as { content: Record<string, { schema: unknown }> };
        const json = ok.content["application/json"];
        if (json) assert.ok(hasExample(doc, json.schema), `${method} ${path}: 200 has an example`);
      }
    });
  } finally {
    await server.close();
  }
});

/** The document's `METHOD /{phoneNumber}/…` of a call: the path it matches with fewest parameters. */
function operationOf(doc: Doc, method: string, path: string): string {
  const concrete = `${BASE}/4915550004001/${path.split("?")[0]}`;
  const matches = Object.keys(doc.paths).filter((template) =>
    doc.paths[template][method.toLowerCase()] &&
    new RegExp(`^${template.replaceAll(/\{\w+\}/g, "[^/]+")}$`).test(concrete)
  );
  const [best] = matches.sort((a, b) => a.split("{").length - b.split("{").length);
  assert.ok(best, `${method} ${path} is in the OpenAPI document`);
  return `${method} ${best.slice(BASE.length)}`;
}

for (const engine of ENGINES) {
  Deno.test(`every session endpoint on the ${engine} engine answers 409 before the scan, 404 without a session and 400 for a bad number`, async (t) => {
    // The simulator's phone never scans here; nor does WAHA's, which waits for the harness.
    const { server, start, close } = await startEngine(engine, {
      SIMULATOR_SCAN_MS: "600000",
    });
    const phone = "4915550004001";
    try {
      await start(phone);
      await waitFor("the session to show its QR", async () => {
        const { body } = await server.json("GET", `/${phone}/state`);
        return body.status === "SCAN_QR_CODE";
      });
      await t.step(
        "every session endpoint answers 409 while the session waits for a scan",
        async () => {
          for (const [method, path, body] of SESSION_CALLS) {
            const { status, body: error } = await server.json(method, `/${phone}/${path}`, {
              body,
            });
            assert.equal(status, 409, `${method} ${path}: ${JSON.stringify(error)}`);
            assert.equal(error.code, "CLIENT_NOT_READY");
            assert.match(String(error.error), /not connected \(status SCAN_QR_CODE\)/);
          }
        },
      );

      await t.step(
        "every session endpoint answers 404 naming a session that does not exist",
        async () => {
          for (const [method, path, body] of SESSION_CALLS) {
            const { status, body: error } = await server.json(method, `/4915550004999/${path}`, {
              body,
            });
            assert.equal(status, 404, `${method} ${path}`);
            assert.equal(error.error, 'Session "4915550004999" not found');
          }
        },
      );

      await t.step("every session endpoint answers 400 for a malformed phone number", async () => {
        for (const [method, path, body] of SESSION_CALLS) {
          const { status, body: error } = await server.json(method, `/12ab/${path}`, { body });
          assert.equal(status, 400, `${method} ${path}`);
          assert.match(String(error.error), /phoneNumber/);
        }
      });
    } finally {
      await close();
    }
  });
}

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, a connected session answers 501 for exactly the calls the engine's table lists`, async () => {
    const { server, connect, close } = await startEngine(engine);
    const phone = "4915550004001";
    try {
      const doc = await (await server.request("GET", "/swagger/json", { anonymous: true }))
        .json() as Doc;
      await connect(phone);
      const called = new Set<string>();
      for (const [method, path, body] of SESSION_CALLS) {
        const operation = operationOf(doc, method, path);
        called.add(operation);
        const answer = await server.json(method, `/${phone}/${path}`, { body });
        if (notImplementedOn(engine, operation)) {
          answersNotImplemented(engine, operation, answer);
        } else {
          assert.notEqual(answer.status, 501, `${operation}: ${JSON.stringify(answer.body)}`);
        }
      }
      // A call whose 501 depends on a value of its body, `(value)`, is its suite's to try.
      const untried = Object.keys(NOT_IMPLEMENTED_ON[engine])
        .filter((op) => !op.endsWith(")") && !called.has(op));
      assert.deepEqual(untried, [], "every call of the table is tried");
    } finally {
      await close();
    }
  });
}
