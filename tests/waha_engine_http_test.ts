/**
 * @module
 * The waha engine through our HTTP API, against a fake WAHA server: a start creates the WAHA
 * session with its webhooks pointing at our inbound endpoints (our key, WAHA's HMAC), the QR comes
 * from WAHA until the phone scans, WAHA's `session.status` makes the session CONNECTED; sends and
 * reads become the right WAHA calls with bodies WAHA's DTOs accept; a message WAHA posts reaches
 * our webhook receiver and the SSE stream once; what WAHA cannot do answers 501.
 */
import assert from "node:assert/strict";
import { API_BASE } from "../routes/app.ts";
import { createWahaEngine } from "../sessions/engines/waha/engine.ts";
import { INBOUND_BASE } from "../sessions/engines/waha/options.ts";
import { createSimulatorEngine } from "../sessions/engines/simulator/engine.ts";
import { ADMIN_KEY, waitFor, waitForState } from "./_helpers.ts";
import { sseReader } from "./_sse.ts";
import { HMAC_SECRET, startWahaGateway } from "./fake_waha/gateway.ts";
import { verifyHmac } from "../events/test_receivers.ts";

const PHONE = "4915550022001";
const ALICE = "15550000001@c.us";
const BOB = "15550000002@c.us";

Deno.test("the waha engine answers every engine method (implemented, or NOT_IMPLEMENTED)", () => {
  const options = {
    phoneNumber: PHONE,
    sessionDir: "/nonexistent",
    qrMaxRetries: 0,
    simulatorScanMs: 0,
  };
  const waha = createWahaEngine({
    ...options,
    waha: { url: "http://127.0.0.1:9", pollMs: 1000 },
  });
  const simulator = createSimulatorEngine(options);
  const methods = Object.keys(simulator).filter((k) =>
    typeof (simulator as unknown as Record<string, unknown>)[k] === "function"
  );
  const missing = methods.filter((m) =>
    typeof (waha as unknown as Record<string, unknown>)[m] !== "function"
  );
  assert.deepEqual(missing, []);
  assert.equal(INBOUND_BASE, `${API_BASE}/webhook`);
});

Deno.test("a waha-engine session through our HTTP API", async (t) => {
  const { server, fake, receiver, publicUrl, close } = await startWahaGateway();
  const send = (action: string, body: unknown) =>
    server.json("POST", `/${PHONE}/${action}`, { body });
  const lastBody = (path: string) => fake.callsTo(path).at(-1)?.body;
  try {
    await t.step("start creates the WAHA session with our inbound webhooks", async () => {
      const started = await server.json("POST", `/${PHONE}/start`);
      assert.equal(started.status, 200, JSON.stringify(started.body));
      const [create] = await waitFor(
        "the engine to create WAHA's session",
        () => fake.callsTo("/api/sessions", "POST").length > 0 && fake.callsTo("/api/sessions"),
      );
      const hook = {
        customHeaders: [{ name: "X-Api-Key", value: ADMIN_KEY }],
        hmac: { key: HMAC_SECRET },
      };
      assert.deepEqual(create.body, {
        name: PHONE,
        start: true,
        config: {
          webhooks: [
            {
              url: `${publicUrl}${API_BASE}/webhook/message`,
              events: [
                "message",
                "message.any",
                "message.ack",
                "message.reaction",
                "message.revoked",
                "poll.vote",
                "group.v2.join",
                "group.v2.leave",
                "group.v2.update",
                "group.v2.participants",
                "group.v2.participants.join-request",
                "message.edited",
                "label.upsert",
                "label.deleted",
                "label.chat.added",
                "label.chat.deleted",
                "presence.update",
                "call.received",
                "call.accepted",
                "call.rejected",
              ],
              ...hook,
            },
            {
              url: `${publicUrl}${API_BASE}/webhook/state-change`,
              events: ["session.status"],
              ...hook,
            },
          ],
        },
      });
    });

    await t.step("the QR is WAHA's until the phone scans", async () => {
      const qr = await server.json<{ qrCode: string }>("GET", `/${PHONE}/qr`);
      assert.equal(qr.status, 200, JSON.stringify(qr.body));
      assert.match(qr.body.qrCode, /^data:image\/png;base64,/);
      assert.ok(fake.callsTo(`/api/${PHONE}/auth/qr`).some((r) => r.query.format === "raw"));
      const early = await send("send-text", { chatId: ALICE, text: "too early" });
      assert.equal(early.status, 409);
      assert.equal(fake.callsTo("/api/sendText").length, 0);
    });

    await t.step("WAHA's session.status WORKING makes the session CONNECTED", async () => {
      await fake.scan(PHONE);
      const state = await waitForState(server, PHONE, "CONNECTED");
      assert.equal(state.engine, "waha");
      assert.equal((state.me as { id: string }).id, `${PHONE}@c.us`);
      // WAHA's posts were let in: our key and a valid HMAC.
      const posts = fake.webhooks.filter((w) => w.event === "session.status");
      assert.ok(posts.length > 0);
      for (const post of posts) {
        assert.equal(post.status, 200, `${post.url} answered ${post.status}`);
        assert.ok(await verifyHmac(HMAC_SECRET, post.body, post.headers["X-Webhook-Hmac"]));
      }
    });

    let firstId = "";
    await t.step("send-text is WAHA's sendText, a reply its reply_to", async () => {
      const sent = await send("send-text", { chatId: "15550000001", text: "Hello" });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      firstId = sent.body.messageId as string;
      assert.match(firstId, /^true_15550000001@c\.us_/);
      assert.deepEqual(lastBody("/api/sendText"), {
        session: PHONE,
        chatId: ALICE,
        text: "Hello",
      });
      const reply = await send("send-text", { chatId: ALICE, text: "Again", quotedMsgId: firstId });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.deepEqual(lastBody("/api/sendText"), {
        session: PHONE,
        chatId: ALICE,
        text: "Again",
        reply_to: firstId,
      });
      const unknown = await send("send-text", { chatId: ALICE, text: "x", quotedMsgId: "nope" });
      assert.equal(unknown.status, 404);
    });

    await t.step("messages and chats are WAHA's, newest first, paged by our cursor", async () => {
      const page = await server.json<{
        messages: { id: string; body: string; fromMe: boolean }[];
        hasMore: boolean;
        nextCursor?: string;
      }>("GET", `/${PHONE}/messages/${ALICE}?limit=1`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.equal(page.body.messages[0].body, "Again");
      assert.equal(page.body.hasMore, true);
      const next = await server.json<{ messages: { id: string }[]; hasMore: boolean }>(
        "GET",
        `/${PHONE}/messages/${ALICE}?limit=1&before=${encodeURIComponent(page.body.nextCursor!)}`,
      );
      assert.equal(next.status, 200, JSON.stringify(next.body));
      assert.deepEqual(next.body.messages.map((m) => m.id), [firstId]);
      assert.equal(next.body.hasMore, false);
      const chats = await server.json<{ chats: { id: string }[] }>("GET", `/${PHONE}/chats`);
      assert.equal(chats.status, 200, JSON.stringify(chats.body));
      assert.deepEqual(chats.body.chats.map((c) => c.id), [ALICE]);
      // The whole list, cut into pages here: WAHA counts no chats.
      const call = fake.callsTo(`/api/${PHONE}/chats`).at(-1)!;
      assert.deepEqual(call.query, {});
    });

    await t.step("an incoming message reaches our webhook and the SSE stream once", async () => {
      const response = await server.request("GET", `/${PHONE}/events`);
      assert.equal(response.status, 200);
      const stream = sseReader(response);
      try {
        const first = await fake.incoming(PHONE, BOB, "Hi there");
        const second = await fake.incoming(PHONE, BOB, "And again");
        const isMessage = (id: string) => (m: { data: string }) => {
          const event = JSON.parse(m.data);
          return event.event === "message" && event.payload.id === id;
        };
        await stream.until(isMessage(second.id));
        assert.equal(stream.messages.filter(isMessage(first.id)).length, 1);
        await waitFor(
          "the receiver to get the second message",
          () =>
            receiver.received.some((r) =>
              r.json.event === "message" && r.json.payload.id === second.id
            ),
        );
        const delivered = receiver.received.filter((r) =>
          r.json.event === "message" && r.json.payload.id === first.id
        );
        assert.equal(delivered.length, 1);
        assert.equal(delivered[0].json.session, PHONE);
        assert.equal(delivered[0].json.payload.body, "Hi there");
      } finally {
        await stream.close();
      }
    });

    await t.step("location, contact, seen, typing, reaction, edit, delete, check", async () => {
      const location = await send("send-location", {
        chatId: ALICE,
        latitude: 52.52,
        longitude: 13.4,
        name: "Alexanderplatz",
      });
      assert.equal(location.status, 200, JSON.stringify(location.body));
      assert.deepEqual(lastBody("/api/sendLocation"), {
        session: PHONE,
        chatId: ALICE,
        latitude: 52.52,
        longitude: 13.4,
        title: "Alexanderplatz",
      });
      const vcard = "BEGIN:VCARD\nVERSION:3.0\nFN:Alice\nEND:VCARD";
      const contact = await send("send-contact", { chatId: ALICE, vcard });
      assert.equal(contact.status, 200, JSON.stringify(contact.body));
      const card = lastBody("/api/sendContactVcard") as {
        session: string;
        chatId: string;
        contacts: { vcard: string }[];
      };
      assert.deepEqual([card.session, card.chatId, card.contacts.length], [PHONE, ALICE, 1]);
      assert.match(card.contacts[0].vcard, /^BEGIN:VCARD[\s\S]*FN:Alice/);
      assert.equal((await send("send-seen", { chatId: ALICE })).status, 200);
      assert.deepEqual(lastBody("/api/sendSeen"), { session: PHONE, chatId: ALICE });
      assert.equal((await send("typing", { chatId: ALICE, state: "typing" })).status, 200);
      assert.deepEqual(lastBody("/api/startTyping"), { session: PHONE, chatId: ALICE });
      assert.equal((await send("typing", { chatId: ALICE, state: "paused" })).status, 200);
      assert.deepEqual(lastBody("/api/stopTyping"), { session: PHONE, chatId: ALICE });
      const reaction = await send("send-reaction", { messageId: firstId, emoji: "👍" });
      assert.equal(reaction.status, 200, JSON.stringify(reaction.body));
      assert.deepEqual(lastBody("/api/reaction"), {
        session: PHONE,
        messageId: firstId,
        reaction: "👍",
      });
      const messagePath = `/api/${PHONE}/chats/${ALICE}/messages/${firstId}`;
      const edit = await server.json("PUT", `/${PHONE}/messages/${firstId}`, {
        body: { text: "Hello, edited" },
      });
      assert.equal(edit.status, 200, JSON.stringify(edit.body));
      assert.deepEqual(fake.callsTo(messagePath, "PUT").at(-1)?.body, { text: "Hello, edited" });
      const removed = await server.json("DELETE", `/${PHONE}/messages/${firstId}`);
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.equal(fake.callsTo(messagePath, "DELETE").length, 1);
      const check = await server.json("GET", `/${PHONE}/check-number/15550000009`);
      assert.equal(check.status, 200, JSON.stringify(check.body));
      assert.equal(check.body.exists, true);
      assert.deepEqual(fake.callsTo("/api/contacts/check-exists").at(-1)?.query, {
        session: PHONE,
        phone: "15550000009",
      });
    });

    await t.step("poll, forward, star, block, archive, clear and delete a chat", async () => {
      const poll = await send("send-poll", {
        chatId: ALICE,
        poll: { name: "Lunch?", options: ["Pizza", "Sushi"] },
      });
      assert.equal(poll.status, 200, JSON.stringify(poll.body));
      assert.deepEqual(lastBody("/api/sendPoll"), {
        session: PHONE,
        chatId: ALICE,
        poll: { name: "Lunch?", options: ["Pizza", "Sushi"], multipleAnswers: false },
      });
      const pollId = poll.body.messageId as string;
      const forward = await server.json("POST", `/${PHONE}/messages/${pollId}/forward`, {
        body: { chatId: BOB },
      });
      assert.equal(forward.status, 200, JSON.stringify(forward.body));
      assert.deepEqual(lastBody("/api/forwardMessage"), {
        session: PHONE,
        chatId: BOB,
        messageId: pollId,
      });
      const star = await server.json("PUT", `/${PHONE}/messages/${pollId}/star`);
      assert.equal(star.status, 200, JSON.stringify(star.body));
      assert.deepEqual(lastBody("/api/star"), {
        session: PHONE,
        messageId: pollId,
        chatId: ALICE,
        star: true,
      });
      const block = await server.json("POST", `/${PHONE}/contact/block`, {
        body: { contactId: BOB },
      });
      assert.equal(block.status, 200, JSON.stringify(block.body));
      assert.deepEqual(lastBody("/api/contacts/block"), { session: PHONE, contactId: BOB });
      const archive = await server.json("POST", `/${PHONE}/chats/${BOB}/archive`);
      assert.equal(archive.status, 200, JSON.stringify(archive.body));
      assert.equal(fake.callsTo(`/api/${PHONE}/chats/${BOB}/archive`, "POST").length, 1);
      const removed = await server.json("DELETE", `/${PHONE}/chats/${BOB}`);
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.equal(fake.callsTo(`/api/${PHONE}/chats/${BOB}`, "DELETE").length, 1);
    });

    await t.step("a group's invite code, revoked, and leaving it", async () => {
      const group = "120363000000000001@g.us";
      const code = await server.json("GET", `/${PHONE}/groups/${group}/invite-code`);
      assert.equal(code.status, 200, JSON.stringify(code.body));
      assert.equal(JSON.stringify(code.body).includes("INVITE0"), true);
      const revoked = await server.json("POST", `/${PHONE}/groups/${group}/invite-code/revoke`);
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      assert.ok(!JSON.stringify(revoked.body).includes("INVITE0"));
      const left = await server.json("POST", `/${PHONE}/group/${group}/leave`);
      assert.equal(left.status, 200, JSON.stringify(left.body));
      assert.equal(fake.sessions.get(PHONE)?.groups.mine.has(group), false);
    });

    await t.step("what WAHA cannot do answers 501 naming the engine", async () => {
      const votes = await server.json("GET", `/${PHONE}/polls/true_${ALICE}_3EB0AAAA/votes`);
      assert.equal(votes.status, 501, JSON.stringify(votes.body));
      assert.match(String(votes.body.error), /waha engine/);
      const pinned = await server.json("POST", `/${PHONE}/chats/${ALICE}/pin`);
      assert.equal(pinned.status, 501, JSON.stringify(pinned.body));
      assert.match(String(pinned.body.error), /pinChat/);
    });

    await t.step("stop stops the WAHA session, keeping its login", async () => {
      assert.equal((await server.json("POST", `/${PHONE}/stop`)).status, 200);
      assert.equal(fake.callsTo(`/api/sessions/${PHONE}/stop`, "POST").length, 1);
      assert.equal(fake.sessions.get(PHONE)?.status, "STOPPED");
      assert.ok(fake.sessions.get(PHONE)?.me, "WAHA keeps the login");
    });
  } finally {
    await close();
  }
});

Deno.test("WAHA's session.status webhooks alone drive the session's status", async () => {
  // The engine asks WAHA once at start, then not for a minute: what follows comes from WAHA's posts.
  const { server, fake, close } = await startWahaGateway({ WAHA_POLL_MS: "60000" });
  const phone = "4915550022002";
  try {
    const started = await server.json("POST", `/${phone}/start`);
    assert.equal(started.status, 200, JSON.stringify(started.body));
    await waitFor(
      "WAHA to wait for a scan",
      () => fake.sessions.get(phone)?.status === "SCAN_QR_CODE",
    );
    await waitFor("the session to follow", async () => {
      const { body } = await server.json("GET", `/${phone}/state`);
      return body.status === "SCAN_QR_CODE";
    });
    // The start's look and the watch's first one; the next is a minute away.
    await waitFor(
      "the engine's first look",
      () => fake.callsTo(`/api/sessions/${phone}`, "GET").length >= 2,
    );
    const polls = fake.callsTo(`/api/sessions/${phone}`, "GET").length;
    await fake.scan(phone);
    const state = await waitForState(server, phone, "CONNECTED");
    assert.equal((state.me as { id: string }).id, `${phone}@c.us`);
    // No look since: the first one may still have asked once more, that the session still
    // waited for a scan before it reported the QR.
    assert.ok(fake.callsTo(`/api/sessions/${phone}`, "GET").length <= polls + 1, "no poll since");
    assert.equal((await server.json("POST", `/${phone}/stop`)).status, 200);
  } finally {
    await close();
  }
});
