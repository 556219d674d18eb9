/**
 * @module
 * Link previews through our HTTP API and the real whatsapp-web.js against the fake WhatsApp Web,
 * whose linkifier finds links and whose preview action asks WhatsApp (the fake cloud) for the
 * site's card: `send-text` with a link sends its card by default, `linkPreview: false` sends
 * none and asks for none, and a site that does not answer in time costs the message its card,
 * not its delivery.
 */
import assert from "node:assert/strict";
import type { FakeCloudOptions } from "./fake_whatsapp/fake_cloud.ts";
import { withLinkedServer } from "./fake_whatsapp/http_harness.ts";
import { ALICE, ME } from "./fake_whatsapp/cast.ts";

const ARTICLE = "https://news.example/today";
const SLOW = "https://slow.example/page";

const world: FakeCloudOptions = {
  me: ME,
  chats: [{ id: ALICE, name: "Alice" }],
  contacts: [{ id: ALICE, name: "Alice", isMyContact: true }],
  linkPreviews: {
    [ARTICLE]: { title: "Today's news", description: "What happened today" },
    [SLOW]: { title: "Slow", description: "Worth the wait?" },
  },
};

Deno.test("send-text with a link sends the site's preview card by default, and none with linkPreview false", () =>
  withLinkedServer(world, async ({ server, cloud, phone }) => {
    const send = async (body: Record<string, unknown>) => {
      const sent = await server.json("POST", `/${phone}/send-text`, {
        body: { chatId: ALICE, ...body },
      });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      return await cloud.waitFor(() => cloud.sent.find((s) => s.id === sent.body.messageId));
    };
    const card = await send({ text: `read this: ${ARTICLE}` });
    assert.deepEqual(card.linkPreview, {
      url: ARTICLE,
      title: "Today's news",
      description: "What happened today",
    });
    assert.deepEqual(card.stanza, { type: "text", mediatype: null });
    assert.deepEqual(cloud.previewRequests, [ARTICLE]);

    const plain = await send({ text: `no card for ${ARTICLE}`, linkPreview: false });
    assert.equal(plain.linkPreview, null);
    assert.equal(plain.body, `no card for ${ARTICLE}`);
    const linkless = await send({ text: "no link at all" });
    assert.equal(linkless.linkPreview, null);
    assert.deepEqual(cloud.previewRequests, [ARTICLE], "nothing more was fetched");
  }));

Deno.test("a site whose card does not come in time costs the message its card, not its delivery", () =>
  withLinkedServer({ ...world, linkPreviewDelayMs: 60_000 }, async ({ server, cloud, phone }) => {
    const sent = await server.json("POST", `/${phone}/send-text`, {
      body: { chatId: ALICE, text: `have a look: ${SLOW}` },
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const record = await cloud.waitFor(() => cloud.sent.find((s) => s.id === sent.body.messageId));
    assert.equal(record.linkPreview, null);
    assert.deepEqual(cloud.previewRequests, [SLOW], "the card was asked for");
    // The session answers at once afterwards: nothing is still waiting for the site.
    const next = await server.json("POST", `/${phone}/send-text`, {
      body: { chatId: ALICE, text: "and then", linkPreview: false },
    });
    assert.equal(next.status, 200);
  }));
