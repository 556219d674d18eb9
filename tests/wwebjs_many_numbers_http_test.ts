/**
 * @module
 * Several whatsapp-web.js numbers on one server, through our HTTP API: real Chromium per number on
 * one fake WhatsApp Web that serves several accounts (`fake_cloud_hub.ts`), each number linked by
 * its own phone. Each account's messages reach its own number only, and a restarted server brings
 * every number back linked from its own saved login, without a QR.
 */
import assert from "node:assert/strict";
import { startFakeCloudHub } from "./fake_whatsapp/fake_cloud_hub.ts";
import { dependentSteps } from "./fake_whatsapp/engine_harness.ts";
import { startReceiver } from "./fake_whatsapp/http_harness.ts";
import { ALICE } from "./fake_whatsapp/cast.ts";
import { startTestApp, type TestApp, waitFor, waitForState } from "./_helpers.ts";

const PHONES = ["4915550101", "4915550102"];

Deno.test("two wwebjs numbers on one server link by their own phones on one fake WhatsApp Web, each gets only its account's messages, and both come back linked after a restart", async (t) => {
  const hub = await startFakeCloudHub(
    PHONES.map((phone) => ({ me: `${phone}@c.us`, pushName: `Number ${phone}` })),
  );
  const receiver = startReceiver();
  const dataDir = await Deno.makeTempDir({ prefix: "wwebjs_many_numbers_test_" });
  const env = {
    DATA_DIR: dataDir,
    WA_ENGINE: "wwebjs",
    WWEBJS_WEB_VERSION: hub.webVersion,
    WWEBJS_WEB_CACHE_PATH: hub.webVersionCachePath,
    WEBHOOK_URL: receiver.url,
    SIMULATOR_SCAN_MS: "0",
  };
  let server: TestApp = await startTestApp(env);
  const step = dependentSteps(t);
  let failed = false;
  try {
    await step("each number shows a QR, and its own phone's scan links it as itself", async () => {
      for (const phone of PHONES) {
        assert.equal((await server.json("POST", `/${phone}/start`)).status, 200);
        const qr = await waitFor("the QR", () => hub.currentQr(), 30_000);
        hub.scanQr(qr, phone);
        await waitForState(server, phone, "CONNECTED", 30_000);
        const { body } = await server.json("GET", `/${phone}/state`);
        assert.equal((body.me as { id?: string } | null)?.id, `${phone}@c.us`);
      }
      assert.equal(hub.currentQr(), null, "no page waits for a scan");
      const [a, b] = PHONES.map((phone) => hub.account(phone).credential);
      assert.ok(a && b && a !== b, "each account holds its own device's login");
    });

    await step("a message to one account reaches its number only", async () => {
      const [first, second] = PHONES;
      const id = hub.account(second).deliverIncoming({ from: ALICE, body: "for the second" });
      const event = await receiver.waitFor(
        (e) => e.event === "message" && (e.payload as { id?: string }).id === id,
        "the second number's message",
      );
      assert.equal(event.session, second);
      hub.account(first).deliverIncoming({ from: ALICE, body: "for the first" });
      await receiver.waitFor(
        (e) => e.event === "message" && (e.payload as { body?: string }).body === "for the first",
        "the first number's message",
      );
      const bodies = (phone: string) =>
        receiver.received
          .filter((e) => e.event === "message" && e.session === phone)
          .map((e) => (e.payload as { body?: string }).body);
      assert.deepEqual(bodies(first), ["for the first"]);
      assert.deepEqual(bodies(second), ["for the second"]);
    });

    await step("a restarted server brings both numbers back linked, without a QR", async () => {
      await server.close();
      server = await startTestApp(env);
      await server.manager.restore();
      for (const phone of PHONES) await waitForState(server, phone, "CONNECTED", 30_000);
      for (const phone of PHONES) {
        const { body } = await server.json("GET", `/${phone}/state`);
        assert.equal((body.me as { id?: string } | null)?.id, `${phone}@c.us`);
      }
      assert.equal(hub.currentQr(), null, "no page asked for a scan");
    });
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await server.close();
    await receiver.close();
    if (failed) await hub.close().catch((error) => console.error(String(error)));
    else await hub.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
