/**
 * @module
 * The simulator's control API (`/{phoneNumber}/simulator/…`), through HTTP: what a test makes the
 * other side of the phone do reaches a webhook receiver as the events a real phone's would, and
 * shows in the chats, groups and session state; other engines' sessions have no such API (404),
 * and only the number's owner or the admin may drive it.
 */
import assert from "node:assert/strict";
import { type Received, type Receiver, startReceiver } from "../events/test_receivers.ts";
import { PNG_DATA_URL } from "../routes/engine_inputs.ts";
import { startTestApp, type TestApp, waitFor, waitForState, webhookEvent } from "./_helpers.ts";

const PHONE = "4915550007001";
const CAROL = "15550000003@c.us";
const BOB = "15550000002@c.us";
const GROUP = "120363000000000001@g.us";

interface Setup {
  server: TestApp;
  hooks: Receiver;
  /** A POST to `/{PHONE}/simulator/<action>` with the admin key. */
  simulate(
    action: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** The first event named `event` that arrived at the webhook and `matches`, within 5 s. */
  event(event: string, matches?: (payload: Record<string, unknown>) => boolean): Promise<Received>;
}

/** A server whose global webhook is a receiver, with PHONE connected. */
async function withPhone(
  test: (setup: Setup) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const hooks = startReceiver();
  const server = await startTestApp({ WEBHOOK_URL: hooks.url, SIMULATOR_SCAN_MS: "0", ...env });
  try {
    assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
    await waitForState(server, PHONE, "CONNECTED");
    await test({
      server,
      hooks,
      simulate: (action, body = {}) =>
        server.json("POST", `/${PHONE}/simulator/${action}`, { body }),
      event: (event, matches) => webhookEvent(hooks, event, matches, 5_000),
    });
  } finally {
    await server.close();
    await hooks.close();
  }
}

interface Message {
  id: string;
  body: string;
  fromMe: boolean;
  source?: string;
  type: string;
  author: string | null;
  hasMedia: boolean;
  ack: number;
  quotedMsgId: string | null;
}

async function messagesOf(server: TestApp, chatId: string): Promise<Message[]> {
  const { status, body } = await server.json<{ messages: Message[] }>(
    "GET",
    `/${PHONE}/messages/${chatId}`,
  );
  assert.equal(status, 200);
  return body.messages;
}

Deno.test("a contact's text arrives as message and message.any events and in the chat", async () => {
  await withPhone(async ({ server, simulate, event }) => {
    const { status, body } = await simulate("messages", { chatId: "+1 555 000 0003", text: "hi" });
    assert.equal(status, 200);
    const id = String(body.messageId);
    for (const name of ["message", "message.any"]) {
      const { json } = await event(name, (p) => p.id === id);
      assert.equal(json.payload.from, CAROL);
      assert.equal(json.payload.fromMe, false);
      assert.equal(json.payload.source, "app");
      assert.equal(json.payload.body, "hi");
    }
    const [newest] = await messagesOf(server, CAROL);
    assert.deepEqual([newest.id, newest.body, newest.fromMe], [id, "hi", false]);
  });
});

Deno.test("a group member's message comes from the group, written by the member", async () => {
  await withPhone(async ({ simulate, event }) => {
    const { body } = await simulate("messages", { chatId: GROUP, from: BOB, text: "hello all" });
    const { json } = await event("message", (p) => p.id === body.messageId);
    assert.equal(json.payload.from, GROUP);
    assert.equal(json.payload.participant, BOB);

    const stranger = await simulate("messages", { chatId: GROUP, from: CAROL, text: "let me in" });
    assert.equal(stranger.status, 400);
    assert.equal(stranger.body.error, `"${CAROL}" is not another member of group "${GROUP}"`);
    const nobody = await simulate("messages", { chatId: GROUP, text: "who am I" });
    assert.equal(nobody.status, 400);
  });
});

Deno.test("a contact's photo from a data URL arrives with its media, served by the media endpoint", async () => {
  await withPhone(async ({ server, simulate, event }) => {
    const { status, body } = await simulate("messages", {
      chatId: CAROL,
      mediaUrl: PNG_DATA_URL,
      text: "a pixel",
    });
    assert.equal(status, 200, JSON.stringify(body));
    const id = String(body.messageId);
    const { json } = await event("message", (p) => p.id === id);
    assert.equal(json.payload.hasMedia, true);
    assert.equal((json.payload.media as { mimetype: string }).mimetype, "image/png");
    assert.equal(json.payload.body, "a pixel");
    const media = await server.request(
      "GET",
      `/${PHONE}/messages/${CAROL}/${encodeURIComponent(id)}/media`,
    );
    assert.equal(media.status, 200);
    assert.equal(media.headers.get("content-type"), "image/png");
    assert.deepEqual(
      new Uint8Array(await media.arrayBuffer()),
      Uint8Array.fromBase64(PNG_DATA_URL.split(",")[1]),
    );
  });
});

Deno.test("a contact's reply names the message it answers", async () => {
  await withPhone(async ({ server, simulate, event }) => {
    const sent = await server.json("POST", `/${PHONE}/send-text`, {
      body: { chatId: CAROL, text: "Coffee?" },
    });
    const question = String(sent.body.messageId);
    const { body } = await simulate("messages", { chatId: CAROL, text: "Yes", replyTo: question });
    const { json } = await event("message", (p) => p.id === body.messageId);
    assert.deepEqual(json.payload.replyTo, { id: question });
    assert.equal((await messagesOf(server, CAROL))[0].quotedMsgId, question);

    const elsewhere = await simulate("messages", { chatId: BOB, text: "No", replyTo: question });
    assert.equal(elsewhere.status, 400);
  });
});

Deno.test("a contact's reaction arrives as message.reaction naming the message and the emoji", async () => {
  await withPhone(async ({ server, simulate, event }) => {
    const sent = await server.json("POST", `/${PHONE}/send-text`, {
      body: { chatId: CAROL, text: "Good news" },
    });
    const messageId = String(sent.body.messageId);
    assert.equal((await simulate("reactions", { messageId, emoji: "🎉" })).status, 200);
    const { json } = await event("message.reaction");
    assert.equal(json.payload.from, CAROL);
    assert.deepEqual(json.payload.reaction, { text: "🎉", messageId });
  });
});

Deno.test("the phone's message delivered and read arrives as message.ack and shows in the chat", async () => {
  await withPhone(async ({ server, simulate, event }) => {
    const sent = await server.json("POST", `/${PHONE}/send-text`, {
      body: { chatId: CAROL, text: "Did you read this?" },
    });
    const messageId = String(sent.body.messageId);
    assert.equal((await simulate("acks", { messageId, ack: "read" })).status, 200);
    const { json } = await event("message.ack", (p) => p.id === messageId && p.ack === 3);
    assert.equal(json.payload.ackName, "READ");
    assert.equal((await messagesOf(server, CAROL))[0].ack, 3);

    const theirs = await simulate("messages", { chatId: CAROL, text: "mine" });
    const refused = await simulate("acks", { messageId: theirs.body.messageId, ack: "read" });
    assert.equal(refused.status, 400);
  });
});

Deno.test("a contact typing and going online arrive as presence.update", async () => {
  await withPhone(async ({ simulate, event }) => {
    assert.equal((await simulate("typing", { chatId: CAROL, state: "typing" })).status, 200);
    const typing = await event("presence.update");
    assert.deepEqual(typing.json.payload, {
      id: CAROL,
      presences: [{ participant: CAROL, lastKnownPresence: "typing", lastSeen: null }],
    });
    assert.equal((await simulate("presence", { contactId: BOB, presence: "online" })).status, 200);
    await event("presence.update", (p) => p.id === BOB);
  });
});

Deno.test("a member leaving a group, then the phone's account, arrive as WAHA's group events", async () => {
  await withPhone(async ({ server, simulate, event }) => {
    assert.equal((await simulate("group-leave", { groupId: GROUP, participant: BOB })).status, 200);
    const left = await event("group.v2.participants");
    assert.equal(left.json.payload.type, "leave");
    assert.deepEqual(left.json.payload.participants, [{ id: BOB, pn: BOB, role: "left" }]);
    const group = await server.json<{ participants: { id: string }[] }>(
      "GET",
      `/${PHONE}/group/${GROUP}`,
    );
    assert.ok(!group.body.participants.some((p) => p.id === BOB));

    assert.equal((await simulate("group-leave", { groupId: GROUP })).status, 200);
    const gone = await event("group.v2.leave");
    assert.deepEqual(gone.json.payload.group, { id: GROUP });
    assert.equal((await server.json("GET", `/${PHONE}/group/${GROUP}`)).status, 404);
  });
});

Deno.test("unlinking from the phone logs the session out: STOPPED, and the next start shows a QR", async () => {
  await withPhone(async ({ server, simulate, event, hooks }) => {
    assert.equal((await simulate("unlink")).status, 200);
    const stopped = await event("session.status", (p) => p.status === "STOPPED");
    assert.deepEqual(stopped.json.payload.data, { reason: "Logged out from the phone" });
    await waitForState(server, PHONE, "DISCONNECTED");
    const after = hooks.received.length;
    assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
    await waitFor(
      "a QR code after the unlink",
      () =>
        hooks.received.slice(after).find((r) =>
          r.json.event === "session.status" && r.json.payload.status === "SCAN_QR_CODE"
        ),
      5_000,
    );
  });
});

Deno.test("a dropped connection reports STARTING, then WORKING again", async () => {
  await withPhone(async ({ server, simulate, event, hooks }) => {
    const before = hooks.received.length;
    assert.equal((await simulate("disconnect", { reconnectAfterMs: 200 })).status, 200);
    await event("session.status", (p) => p.status === "STARTING" && p.data !== undefined);
    await waitFor(
      "WORKING after the drop",
      () =>
        hooks.received.slice(before).find((r) =>
          r.json.event === "session.status" && r.json.payload.status === "WORKING"
        ),
      5_000,
    );
    await waitForState(server, PHONE, "CONNECTED");
  });
});

Deno.test("the control API answers 409 while the session is not connected", async () => {
  await withPhone(async ({ simulate }) => {
    assert.equal((await simulate("disconnect", { reconnectAfterMs: 60_000 })).status, 200);
    const refused = await simulate("messages", { chatId: CAROL, text: "anyone?" });
    assert.equal(refused.status, 409);
  });
});

Deno.test("what the simulator's contacts do reaches the number's event stream too", async () => {
  await withPhone(async ({ server, simulate }) => {
    // `since=0`: the stored events first, so the test does not race the subscription.
    const response = await server.request("GET", `/${PHONE}/events?since=0`);
    assert.equal(response.status, 200);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const deadline = setTimeout(() => reader.cancel(), 5_000);
    let text = "";
    try {
      await simulate("typing", { chatId: CAROL, state: "recording" });
      while (!text.includes("event: presence.update")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`The stream ended without presence.update: ${text}`);
        text += value;
      }
    } finally {
      clearTimeout(deadline);
      await reader.cancel().catch(() => {});
    }
    assert.match(text, /"lastKnownPresence":"recording"/);
  });
});

Deno.test("a session of another engine has no simulator control API (404)", async () => {
  const server = await startTestApp();
  try {
    await server.store.sessions.save({ phoneNumber: PHONE, engine: "wwebjs" });
    const { status, body } = await server.json("POST", `/${PHONE}/simulator/messages`, {
      body: { chatId: CAROL, text: "hi" },
    });
    assert.equal(status, 404);
    assert.equal(body.error, `Session "${PHONE}" has no simulator: it runs the wwebjs engine`);
  } finally {
    await server.close();
  }
});

Deno.test("only the number's owner or the admin may drive its simulator", async () => {
  const A = { "X-Api-Key": "key-of-a-0123456789abcdefghij" };
  const B = { "X-Api-Key": "key-of-b-0123456789abcdefghij" };
  const server = await startTestApp({
    API_KEYS: `${A["X-Api-Key"]}=org_a,${B["X-Api-Key"]}=org_b`,
    SIMULATOR_SCAN_MS: "0",
  });
  try {
    assert.equal((await server.json("POST", `/${PHONE}/start`, { headers: A })).status, 200);
    await waitForState(server, PHONE, "CONNECTED");
    const write = (headers: Record<string, string>) =>
      server.json("POST", `/${PHONE}/simulator/messages`, {
        headers,
        body: { chatId: CAROL, text: "hi" },
      });
    assert.equal((await write(B)).status, 403);
    assert.equal((await write(A)).status, 200);
    assert.equal((await write({})).status, 200, "the admin");
    const anonymous = await server.json("POST", `/${PHONE}/simulator/unlink`, { anonymous: true });
    assert.equal(anonymous.status, 401);
  } finally {
    await server.close();
  }
});

Deno.test("the control API is documented in Swagger under its own tag", async () => {
  const server = await startTestApp();
  try {
    const { body } = await server.json<
      { paths: Record<string, Record<string, { tags: string[] }>> }
    >(
      "GET",
      "/swagger/json",
    );
    const actions = ["messages", "reactions", "acks", "typing", "presence", "group-leave"];
    for (const action of [...actions, "unlink", "disconnect"]) {
      const operation = body.paths[`/api/whatsapp/{phoneNumber}/simulator/${action}`]?.post;
      assert.deepEqual(operation?.tags, ["Simulator"], action);
    }
  } finally {
    await server.close();
  }
});
