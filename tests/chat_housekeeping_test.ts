/**
 * @module
 * HTTP suite for chat and message housekeeping on each engine of `_engines.ts`: archive, mute,
 * mark unread, pin, clear and delete a chat; forward, star and pin a message; and the WAHA events
 * a revoke and an edit send (`message.revoked`, `message.edited`), as a webhook receiver gets
 * them. Every change is read back through `GET /chats`, `GET /chat/{id}` and a chat's messages
 * where the engine's other side keeps it; what the waha engine cannot do answers its 501, and
 * where WAHA, the fake WAHA or the waha engine answer otherwise is named in `GAPS` where an
 * assertion is left out.
 */
import assert from "node:assert/strict";
import {
  answersNotImplemented,
  ENGINES,
  keepsContract,
  notImplementedOn,
  startEngine,
} from "./_engines.ts";
import { startReceiver } from "./fake_whatsapp/http_harness.ts";

const PHONE = "4915550002101";
const ALICE = "15550000001@c.us";
const BOB = "15550000002@c.us";
const CAROL = "15550000003@c.us";
const ECHO = "15550000000@c.us";
const GROUP = "120363000000000001@g.us";
const NOT_ON_WHATSAPP = "15559999999@c.us";

interface Chat {
  id: string;
  unreadCount: number;
  archived: boolean;
  pinned: boolean;
  muted: boolean;
  markedUnread: boolean;
  muteExpiration?: number;
}

interface Message {
  id: string;
  body: string;
  type: string;
  fromMe: boolean;
  starred?: boolean;
  pinnedUntil?: number;
}

for (const engine of ENGINES) {
  Deno.test(`chat and message housekeeping on the ${engine} engine`, async (t) => {
    const receiver = startReceiver();
    const { server, connect, incoming, close } = await startEngine(engine, {
      WEBHOOK_URL: receiver.url,
    });
    /** Whether the engine cannot do `operation`, having asserted its 501 answer if so. */
    const lacks = (operation: string, answer: { status: number; body: unknown }) => {
      if (!notImplementedOn(engine, operation)) return false;
      answersNotImplemented(engine, operation, answer);
      return true;
    };
    /** The fake WAHA keeps no archive mark, nor reads the engine stars and pins (GAPS: chatState). */
    const readsBack = keepsContract(engine, "chatState");
    const post = (path: string, body: unknown = undefined) =>
      server.json("POST", `/${PHONE}/${path}`, body === undefined ? {} : { body });
    const chat = async (id: string) =>
      (await server.json<Chat>("GET", `/${PHONE}/chat/${id}`)).body;
    const listed = async (id: string) => {
      const { body } = await server.json<{ chats: Chat[] }>("GET", `/${PHONE}/chats?limit=100`);
      return body.chats.find((c) => c.id === id);
    };
    const messages = async (chatId: string) =>
      (await server.json<{ messages: Message[] }>("GET", `/${PHONE}/messages/${chatId}?limit=200`))
        .body.messages;
    const sendText = async (chatId: string, text: string) => {
      const sent = await post("send-text", { chatId, text });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      return String(sent.body.messageId);
    };

    try {
      await connect(PHONE);
      // Alice's chat is there on each engine (the simulator has it from the start).
      await incoming(PHONE, ALICE, "Are you there?");

      await t.step(
        "archive and unarchive move a chat in and out of the archived list",
        async () => {
          const archived = await post(`chats/${ALICE}/archive`);
          assert.deepEqual(archived, {
            status: 200,
            body: { success: true, message: `Chat "${ALICE}" archived` },
          });
          if (!readsBack) {
            assert.equal((await post(`chats/${ALICE}/unarchive`)).status, 200);
            return;
          }
          assert.equal((await chat(ALICE)).archived, true);
          assert.equal((await listed(ALICE))?.archived, true);
          const { body } = await server.json<{ chats: Chat[] }>(
            "GET",
            `/${PHONE}/chats?archived=true`,
          );
          assert.deepEqual(body.chats.map((c) => c.id).sort(), [ALICE, BOB]);
          assert.equal((await post(`chats/${ALICE}/unarchive`)).status, 200);
          assert.equal((await chat(ALICE)).archived, false);
        },
      );

      await t.step(
        "mute takes a duration in seconds or mutes for good; unmute ends it",
        async () => {
          const tooShort = await post(`chats/${ALICE}/mute`, { duration: 5 });
          assert.equal(tooShort.status, 400);
          assert.match(String(tooShort.body.error), /duration/);
          const before = Math.floor(Date.now() / 1000);
          const mute = await post(`chats/${ALICE}/mute`, { duration: 28_800 });
          if (lacks("POST /{phoneNumber}/chats/{chatId}/mute", mute)) {
            const unmute = await post(`chats/${ALICE}/unmute`);
            return answersNotImplemented(
              engine,
              "POST /{phoneNumber}/chats/{chatId}/unmute",
              unmute,
            );
          }
          assert.equal(mute.status, 200);
          const muted = await chat(ALICE);
          assert.equal(muted.muted, true);
          assert.ok(
            muted.muteExpiration! >= before + 28_800 && muted.muteExpiration! < before + 28_900,
          );
          assert.equal((await listed(ALICE))?.muted, true);
          const forGood = await post(`chats/${ALICE}/mute`, {});
          assert.equal(forGood.body.message, `Chat "${ALICE}" muted for good`);
          assert.equal((await chat(ALICE)).muteExpiration, -1);
          assert.equal((await post(`chats/${ALICE}/unmute`)).status, 200);
          assert.deepEqual([(await chat(ALICE)).muted, (await chat(ALICE)).muteExpiration], [
            false,
            0,
          ]);
        },
      );

      await t.step(
        "unread marks a chat unread by hand, and read (or send-seen) clears it",
        async () => {
          const unread = await post(`chats/${ALICE}/unread`);
          if (lacks("POST /{phoneNumber}/chats/{chatId}/unread", unread)) return;
          assert.equal(unread.status, 200);
          assert.equal((await listed(ALICE))?.markedUnread, true);
          assert.equal((await post(`chats/${ALICE}/read`)).status, 200);
          assert.equal((await chat(ALICE)).markedUnread, false);
          await post(`chats/${ALICE}/unread`);
          assert.equal((await post("send-seen", { chatId: ALICE })).status, 200);
          assert.equal((await chat(ALICE)).markedUnread, false);
        },
      );

      await t.step("pin keeps at most three chats on top; unpin frees a place", async () => {
        const unpin = await post(`chats/${BOB}/unpin`);
        if (lacks("POST /{phoneNumber}/chats/{chatId}/unpin", unpin)) {
          const pin = await post(`chats/${ALICE}/pin`);
          return answersNotImplemented(engine, "POST /{phoneNumber}/chats/{chatId}/pin", pin);
        }
        for (const id of [ALICE, BOB, ECHO]) {
          assert.equal((await post(`chats/${id}/pin`)).status, 200);
          assert.equal((await chat(id)).pinned, true);
        }
        const fourth = await post(`chats/${GROUP}/pin`);
        assert.equal(fourth.status, 400);
        assert.match(String(fourth.body.error), /At most 3 chats can be pinned/);
        assert.equal((await post(`chats/${BOB}/unpin`)).status, 200);
        assert.equal((await chat(BOB)).pinned, false);
        assert.equal((await post(`chats/${GROUP}/pin`)).status, 200);
        assert.equal((await listed(GROUP))?.pinned, true);
      });

      await t.step("a chat action on a chat that does not exist is 404", async () => {
        for (const action of ["archive", "mute", "unread", "pin"]) {
          const missing = await post(
            `chats/4915550009999/${action}`,
            action === "mute" ? {} : undefined,
          );
          if (lacks(`POST /{phoneNumber}/chats/{chatId}/${action}`, missing)) continue;
          // WAHA archives any chat (GAPS: unknownChats).
          if (!keepsContract(engine, "unknownChats")) continue;
          assert.equal(missing.status, 404, action);
          assert.equal(missing.body.code, "NOT_FOUND");
        }
      });

      await t.step("forward sends a copy to another chat, with its message.any", async () => {
        const original = await sendText(ALICE, "worth passing on");
        const forwarded = await post(`messages/${original}/forward`, { chatId: "+1 555 000 0003" });
        assert.deepEqual(forwarded.body, {
          success: true,
          message: `Message forwarded to "${CAROL}"`,
        });
        const [copy] = await messages(CAROL);
        assert.deepEqual([copy.body, copy.fromMe], ["worth passing on", true]);
        const unknown = await post(`messages/true_${ALICE}_3EB0NOPE/forward`, { chatId: CAROL });
        assert.equal(unknown.status, 404);
        const bad = await post(`messages/${original}/forward`, { chatId: "carol" });
        assert.equal(bad.status, 400);
        // WAHA forwards to anyone (GAPS: unknownChats).
        if (keepsContract(engine, "unknownChats")) {
          const nobody = await post(`messages/${original}/forward`, { chatId: NOT_ON_WHATSAPP });
          assert.equal(nobody.status, 404);
        }
        const any = await receiver.waitFor(
          (e) => e.event === "message.any" && (e.payload as { id: string }).id === copy.id,
          "the forwarded copy's message.any",
        );
        // WAHA's messages name no source (GAPS: messageSource).
        if (keepsContract(engine, "messageSource")) {
          assert.equal((any.payload as { source: string }).source, "api");
        }
      });

      await t.step("star and unstar show on the message", async () => {
        const id = await sendText(ALICE, "remember this");
        const starred = await server.json("PUT", `/${PHONE}/messages/${id}/star`);
        assert.deepEqual(starred.body, { success: true, message: `Message "${id}" starred` });
        const missing = await server.json("PUT", `/${PHONE}/messages/true_${ALICE}_3EB0NOPE/star`);
        assert.equal(missing.status, 404);
        if (readsBack) {
          assert.equal((await messages(ALICE)).find((m) => m.id === id)?.starred, true);
        }
        assert.equal((await server.json("DELETE", `/${PHONE}/messages/${id}/star`)).status, 200);
        if (readsBack) {
          assert.equal((await messages(ALICE)).find((m) => m.id === id)?.starred, undefined);
        }
      });

      await t.step("pin takes WhatsApp's durations only, and unpin ends it", async () => {
        const id = await sendText(ALICE, "pin me");
        const odd = await post(`messages/${id}/pin`, { duration: 3_600 });
        assert.equal(odd.status, 400);
        assert.match(String(odd.body.error), /duration/);
        const before = Math.floor(Date.now() / 1000);
        const pin = await post(`messages/${id}/pin`, { duration: 86_400 });
        if (lacks("POST /{phoneNumber}/messages/{messageId}/pin", pin)) {
          const unpin = await server.json("DELETE", `/${PHONE}/messages/${id}/pin`);
          return answersNotImplemented(
            engine,
            "DELETE /{phoneNumber}/messages/{messageId}/pin",
            unpin,
          );
        }
        assert.equal(pin.status, 200);
        if (readsBack) {
          const pinned = (await messages(ALICE)).find((m) => m.id === id)!;
          assert.ok(
            pinned.pinnedUntil! >= before + 86_400 && pinned.pinnedUntil! < before + 86_500,
          );
        }
        assert.equal((await server.json("DELETE", `/${PHONE}/messages/${id}/pin`)).status, 200);
        if (readsBack) {
          assert.equal((await messages(ALICE)).find((m) => m.id === id)?.pinnedUntil, undefined);
        }
      });

      await t.step({
        name: "an edit sends message.edited and a revoke message.revoked, in WAHA's shape",
        fn: async () => {
          const id = await sendText(ALICE, "first words");
          const bare = id.split("_")[2];
          assert.equal(
            (await server.json("PUT", `/${PHONE}/messages/${id}`, {
              body: { text: "better words" },
            }))
              .status,
            200,
          );
          const edited = await receiver.waitFor(
            (e) => e.event === "message.edited",
            "message.edited",
          );
          const editPayload = edited.payload as Record<string, unknown>;
          assert.deepEqual(
            [editPayload.id, editPayload.body, editPayload.editedMessageId, editPayload.fromMe],
            [id, "better words", bare, true],
          );
          assert.equal(edited.session, PHONE);
          assert.equal((await server.json("DELETE", `/${PHONE}/messages/${id}`)).status, 200);
          const revoked = await receiver.waitFor((e) => e.event === "message.revoked", "revoked");
          const payload = revoked.payload as {
            after: Record<string, unknown>;
            before: Record<string, unknown>;
            revokedMessageId: string;
          };
          assert.equal(payload.revokedMessageId, bare);
          assert.deepEqual([payload.after.id, payload.after.body], [id, ""]);
          assert.equal((payload.after._data as { type: string }).type, "revoked");
          assert.deepEqual([payload.before.id, payload.before.body], [id, "better words"]);
        },
      });

      await t.step("clear empties a chat and keeps it; delete removes it", async () => {
        const cleared = await server.json("DELETE", `/${PHONE}/chats/${ALICE}/messages`);
        assert.deepEqual(cleared.body, { success: true, message: `Chat "${ALICE}" cleared` });
        assert.deepEqual(await messages(ALICE), []);
        const kept = await server.json("GET", `/${PHONE}/chat/${ALICE}`);
        if (!lacks("GET /{phoneNumber}/chat/{chatId}", kept)) assert.equal(kept.status, 200);
        assert.equal((await server.json("DELETE", `/${PHONE}/chats/${CAROL}`)).status, 200);
        const gone = await server.json("GET", `/${PHONE}/chat/${CAROL}`);
        if (!lacks("GET /{phoneNumber}/chat/{chatId}", gone)) assert.equal(gone.status, 404);
        assert.equal(await listed(CAROL), undefined);
        // WAHA deletes any chat, a group's or one it never had (GAPS: unknownChats).
        if (!keepsContract(engine, "unknownChats")) return;
        const group = await server.json("DELETE", `/${PHONE}/chats/${GROUP}`);
        assert.equal(group.status, 400);
        assert.match(String(group.body.error), /Leave the group/);
        assert.equal((await server.json("DELETE", `/${PHONE}/chats/${CAROL}`)).status, 404);
      });
    } finally {
      await close();
      await receiver.close();
    }
  });
}
