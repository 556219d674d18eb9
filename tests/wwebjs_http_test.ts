/**
 * @module
 * The real engine through our own HTTP API: whatsapp-web.js in its session Worker, driving a real
 * headless Chromium on the fake WhatsApp Web. Linking by QR, sending and reading, an incoming
 * message reaching a webhook, a Chromium killed with SIGKILL while another session keeps working,
 * a server restart, and a logout from the phone: all seen from the outside, as a user would.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type FakeCloud, startFakeCloud } from "./fake_whatsapp/fake_cloud.ts";
import { startTestApp, type TestApp, waitFor, waitForState } from "./_helpers.ts";
import { decodeQrDataUrl } from "./qr_decode.ts";
import { ALICE, ME, PIXEL_PNG, TEAM } from "./fake_whatsapp/cast.ts";
import { chromiumUnder } from "./fake_whatsapp/http_harness.ts";

const PHONE = ME.split("@")[0];
const GROUP = TEAM;
const SIMULATED = "4915550009";

function seededCloud(): Promise<FakeCloud> {
  return startFakeCloud({
    me: ME,
    pushName: "Gateway Test",
    chats: [
      { id: ALICE, name: "Alice" },
      {
        id: GROUP,
        name: "Team",
        group: {
          subject: "Team",
          participants: [{ id: ME, isAdmin: true, isSuperAdmin: true }, { id: ALICE }],
        },
      },
    ],
    contacts: [{ id: ALICE, name: "Alice", pushname: "ali", isMyContact: true }],
  });
}

/** A webhook receiver on 127.0.0.1 that keeps every envelope it is sent. */
function startReceiver() {
  const received: Record<string, unknown>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    received.push(await req.json());
    return new Response(null, { status: 204 });
  });
  return {
    received,
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    close: () => server.shutdown(),
  };
}

Deno.test("a wwebjs session through the HTTP API links, sends, reads, hears, survives a killed browser and a restart, and logs out", async (t) => {
  const cloud = await seededCloud();
  const olderId = cloud.seedMessage({ chatId: ALICE, body: "are you there?" });
  cloud.seedMessage({ chatId: ALICE, body: "still on for tomorrow", fromMe: true });
  cloud.seedMessage({ chatId: GROUP, body: "welcome", author: ALICE, from: GROUP });
  const receiver = startReceiver();
  const dataDir = await Deno.makeTempDir({ prefix: "wwebjs_http_test_" });
  const env = {
    DATA_DIR: dataDir,
    WA_ENGINE: "wwebjs",
    WWEBJS_WEB_VERSION: cloud.webVersion,
    WWEBJS_WEB_CACHE_PATH: cloud.webVersionCachePath,
    WEBHOOK_URL: receiver.url,
    SIMULATOR_SCAN_MS: "0",
  };
  let server: TestApp = await startTestApp(env);
  try {
    await t.step(
      "start shows a QR whose PNG holds the cloud's ref; the scan connects",
      async () => {
        assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
        const { status, body } = await server.json<{ qrCode: string }>("GET", `/${PHONE}/qr`);
        assert.equal(status, 200);
        const value = decodeQrDataUrl(body.qrCode);
        assert.equal(value, cloud.currentQr());
        assert.match(
          value,
          /^[^,]+,[^,]+,[^,]+,[^,]+,[^,]+$/,
          "ref,staticKey,identityKey,adv,platform",
        );
        const waiting = await server.json("GET", `/${PHONE}/state`);
        assert.equal(waiting.body.status, "SCAN_QR_CODE");
        assert.equal(
          (await server.json("POST", `/${PHONE}/send-text`, {
            body: { chatId: ALICE, text: "too early" },
          })).status,
          409,
        );
        cloud.scanQr(value);
        const state = await waitForState(server, PHONE, "CONNECTED", 30_000);
        assert.deepEqual(state.me, { id: ME, pushName: "Gateway Test" });
      },
    );

    await t.step("send-text, quoted and not, and send-image reach the phone's cloud", async () => {
      const plain = await server.json("POST", `/${PHONE}/send-text`, {
        body: { chatId: "4915550002", text: "hello from the API" },
      });
      assert.equal(plain.status, 200);
      assert.match(String(plain.body.messageId), /^true_4915550002@c\.us_/);
      const quoted = await server.json("POST", `/${PHONE}/send-text`, {
        body: { chatId: ALICE, text: "yes!", quotedMsgId: olderId },
      });
      assert.equal(quoted.status, 200);
      const image = await server.json("POST", `/${PHONE}/send-image`, {
        body: { chatId: ALICE, imageUrl: `data:image/png;base64,${PIXEL_PNG}`, caption: "a pixel" },
      });
      assert.equal(image.status, 200);
      const sent = await cloud.waitFor(() => cloud.sent.length >= 3 ? cloud.sent : null);
      const byId = (id: unknown) => sent.find((s) => s.id === id)!;
      assert.deepEqual(
        [byId(plain.body.messageId).chatId, byId(plain.body.messageId).body],
        [ALICE, "hello from the API"],
      );
      assert.equal(byId(plain.body.messageId).quotedMsgId, null);
      assert.equal(byId(quoted.body.messageId).quotedMsgId, olderId);
      const picture = byId(image.body.messageId);
      assert.equal(picture.caption, "a pixel");
      assert.equal(picture.media?.mimetype, "image/png");
      assert.equal(picture.media?.data, PIXEL_PNG);
    });

    await t.step(
      "a send to a number that is not on WhatsApp is 404 and reaches no one",
      async () => {
        const before = cloud.sent.length;
        const { status, body } = await server.json("POST", `/${PHONE}/send-text`, {
          body: { chatId: "+49 155 5999 9999", text: "anyone there?" },
        });
        assert.equal(status, 404);
        assert.equal(body.error, '"4915559999999@c.us" is not on WhatsApp');
        assert.equal(cloud.sent.length, before);
      },
    );

    await t.step(
      "chats, one chat, messages and contacts read back what the phone holds",
      async () => {
        const chats = await server.json<{ chats: Record<string, unknown>[]; total: number }>(
          "GET",
          `/${PHONE}/chats`,
        );
        assert.equal(chats.status, 200);
        assert.equal(chats.body.total, 2);
        const ids = chats.body.chats.map((c) => c.id);
        assert.deepEqual(ids.sort(), [GROUP, ALICE].sort());
        const group = chats.body.chats.find((c) => c.id === GROUP)!;
        assert.equal(group.isGroup, true);
        const chat = await server.json("GET", `/${PHONE}/chat/${ALICE}`);
        assert.equal(chat.body.name, "Alice");
        assert.equal(chat.body.isGroup, false);
        const messages = await server.json<
          { messages: Record<string, unknown>[]; hasMore: boolean }
        >(
          "GET",
          `/${PHONE}/messages/${ALICE}?limit=2`,
        );
        assert.equal(messages.status, 200);
        assert.deepEqual(messages.body.messages.map((m) => [m.type, m.body]), [
          ["image", "a pixel"],
          ["chat", "yes!"],
        ]);
        assert.equal(messages.body.hasMore, true);
        const contacts = await server.json<{ contacts: Record<string, unknown>[] }>(
          "GET",
          `/${PHONE}/contacts`,
        );
        const alice = contacts.body.contacts.find((c) => c.id === ALICE);
        assert.equal(alice?.name, "Alice");
      },
    );

    await t.step(
      "an incoming message reaches the configured webhook as a WAHA message event",
      async () => {
        const id = cloud.deliverIncoming({ from: ALICE, body: "incoming hello" });
        const event = await waitFor(
          "the webhook",
          () =>
            receiver.received.find((e) =>
              e.event === "message" && (e.payload as { id?: string }).id === id
            ),
          15_000,
        );
        assert.equal(event.session, PHONE);
        assert.match(String(event.id), /^evt_/);
        const payload = event.payload as Record<string, unknown>;
        assert.equal(payload.body, "incoming hello");
        assert.equal(payload.from, ALICE);
        assert.equal(payload.fromMe, false);
        assert.equal(payload.source, "app");
        const ours = receiver.received.filter((e) =>
          e.event === "message.any" && (e.payload as { fromMe?: boolean }).fromMe === true
        );
        assert.ok(ours.length >= 3, "our API sends were heard as message.any");
        for (const own of ours) assert.equal((own.payload as { source: string }).source, "api");
      },
    );

    await t.step(
      "a Chromium killed with SIGKILL: 409 meanwhile, others untouched, back without a QR",
      async () => {
        assert.equal(
          (await server.json("POST", `/${SIMULATED}/start`, {
            body: { engine: "simulator" },
          })).status,
          200,
        );
        await waitForState(server, SIMULATED, "CONNECTED");
        const refs = cloud.refsIssued.length;
        const pid = chromiumUnder(join(dataDir, "sessions", PHONE));
        assert.ok(pid, "the session's Chromium runs under its own folder");
        Deno.kill(pid, "SIGKILL");
        const down = await waitFor("the session to notice", async () => {
          const { body } = await server.json("GET", `/${PHONE}/state`);
          return body.state !== "CONNECTED" ? body : null;
        }, 5_000);
        assert.equal(down.state, "AUTHENTICATING");
        const refused = await server.json("POST", `/${PHONE}/send-text`, {
          body: { chatId: ALICE, text: "while down" },
        });
        assert.equal(refused.status, 409);
        const other = await server.json("POST", `/${SIMULATED}/send-text`, {
          body: { chatId: "15550000001@c.us", text: "unaffected" },
        });
        assert.equal(other.status, 200);
        await waitForState(server, PHONE, "CONNECTED", 30_000);
        assert.equal(cloud.refsIssued.length, refs, "no new QR was needed");
        assert.ok(
          !existsSync(`/proc/${pid}`) || chromiumUnder(join(dataDir, "sessions", PHONE)) !== pid,
        );
        const after = await server.json("POST", `/${PHONE}/send-text`, {
          body: { chatId: ALICE, text: "back" },
        });
        assert.equal(after.status, 200);
      },
    );

    await t.step(
      "a server restarted on the same DATA_DIR comes back CONNECTED without a QR",
      async () => {
        const refs = cloud.refsIssued.length;
        await server.close();
        assert.equal(
          chromiumUnder(join(dataDir, "sessions", PHONE)),
          null,
          "Chromium ended with it",
        );
        server = await startTestApp(env);
        await server.manager.restore();
        await waitForState(server, PHONE, "CONNECTED", 30_000);
        assert.equal(cloud.refsIssued.length, refs);
      },
    );

    await t.step("a logout from the phone ends the session and deletes its login", async () => {
      cloud.logoutFromPhone();
      const ended = await waitFor("the logout", async () => {
        const { body } = await server.json("GET", `/${PHONE}/state`);
        return body.status === "STOPPED" ? body : null;
      }, 15_000);
      assert.equal(ended.state, "DISCONNECTED");
      await waitFor(
        "the login to be deleted",
        () => !existsSync(join(dataDir, "sessions", PHONE, "auth")),
        5_000,
      );
      assert.equal(
        (await server.store.sessions.get(PHONE))?.shouldRun,
        false,
        "not restarted at boot",
      );
    });
  } finally {
    await server.close();
    await receiver.close();
    await cloud.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a wwebjs session links by pairing code through the HTTP API", async () => {
  const cloud = await seededCloud();
  const dataDir = await Deno.makeTempDir({ prefix: "wwebjs_pairing_test_" });
  const server = await startTestApp({
    DATA_DIR: dataDir,
    WA_ENGINE: "wwebjs",
    WWEBJS_WEB_VERSION: cloud.webVersion,
    WWEBJS_WEB_CACHE_PATH: cloud.webVersionCachePath,
  });
  try {
    await server.json("POST", `/${PHONE}/start`);
    await server.json("GET", `/${PHONE}/qr`);
    const { status, body } = await server.json<{ code: string }>("POST", `/${PHONE}/pairing-code`);
    assert.equal(status, 200);
    assert.match(body.code, /^[A-Z0-9]{8}$/);
    assert.deepEqual(cloud.pairingCodes.map((p) => p.code), [body.code]);
    cloud.enterPairingCode(body.code);
    await waitForState(server, PHONE, "CONNECTED", 30_000);
    const again = await server.json("POST", `/${PHONE}/pairing-code`);
    assert.equal(again.status, 409, "a linked session needs no code");
  } finally {
    await server.close();
    await cloud.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a wwebjs session without Chromium fails with the reason, and nothing else does", async () => {
  const server = await startTestApp({ WA_ENGINE: "wwebjs", CHROME_PATH: "/nonexistent/chromium" });
  try {
    await server.json("POST", `/${PHONE}/start`);
    const failed = await waitFor("FAILED", async () => {
      const { body } = await server.json("GET", `/${PHONE}/state`);
      return body.status === "FAILED" ? body : null;
    }, 15_000);
    assert.equal(failed.state, "DISCONNECTED");
    assert.match(String(failed.reason), /CHROME_PATH/);
    await server.json("POST", `/${SIMULATED}/start`, { body: { engine: "simulator" } });
    await waitForState(server, SIMULATED, "CONNECTED");
    assert.equal((await server.json("GET", "/health", { anonymous: true })).status, 200);
  } finally {
    await server.close();
  }
});
