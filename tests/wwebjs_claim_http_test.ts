/**
 * @module
 * A claimed number must be the phone that was scanned, with the real engine through our HTTP API:
 * whatsapp-web.js in real Chromium on the fake WhatsApp Web. A QR scanned with another number's
 * phone makes the session FAILED with a reason that says which number scanned, the fake cloud
 * sees the device logged out, nothing of that account reaches the webhook; the number's own phone,
 * reported by WhatsApp Web as a LID, then links.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startReceiver } from "../events/test_receivers.ts";
import { startFakeCloud } from "./fake_whatsapp/fake_cloud.ts";
import { dependentSteps } from "./fake_whatsapp/engine_harness.ts";
import { ALICE, ME } from "./fake_whatsapp/cast.ts";
import { startTestApp, type TestApp, waitFor, waitForState } from "./_helpers.ts";
import { decodeQrDataUrl } from "./qr_decode.ts";

const PHONE = ME.split("@")[0];
const OTHER = "4915550099";
const KEY_A = "account-a-key-0123456789abcdef";
const A = { headers: { "X-Api-Key": KEY_A } };

Deno.test("a wwebjs session scanned with another number's phone is FAILED saying which and logged out in the cloud; its own phone, reported by LID, then links", async (t) => {
  const cloud = await startFakeCloud({
    me: ME,
    meLid: "111111111111111@lid",
    pushName: "Gateway Test",
    chats: [{ id: ALICE, name: "Alice" }],
  });
  const receiver = startReceiver();
  const server: TestApp = await startTestApp({
    WA_ENGINE: "wwebjs",
    WWEBJS_WEB_VERSION: cloud.webVersion,
    WWEBJS_WEB_CACHE_PATH: cloud.webVersionCachePath,
    WEBHOOK_URL: receiver.url,
    API_KEYS: `${KEY_A}=org_a`,
  });
  const asA = { json: ((m, p, o) => server.json(m, p, { ...o, ...A })) as TestApp["json"] };
  const scan = async () => {
    const { status, body } = await server.json<{ qrCode: string }>("GET", `/${PHONE}/qr`, A);
    assert.equal(status, 200);
    return decodeQrDataUrl(body.qrCode);
  };
  const step = dependentSteps(t);
  try {
    await step(
      "a scan by another number's phone makes the session FAILED, saying which",
      async () => {
        assert.equal((await server.json("POST", `/${PHONE}/start`, A)).status, 200);
        cloud.scanQr(await scan(), { phone: `${OTHER}@c.us` });
        cloud.deliverIncoming({ from: ALICE, body: "for the other phone's account" });
        const failed = await waitFor("FAILED", async () => {
          const { body } = await server.json("GET", `/${PHONE}/state`, A);
          return body.status === "FAILED" ? body : null;
        }, 30_000);
        assert.equal(
          failed.reason,
          `Linked as ${OTHER}, not ${PHONE}: scan with the phone of ${PHONE}`,
        );
        assert.equal(failed.me, null);
      },
    );

    await step("the cloud sees the device logged out, and the login is deleted", async () => {
      await cloud.waitFor(() => cloud.credential === null, 15_000);
      assert.ok(cloud.actions.some((a) => a.action === "logout"));
      await waitFor(
        "the session folder to be deleted",
        () => !existsSync(join(server.dataDir, "sessions", PHONE)),
        15_000,
      );
      const send = await server.json("POST", `/${PHONE}/send-text`, {
        ...A,
        body: { chatId: ALICE, text: "from the wrong account" },
      });
      assert.equal(send.status, 409);
      assert.equal((await server.store.sessions.get(PHONE))?.ownerAccountId, "org_a");
    });

    await step("the webhook got the FAILED status and nothing of the other account", async () => {
      const isFailed = (e: { event: string; payload: Record<string, unknown> }) =>
        e.event === "session.status" && e.payload.status === "FAILED";
      // Deliveries to one destination are made in order: what came before FAILED is in.
      await waitFor("the FAILED delivery", () => receiver.received.some((r) => isFailed(r.json)));
      const events = receiver.received.map((r) => r.json);
      assert.ok(
        !events.some((e) => e.event === "session.status" && e.payload.status === "WORKING"),
      );
      assert.deepEqual(events.filter((e) => e.event.startsWith("message")), []);
      assert.equal(cloud.sent.length, 0);
    });

    await step(
      "a new start shows a new QR; the number's own phone, reported by its LID, links",
      async () => {
        assert.equal((await server.json("POST", `/${PHONE}/start`, A)).status, 200);
        cloud.scanQr(await scan());
        const state = await waitForState(asA, PHONE, "CONNECTED", 30_000);
        assert.deepEqual(state.me, {
          id: ME,
          pushName: "Gateway Test",
          lid: "111111111111111@lid",
        });
        assert.equal(cloud.linkedBy?.lid, "111111111111111@lid");
        const id = cloud.deliverIncoming({ from: ALICE, body: "for the right account" });
        await waitFor(
          "the message on the webhook",
          () =>
            receiver.received.find((r) => r.json.event === "message" && r.json.payload.id === id),
          15_000,
        );
      },
    );
  } finally {
    await server.close();
    await receiver.close();
    await cloud.close();
  }
});
