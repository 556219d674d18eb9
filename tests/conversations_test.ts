/**
 * @module
 * HTTP suite for the conversation routes on each engine of `_engines.ts`: the chat list with its
 * paging and archive filter, one chat, and a chat's messages read newest first with the `before`
 * cursor, including messages that arrive between two page reads. The archive filter reads the
 * simulator's seeded archived chat, so it runs on the simulator only (the fake WAHA keeps no
 * archive); where the waha engine answers 501 or differs from the contract (`GAPS`), the test
 * says so.
 */
import assert from "node:assert/strict";
import {
  answers,
  answersNotImplemented,
  ENGINES,
  keepsContract,
  notImplementedOn,
  startEngine,
} from "./_engines.ts";

const PHONE = "4915550001001";
const STOPPED = "4915550001002";
const GET_CHAT = "GET /{phoneNumber}/chat/{chatId}";

interface ChatPage {
  chats: { id: string; name: string; isGroup: boolean; unreadCount: number }[];
  total: number;
  page: number;
  hasMore: boolean;
}

interface MessagePage {
  messages: { id: string; body: string; fromMe: boolean; timestamp: number; chatId: string }[];
  hasMore: boolean;
  nextCursor?: string;
}

for (const engine of ENGINES) {
  Deno.test(`conversation routes on the ${engine} engine`, async (t) => {
    const { server, connect, incomingMany, close } = await startEngine(engine);
    try {
      await connect(PHONE);
      await connect(STOPPED);
      assert.equal((await server.json("POST", `/${STOPPED}/stop`)).status, 200);
      for (const contact of ["15550000011", "15550000012", "15550000013", "15550000014"]) {
        const sent = await server.json("POST", `/${PHONE}/send-text`, {
          body: { chatId: contact, text: `Hello ${contact}` },
        });
        assert.equal(sent.status, 200, JSON.stringify(sent.body));
      }

      await t.step("GET /chats pages the chats with an exact total and hasMore", async () => {
        const all = await server.json<ChatPage>("GET", `/${PHONE}/chats?limit=100`);
        assert.equal(all.status, 200);
        const count = all.body.chats.length;
        assert.equal(all.body.total, count);
        assert.ok(count >= 4, "at least the four chats written to");
        assert.equal(all.body.hasMore, false);

        const seen: string[] = [];
        for (let page = 1; page <= count; page++) {
          const { status, body } = await server.json<ChatPage>(
            "GET",
            `/${PHONE}/chats?limit=1&page=${page}`,
          );
          assert.equal(status, 200);
          // The waha engine counts no further than the next page (GAPS: chatTotal).
          if (keepsContract(engine, "chatTotal")) assert.equal(body.total, count);
          assert.equal(body.page, page);
          assert.equal(body.chats.length, 1);
          assert.equal(body.hasMore, page < count);
          seen.push(body.chats[0].id);
        }
        assert.deepEqual(seen, all.body.chats.map((chat) => chat.id));

        const beyond = await server.json<ChatPage>("GET", `/${PHONE}/chats?page=99`);
        assert.deepEqual(beyond.body.chats, []);
        assert.equal(beyond.body.hasMore, false);
      });

      // Reads the simulator's seeded archived chat (Bob); the fake WAHA keeps no archive.
      await t.step({
        name: "GET /chats?archived filters archived and unarchived chats",
        ignore: engine !== "simulator",
        fn: async () => {
          const archived = await server.json<ChatPage>("GET", `/${PHONE}/chats?archived=true`);
          assert.equal(archived.status, 200);
          assert.deepEqual(archived.body.chats.map((chat) => chat.id), ["15550000002@c.us"]);
          assert.equal(archived.body.total, 1);
          const active = await server.json<ChatPage>("GET", `/${PHONE}/chats?archived=false`);
          const all = await server.json<ChatPage>("GET", `/${PHONE}/chats`);
          assert.equal(active.body.total + 1, all.body.total);
          assert.ok(!active.body.chats.some((chat) => chat.id === "15550000002@c.us"));
        },
      });

      await t.step("GET /chats rejects a limit over 100 and a bad archived flag", async () => {
        const limit = await server.json("GET", `/${PHONE}/chats?limit=101`);
        assert.equal(limit.status, 400);
        assert.equal(limit.body.code, "BAD_REQUEST");
        assert.match(String(limit.body.error), /limit/);
        const archived = await server.json("GET", `/${PHONE}/chats?archived=maybe`);
        assert.equal(archived.status, 400);
        assert.match(String(archived.body.error), /archived/);
      });

      await t.step("GET /chat/:chatId answers the chat, a bare number meaning @c.us", async () => {
        // The simulator's seeded chats (Alice's, the group's, Bob's archived one); the fake WAHA
        // has only the chats written to above (GAPS: chatState).
        const seeded = keepsContract(engine, "chatState");
        const number = seeded ? "15550000001" : "15550000011";
        const alice = await server.json("GET", `/${PHONE}/chat/${number}`);
        if (notImplementedOn(engine, GET_CHAT)) {
          return answersNotImplemented(engine, GET_CHAT, alice);
        }
        const { status, body } = alice;
        assert.equal(status, 200, JSON.stringify(body));
        assert.equal(body.id, `${number}@c.us`);
        if (seeded) assert.equal(body.name, "Alice");
        assert.equal(body.isGroup, false);
        assert.equal(body.archived, false);
        assert.equal(typeof body.pinned, "boolean");
        assert.equal(typeof body.muted, "boolean");
        assert.deepEqual(Object.keys(body.lastMessage as object).sort(), ["body", "timestamp"]);
        if (!seeded) return;

        const group = await server.json("GET", `/${PHONE}/chat/120363000000000001@g.us`);
        assert.equal(group.body.isGroup, true);
        const bob = await server.json("GET", `/${PHONE}/chat/15550000002@c.us`);
        assert.equal(bob.body.archived, true);
      });

      await t.step(
        "GET /chat/:chatId answers 400 for a malformed id and 404 naming an unknown chat",
        async () => {
          const bad = await server.json("GET", `/${PHONE}/chat/not-a-jid`);
          assert.equal(bad.status, 400);
          assert.match(String(bad.body.error), /chatId/);
          const missing = await server.json("GET", `/${PHONE}/chat/15557777777@c.us`);
          answers(engine, GET_CHAT, missing, () => {
            assert.equal(missing.status, 404);
            assert.equal(missing.body.code, "NOT_FOUND");
            assert.match(String(missing.body.error), /Chat "15557777777@c\.us" not found/);
          });
        },
      );

      await t.step(
        "GET /messages/:chatId reads 120 messages in pages of 50, newest first, while 10 more arrive",
        async () => {
          const chatId = "15550000120@c.us";
          const newest = await incomingMany(PHONE, chatId, 120);

          const first = await server.json<MessagePage>(
            "GET",
            `/${PHONE}/messages/${chatId}?limit=50`,
          );
          assert.equal(first.status, 200);
          assert.equal(first.body.messages.length, 50);
          assert.equal(first.body.hasMore, true);
          assert.equal(first.body.messages[0].id, newest);

          // Ten more arrive between the page reads: the cursor keeps the next pages stable.
          await incomingMany(PHONE, chatId, 10);
          // The waha engine's pages by cursor come up short past its window (GAPS: deepCursor).
          if (!keepsContract(engine, "deepCursor")) return;

          const second = await server.json<MessagePage>(
            "GET",
            `/${PHONE}/messages/${chatId}?limit=50&before=${
              encodeURIComponent(first.body.nextCursor!)
            }`,
          );
          assert.equal(second.body.messages.length, 50);
          assert.equal(second.body.hasMore, true);
          const third = await server.json<MessagePage>(
            "GET",
            `/${PHONE}/messages/${chatId}?limit=50&before=${
              encodeURIComponent(second.body.nextCursor!)
            }`,
          );
          assert.equal(third.body.messages.length, 20);
          assert.equal(third.body.hasMore, false);
          assert.equal(third.body.nextCursor, undefined);

          const read = [...first.body.messages, ...second.body.messages, ...third.body.messages];
          assert.equal(new Set(read.map((m) => m.id)).size, 120, "no message is repeated");
          assert.deepEqual(
            read.map((m) => m.body),
            Array.from({ length: 120 }, (_, i) => `Incoming message ${120 - i} of 120`),
            "exactly the 120, newest first",
          );
          for (let i = 1; i < read.length; i++) {
            assert.ok(read[i - 1].timestamp >= read[i].timestamp);
          }
          assert.ok(read.every((m) => m.chatId === chatId && !m.fromMe));

          const latest = await server.json<MessagePage>(
            "GET",
            `/${PHONE}/messages/${chatId}?limit=10`,
          );
          assert.equal(latest.body.messages[0].body, "Incoming message 10 of 10");
        },
      );

      await t.step(
        "GET /messages/:chatId defaults to 50 and page=2 skips the newest page",
        async () => {
          const chatId = "15550000120@c.us";
          const defaults = await server.json<MessagePage>("GET", `/${PHONE}/messages/${chatId}`);
          assert.equal(defaults.body.messages.length, 50);
          const byCursor = await server.json<MessagePage>(
            "GET",
            `/${PHONE}/messages/${chatId}?limit=30&before=${
              encodeURIComponent(
                (await server.json<MessagePage>(
                  "GET",
                  `/${PHONE}/messages/${chatId}?limit=30`,
                )).body.nextCursor!,
              )
            }`,
          );
          const byPage = await server.json<MessagePage>(
            "GET",
            `/${PHONE}/messages/${chatId}?limit=30&page=2`,
          );
          assert.deepEqual(byPage.body, byCursor.body);
          const far = await server.json<MessagePage>(
            "GET",
            `/${PHONE}/messages/${chatId}?limit=100&page=3`,
          );
          assert.deepEqual(far.body, { messages: [], hasMore: false });
        },
      );

      await t.step(
        "GET /messages/:chatId rejects a limit over 200 and 404s an unknown cursor",
        async () => {
          const limit = await server.json("GET", `/${PHONE}/messages/15550000001?limit=201`);
          assert.equal(limit.status, 400);
          assert.match(String(limit.body.error), /limit/);
          const cursor = await server.json("GET", `/${PHONE}/messages/15550000001?before=nope`);
          assert.equal(cursor.status, 404);
          assert.match(String(cursor.body.error), /Message "nope" not found/);
          const chat = await server.json("GET", `/${PHONE}/messages/15557777777`);
          // The waha engine reads an unknown chat as an empty one (GAPS: unknownChatMessages).
          if (keepsContract(engine, "unknownChatMessages")) {
            assert.equal(chat.status, 404);
            assert.match(String(chat.body.error), /Chat "15557777777@c\.us" not found/);
          }
        },
      );

      await t.step(
        "the conversation routes answer 409 for a stopped session and 404 for none",
        async () => {
          for (const path of ["chats", "chat/15550000001", "messages/15550000001"]) {
            const stopped = await server.json("GET", `/${STOPPED}/${path}`);
            assert.equal(stopped.status, 409, path);
            assert.equal(stopped.body.code, "CLIENT_NOT_READY");
            const none = await server.json("GET", `/4915550009999/${path}`);
            assert.equal(none.status, 404, path);
            assert.match(String(none.body.error), /Session "4915550009999" not found/);
          }
        },
      );
    } finally {
      await close();
    }
  });
}
