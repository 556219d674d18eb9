/**
 * @module
 * The site's own ways, against the fake WhatsApp Web through the real whatsapp-web.js: a logout
 * is a reload of WhatsApp Web with `post_logout=1` (the library's own logout path), served from
 * the pinned version rather than the live site, and it ends the session STOPPED with its login
 * deleted; a QR nobody scans goes `UNPAIRED_IDLE`, which whatsapp-web.js means to refresh but
 * cannot (its handler calls `window.require` in the server), so the engine refreshes it in the
 * page and new QR codes keep coming.
 */
import assert from "node:assert/strict";
import { withLinkedServer } from "./fake_whatsapp/http_harness.ts";
import { startFakeCloud } from "./fake_whatsapp/fake_cloud.ts";
import { createWwebjsEngine } from "../sessions/engines/wwebjs/engine.ts";
import { EventRecorder, fakeEngineOptions, killGroup } from "./fake_whatsapp/engine_harness.ts";
import { ALICE, ME } from "./fake_whatsapp/cast.ts";
import { waitFor, waitForState } from "./_helpers.ts";

Deno.test("a logout from the phone is the site's reload with post_logout=1: the session is STOPPED, saying so, and its login deleted", () =>
  withLinkedServer({ me: ME, chats: [{ id: ALICE, name: "Alice" }] }, async ({
    server,
    cloud,
    phone,
  }) => {
    const auth = `${server.dataDir}/sessions/${phone}/auth`;
    await Deno.stat(auth);
    cloud.logoutFromPhone();
    await waitForState(server, phone, "DISCONNECTED", 20_000);
    const { body } = await server.json("GET", `/${phone}/state`);
    // LOGOUT is what whatsapp-web.js reports for the post_logout=1 navigation (not a state).
    assert.deepEqual([body.status, body.reason], ["STOPPED", "Logged out from the phone (LOGOUT)"]);
    await waitFor("the login to be deleted", async () => {
      try {
        await Deno.stat(auth);
        return false;
      } catch {
        return true;
      }
    });
    // Stopped for good: not restarted.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await server.json("GET", `/${phone}/state`)).body.status, "STOPPED");
  }));

Deno.test("a QR nobody scans that goes UNPAIRED_IDLE is refreshed in the page, and a later QR still links", async () => {
  const cloud = await startFakeCloud({ me: ME, qrRotateMs: 250, qrIdleAfter: 2 });
  const sessionDir = await Deno.makeTempDir({ prefix: "wwebjs_idle_qr_" });
  const rec = new EventRecorder();
  const engine = createWwebjsEngine(fakeEngineOptions(cloud, sessionDir));
  try {
    await engine.start(rec.sink);
    // Two rotations, idle, then the engine's refresh: the QR keeps coming.
    await cloud.waitFor(() => cloud.qrRefreshes >= 2, 15_000);
    const refreshed = cloud.refsIssued.at(-1)!;
    const qr = await rec.waitFor(
      (e): e is Extract<typeof e, { type: "qr" }> =>
        e.type === "qr" && e.value.startsWith(`${refreshed},`),
    );
    assert.ok(rec.of("qr").length >= 5, `QR codes shown: ${rec.of("qr").length}`);
    assert.equal(rec.of("status").at(-1)?.status, "SCAN_QR_CODE");
    cloud.scanQr(qr.value);
    await rec.status("WORKING");
  } finally {
    await engine.stop().catch(() => {});
    for (const e of rec.of("child_process")) killGroup(e.pid);
    await cloud.close();
    await Deno.remove(sessionDir, { recursive: true }).catch(() => {});
  }
});
