/**
 * @module
 * HTTP suite for the messaging routes on each engine of `_engines.ts`: text and the five media
 * sends (data: URLs, bare base64 and one http URL from a local server), location, contact cards,
 * reactions, revoke, edit, seen, typing, number checks and media download, each with its
 * validation, not-found and not-connected answers. On the waha engine, what it cannot do answers
 * 501 (`NOT_IMPLEMENTED_ON`), and where WAHA answers otherwise (no 404 for chats it never saw)
 * is named in `GAPS` where an assertion is left out.
 */
import assert from "node:assert/strict";
import { oggOpusHead, startMediaServer, tinyPdf, tinyPng } from "../media/test_fixtures.ts";
import {
  answers,
  answersNotImplemented,
  ENGINES,
  keepsContract,
  notImplementedOn,
  startEngine,
} from "./_engines.ts";

const PHONE = "4915550002001";
const STOPPED = "4915550002002";
const ALICE = "15550000001@c.us";
const MAX_MEDIA = 8 * 1024;
const MEDIA = "GET /{phoneNumber}/messages/{chatId}/{messageId}/media";
const GET_CHAT = "GET /{phoneNumber}/chat/{chatId}";

const encodeBase64 = (bytes: Uint8Array) => bytes.toBase64();

interface Message {
  id: string;
  body: string;
  type: string;
  hasMedia: boolean;
  media: { mimetype: string; filename: string | null } | null;
  quotedMsgId: string | null;
  fromMe: boolean;
}

for (const engine of ENGINES) {
  Deno.test(`messaging routes on the ${engine} engine`, async (t) => {
    await using media = startMediaServer();
    const { server, waha, connect, incoming, incomingMany, notOnWhatsApp, close } =
      await startEngine(
        engine,
        {
          MEDIA_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
          MEDIA_MAX_BYTES: String(MAX_MEDIA),
        },
      );
    const send = (action: string, body: unknown, phone = PHONE) =>
      server.json(`POST`, `/${phone}/${action}`, { body });
    const messageIn = async (chatId: string, id: string): Promise<Message> => {
      const { body } = await server.json<{ messages: Message[] }>(
        "GET",
        `/${PHONE}/messages/${chatId}?limit=200`,
      );
      const found = body.messages.find((m) => m.id === id);
      assert.ok(found, `message ${id} is in ${chatId}`);
      return found;
    };
    const expectSent = (result: { status: number; body: Record<string, unknown> }) => {
      assert.equal(result.status, 200, JSON.stringify(result.body));
      assert.deepEqual(Object.keys(result.body).sort(), ["messageId", "timestamp"]);
      assert.equal(typeof result.body.messageId, "string");
      assert.ok(Number.isInteger(result.body.timestamp));
      return result.body.messageId as string;
    };

    try {
      await connect(PHONE);
      await connect(STOPPED);
      assert.equal((await server.json("POST", `/${STOPPED}/stop`)).status, 200);

      const png = tinyPng();
      const pngDataUrl = `data:image/png;base64,${encodeBase64(png)}`;
      let textId = "";

      await t.step("send-text sends a text, replying to a quoted message", async () => {
        textId = expectSent(await send("send-text", { chatId: "15550000001", text: "Hello" }));
        const reply = expectSent(
          await send("send-text", { chatId: ALICE, text: "Reply", quotedMsgId: textId }),
        );
        const stored = await messageIn(ALICE, reply);
        assert.equal(stored.body, "Reply");
        assert.equal(stored.quotedMsgId, textId);
        assert.equal(stored.fromMe, true);
      });

      await t.step("send-text rejects an empty text and a malformed chat id", async () => {
        const empty = await send("send-text", { chatId: ALICE, text: "" });
        assert.equal(empty.status, 400);
        assert.match(String(empty.body.error), /text/);
        const chat = await send("send-text", { chatId: "alice", text: "hi" });
        assert.equal(chat.status, 400);
        assert.match(String(chat.body.error), /chatId/);
      });

      // The fake WAHA writes to any chat, and its 404 names no message (GAPS: unknownChats).
      await t.step({
        name: "send-text answers 404 for an unknown quoted message or group",
        ignore: !keepsContract(engine, "unknownChats"),
        fn: async () => {
          const quoted = await send("send-text", { chatId: ALICE, text: "x", quotedMsgId: "nope" });
          assert.equal(quoted.status, 404);
          assert.match(String(quoted.body.error), /Message "nope" not found/);
          const group = await send("send-text", { chatId: "1203639999@g.us", text: "x" });
          assert.equal(group.status, 404);
          assert.match(String(group.body.error), /Chat "1203639999@g\.us" not found/);
        },
      });

      const mediaCases = [
        {
          action: "send-image",
          field: "imageUrl",
          value: pngDataUrl,
          type: "image",
          mimetype: "image/png",
          bytes: png,
          extra: { caption: "A pixel" },
        },
        {
          action: "send-file",
          field: "fileUrl",
          value: encodeBase64(tinyPdf()),
          type: "document",
          mimetype: "application/pdf",
          bytes: tinyPdf(),
          extra: { filename: "report.pdf", caption: "The report" },
        },
        {
          action: "send-video",
          field: "videoUrl",
          value: "data:video/mp4;base64,AAAAGGZ0eXBtcDQyAAAAAG1wNDJpc29t",
          type: "video",
          mimetype: "video/mp4",
          bytes: Uint8Array.fromBase64("AAAAGGZ0eXBtcDQyAAAAAG1wNDJpc29t"),
          extra: {},
        },
        {
          action: "send-voice",
          field: "audioUrl",
          value: `data:audio/ogg;base64,${encodeBase64(oggOpusHead())}`,
          type: "ptt",
          mimetype: "audio/ogg",
          bytes: oggOpusHead(),
          extra: {},
        },
        {
          action: "send-audio",
          field: "audioUrl",
          value: encodeBase64(oggOpusHead()),
          // WAHA sends an audio file as a file: a document (GAPS: audioAsDocument).
          type: keepsContract(engine, "audioAsDocument") ? "audio" : "document",
          mimetype: "audio/ogg",
          bytes: oggOpusHead(),
          extra: {},
        },
      ];

      for (const item of mediaCases) {
        await t.step(`${item.action} sends the media, which can be downloaded again`, async () => {
          const sent = await send(item.action, {
            chatId: ALICE,
            [item.field]: item.value,
            quotedMsgId: textId,
            ...item.extra,
          });
          const operation = `POST /{phoneNumber}/${item.action}`;
          if (notImplementedOn(engine, operation)) {
            return answersNotImplemented(engine, operation, sent);
          }
          const id = expectSent(sent);
          if (notImplementedOn(engine, MEDIA)) {
            const download = await server.json("GET", `/${PHONE}/messages/${ALICE}/${id}/media`);
            return answersNotImplemented(engine, MEDIA, download);
          }
          const stored = await messageIn(ALICE, id);
          assert.equal(stored.type, item.type);
          assert.equal(stored.hasMedia, true);
          assert.equal(stored.quotedMsgId, textId);
          assert.match(stored.media!.mimetype, new RegExp(`^${item.mimetype.split("/")[0]}/`));
          if ("caption" in item.extra) assert.equal(stored.body, item.extra.caption);
          if ("filename" in item.extra) assert.equal(stored.media!.filename, item.extra.filename);

          const download = await server.request("GET", `/${PHONE}/messages/${ALICE}/${id}/media`);
          assert.equal(download.status, 200);
          assert.equal(download.headers.get("content-type"), stored.media!.mimetype);
          assert.match(
            download.headers.get("content-disposition") ?? "",
            /^attachment; filename="/,
          );
          assert.deepEqual(new Uint8Array(await download.arrayBuffer()), item.bytes);
        });
      }

      await t.step("send-image fetches an http URL from an allowed local server", async () => {
        const id = expectSent(
          await send("send-image", { chatId: ALICE, imageUrl: `${media.origin}/image.png` }),
        );
        assert.ok(media.hits.includes("/image.png"));
        const stored = await messageIn(ALICE, id);
        assert.equal(stored.media?.mimetype, "image/png");
        assert.equal(stored.media?.filename, "image.png");
      });

      await t.step("the media sends reject missing, malformed and mistyped media", async () => {
        const missing = await send("send-image", { chatId: ALICE });
        assert.equal(missing.status, 400);
        assert.match(String(missing.body.error), /imageUrl/);
        const scheme = await send("send-file", { chatId: ALICE, fileUrl: "ftp://example.com/a" });
        assert.equal(scheme.status, 400);
        assert.match(String(scheme.body.error), /fileUrl.*ftp/);
        const notImage = await send("send-image", {
          chatId: ALICE,
          imageUrl: encodeBase64(tinyPdf()),
        });
        assert.equal(notImage.status, 400);
        assert.match(String(notImage.body.error), /expected an image/);
        const notAudio = await send("send-voice", { chatId: ALICE, audioUrl: pngDataUrl });
        assert.equal(notAudio.status, 400);
        assert.match(String(notAudio.body.error), /audioUrl/);
      });

      await t.step("the media sends answer 413 for media over MEDIA_MAX_BYTES", async () => {
        const big = encodeBase64(new Uint8Array(MAX_MEDIA + 1));
        const result = await send("send-file", { chatId: ALICE, fileUrl: big });
        assert.equal(result.status, 413);
        assert.equal(result.body.code, "PAYLOAD_TOO_LARGE");
        assert.match(String(result.body.error), /fileUrl/);
      });

      await t.step("a body over the body limit answers 413 with the error body", async () => {
        const result = await send("send-text", { chatId: ALICE, text: "x".repeat(1024 * 1024) });
        assert.equal(result.status, 413);
        assert.deepEqual(Object.keys(result.body).sort(), ["code", "error", "statusCode"]);
        assert.equal(result.body.code, "PAYLOAD_TOO_LARGE");
        assert.equal(result.body.statusCode, 413);
      });

      await t.step("GET …/media answers 404 for a message without media", async () => {
        const result = await server.json("GET", `/${PHONE}/messages/${ALICE}/${textId}/media`);
        answers(engine, MEDIA, result, () => {
          assert.equal(result.status, 404);
          assert.match(String(result.body.error), /Media of message/);
        });
      });

      await t.step("send-location sends a location, validating the coordinates", async () => {
        const id = expectSent(
          await send("send-location", {
            chatId: ALICE,
            latitude: 52.52,
            longitude: 13.405,
            name: "Alexanderplatz",
            address: "10178 Berlin",
          }),
        );
        const stored = await messageIn(ALICE, id);
        assert.equal(stored.type, "location");
        assert.match(stored.body, /Alexanderplatz/);
        const bad = await send("send-location", { chatId: ALICE, latitude: 91, longitude: 0 });
        assert.equal(bad.status, 400);
        assert.match(String(bad.body.error), /latitude/);
      });

      await t.step("send-contact builds a vCard from a name and number, or takes one", async () => {
        const built = expectSent(
          await send("send-contact", {
            chatId: ALICE,
            contact: { name: "Bob", phone: "+1 555 000 0002" },
          }),
        );
        const vcard = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carol\r\nEND:VCARD";
        const given = expectSent(await send("send-contact", { chatId: ALICE, vcard }));
        const stored = await messageIn(ALICE, built);
        assert.equal(stored.type, "vcard");
        assert.match(stored.body, /^BEGIN:VCARD\r\nVERSION:3\.0\r\nFN:Bob\r\n/);
        assert.match(stored.body, /waid=15550000002:\+15550000002/);
        assert.equal((await messageIn(ALICE, given)).body, vcard);
        const neither = await send("send-contact", { chatId: ALICE });
        assert.equal(neither.status, 400);
        assert.match(String(neither.body.error), /exactly one of contact and vcard/);
        // whatsapp-web.js only takes an upper-case BEGIN:VCARD as a card (else it sends text).
        const lower = await send("send-contact", { chatId: ALICE, vcard: vcard.toLowerCase() });
        assert.equal(lower.status, 400);
      });

      await t.step("send-reaction reacts and an empty emoji removes the reaction", async () => {
        const added = await send("send-reaction", { messageId: textId, emoji: "👍" });
        assert.equal(added.status, 200);
        assert.equal(added.body.success, true);
        const removed = await send("send-reaction", { messageId: textId, emoji: "" });
        assert.equal(removed.status, 200);
        assert.equal(removed.body.message, "Reaction removed");
        const missing = await send("send-reaction", { messageId: "nope", emoji: "👍" });
        if (keepsContract(engine, "unknownChats")) assert.equal(missing.status, 404);
        const invalid = await send("send-reaction", { messageId: textId });
        assert.equal(invalid.status, 400);
        assert.match(String(invalid.body.error), /emoji/);
      });

      await t.step("PUT /messages/:messageId edits the text of your message", async () => {
        const edited = await server.json("PUT", `/${PHONE}/messages/${textId}`, {
          body: { text: "Hello, edited" },
        });
        assert.equal(edited.status, 200);
        assert.equal(edited.body.messageId, textId);
        assert.equal((await messageIn(ALICE, textId)).body, "Hello, edited");
        const empty = await server.json("PUT", `/${PHONE}/messages/${textId}`, {
          body: { text: "" },
        });
        assert.equal(empty.status, 400);
        const missing = await server.json("PUT", `/${PHONE}/messages/nope`, {
          body: { text: "x" },
        });
        assert.equal(missing.status, 404);
        assert.match(String(missing.body.error), /Message "nope" not found/);
      });

      await t.step("DELETE /messages/:messageId revokes your message for everyone", async () => {
        const id = expectSent(await send("send-text", { chatId: ALICE, text: "Oops" }));
        const revoked = await server.json("DELETE", `/${PHONE}/messages/${id}`);
        assert.equal(revoked.status, 200);
        assert.equal(revoked.body.success, true);
        const missing = await server.json("DELETE", `/${PHONE}/messages/nope`);
        assert.equal(missing.status, 404);
        const stored = await messageIn(ALICE, id);
        assert.equal(stored.type, "revoked");
        assert.equal(stored.body, "");
        const theirs = await incoming(PHONE, ALICE, "Not yours to take back");
        const refused = await server.json("DELETE", `/${PHONE}/messages/${theirs}`);
        assert.equal(refused.status, 400);
        assert.equal((await messageIn(ALICE, theirs)).body, "Not yours to take back");
      });

      await t.step("send-seen marks a chat read", async () => {
        const chatId = "15550000077@c.us";
        await incomingMany(PHONE, chatId, 3);
        const unread = async (count: number) => {
          const chat = await server.json("GET", `/${PHONE}/chat/${chatId}`);
          answers(engine, GET_CHAT, chat, () => assert.equal(chat.body.unreadCount, count));
        };
        await unread(3);
        const seen = await send("send-seen", { chatId });
        assert.equal(seen.status, 200);
        await unread(0);
        assert.equal((await send("send-seen", {})).status, 400);
        if (!keepsContract(engine, "unknownChats")) return;
        const missing = await send("send-seen", { chatId: "15557777777" });
        assert.equal(missing.status, 404);
        assert.match(String(missing.body.error), /Chat "15557777777@c\.us" not found/);
      });

      await t.step("typing shows typing, recording or paused in a chat", async () => {
        for (const state of ["typing", "recording", "paused"]) {
          const result = await send("typing", { chatId: ALICE, state });
          const operation = `POST /{phoneNumber}/typing (${state})`;
          answers(engine, operation, result, () => assert.equal(result.status, 200, state));
          // WAHA records through its presence call, in the chat.
          if (waha && state === "recording") {
            assert.deepEqual(waha.fake.sessions.get(PHONE)?.social.presence, {
              presence: "recording",
              chatId: ALICE,
            });
          }
        }
        const bad = await send("typing", { chatId: ALICE, state: "dancing" });
        assert.equal(bad.status, 400);
        assert.match(String(bad.body.error), /state/);
        const missing = await send("typing", { chatId: "1203639999@g.us", state: "typing" });
        if (keepsContract(engine, "unknownChats")) assert.equal(missing.status, 404);
      });

      await t.step("check-number tells whether a number is on WhatsApp", async () => {
        const yes = await server.json("GET", `/${PHONE}/check-number/+15550000001`);
        assert.deepEqual(yes, { status: 200, body: { exists: true, chatId: "15550000001@c.us" } });
        const no = await server.json("GET", `/${PHONE}/check-number/${notOnWhatsApp}`);
        assert.deepEqual(no, { status: 200, body: { exists: false } });
        const bad = await server.json("GET", `/${PHONE}/check-number/call-me`);
        assert.equal(bad.status, 400);
        assert.match(String(bad.body.error), /phone/);
      });

      await t.step(
        "the messaging routes answer 409 when stopped and 404 without a session",
        async () => {
          const bodies: [string, Record<string, unknown>][] = [
            ["send-text", { chatId: ALICE, text: "hi" }],
            ["send-image", { chatId: ALICE, imageUrl: pngDataUrl }],
            ["send-location", { chatId: ALICE, latitude: 0, longitude: 0 }],
            ["send-reaction", { messageId: textId, emoji: "👍" }],
          ];
          for (const [action, body] of bodies) {
            const stopped = await send(action, body, STOPPED);
            assert.equal(stopped.status, 409, action);
            assert.equal(stopped.body.code, "CLIENT_NOT_READY");
            const none = await send(action, body, "4915550009999");
            assert.equal(none.status, 404, action);
            assert.match(String(none.body.error), /Session "4915550009999" not found/);
          }
        },
      );
    } finally {
      await close();
    }
  });
}
