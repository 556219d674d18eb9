/**
 * @module
 * Media as WhatsApp serves it, through our HTTP API and the real whatsapp-web.js against the fake
 * WhatsApp Web: media the page has not fetched yet (`mediaStage` not resolved) and media the CDN
 * expired, which whatsapp-web.js has the phone upload again (Message.js's own re-request path,
 * once, however many ask at a time), media gone for good; voice notes as OGG/Opus both ways;
 * media just sent served from the page's memory; large media over the DevTools connection both
 * ways; and messages written on the account's own phone, whose ids are the phone's kind (`3A…`),
 * not WhatsApp Web's `3EB0…`.
 */
import assert from "node:assert/strict";
import type { FakeCloudOptions } from "./fake_whatsapp/fake_cloud.ts";
import { withLinkedServer } from "./fake_whatsapp/http_harness.ts";
import { ALICE, ME, PIXEL_PNG } from "./fake_whatsapp/cast.ts";

const world: FakeCloudOptions = {
  me: ME,
  pushName: "Media",
  chats: [{ id: ALICE, name: "Alice" }],
  contacts: [{ id: ALICE, name: "Alice", isMyContact: true }],
};

type Json = Record<string, unknown>;
const payloadOf = (e: Json) => e.payload as Json;

// Native base64: the test shares its thread with the server's supervisor (see fake_cloud.ts).
function bytesOf(b64: string): Uint8Array<ArrayBuffer> {
  return (Uint8Array as unknown as { fromBase64(s: string): Uint8Array<ArrayBuffer> })
    .fromBase64(b64);
}

function base64Of(bytes: Uint8Array): string {
  return (bytes as Uint8Array & { toBase64(): string }).toBase64();
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return base64Of(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

/**
 * An Ogg page holding an Opus identification header ("OpusHead"), as a voice note starts (its
 * CRC is not checked by anyone here).
 */
function oggOpus(): Uint8Array {
  const head = new Uint8Array([
    ...new TextEncoder().encode("OpusHead"),
    1, // version
    1, // channels
    0x38,
    0x01, // pre-skip
    0x80,
    0xbb,
    0,
    0, // 48000 Hz
    0,
    0, // gain
    0, // mapping family
  ]);
  const page = new Uint8Array(27 + 1 + head.length);
  page.set(new TextEncoder().encode("OggS"), 0);
  page[5] = 0x02; // beginning of stream
  page[26] = 1; // one segment
  page[27] = head.length;
  page.set(head, 28);
  return page;
}

Deno.test("media WhatsApp Web has not fetched is resolved on request; expired media is re-uploaded by the phone once, however many ask; media gone for good is 404", () =>
  withLinkedServer(world, async ({ server, cloud, receiver, phone }) => {
    const png = bytesOf(PIXEL_PNG);
    const deliver = async () => {
      const id = cloud.deliverIncoming({
        from: ALICE,
        media: { mimetype: "image/png", data: png, filename: "p.png" },
      });
      await receiver.waitFor((e) => payloadOf(e).id === id, "the picture's event");
      return id;
    };
    const get = (id: string) => server.request("GET", `/${phone}/messages/${ALICE}/${id}/media`);

    const fresh = await deliver();
    const first = await get(fresh);
    assert.equal(first.status, 200);
    assert.deepEqual(new Uint8Array(await first.arrayBuffer()), png);
    assert.equal(cloud.mediaDownloads.length, 1);

    const expired = await deliver();
    cloud.expireMedia(expired);
    cloud.reuploadDelayMs = 1_500;
    const both = await Promise.all([get(expired), get(expired)]);
    for (const response of both) {
      assert.equal(response.status, 200);
      assert.deepEqual(new Uint8Array(await response.arrayBuffer()), png);
    }
    assert.deepEqual(cloud.mediaRetries, [expired], "the phone was asked once");

    const gone = await deliver();
    cloud.expireMedia(gone, { phoneHasIt: false });
    const missing = await server.json("GET", `/${phone}/messages/${ALICE}/${gone}/media`);
    assert.deepEqual([missing.status, missing.body.error], [
      404,
      `Media of message "${gone}" not found`,
    ]);
  }));

Deno.test("voice notes are OGG/Opus both ways: an incoming one is served as audio/ogg; codecs=opus, and send-voice sends a ptt", () =>
  withLinkedServer(world, async ({ server, cloud, receiver, phone }) => {
    const ogg = oggOpus();
    const id = cloud.deliverIncoming({
      from: ALICE,
      type: "ptt",
      media: { mimetype: "audio/ogg; codecs=opus", data: ogg },
    });
    const heard = payloadOf(await receiver.waitFor((e) => payloadOf(e).id === id, "the note"));
    assert.deepEqual(
      [heard.hasMedia, (heard.media as Json).mimetype, (heard._data as Json).type],
      [true, "audio/ogg; codecs=opus", "ptt"],
    );
    const media = await server.request("GET", `/${phone}/messages/${ALICE}/${id}/media`);
    assert.equal(media.status, 200);
    assert.equal(media.headers.get("content-type"), "audio/ogg; codecs=opus");
    assert.deepEqual(new Uint8Array(await media.arrayBuffer()), ogg);

    const sent = await server.json("POST", `/${phone}/send-voice`, {
      body: { chatId: ALICE, audioUrl: `data:audio/ogg;base64,${base64Of(ogg)}` },
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const record = await cloud.waitFor(() => cloud.sent.find((s) => s.id === sent.body.messageId));
    assert.deepEqual([record.type, record.isPtt], ["ptt", true]);
    assert.match(record.media!.mimetype, /^audio\/ogg/);
    assert.equal(record.media!.data, base64Of(ogg));
  }));

Deno.test("media just sent is served from the page's memory, not fetched back from WhatsApp", () =>
  withLinkedServer(world, async ({ server, cloud, phone }) => {
    const sent = await server.json("POST", `/${phone}/send-image`, {
      body: { chatId: ALICE, imageUrl: `data:image/png;base64,${PIXEL_PNG}` },
    });
    assert.equal(sent.status, 200);
    await cloud.waitFor(() => cloud.sent.find((s) => s.id === sent.body.messageId));
    const media = await server.request(
      "GET",
      `/${phone}/messages/${ALICE}/${sent.body.messageId}/media`,
    );
    assert.equal(media.status, 200);
    assert.deepEqual(new Uint8Array(await media.arrayBuffer()), bytesOf(PIXEL_PNG));
    assert.deepEqual(cloud.mediaDownloads, [], "nothing downloaded from the CDN");
  }));

Deno.test("large media crosses the DevTools connection both ways intact", () =>
  withLinkedServer(world, async ({ server, cloud, receiver, phone }) => {
    const size = 8 * 1024 * 1024;
    const big = new Uint8Array(size);
    for (let i = 0; i < size; i += 65_536) crypto.getRandomValues(big.subarray(i, i + 65_536));
    const digest = await sha256(big);

    const sent = await server.json("POST", `/${phone}/send-file`, {
      body: {
        chatId: ALICE,
        fileUrl: `data:application/octet-stream;base64,${base64Of(big)}`,
        filename: "big.bin",
      },
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const record = await cloud.waitFor(
      () => cloud.sent.find((s) => s.id === sent.body.messageId),
      30_000,
    );
    assert.equal(await sha256(bytesOf(record.media!.data)), digest, "sent intact");

    const id = cloud.deliverIncoming({
      from: ALICE,
      type: "document",
      media: { mimetype: "application/octet-stream", data: big, filename: "big.bin" },
    });
    await receiver.waitFor((e) => payloadOf(e).id === id, "the big file's event");
    const media = await server.request("GET", `/${phone}/messages/${ALICE}/${id}/media`);
    assert.equal(media.status, 200);
    const got = new Uint8Array(await media.arrayBuffer());
    assert.equal(got.length, size);
    assert.equal(await sha256(got), digest, "received intact");
  }, {
    // The supervisor's heartbeat check runs on this test's thread, beside the fake cloud taking
    // in 8 MiB: a stall of that thread under a loaded machine would read as the Worker's. What is
    // tested here is the Worker's side (it is never held long: interception.ts, media_transfer.ts).
    env: { HEARTBEAT_TIMEOUT_MS: "3000" },
  }));

Deno.test("a message written on the account's own phone has the phone's id and is the app's, and can be quoted, edited and revoked", () =>
  withLinkedServer(world, async ({ server, cloud, receiver, phone }) => {
    const id = cloud.writeOnPhone({ chatId: ALICE, body: "from my phone" });
    assert.match(id, new RegExp(`^true_${ALICE}_3A[0-9A-F]{18}$`));
    const seen = payloadOf(
      await receiver.waitFor(
        (e) => e.event === "message.any" && payloadOf(e).id === id,
        "the phone's message",
      ),
    );
    assert.deepEqual([seen.fromMe, seen.source, seen.body], [true, "app", "from my phone"]);
    assert.ok(
      !receiver.received.some((e) => e.event === "message" && payloadOf(e).id === id),
      "our own message is not a received one",
    );
    const reply = await server.json("POST", `/${phone}/send-text`, {
      body: { chatId: ALICE, text: "and from the API", quotedMsgId: id },
    });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const quoting = await cloud.waitFor(() =>
      cloud.sent.find((s) => s.id === reply.body.messageId)
    );
    assert.equal(quoting.quotedMsgId, id);
    const edited = await server.json("PUT", `/${phone}/messages/${id}`, {
      body: { text: "from my phone, edited" },
    });
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
    const deleted = await server.json("DELETE", `/${phone}/messages/${id}`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.deepEqual(cloud.actions.filter((a) => a.action === "revoke"), [{
      action: "revoke",
      id,
    }]);
  }));
