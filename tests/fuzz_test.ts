/**
 * @module
 * Bad input, everywhere: the test walks the OpenAPI document and sends, to every operation of a
 * number that is started and WORKING (so a 404 for an unknown number cannot pass for a refusal),
 * bad path parameters, bad query parameters, and for every operation that takes a body: malformed
 * JSON, an empty body, text/plain, a form, no content type, a JSON value that is not an object, a
 * wrong type in each field, an over-long value in each bounded field, and a body over the route's
 * cap. Each gets its exact status and the contract's error body; nothing gets a 5xx.
 */
import assert from "node:assert/strict";
import { startSession, startTestApp, type TestApp } from "./_helpers.ts";

const PHONE = "4915550006001";
const MEDIA_CAP = 2 * 1024 * 1024;
const SMALL_CAP = 1024 * 1024;
const PNG =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  maxLength?: number;
  maxItems?: number;
  enum?: unknown[];
  items?: Schema;
};

interface Operation {
  method: string;
  template: string;
  parameters: { name: string; in: string; schema: Schema }[];
  body: Schema | null;
  bodyRequired: boolean;
}

/** A body each operation accepts, so that changing one field makes that field the problem. */
function validBodies(messageId: string): Record<string, unknown> {
  const chat = "15550000001@c.us";
  return {
    [`POST /{phoneNumber}/start`]: { engine: "simulator" },
    [`POST /{phoneNumber}/pairing-code`]: { phoneNumber: PHONE },
    [`POST /{phoneNumber}/send-text`]: { chatId: chat, text: "hello" },
    [`POST /{phoneNumber}/send-image`]: { chatId: chat, imageUrl: PNG, caption: "c" },
    [`POST /{phoneNumber}/send-file`]: { chatId: chat, fileUrl: PNG, filename: "a.png" },
    [`POST /{phoneNumber}/send-video`]: { chatId: chat, videoUrl: PNG },
    [`POST /{phoneNumber}/send-voice`]: { chatId: chat, audioUrl: PNG },
    [`POST /{phoneNumber}/send-audio`]: { chatId: chat, audioUrl: PNG },
    [`POST /{phoneNumber}/send-location`]: {
      chatId: chat,
      latitude: 52.5,
      longitude: 13.4,
      name: "A place",
      address: "A street",
    },
    [`POST /{phoneNumber}/send-contact`]: {
      chatId: chat,
      contact: { name: "Bob", phone: "+15550000002" },
    },
    [`POST /{phoneNumber}/send-reaction`]: { messageId, emoji: "👍" },
    [`POST /{phoneNumber}/send-poll`]: {
      chatId: chat,
      poll: { name: "Lunch?", options: ["Pizza", "Sushi"], multipleAnswers: false },
    },
    [`POST /{phoneNumber}/send-seen`]: { chatId: chat },
    [`POST /{phoneNumber}/typing`]: { chatId: chat, state: "typing" },
    [`PUT /{phoneNumber}/messages/{messageId}`]: { text: "edited" },
    [`POST /{phoneNumber}/messages/{messageId}/forward`]: { chatId: "15550000002@c.us" },
    [`POST /{phoneNumber}/messages/{messageId}/pin`]: { duration: 86_400 },
    [`POST /{phoneNumber}/chats/{chatId}/mute`]: { duration: 28_800 },
    [`POST /{phoneNumber}/status/text`]: { text: "Hello", backgroundColor: "#38b42f", font: 1 },
    [`POST /{phoneNumber}/status/image`]: { imageUrl: PNG, caption: "c" },
    [`POST /{phoneNumber}/status/video`]: { videoUrl: PNG, caption: "c" },
    [`POST /{phoneNumber}/status/delete`]: { id: messageId },
    [`POST /{phoneNumber}/channels`]: { name: "Our news", description: "About" },
    [`POST /{phoneNumber}/channels/search/by-text`]: { text: "news", limit: 10 },
    [`POST /{phoneNumber}/channels/search/by-view`]: {
      view: "POPULAR",
      countries: ["US"],
      limit: 10,
    },
    [`POST /{phoneNumber}/channels/{channelId}/messages`]: { text: "A post" },
    [`PUT /{phoneNumber}/channels/{channelId}`]: { name: "Our news", description: "About" },
    [`POST /{phoneNumber}/contacts/check`]: { numbers: ["15550000001"] },
    [`POST /{phoneNumber}/contact/block`]: { contactId: "15550000002@c.us" },
    [`POST /{phoneNumber}/contact/unblock`]: { contactId: "15550000002@c.us" },
    [`POST /{phoneNumber}/group/create`]: { name: "Team", participants: [chat] },
    [`PUT /{phoneNumber}/group/{groupId}`]: { subject: "Subject", description: "About" },
    [`POST /{phoneNumber}/group/{groupId}/participants/add`]: { participants: [chat] },
    [`POST /{phoneNumber}/group/{groupId}/participants/remove`]: { participants: [chat] },
    [`PUT /{phoneNumber}/profile/name`]: { name: "Desk" },
    [`PUT /{phoneNumber}/profile/status`]: { status: "Here" },
    [`PUT /{phoneNumber}/profile/picture`]: { imageUrl: PNG },
    [`POST /{phoneNumber}/simulator/messages`]: { chatId: chat, text: "hi", replyTo: messageId },
    [`POST /{phoneNumber}/simulator/reactions`]: { messageId, emoji: "👍" },
    [`POST /{phoneNumber}/simulator/poll-votes`]: { pollId: messageId, options: ["Pizza"] },
    [`POST /{phoneNumber}/simulator/acks`]: { messageId, ack: "read" },
    [`POST /{phoneNumber}/simulator/typing`]: { chatId: chat, state: "typing" },
    [`POST /{phoneNumber}/simulator/presence`]: { contactId: chat, presence: "online" },
    [`POST /{phoneNumber}/simulator/group-leave`]: {
      groupId: "120363000000000001@g.us",
      participant: "15550000002@c.us",
    },
    [`POST /{phoneNumber}/simulator/disconnect`]: { reconnectAfterMs: 0 },
    // A chatter of no messages: nothing keeps writing while the fuzzing goes on.
    [`POST /{phoneNumber}/simulator/chatter`]: { chatId: chat, everyMs: 1_000, durationMs: 0 },
    [`POST /{phoneNumber}/labels`]: { name: "Fuzzed", color: 2 },
    [`PUT /{phoneNumber}/labels/{labelId}`]: { name: "Renamed", color: 3 },
    [`PUT /{phoneNumber}/labels/chats/{chatId}`]: { labels: [{ id: "2" }] },
    [`POST /{phoneNumber}/presence`]: { presence: "typing", chatId: chat },
    [`POST /{phoneNumber}/calls/reject`]: { from: chat, id: "ABCDEF0123456789" },
    [`POST /{phoneNumber}/simulator/calls`]: { from: chat, isVideo: false },
    [`POST /{phoneNumber}/simulator/labels`]: { name: "From the phone", color: 4 },
    [`POST /{phoneNumber}/simulator/label-delete`]: { id: "5" },
    [`POST /{phoneNumber}/simulator/chat-labels`]: { chatId: chat, labelIds: ["3"] },
    // Group admin (issue 20).
    [`POST /{phoneNumber}/groups/join`]: { code: "SimulatorInvite01" },
    [`POST /{phoneNumber}/groups/{groupId}/admin/promote`]: { participants: [chat] },
    [`POST /{phoneNumber}/groups/{groupId}/admin/demote`]: { participants: [chat] },
    [`PUT /{phoneNumber}/groups/{groupId}/settings/security/messages-admin-only`]: {
      adminsOnly: true,
    },
    [`PUT /{phoneNumber}/groups/{groupId}/settings/security/info-admin-only`]: {
      adminsOnly: false,
    },
    [`PUT /{phoneNumber}/groups/{groupId}/subject`]: { subject: "Subject" },
    [`PUT /{phoneNumber}/groups/{groupId}/description`]: { description: "About" },
    [`PUT /{phoneNumber}/groups/{groupId}/picture`]: { file: { url: PNG } },
    [`POST /{phoneNumber}/groups/{groupId}/participants/join-requests/approve`]: {
      participants: [chat],
    },
    [`POST /{phoneNumber}/groups/{groupId}/participants/join-requests/reject`]: {
      participants: [chat],
    },
    [`POST /{phoneNumber}/simulator/group-admin`]: {
      groupId: "120363000000000001@g.us",
      by: "15550000002@c.us",
      participant: chat,
      action: "promote",
    },
    [`POST /{phoneNumber}/simulator/group-settings`]: {
      groupId: "120363000000000001@g.us",
      by: "15550000002@c.us",
      subject: "Renamed",
    },
    [`POST /{phoneNumber}/simulator/group-join`]: {
      groupId: "120363000000000001@g.us",
      participant: "15550000003@c.us",
    },
    [`POST /{phoneNumber}/simulator/group-request`]: {
      groupId: "120363000000000001@g.us",
      participant: "15550000003@c.us",
    },
    [`PUT /{phoneNumber}/webhooks`]: {
      webhooks: [{ url: "https://example.com/hook", events: ["*"] }],
    },
    [`POST /webhook/message`]: {
      event: "message",
      session: PHONE,
      payload: { id: "false_15550000001@c.us_AAA", timestamp: 1, from: chat, fromMe: false },
      engine: "WEBJS",
    },
    [`POST /webhook/state-change`]: {
      event: "session.status",
      session: PHONE,
      payload: { name: PHONE, status: "WORKING" },
      engine: "WEBJS",
    },
  };
}

/** A good and a bad value for each path parameter. */
const PATH_VALUES: Record<string, { good: (ids: Ids) => string; bad: string }> = {
  phoneNumber: { good: () => PHONE, bad: "12ab" },
  chatId: { good: () => "15550000001@c.us", bad: "not-a-jid" },
  contactId: { good: () => "15550000001@c.us", bad: "not-a-jid" },
  groupId: { good: () => "120363000000000001@g.us", bad: "120363@c.us" },
  messageId: { good: (ids) => ids.messageId, bad: "x".repeat(301) },
  phone: { good: () => "15550000001", bad: "call-me" },
  lid: { good: () => "100000000000001@lid", bad: "not-a-lid" },
  id: { good: () => "1", bad: "first" },
  labelId: { good: () => "1", bad: "not a label!" },
  channelId: { good: () => "120363000000000101@newsletter", bad: "not a channel!" },
};

interface Ids {
  messageId: string;
}

interface OpenApiOperation {
  parameters?: Operation["parameters"];
  requestBody?: { required?: boolean; content?: Record<string, { schema: Schema }> };
}

interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, Schema> };
}

function operationsOf(document: OpenApiDocument): Operation[] {
  const found: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    // The contract's routes; WAHA's dialect (`/api/…`) has its own suite (waha_dialect_*_test.ts).
    if (!path.startsWith("/api/whatsapp/")) continue;
    for (const [method, op] of Object.entries(item)) {
      const content = op.requestBody?.content?.["application/json"];
      found.push({
        method: method.toUpperCase(),
        template: path.replace(/^\/api\/whatsapp/, ""),
        parameters: op.parameters ?? [],
        body: content?.schema ?? null,
        bodyRequired: op.requestBody?.required === true,
      });
    }
  }
  return found;
}

function resolve(document: OpenApiDocument, schema: Schema): Schema {
  if (!schema.$ref) return schema;
  return document.components.schemas[schema.$ref.split("/").pop()!];
}

function wrongValueFor(schema: Schema): unknown {
  switch (schema.type) {
    case "string":
      return 12345;
    case "number":
    case "integer":
      return "not a number";
    case "boolean":
      return "yes";
    case "array":
      return "not an array";
    case "object":
      return "not an object";
    default:
      return schema.properties ? "not an object" : undefined;
  }
}

function pathOf(template: string, ids: Ids, bad?: string): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const values = PATH_VALUES[name];
    assert.ok(values, `the test knows the path parameter "${name}"`);
    return encodeURIComponent(name === bad ? values.bad : values.good(ids));
  });
}

function assertError(
  response: { status: number; body: unknown },
  status: number,
  message: RegExp,
  what: string,
): void {
  assert.equal(response.status, status, `${what}: ${JSON.stringify(response.body)}`);
  const body = response.body as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ["code", "error", "statusCode"], what);
  assert.equal(body.statusCode, status, what);
  assert.match(String(body.error), message, what);
}

async function send(
  server: TestApp,
  method: string,
  path: string,
  body: BodyInit | undefined,
  contentType: string | null,
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { "X-Api-Key": "test-admin-key-0123456789abcdef" };
  if (contentType !== null) headers["Content-Type"] = contentType;
  const response = await server.app.request(`/api/whatsapp${path}`, { method, headers, body });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

Deno.test("every operation answers bad input with its exact 4xx and the error body, never a 5xx", async (t) => {
  const server = await startTestApp({ BODY_MAX_BYTES: String(MEDIA_CAP) });
  try {
    await startSession(server, PHONE);
    const sent = await server.json<{ messageId: string }>("POST", `/${PHONE}/send-text`, {
      body: { chatId: "15550000001@c.us", text: "a message to point at" },
    });
    const ids: Ids = { messageId: sent.body.messageId };
    const bodies = validBodies(ids.messageId);
    const document = await (await server.request("GET", "/swagger/json")).json();
    const operations = operationsOf(document).filter((op) =>
      op.template !== "/health" && !op.template.startsWith("/swagger")
    );
    assert.ok(operations.length >= 48, `${operations.length} operations in the document`);

    for (const op of operations) {
      const key = `${op.method} ${op.template}`;
      await t.step(key, async () => {
        // Bad path parameters: 400 naming the parameter.
        for (const parameter of op.parameters.filter((p) => p.in === "path")) {
          const response = await send(
            server,
            op.method,
            pathOf(op.template, ids, parameter.name),
            op.body ? JSON.stringify(bodies[key]) : undefined,
            op.body ? "application/json" : null,
          );
          assertError(
            response,
            400,
            new RegExp(`path parameter "${parameter.name}"`),
            `${key} with a bad ${parameter.name}`,
          );
        }
        const path = pathOf(op.template, ids);
        // Bad query parameters: 400 naming the parameter.
        for (const parameter of op.parameters.filter((p) => p.in === "query")) {
          const schema = resolve(document, parameter.schema);
          const bad = schema.type === "integer" ? "many" : schema.enum ? "bogus" : null;
          if (bad === null) continue;
          const response = await send(
            server,
            op.method,
            `${path}?${parameter.name}=${bad}`,
            undefined,
            null,
          );
          assertError(
            response,
            400,
            new RegExp(`query parameter "${parameter.name}"`),
            `${key}?${parameter.name}=${bad}`,
          );
        }
        if (!op.body) return;

        const valid = bodies[key];
        assert.ok(valid, `the test has a valid body for ${key}`);
        const schema = resolve(document, op.body);
        const json = (value: unknown) =>
          send(server, op.method, path, JSON.stringify(value), JSON_TYPE);

        const good = await json(valid);
        assert.ok(good.status < 500, `${key} with a valid body: ${JSON.stringify(good.body)}`);

        assertError(
          await send(server, op.method, path, '{"chatId": ', JSON_TYPE),
          400,
          /Malformed JSON/,
          `${key} with malformed JSON`,
        );
        for (
          const [type, payload] of [
            ["text/plain", "hello"],
            ["application/x-www-form-urlencoded", "chatId=1&text=2"],
            ["multipart/form-data; boundary=x", "--x--"],
          ]
        ) {
          assertError(
            await send(server, op.method, path, payload, type),
            415,
            /not accepted here: send application\/json/,
            `${key} as ${type}`,
          );
        }
        assertError(
          await send(server, op.method, path, new Uint8Array([123, 125]), null),
          415,
          /no Content-Type/,
          `${key} without a content type`,
        );
        for (const notAnObject of [[1, 2], "text", 42, null]) {
          const response = await json(notAnObject);
          if (!op.bodyRequired && notAnObject === null) continue;
          assertError(
            response,
            400,
            /^Invalid body: /,
            `${key} with ${JSON.stringify(notAnObject)}`,
          );
        }

        const empty = await send(server, op.method, path, "", JSON_TYPE);
        const firstRequired = schema.required?.[0];
        if (firstRequired) {
          assertError(
            empty,
            400,
            new RegExp(`body field "${firstRequired}"`),
            `${key} with an empty body`,
          );
        } else {
          assert.ok(empty.status < 500, `${key} with an empty body: ${JSON.stringify(empty.body)}`);
        }

        for (const [field, fieldSchema] of Object.entries(schema.properties ?? {})) {
          const property = resolve(document, fieldSchema);
          const wrong = wrongValueFor(property);
          if (wrong !== undefined) {
            assertError(
              await json({ ...(valid as object), [field]: wrong }),
              400,
              new RegExp(`body field "${field}`),
              `${key} with ${field} = ${JSON.stringify(wrong)}`,
            );
          }
          if (property.type === "string" && property.maxLength !== undefined) {
            assertError(
              await json({ ...(valid as object), [field]: "x".repeat(property.maxLength + 1) }),
              400,
              new RegExp(`body field "${field}`),
              `${key} with ${field} over ${property.maxLength} characters`,
            );
          }
          if (property.type === "array" && property.maxItems !== undefined) {
            const item = (valid as Record<string, unknown[]>)[field]?.[0] ?? "x";
            assertError(
              await json({
                ...(valid as object),
                [field]: Array(property.maxItems + 1).fill(item),
              }),
              400,
              new RegExp(`body field "${field}`),
              `${key} with ${property.maxItems + 1} ${field}`,
            );
          }
        }

        // Routes that take media have the larger cap (status posts and group pictures among them).
        const takesMedia =
          /send-(image|file|video|voice|audio)$|profile\/picture$|groups\/\{groupId\}\/picture$|simulator\/messages$/
            .test(op.template) || /status\/(image|video)$/.test(op.template);
        const cap = takesMedia ? MEDIA_CAP : SMALL_CAP;
        assertError(
          await send(server, op.method, path, `{"x":"${"A".repeat(cap)}"}`, JSON_TYPE),
          413,
          new RegExp(`over ${cap} bytes`),
          `${key} with a body over ${cap} bytes`,
        );
      });
    }
  } finally {
    await server.close();
  }
});

const JSON_TYPE = "application/json";
