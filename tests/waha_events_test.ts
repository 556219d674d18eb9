/**
 * @module
 * WAHA's events beyond `message` and `session.status` on the waha engine, through our HTTP API
 * against the fake WAHA: the engine subscribes them, WAHA posts them (signed, with our key), and
 * each reaches our webhook receiver and the SSE stream exactly once, in WAHA's shape.
 */
import assert from "node:assert/strict";
import { waitFor } from "./_helpers.ts";
import { type SseMessage, sseReader } from "./_sse.ts";
import { HMAC_SECRET, linkWahaSession, startWahaGateway } from "./fake_waha/gateway.ts";
import { verifyHmac } from "../events/test_receivers.ts";

const PHONE = "4915550022101";
const ALICE = "15550000001@c.us";

Deno.test("a receipt WAHA posts (message.ack) reaches our webhook and stream once", async () => {
  const gateway = await startWahaGateway();
  const { server, fake, receiver } = gateway;
  try {
    await linkWahaSession(gateway, PHONE);
    const sent = await server.json("POST", `/${PHONE}/send-text`, {
      body: { chatId: ALICE, text: "Did you get this?" },
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const messageId = sent.body.messageId as string;

    const response = await server.request("GET", `/${PHONE}/events`);
    assert.equal(response.status, 200);
    const stream = sseReader(response);
    try {
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
    } finally {
      await stream.close();
    }
    // WAHA's posts were let in: our key and a valid HMAC.
    const posts = fake.webhooks.filter((w) => w.event === "message.ack");
    assert.equal(posts.length, 2);
    for (const post of posts) {
      assert.equal(post.status, 200, `${post.url} answered ${post.status}`);
      assert.ok(await verifyHmac(HMAC_SECRET, post.body, post.headers["X-Webhook-Hmac"]));
    }
  } finally {
    await gateway.close();
  }
});

Deno.test("WAHA's message.any, message.reaction and message.revoked reach us once each", async () => {
  const gateway = await startWahaGateway();
  const { server, fake, receiver } = gateway;
  const phone = "4915550022102";
  try {
    await linkWahaSession(gateway, phone);
    const response = await server.request("GET", `/${phone}/events`);
    assert.equal(response.status, 200);
    const stream = sseReader(response);
    try {
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
      const streamed = (match: (e: Event) => boolean) =>
        stream.messages.map((m) => JSON.parse(m.data) as Event).filter(match);
      const delivered = (match: (e: Event) => boolean) =>
        receiver.received.map((r) => r.json as unknown as Event).filter(match);

      for (const [name, match] of Object.entries(is)) {
        await stream.until((m) => match(JSON.parse(m.data)));
        await waitFor(`the receiver to get ${name}`, () => delivered(match).length > 0);
      }
      for (const [name, match] of Object.entries(is)) {
        assert.equal(streamed(match).length, 1, `${name} on the stream`);
        assert.equal(delivered(match).length, 1, `${name} at the webhook`);
      }

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
    } finally {
      await stream.close();
    }
    for (const post of fake.webhooks.filter((w) => w.event.startsWith("message"))) {
      assert.equal(post.status, 200, `${post.event} to ${post.url} answered ${post.status}`);
    }
  } finally {
    await gateway.close();
  }
});

Deno.test("a vote WAHA posts (poll.vote) reaches our webhook and stream once", async () => {
  const gateway = await startWahaGateway();
  const { server, fake, receiver } = gateway;
  const phone = "4915550022103";
  try {
    await linkWahaSession(gateway, phone);
    const poll = await server.json("POST", `/${phone}/send-poll`, {
      body: { chatId: ALICE, poll: { name: "Lunch?", options: ["Pizza", "Sushi"] } },
    });
    assert.equal(poll.status, 200, JSON.stringify(poll.body));
    const pollId = poll.body.messageId as string;
    const response = await server.request("GET", `/${phone}/events`);
    assert.equal(response.status, 200);
    const stream = sseReader(response);
    try {
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
    } finally {
      await stream.close();
    }
  } finally {
    await gateway.close();
  }
});
