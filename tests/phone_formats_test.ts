/**
 * @module
 * Numbers as people write them, and sends to nowhere, through HTTP on each engine of
 * `_engines.ts`: a number that is not on WhatsApp is `404` (the simulator only: the fake WAHA
 * sends to any number), a bare id too long for a phone number is refused with how to write a group
 * id, `+`, `00`, spaces, dashes, dots and parentheses are read one way in bodies and paths, a `+`
 * before the session's number in the path is the same number (ownership included), and a refused
 * id is told the forms that work.
 */
import assert from "node:assert/strict";
import {
  answersNotImplemented,
  type EngineName,
  ENGINES,
  type EngineUnderTest,
  keepsContract,
  notImplementedOn,
  startEngine,
} from "./_engines.ts";
import type { TestApp } from "./_helpers.ts";

const PHONE = "4915550007001";
const ACCOUNT = { headers: { "X-Api-Key": "key-of-a-0123456789abcdefghij" } };
const OTHER = { headers: { "X-Api-Key": "key-of-b-0123456789abcdefghij" } };
const FORMS = "491701234567, +491701234567, 491701234567@c.us, a group's …@g.us or a …@lid";

const CREATE_GROUP = "POST /{phoneNumber}/group/create";
const ACCOUNTS = "key-of-a-0123456789abcdefghij=org_a,key-of-b-0123456789abcdefghij=org_b";

/** A server on `engine` whose number `PHONE` account A started, and which is connected. */
async function connected(engine: EngineName): Promise<EngineUnderTest> {
  const under = await startEngine(engine, { API_KEYS: ACCOUNTS });
  const started = await under.server.json("POST", `/${PHONE}/start`, {
    ...ACCOUNT,
    body: { engine },
  });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  await under.link(PHONE);
  return under;
}

const send = (server: TestApp, chatId: string) =>
  server.json("POST", `/${PHONE}/send-text`, { body: { chatId, text: "hello" } });

for (const engine of ENGINES) {
  // The fake WAHA sends to any number (GAPS: unknownChats).
  Deno.test({
    name:
      `a send to a number that is not on WhatsApp is 404 saying so, and makes no chat, on the ${engine} engine`,
    ignore: !keepsContract(engine, "unknownChats"),
    fn: async () => {
      const { server, close } = await connected(engine);
      try {
        for (const chatId of ["15559999999", "+1 555 999 9999", "15559999999@c.us"]) {
          const { status, body } = await send(server, chatId);
          assert.equal(status, 404, chatId);
          assert.equal(body.code, "NOT_FOUND");
          assert.equal(body.error, '"15559999999@c.us" is not on WhatsApp');
        }
        const media = await server.json("POST", `/${PHONE}/send-image`, {
          body: {
            chatId: "15559999999",
            imageUrl:
              "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
          },
        });
        assert.equal(media.status, 404);
        const chats = await server.json<{ chats: { id: string }[] }>(
          "GET",
          `/${PHONE}/chats?limit=100`,
        );
        assert.ok(!chats.body.chats.some((chat) => chat.id === "15559999999@c.us"));
      } finally {
        await close();
      }
    },
  });
}

for (const engine of ENGINES) {
  Deno.test(`a bare id too long for a phone number is refused with how to write a group id, on the ${engine} engine`, async () => {
    const { server, close } = await connected(engine);
    try {
      const bare = await send(server, "120363000000000001");
      assert.equal(bare.status, 400);
      assert.equal(
        bare.body.error,
        'Invalid body field "chatId": 18 digits are more than a phone number has (15): ' +
          "a group id ends in @g.us (120363000000000001@g.us)",
      );
      const asUser = await send(server, "120363000000000001@c.us");
      assert.equal(asUser.status, 400);
      assert.match(
        String(asUser.body.error),
        /a group id ends in @g\.us \(120363000000000001@g\.us\)/,
      );
      const written = await send(server, "120363000000000001@g.us");
      assert.equal(written.status, 200, "the group itself takes the message");
      assert.match(String(written.body.messageId), /^true_120363000000000001@g\.us_/);
    } finally {
      await close();
    }
  });
}

for (const engine of ENGINES) {
  Deno.test(`numbers written with +, 00, spaces, dashes, dots and parentheses are read one way, on the ${engine} engine`, async () => {
    const { server, close } = await connected(engine);
    try {
      const spellings = [
        "+15550000001",
        "0015550000001",
        "+1 (555) 000-0001",
        "1.555.000.0001",
        "00 1 555 000 0001",
        " 15550000001 ",
      ];
      for (const chatId of spellings) {
        const { status, body } = await send(server, chatId);
        assert.equal(status, 200, `${chatId}: ${JSON.stringify(body)}`);
        assert.match(String(body.messageId), /^true_15550000001@c\.us_/, chatId);
      }
      const created = await server.json<{ participants: { id: string }[] }>(
        "POST",
        `/${PHONE}/group/create`,
        { body: { name: "Formats", participants: ["+1 555-000-0002", "0015550000003"] } },
      );
      if (notImplementedOn(engine, CREATE_GROUP)) {
        answersNotImplemented(engine, CREATE_GROUP, created);
      } else {
        assert.equal(created.status, 200, JSON.stringify(created.body));
        const ids = created.body.participants.map((p) => p.id);
        assert.ok(
          ids.includes("15550000002@c.us") && ids.includes("15550000003@c.us"),
          String(ids),
        );
      }
      const blocked = await server.json("POST", `/${PHONE}/contact/block`, {
        body: { contactId: "+1 (555) 000-0002" },
      });
      assert.equal(blocked.status, 200);
      assert.equal(blocked.body.message, 'Contact "15550000002@c.us" blocked');
      const contact = await server.json(
        "GET",
        `/${PHONE}/contact/${encodeURIComponent("+1 555 000 0003")}`,
      );
      assert.equal(contact.status, 200);
      assert.equal(contact.body.id, "15550000003@c.us");
      const card = await server.json("POST", `/${PHONE}/send-contact`, {
        body: { chatId: "15550000001", contact: { name: "Bob", phone: "0015550000002" } },
      });
      assert.equal(card.status, 200, JSON.stringify(card.body));
    } finally {
      await close();
    }
  });
}

for (const engine of ENGINES) {
  Deno.test(`check-number reads the number as people write it, on the ${engine} engine`, async () => {
    const { server, notOnWhatsApp: n, close } = await connected(engine);
    try {
      const check = (phone: string) =>
        server.json("GET", `/${PHONE}/check-number/${encodeURIComponent(phone)}`);
      assert.deepEqual((await check("+1 (555) 000-0001")).body, {
        exists: true,
        chatId: "15550000001@c.us",
      });
      assert.deepEqual((await check("0015550000001")).body, {
        exists: true,
        chatId: "15550000001@c.us",
      });
      // As "+1 555 999 9999" for 15559999999.
      const spaced = `+${n[0]} ${n.slice(1, 4)} ${n.slice(4, 7)} ${n.slice(7)}`;
      assert.deepEqual((await check(spaced)).body, { exists: false });
      const long = await check("120363000000000001");
      assert.equal(long.status, 400);
      assert.match(String(long.body.error), /more than a phone number has \(15\)/);
    } finally {
      await close();
    }
  });
}

for (const engine of ENGINES) {
  Deno.test(`a refused id lists the forms that work; a national number is told to start with its country code, on the ${engine} engine`, async () => {
    const { server, close } = await connected(engine);
    try {
      const wrong = await send(server, "not-a-jid");
      assert.equal(wrong.status, 400);
      assert.equal(
        wrong.body.error,
        `Invalid body field "chatId": expected a WhatsApp id: ${FORMS}`,
      );
      const national = await send(server, "0170 1234567");
      assert.equal(national.status, 400);
      assert.match(String(national.body.error), /starts with its country code, not 0/);
      const path = await server.json("GET", `/${PHONE}/chat/not-a-jid`);
      assert.equal(path.status, 400);
      assert.equal(
        path.body.error,
        `Invalid path parameter "chatId": expected a WhatsApp id: ${FORMS}`,
      );
    } finally {
      await close();
    }
  });
}

for (const engine of ENGINES) {
  Deno.test(`a + before the session's number in the path is the same number, ownership included, on the ${engine} engine`, async () => {
    const { server, close } = await connected(engine);
    try {
      for (const spelled of [`+${PHONE}`, `%2B${PHONE}`]) {
        const state = await server.json("GET", `/${spelled}/state`, ACCOUNT);
        assert.equal(state.status, 200, spelled);
        assert.equal(state.body.state, "CONNECTED");
        const sent = await server.json("POST", `/${spelled}/send-text`, {
          ...ACCOUNT,
          body: { chatId: "15550000001", text: "hi" },
        });
        assert.equal(sent.status, 200, spelled);
        const foreign = await server.json("GET", `/${spelled}/state`, OTHER);
        assert.equal(foreign.status, 403, `${spelled}: another account is refused`);
        const foreignSend = await server.json("POST", `/${spelled}/send-text`, {
          ...OTHER,
          body: { chatId: "15550000001", text: "not mine" },
        });
        assert.equal(foreignSend.status, 403);
      }
      const claim = await server.json("POST", `/+4915550007002/start`, OTHER);
      assert.equal(claim.status, 200);
      assert.equal(claim.body.message, 'Session "4915550007002" is starting');
    } finally {
      await close();
    }
  });
}
