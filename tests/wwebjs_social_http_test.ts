/**
 * @module
 * Labels, presence and calls through our HTTP API and the real whatsapp-web.js against the fake
 * WhatsApp Web. Labels (a business account): the labels, a chat's, set on a chat (the change
 * reaching WhatsApp, the fake cloud), a label's chats; creating, editing and deleting one is 501
 * (the library cannot), and an account that is not a business is told so. Presence: online and
 * offline reach WhatsApp, typing through `POST /presence` too; reading or subscribing to a
 * contact's is 501 (the library cannot). Calls: a contact's call arrives at a webhook receiver as
 * `call.received`, is rejected by its id (the reject stanza reaching WhatsApp) as `call.rejected`;
 * with `CALLS_AUTO_REJECT` it is rejected as it arrives and the caller gets the message.
 */
import assert from "node:assert/strict";
import type { FakeCloudOptions } from "./fake_whatsapp/fake_cloud.ts";
import { withLinkedServer } from "./fake_whatsapp/http_harness.ts";
import { ALICE, BOB, ME, TEAM } from "./fake_whatsapp/cast.ts";

const world: FakeCloudOptions = {
  me: ME,
  business: true,
  labels: [
    { id: "1", name: "New customer", colorIndex: 0 },
    { id: "2", name: "Lead", colorIndex: 3 },
    { id: "3", name: "Paid", colorIndex: 5 },
  ],
  chats: [
    { id: ALICE, name: "Alice", labels: ["1"] },
    { id: BOB, name: "Bob" },
    {
      id: TEAM,
      name: "Team",
      group: {
        subject: "Team",
        participants: [{ id: ME, isAdmin: true, isSuperAdmin: true }, { id: ALICE }, { id: BOB }],
      },
    },
  ],
  contacts: [
    { id: ALICE, name: "Alice", isMyContact: true },
    { id: BOB, name: "Bob", isMyContact: true },
  ],
};

/** Chats with a message each: WhatsApp Web shows no empty chat with a person. */
const seed = {
  seed: (cloud: { seedMessage(input: { chatId: string; body: string }): string }) => {
    cloud.seedMessage({ chatId: ALICE, body: "Hello" });
    cloud.seedMessage({ chatId: BOB, body: "Hi" });
  },
};

type Envelope = Record<string, unknown> & { event: string; payload: Record<string, unknown> };
interface Label {
  id: string;
  name: string;
  color: number | null;
  colorHex: string;
}

Deno.test("labels through whatsapp-web.js: list, a chat's, set on a chat (reaching WhatsApp), a label's chats; create, edit and delete are 501", () =>
  withLinkedServer(world, async ({ server, cloud, phone }) => {
    const all = await server.json<Label[]>("GET", `/${phone}/labels`);
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.deepEqual(all.body, [
      { id: "1", name: "New customer", color: 0, colorHex: "#ff9485" },
      { id: "2", name: "Lead", color: 3, colorHex: "#dfaef0" },
      { id: "3", name: "Paid", color: 5, colorHex: "#55ccb3" },
    ]);
    const alice = await server.json<Label[]>("GET", `/${phone}/labels/chats/${ALICE}`);
    assert.equal(alice.status, 200, JSON.stringify(alice.body));
    assert.deepEqual(alice.body.map((l) => l.id), ["1"]);

    const set = await server.json("PUT", `/${phone}/labels/chats/${ALICE}`, {
      body: { labels: [{ id: "2" }, { id: "3" }] },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(cloud.chats.get(ALICE)?.labels, ["2", "3"]);
    const after = await server.json<Label[]>("GET", `/${phone}/labels/chats/${ALICE}`);
    assert.deepEqual(after.body.map((l) => l.id), ["2", "3"]);
    const group = await server.json("PUT", `/${phone}/labels/chats/${TEAM}`, {
      body: { labels: [{ id: "2" }] },
    });
    assert.equal(group.status, 200, JSON.stringify(group.body));

    const chats = await server.json<{ id: string }[]>("GET", `/${phone}/labels/2/chats`);
    assert.equal(chats.status, 200, JSON.stringify(chats.body));
    assert.deepEqual(chats.body.map((c) => c.id).sort(), [ALICE, TEAM].sort());
    assert.deepEqual((await server.json("GET", `/${phone}/labels/1/chats`)).body, []);

    const unknown = await server.json("PUT", `/${phone}/labels/chats/${BOB}`, {
      body: { labels: [{ id: "9" }] },
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'Label "9" not found');
    assert.equal(cloud.chats.get(BOB)?.labels, undefined, "nothing changed on WhatsApp");
    assert.equal((await server.json("GET", `/${phone}/labels/9/chats`)).status, 404);

    for (
      const [method, path, body] of [
        ["POST", "/labels", { name: "New" }],
        ["PUT", "/labels/2", { name: "Renamed" }],
        ["DELETE", "/labels/2", undefined],
      ] as const
    ) {
      const answer = await server.json(method, `/${phone}${path}`, { body });
      assert.equal(answer.status, 501, `${method} ${path}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.code, "NOT_IMPLEMENTED");
    }
  }, seed));

Deno.test("an account that is not a business has no labels, and setting one is refused with the reason", () =>
  withLinkedServer({ ...world, business: false, labels: [] }, async ({ server, phone }) => {
    assert.deepEqual((await server.json("GET", `/${phone}/labels`)).body, []);
    const set = await server.json("PUT", `/${phone}/labels/chats/${ALICE}`, {
      body: { labels: [] },
    });
    assert.equal(set.status, 400);
    assert.equal(set.body.error, "Labels are for WhatsApp Business accounts only");
  }, seed));

Deno.test("presence through whatsapp-web.js: online, offline and typing reach WhatsApp; reading, subscribing to and listing contacts' presence are 501", () =>
  withLinkedServer(world, async ({ server, cloud, phone }) => {
    for (const presence of ["online", "offline"]) {
      const set = await server.json("POST", `/${phone}/presence`, { body: { presence } });
      assert.equal(set.status, 200, JSON.stringify(set.body));
    }
    assert.deepEqual(
      cloud.actions.filter((a) => a.action === "available").map((a) => a.available),
      [true, false],
    );
    const typing = await server.json("POST", `/${phone}/presence`, {
      body: { presence: "typing", chatId: ALICE },
    });
    assert.equal(typing.status, 200, JSON.stringify(typing.body));
    // WhatsApp Web sends a chat state without waiting for it to leave.
    await cloud.waitFor(() =>
      cloud.actions.find((a) =>
        a.action === "presence" && a.chatId === ALICE && a.state === "typing"
      )
    );

    const read = await server.json("GET", `/${phone}/presence/${ALICE}`);
    assert.equal(read.status, 501);
    assert.equal(read.body.code, "NOT_IMPLEMENTED");
    const subscribe = await server.json("POST", `/${phone}/presence/${ALICE}/subscribe`);
    assert.equal(subscribe.status, 501);
    assert.equal((await server.json("GET", `/${phone}/presence`)).status, 501);
  }, seed));

Deno.test("a contact's call arrives as call.received and is rejected by its id on WhatsApp: call.rejected, once", () =>
  withLinkedServer(world, async ({ server, cloud, receiver, phone }) => {
    const callId = cloud.call(ALICE, { isVideo: true });
    const received = await receiver.waitFor(
      (e) => e.event === "call.received",
      "the call at the webhook",
    ) as Envelope;
    const call = cloud.calls[0];
    assert.deepEqual(received.payload, {
      id: callId,
      from: ALICE,
      timestamp: call.offerTime,
      isVideo: true,
      isGroup: false,
    });
    assert.equal(call.rejected, null, "it rings until rejected");

    const wrong = await server.json("POST", `/${phone}/calls/reject`, {
      body: { from: BOB, id: callId },
    });
    assert.equal(wrong.status, 404);
    const rejected = await server.json("POST", `/${phone}/calls/reject`, {
      body: { from: ALICE, id: callId },
    });
    assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
    assert.deepEqual(cloud.calls[0].rejected, { from: ME, to: ALICE, creator: ALICE });
    const event = await receiver.waitFor(
      (e) => e.event === "call.rejected",
      "call.rejected at the webhook",
    ) as Envelope;
    assert.deepEqual(event.payload, received.payload);
    const again = await server.json("POST", `/${phone}/calls/reject`, {
      body: { from: ALICE, id: callId },
    });
    assert.equal(again.status, 404);
    assert.equal(cloud.sent.some((s) => s.chatId === ALICE), false, "no message to the caller");
  }));

Deno.test("CALLS_AUTO_REJECT rejects a call on WhatsApp as it arrives, and the caller gets CALLS_AUTO_REJECT_MESSAGE", () =>
  withLinkedServer(world, async ({ cloud, receiver }) => {
    const callId = cloud.call(BOB);
    const text = "I do not take calls: please write";
    const reply = await cloud.waitFor(() => cloud.sent.find((s) => s.chatId === BOB), 20_000);
    assert.equal(reply.type, "chat");
    assert.equal(reply.body, text);
    assert.deepEqual(cloud.calls[0].rejected, { from: ME, to: BOB, creator: BOB });
    const received = await receiver.waitFor(
      (e) => e.event === "call.received",
      "call.received",
    ) as Envelope;
    const rejected = await receiver.waitFor(
      (e) => e.event === "call.rejected",
      "call.rejected",
    ) as Envelope;
    assert.equal(received.payload.id, callId);
    assert.deepEqual(rejected.payload, received.payload);
    const order = receiver.received.map((e) => e.event).filter((e) =>
      String(e).startsWith("call.")
    );
    assert.deepEqual(order, ["call.received", "call.rejected"]);
  }, {
    env: {
      CALLS_AUTO_REJECT: "true",
      CALLS_AUTO_REJECT_MESSAGE: "I do not take calls: please write",
    },
  }));
