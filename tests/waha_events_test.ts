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
