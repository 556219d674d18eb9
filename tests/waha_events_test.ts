/**
 * @module
 * WAHA's events beyond `message` and `session.status` on the waha engine, through our HTTP API
 * against the fake WAHA: the engine subscribes them, WAHA posts them (signed, with our key), and
 * each reaches our webhook receiver and the SSE stream exactly once, in WAHA's shape (its group,
 * label, presence and call events and `message.edited` too); a malformed one is a 400 and reaches
 * no one.
 */
import assert from "node:assert/strict";
import { waitFor } from "./_helpers.ts";
import { type SseMessage, type SseReader, withEventStream } from "./_sse.ts";
import { HMAC_SECRET, withLinkedWaha } from "./fake_waha/gateway.ts";
import { type Receiver, signHmac, verifyHmac } from "../events/test_receivers.ts";

const PHONE = "4915550022101";
const ALICE = "15550000001@c.us";
const BOB = "15550000002@c.us";

/**
 * Waits until each of `is` (named matchers, in the order WAHA posted them) has come on the stream
 * and at the webhook, then checks each came once to both; returns the webhook's events that match.
 */
async function eachOnce<E>(
  stream: SseReader,
  receiver: Receiver,
  is: Record<string, (event: E) => boolean>,
): Promise<(match: (event: E) => boolean) => E[]> {
  const streamed = (match: (event: E) => boolean) =>
    stream.messages.map((m) => JSON.parse(m.data) as E).filter(match);
  const delivered = (match: (event: E) => boolean) =>
    receiver.received.map((r) => r.json as unknown as E).filter(match);
  for (const [name, match] of Object.entries(is)) {
    await stream.until((m) => match(JSON.parse(m.data)));
    await waitFor(`the receiver to get ${name}`, () => delivered(match).length > 0);
  }
  for (const [name, match] of Object.entries(is)) {
    assert.equal(streamed(match).length, 1, `${name} on the stream`);
    assert.equal(delivered(match).length, 1, `${name} at the webhook`);
  }
  return delivered;
}

Deno.test("a receipt WAHA posts (message.ack) reaches our webhook and stream once", async () => {
  await withLinkedWaha(PHONE, async (gateway) => {
    const { server, fake, receiver } = gateway;
    const sent = await server.json("POST", `/${PHONE}/send-text`, {
      body: { chatId: ALICE, text: "Did you get this?" },
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const messageId = sent.body.messageId as string;

    await withEventStream(server, PHONE, async (stream) => {
      await fake.ack(PHONE, messageId, 2);
      await fake.ack(PHONE, messageId, 3);
      const isAck = (ack: number) => (m: SseMessage) => {
        const event = JSON.parse(m.data);
        return event.event === "message.ack" && event.payload.id === messageId &&
          event.payload.ack === ack;
      };
      await stream.until(isAck(3));
      assert.equal(stream.messages.filter(isAck(2)).length, 1);
      assert.equal(stream.messages.filter(isAck(3)).length, 1);

      const receivedAck = (ack: number) =>
        receiver.received.filter((r) =>
          r.json.event === "message.ack" && r.json.payload.id === messageId &&
          r.json.payload.ack === ack
        );
      await waitFor("the receiver to get the read receipt", () => receivedAck(3).length > 0);
      assert.equal(receivedAck(2).length, 1);
      const [read] = receivedAck(3);
      assert.equal(read.json.session, PHONE);
      assert.deepEqual(read.json.payload, {
        id: messageId,
        from: `${PHONE}@c.us`,
        to: ALICE,
        participant: null,
        fromMe: true,
        ack: 3,
        ackName: "READ",
      });
    });
    // WAHA's posts were let in: our key and a valid HMAC.
    const posts = fake.webhooks.filter((w) => w.event === "message.ack");
    assert.equal(posts.length, 2);
    for (const post of posts) {
      assert.equal(post.status, 200, `${post.url} answered ${post.status}`);
      assert.ok(await verifyHmac(HMAC_SECRET, post.body, post.headers["X-Webhook-Hmac"]));
    }
  });
});

Deno.test("WAHA's message.any, message.reaction and message.revoked reach us once each", async () => {
  const phone = "4915550022102";
  await withLinkedWaha(phone, async (gateway) => {
    const { server, fake, receiver } = gateway;
    await withEventStream(server, phone, async (stream) => {
      const sent = await server.json("POST", `/${phone}/send-text`, {
        body: { chatId: ALICE, text: "Lunch at noon?" },
      });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      const sentId = sent.body.messageId as string;
      const incoming = await fake.incoming(phone, ALICE, "Sounds good");
      await fake.react(phone, ALICE, sentId, "👍");
      const removed = await server.json("DELETE", `/${phone}/messages/${sentId}`);
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      // A last receipt, posted after the others: a second copy of any of them would be there too.
      await fake.ack(phone, incoming.id, 3);

      type Message = { id: string; body: string; fromMe: boolean; from: string };
      type Event = {
        event: string;
        session: string;
        payload: Message & {
          before?: Message;
          after?: Message;
          reaction?: { text: string; messageId: string };
        };
      };
      const is = {
        ourAny: (e: Event) => e.event === "message.any" && e.payload.id === sentId,
        theirAny: (e: Event) => e.event === "message.any" && e.payload.id === incoming.id,
        theirMessage: (e: Event) => e.event === "message" && e.payload.id === incoming.id,
        reaction: (e: Event) =>
          e.event === "message.reaction" && e.payload.reaction?.messageId === sentId,
        revoked: (e: Event) => e.event === "message.revoked" && e.payload.before?.id === sentId,
        last: (e: Event) => e.event === "message.ack" && e.payload.id === incoming.id,
      };
      const delivered = await eachOnce(stream, receiver, is);

      const [ours] = delivered(is.ourAny);
      assert.equal(ours.session, phone);
      assert.equal(ours.payload.fromMe, true);
      assert.equal(ours.payload.body, "Lunch at noon?");
      assert.equal(delivered(is.theirAny)[0].payload.body, "Sounds good");
      const [reaction] = delivered(is.reaction);
      assert.equal(reaction.payload.from, ALICE);
      assert.equal(reaction.payload.fromMe, false);
      assert.deepEqual(reaction.payload.reaction, { text: "👍", messageId: sentId });
      const [revoked] = delivered(is.revoked);
      assert.equal(revoked.payload.before?.body, "Lunch at noon?");
      assert.equal(revoked.payload.after?.id, sentId);
      assert.equal(revoked.payload.after?.body, "");
    });
    for (const post of fake.webhooks.filter((w) => w.event.startsWith("message"))) {
      assert.equal(post.status, 200, `${post.event} to ${post.url} answered ${post.status}`);
    }
  });
});

Deno.test("a vote WAHA posts (poll.vote) reaches our webhook and stream once", async () => {
  const phone = "4915550022103";
  await withLinkedWaha(phone, async (gateway) => {
    const { server, fake, receiver } = gateway;
    const poll = await server.json("POST", `/${phone}/send-poll`, {
      body: { chatId: ALICE, poll: { name: "Lunch?", options: ["Pizza", "Sushi"] } },
    });
    assert.equal(poll.status, 200, JSON.stringify(poll.body));
    const pollId = poll.body.messageId as string;
    await withEventStream(server, phone, async (stream) => {
      await fake.vote(phone, ALICE, pollId, ["Sushi"]);
      await fake.vote(phone, ALICE, pollId, ["Pizza"]);
      type Vote = { event: string; payload: { vote: { selectedOptions: string[] } } };
      const isVote = (option: string) => (e: Vote) =>
        e.event === "poll.vote" && e.payload.vote.selectedOptions[0] === option;
      const streamed = (match: (e: Vote) => boolean) =>
        stream.messages.map((m) => JSON.parse(m.data) as Vote).filter(match);
      const delivered = (match: (e: Vote) => boolean) =>
        receiver.received.map((r) => r.json as unknown as Vote).filter(match);
      await stream.until((m) => isVote("Pizza")(JSON.parse(m.data)));
      await waitFor("the receiver to get the second vote", () => delivered(isVote("Pizza")).length);
      for (const option of ["Sushi", "Pizza"]) {
        assert.equal(streamed(isVote(option)).length, 1, `${option} on the stream`);
        assert.equal(delivered(isVote(option)).length, 1, `${option} at the webhook`);
      }
      const [sushi] = delivered(isVote("Sushi"));
      const { vote, poll: target } = sushi.payload as unknown as {
        vote: Record<string, unknown>;
        poll: Record<string, unknown>;
      };
      assert.equal(vote.from, ALICE);
      assert.equal(vote.fromMe, false);
      assert.deepEqual(target, { id: pollId, from: `${phone}@c.us`, to: ALICE, fromMe: true });
    });
  });
});

Deno.test("WAHA's group events (group.v2.*) reach our webhook and stream once each, as WAHA posted them", async () => {
  const phone = "4915550022104";
  const CAROL = "15550000003@c.us";
  await withLinkedWaha(phone, async (gateway) => {
    const { server, fake, receiver } = gateway;
    await withEventStream(server, phone, async (stream) => {
      const created = await server.json("POST", `/${phone}/group/create`, {
        body: { name: "Team", participants: [ALICE] },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const groupId = created.body.id as string;
      const added = await server.json("POST", `/${phone}/group/${groupId}/participants/add`, {
        body: { participants: [BOB] },
      });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      const renamed = await server.json("PUT", `/${phone}/group/${groupId}`, {
        body: { subject: "Team 2" },
      });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      // From elsewhere: a contact asks to join by the link.
      await fake.groupChange(phone, "group-request", { groupId, participant: CAROL });
      const left = await server.json("POST", `/${phone}/group/${groupId}/leave`);
      assert.equal(left.status, 200, JSON.stringify(left.body));

      type Event = {
        id: string;
        event: string;
        session: string;
        payload: Record<string, unknown> & { group: { id: string } };
      };
      const ofGroup = (name: string) => (e: Event) =>
        e.event === name && e.payload.group?.id === groupId;
      const is = {
        join: ofGroup("group.v2.join"),
        participants: (e: Event) =>
          ofGroup("group.v2.participants")(e) && e.payload.type === "join",
        ourLeaving: (e: Event) => ofGroup("group.v2.participants")(e) && e.payload.type === "leave",
        update: ofGroup("group.v2.update"),
        request: ofGroup("group.v2.participants.join-request"),
        leave: ofGroup("group.v2.leave"),
      };
      const delivered = await eachOnce(stream, receiver, is);
      // Each reaches the receiver as WAHA posted it.
      for (const match of Object.values(is)) {
        const [event] = delivered(match);
        const post = await waitFor(
          `WAHA's post of ${event.event} to be answered`,
          () => fake.webhooks.find((w) => JSON.parse(w.body).id === event.id),
        );
        assert.equal(post.status, 200, `${post.event} answered ${post.status}`);
        assert.deepEqual(event.payload, JSON.parse(post.body).payload);
        assert.equal(event.session, phone);
      }
      const [join] = delivered(is.join);
      assert.equal(join.payload.group.id, groupId);
      assert.deepEqual((join.payload.group as unknown as { participants: unknown }).participants, [
        { id: `${phone}@c.us`, pn: `${phone}@c.us`, role: "superadmin" },
        { id: ALICE, pn: ALICE, role: "participant" },
      ]);
      const [participants] = delivered(is.participants);
      assert.equal(participants.payload.type, "join");
      assert.deepEqual(participants.payload.participants, [{
        id: BOB,
        pn: BOB,
        role: "participant",
      }]);
      assert.equal(
        (delivered(is.update)[0].payload.group as { subject?: string }).subject,
        "Team 2",
      );
      // WAHA tells of our leaving twice: group.v2.leave, and group.v2.participants naming us.
      assert.deepEqual(delivered(is.ourLeaving)[0].payload.participants, [
        { id: `${phone}@c.us`, pn: `${phone}@c.us`, role: "left" },
      ]);
      const [request] = delivered(is.request);
      assert.equal(request.payload.action, "created");
      assert.equal(request.payload.requesterId, CAROL);
    });
  });
});

Deno.test("POST /webhook/message refuses a malformed group event with 400 and takes a well-formed one", async () => {
  const phone = "4915550022105";
  await withLinkedWaha(phone, async (gateway) => {
    const { server } = gateway;
    /** Posts `body` to our inbound endpoint as WAHA does: signed with the HMAC secret. */
    const post = async (body: unknown) => {
      const raw = JSON.stringify(body);
      const hex = await signHmac(HMAC_SECRET, raw);
      return await server.json("POST", "/webhook/message", {
        body: raw,
        headers: { "X-Webhook-Hmac": hex },
      });
    };
    const event = (payload: Record<string, unknown>) => ({
      id: `evt_${crypto.randomUUID().replaceAll("-", "")}`,
      timestamp: Date.now(),
      event: "group.v2.participants",
      session: phone,
      payload,
    });
    const good = {
      group: { id: "120363000000000001@g.us" },
      type: "leave",
      timestamp: 1666943582,
      participants: [{ id: ALICE, role: "left" }],
      _data: { type: "remove" },
    };
    const taken = await post(event(good));
    assert.equal(taken.status, 200, JSON.stringify(taken.body));
    for (
      const bad of [
        { ...good, type: "kicked" },
        { ...good, participants: [{ id: ALICE, role: "owner" }] },
        { ...good, group: {} },
        { type: "leave", timestamp: 1666943582, participants: [] },
      ]
    ) {
      const refused = await post(event(bad));
      assert.equal(refused.status, 400, JSON.stringify(bad));
      assert.match(String(refused.body.error), /payload/);
    }
    const join = {
      ...event({ timestamp: 1666943582, group: { id: "120363000000000001@g.us" } }),
      event: "group.v2.join",
    };
    const noInfo = await post(join);
    assert.equal(noInfo.status, 400, "a join without the group's subject and members");
  });
});

Deno.test("WAHA's label, presence and call events and message.edited reach our webhook and stream once each", async () => {
  const phone = "4915550022104";
  await withLinkedWaha(phone, async (gateway) => {
    const { server, fake, receiver } = gateway;
    await withEventStream(server, phone, async (stream) => {
      const social = fake.social(phone);
      // Through our API: a label made, put on Alice's chat; a message of ours edited; a call
      // rejected. On the phone and from contacts: the label deleted, Bob online, Bob's call
      // answered, Alice's call that we reject.
      const label = await server.json("POST", `/${phone}/labels`, {
        body: { name: "Lead", color: 3 },
      });
      assert.equal(label.status, 200, JSON.stringify(label.body));
      const tagged = await server.json("PUT", `/${phone}/labels/chats/${ALICE}`, {
        body: { labels: [{ id: "6" }] },
      });
      assert.equal(tagged.status, 200, JSON.stringify(tagged.body));
      const sent = await server.json("POST", `/${phone}/send-text`, {
        body: { chatId: ALICE, text: "See you at 5" },
      });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      const sentId = sent.body.messageId as string;
      const edited = await server.json("PUT", `/${phone}/messages/${sentId}`, {
        body: { text: "See you at 6" },
      });
      assert.equal(edited.status, 200, JSON.stringify(edited.body));
      await social.deleteLabel("6");
      await social.presence(BOB, "online");
      const answered = await social.call(BOB);
      await social.answer(answered);
      const rung = await social.call(ALICE, { isVideo: true });
      const rejected = await server.json("POST", `/${phone}/calls/reject`, {
        body: { from: ALICE, id: rung },
      });
      assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
      // A last event, posted after the others: a second copy of any of them would be there too.
      await social.presence(BOB, "offline");

      type Payload = Record<string, unknown> & { presences?: { lastKnownPresence: string }[] };
      type Event = { event: string; session: string; payload: Payload };
      const is = {
        upsert: (e: Event) => e.event === "label.upsert" && e.payload.id === "6",
        added: (e: Event) => e.event === "label.chat.added" && e.payload.chatId === ALICE,
        removed: (e: Event) => e.event === "label.chat.deleted" && e.payload.chatId === ALICE,
        deleted: (e: Event) => e.event === "label.deleted" && e.payload.id === "6",
        edited: (e: Event) => e.event === "message.edited" && e.payload.id === sentId,
        online: (e: Event) =>
          e.event === "presence.update" && e.payload.presences?.[0].lastKnownPresence === "online",
        received: (e: Event) => e.event === "call.received" && e.payload.id === answered,
        accepted: (e: Event) => e.event === "call.accepted" && e.payload.id === answered,
        ringing: (e: Event) => e.event === "call.received" && e.payload.id === rung,
        rejected: (e: Event) => e.event === "call.rejected" && e.payload.id === rung,
        last: (e: Event) =>
          e.event === "presence.update" && e.payload.presences?.[0].lastKnownPresence === "offline",
      };
      const delivered = await eachOnce(stream, receiver, is);

      const lead = { id: "6", name: "Lead", color: 3, colorHex: "#dfaef0" };
      assert.deepEqual(delivered(is.upsert)[0].payload, lead);
      assert.deepEqual(delivered(is.added)[0].payload, {
        labelId: "6",
        chatId: ALICE,
        label: lead,
      });
      assert.deepEqual(delivered(is.deleted)[0].payload, lead);
      const [edit] = delivered(is.edited);
      assert.equal(edit.session, phone);
      assert.deepEqual(
        [edit.payload.body, edit.payload.editedMessageId, edit.payload.fromMe],
        ["See you at 6", sentId.split("_")[2], true],
      );
      assert.deepEqual(delivered(is.online)[0].payload, {
        id: BOB,
        presences: [{ participant: BOB, lastKnownPresence: "online", lastSeen: null }],
      });
      const [call] = delivered(is.received);
      assert.deepEqual(
        [call.payload.from, call.payload.isVideo, call.payload.isGroup],
        [BOB, false, false],
      );
      assert.equal(delivered(is.accepted)[0].payload.from, BOB);
      assert.equal(delivered(is.ringing)[0].payload.isVideo, true);
      assert.equal(delivered(is.rejected)[0].payload.from, ALICE);
    });
    for (const post of fake.webhooks.filter((w) => !w.event.startsWith("session"))) {
      assert.equal(post.status, 200, `${post.event} to ${post.url} answered ${post.status}`);
    }
  });
});

Deno.test("a label, presence or call event WAHA posts malformed is a 400, and reaches no one", async () => {
  const phone = "4915550022105";
  await withLinkedWaha(phone, async (gateway) => {
    const { fake, receiver } = gateway;
    const malformed: [string, unknown][] = [
      ["label.upsert", { id: "6", color: 3, colorHex: "#dfaef0" }],
      ["label.chat.added", { labelId: "6" }],
      ["presence.update", {
        id: BOB,
        presences: [{ participant: BOB, lastKnownPresence: "away" }],
      }],
      ["call.received", { id: "ABC", from: BOB, timestamp: 1, isVideo: "yes", isGroup: false }],
      ["message.edited", { id: "true_x_1", body: "no sender" }],
    ];
    for (const [event, payload] of malformed) await fake.postEvent(phone, event, payload);
    const posted = fake.webhooks.filter((w) => malformed.some(([event]) => event === w.event));
    // A well-formed one after them, which arrives: any of them would have arrived before it.
    await fake.social(phone).presence(BOB, "online");
    await waitFor(
      "the receiver to get the presence",
      () => receiver.received.some((r) => r.json.event === "presence.update"),
    );
    for (const [event] of malformed) {
      assert.deepEqual(posted.filter((w) => w.event === event).map((w) => w.status), [400], event);
    }
    const arrived = receiver.received.map((r) => r.json.event as string);
    assert.deepEqual(arrived.filter((name) => malformed.some(([event]) => event === name)), [
      "presence.update",
    ]);
    assert.equal(fake.webhooks.at(-1)?.status, 200);
  });
});
