/**
 * @module
 * Messages and chats on the waha engine through our HTTP API, against the fake WAHA: a message's
 * media is WAHA's message read with `downloadMedia`, its file downloaded from the configured WAHA
 * (its path only, with WAHA's key); pinning and unpinning are WAHA's pin calls; one chat's details
 * are WAHA's chats overview filtered to it; marking a chat unread is WAHA's unread call, in our
 * contract's shapes.
 */
import assert from "node:assert/strict";
import { PNG_DATA_URL } from "../routes/engine_inputs.ts";
import { WAHA_OWN_BASE_URL } from "./fake_waha/chats.ts";
import { linkWahaSession, startWahaGateway } from "./fake_waha/gateway.ts";

const PHONE = "4915550022501";
const ALICE = "15550000001@c.us";
const PNG = PNG_DATA_URL.split(",")[1];

Deno.test("messages and chats on the waha engine are WAHA's message and chat calls", async (t) => {
  const gateway = await startWahaGateway();
  const { server, fake } = gateway;
  const api = (suffix: string) => `/api/${PHONE}${suffix}`;
  try {
    await linkWahaSession(gateway, PHONE);
    const photo = await fake.incoming(PHONE, ALICE, "A photo", {
      mimetype: "image/png",
      filename: "photo.png",
      data: PNG,
    });
    const text = await fake.incoming(PHONE, ALICE, "Just text");

    await t.step("a message's media is WAHA's file, fetched from the configured WAHA", async () => {
      assert.ok(photo.media?.url?.startsWith(WAHA_OWN_BASE_URL), "WAHA writes its own address");
      const response = await server.request(
        "GET",
        `/${PHONE}/messages/${ALICE}/${photo.id}/media`,
      );
      const bytes = new Uint8Array(await response.arrayBuffer());
      assert.equal(response.status, 200, new TextDecoder().decode(bytes));
      assert.equal(response.headers.get("content-type")?.split(";")[0], "image/png");
      assert.deepEqual(bytes, Uint8Array.fromBase64(PNG));
      const read = fake.callsTo(api(`/chats/${ALICE}/messages/${photo.id}`), "GET");
      assert.deepEqual(read.at(-1)?.query, { downloadMedia: "true" });
      const file = fake.requests.filter((r) => r.path.startsWith("/api/files/"));
      assert.deepEqual(file.map((r) => r.path), [`/api/files/${PHONE}/${photo.id}.png`]);
      const none = await server.json("GET", `/${PHONE}/messages/${ALICE}/${text.id}/media`);
      assert.equal(none.status, 404, JSON.stringify(none.body));
    });

    await t.step("pin and unpin are WAHA's pin calls", async () => {
      const pinned = await server.json("POST", `/${PHONE}/messages/${text.id}/pin`, {
        body: { duration: 86_400 },
      });
      assert.equal(pinned.status, 200, JSON.stringify(pinned.body));
      const pinPath = api(`/chats/${ALICE}/messages/${text.id}/pin`);
      assert.deepEqual(fake.callsTo(pinPath, "POST").at(-1)?.body, { duration: 86_400 });
      assert.ok(fake.sessions.get(PHONE)?.marks.pins.has(text.id));
      const unpinned = await server.json("DELETE", `/${PHONE}/messages/${text.id}/pin`);
      assert.equal(unpinned.status, 200, JSON.stringify(unpinned.body));
      const unpin = fake.callsTo(api(`/chats/${ALICE}/messages/${text.id}/unpin`), "POST");
      assert.equal(unpin.length, 1);
      assert.equal(unpin[0].body, undefined);
      assert.equal(fake.sessions.get(PHONE)?.marks.pins.has(text.id), false);
    });

    await t.step("one chat is WAHA's overview filtered to it", async () => {
      const chat = await server.json("GET", `/${PHONE}/chat/${ALICE}`);
      assert.equal(chat.status, 200, JSON.stringify(chat.body));
      assert.deepEqual(fake.callsTo(api("/chats/overview"), "GET").at(-1)?.query, {
        ids: ALICE,
        limit: "1",
      });
      assert.deepEqual(chat.body, {
        id: ALICE,
        name: "Chat 15550000001",
        isGroup: false,
        unreadCount: 2,
        lastMessage: { body: "Just text", timestamp: text.timestamp },
        archived: false,
        pinned: false,
        muted: false,
        markedUnread: false,
        timestamp: text.timestamp,
        muteExpiration: 0,
      });
      const missing = await server.json("GET", `/${PHONE}/chat/15550000099@c.us`);
      assert.equal(missing.status, 404, JSON.stringify(missing.body));
    });

    await t.step("mark unread is WAHA's unread call, and seen undoes it", async () => {
      const marked = await server.json("POST", `/${PHONE}/chats/${ALICE}/unread`);
      assert.equal(marked.status, 200, JSON.stringify(marked.body));
      assert.equal(fake.callsTo(api(`/chats/${ALICE}/unread`), "POST").length, 1);
      const chat = await server.json("GET", `/${PHONE}/chat/${ALICE}`);
      assert.equal(chat.body.markedUnread, true);
      assert.equal(chat.body.unreadCount, 0);
      assert.equal(
        (await server.json("POST", `/${PHONE}/send-seen`, { body: { chatId: ALICE } })).status,
        200,
      );
      const seen = await server.json("GET", `/${PHONE}/chat/${ALICE}`);
      assert.equal(seen.body.markedUnread, false);
    });
  } finally {
    await gateway.close();
  }
});
