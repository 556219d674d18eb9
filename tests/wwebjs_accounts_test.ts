/**
 * @module
 * Several whatsapp-web.js numbers on one server, each linked as its own account of one fake
 * WhatsApp Web (`fake_cloud_hub.ts`): whatsapp-web.js in real Chromium for each, started and linked by QR
 * over our HTTP API. A message to one account reaches that number's webhook events only, a send is
 * made as the number that sent it, and a Chromium killed comes back linked with its own saved
 * credential (no QR) while the other number stays linked: what the long soak relies on.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeCloudHub } from "./fake_whatsapp/fake_cloud_hub.ts";
import { ALICE } from "./fake_whatsapp/cast.ts";
import { chromiumUnder, startReceiver, wwebjsEnv } from "./fake_whatsapp/http_harness.ts";
import { startTestApp, type TestApp, waitFor, waitForState } from "./_helpers.ts";
import { decodeQrDataUrl } from "./qr_decode.ts";

const FIRST = "4915550101";
const SECOND = "4915550102";

Deno.test("two wwebjs numbers stay linked at once as accounts of their own: messages reach their own number, and a killed Chromium comes back without a QR", async () => {
  const hub = await startFakeCloudHub(
    [FIRST, SECOND].map((phone) => ({
      me: `${phone}@c.us`,
      contacts: [{ id: ALICE, name: "Alice" }],
    })),
  );
  const [first, second] = hub.accounts;
  const receiver = startReceiver();
  const dataDir = await Deno.makeTempDir({ prefix: "wwebjs_accounts_test_" });
  let server: TestApp | null = null;
  try {
    server = await startTestApp(
      wwebjsEnv(hub, { DATA_DIR: dataDir, WEBHOOK_URL: receiver.url }),
    );
    const app = server;
    for (const phone of [FIRST, SECOND]) {
      assert.equal((await app.json("POST", `/${phone}/start`)).status, 200);
      const qr = await waitFor("the QR", async () => {
        const { status, body } = await app.json<{ qrCode: string }>("GET", `/${phone}/qr`);
        return status === 200 && body.qrCode;
      }, 30_000);
      hub.scanQr(decodeQrDataUrl(qr), phone);
      await waitForState(app, phone, "CONNECTED", 30_000);
    }
    assert.ok(first.credential && second.credential, "each account linked a device");
    assert.notEqual(first.credential, second.credential);

    const id = second.deliverIncoming({ from: ALICE, body: "for the second" });
    const event = await receiver.waitFor(
      (e) => e.event === "message" && (e.payload as { id?: string }).id === id,
      "the message to the second number",
    );
    assert.equal(event.session, SECOND);
    assert.equal((event.payload as { to?: string }).to, `${SECOND}@c.us`);

    const sent = await app.json("POST", `/${FIRST}/send-text`, {
      body: { chatId: ALICE, text: "from the first" },
    });
    assert.equal(sent.status, 200);
    const record = await first.waitFor(() => first.sent.find((s) => s.body === "from the first"));
    assert.equal(record.chatId, ALICE);
    assert.ok(!second.sent.some((s) => s.body === "from the first"), "sent as the first number");

    const refs = hub.refsIssued.length;
    const chromium = chromiumUnder(join(dataDir, "sessions", FIRST));
    assert.ok(chromium, "the first number's Chromium runs under its own folder");
    Deno.kill(chromium, "SIGKILL");
    await waitFor("the first number to notice", async () => {
      const { body } = await app.json("GET", `/${FIRST}/state`);
      return body.state !== "CONNECTED";
    }, 10_000);
    await waitForState(app, FIRST, "CONNECTED", 30_000);
    assert.equal(hub.refsIssued.length, refs, "no new QR was needed");
    assert.equal((await app.json("GET", `/${SECOND}/state`)).body.state, "CONNECTED");

    const again = first.deliverIncoming({ from: ALICE, body: "after the crash" });
    const back = await receiver.waitFor(
      (e) => e.event === "message" && (e.payload as { id?: string }).id === again,
      "the message to the first number after its Chromium came back",
    );
    assert.equal(back.session, FIRST);
    const elsewhere = receiver.received.filter((e) =>
      e.event === "message" && e.session !== (e.payload as { to?: string }).to?.split("@")[0]
    );
    assert.deepEqual(elsewhere, [], "no message reached another number's session");
  } finally {
    await server?.close();
    await receiver.close();
    await hub.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
