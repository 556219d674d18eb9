/**
 * @module
 * The HTTP contract's core, run on each engine of `_engines.ts` (the simulator, and the waha
 * engine on a fake WAHA): start, state, the QR while waiting for a scan (and 409 for a send then),
 * the link, send-text, the chat's messages, the chat list, an incoming message as a `message`
 * event on the number's stream, stop. Only the link and the incoming message differ by engine, and
 * the harness does each the engine's way.
 */
import assert from "node:assert/strict";
import { ENGINES, startEngine } from "./_engines.ts";
import { waitFor, waitForState } from "./_helpers.ts";
import { sseReader } from "./_sse.ts";

const PHONE = "4915550022301";
const ALICE = "15550000001@c.us";

for (const engine of ENGINES) {
  Deno.test(`the contract's core on the ${engine} engine`, async (t) => {
    // A simulator's scan slow enough to see the QR first; `link` waits for it.
    const { server, link, incoming, close } = await startEngine(engine, {
      SIMULATOR_SCAN_MS: "1500",
    });
    try {
      await t.step("start, then the QR while waiting for a scan; sends answer 409", async () => {
        const started = await server.json("POST", `/${PHONE}/start`, { body: { engine } });
        assert.equal(started.status, 200, JSON.stringify(started.body));
        const state = await waitForState(server, PHONE, "AUTHENTICATING");
        assert.equal(state.engine, engine);
        const qr = await server.json<{ qrCode: string }>("GET", `/${PHONE}/qr`);
        assert.equal(qr.status, 200, JSON.stringify(qr.body));
        assert.match(qr.body.qrCode, /^data:image\/png;base64,/);
        const early = await server.json("POST", `/${PHONE}/send-text`, {
          body: { chatId: ALICE, text: "too early" },
        });
        assert.equal(early.status, 409);
        assert.equal(early.body.code, "CLIENT_NOT_READY");
      });

      await t.step("the link makes it CONNECTED as its own number", async () => {
        await link(PHONE);
        const state = await waitForState(server, PHONE, "CONNECTED");
        assert.equal(state.status, "WORKING");
        assert.equal((state.me as { id: string }).id, `${PHONE}@c.us`);
        const qr = await server.json("GET", `/${PHONE}/qr`);
        assert.equal(qr.status, 409);
      });

      let sentId = "";
      await t.step("send-text answers the message's id and time", async () => {
        const sent = await server.json("POST", `/${PHONE}/send-text`, {
          body: { chatId: "15550000001", text: "Hello" },
        });
        assert.equal(sent.status, 200, JSON.stringify(sent.body));
        assert.deepEqual(Object.keys(sent.body).sort(), ["messageId", "timestamp"]);
        assert.ok(Number.isInteger(sent.body.timestamp));
        sentId = sent.body.messageId as string;
      });

      await t.step("the chat's messages, newest first, and the chat list", async () => {
        const page = await server.json<{
          messages: { id: string; body: string; fromMe: boolean; chatId: string }[];
          hasMore: boolean;
        }>("GET", `/${PHONE}/messages/${ALICE}`);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        const mine = page.body.messages.find((m) => m.id === sentId);
        assert.ok(mine, `${sentId} is listed`);
        assert.equal(mine.body, "Hello");
        assert.equal(mine.fromMe, true);
        assert.equal(mine.chatId, ALICE);
        assert.equal(page.body.messages[0].id, sentId, "the newest first");
        const chats = await server.json<{ chats: { id: string }[]; page: number }>(
          "GET",
          `/${PHONE}/chats`,
        );
        assert.equal(chats.status, 200, JSON.stringify(chats.body));
        assert.ok(chats.body.chats.some((c) => c.id === ALICE));
        assert.equal(chats.body.page, 1);
      });

      await t.step("an incoming message is a message event on the number's stream", async () => {
        const response = await server.request("GET", `/${PHONE}/events`);
        assert.equal(response.status, 200);
        const stream = sseReader(response);
        try {
          await incoming(PHONE, ALICE, "Hi from Alice");
          const isIt = (m: { data: string }) => {
            const event = JSON.parse(m.data);
            return event.event === "message" && event.payload.body === "Hi from Alice";
          };
          await stream.until(isIt);
          const [message] = stream.messages.filter(isIt).map((m) => JSON.parse(m.data));
          assert.equal(message.session, PHONE);
          assert.equal(message.payload.from, ALICE);
          assert.equal(message.payload.fromMe, false);
        } finally {
          await stream.close();
        }
      });

      await t.step("stop: DISCONNECTED, and sends answer 409", async () => {
        assert.equal((await server.json("POST", `/${PHONE}/stop`)).status, 200);
        await waitFor("the session to be STOPPED", async () => {
          const { body } = await server.json("GET", `/${PHONE}/state`);
          return body.status === "STOPPED";
        });
        const late = await server.json("POST", `/${PHONE}/send-text`, {
          body: { chatId: ALICE, text: "too late" },
        });
        assert.equal(late.status, 409);
      });
    } finally {
      await close();
    }
  });
}
