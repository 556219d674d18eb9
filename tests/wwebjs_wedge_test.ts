/**
 * @module
 * A wwebjs session whose WhatsApp page stops answering, through the HTTP API: the engine keeps no
 * timeout or wedge rule of its own, so it is the manager's (`ENGINE_CALL_TIMEOUT_MS`, three
 * timeouts in a row) that answers 504 and then ends the Worker, its Chromium with it, and brings
 * the session back through the restart policy with its stored login.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeCloud } from "./fake_whatsapp/fake_cloud.ts";
import { ALICE, ME } from "./fake_whatsapp/cast.ts";
import { startTestApp, waitFor, waitForState } from "./_helpers.ts";
import { decodeQrDataUrl } from "./qr_decode.ts";
import { chromiumGroupsUnder } from "./processes.ts";

const PHONE = ME.split("@")[0];

Deno.test("a wwebjs session whose page stops answering gets 504s, then is restarted after three in a row", async () => {
  // Registered: a send first asks whether the number is on WhatsApp.
  const cloud = await startFakeCloud({
    me: ME,
    chats: [{ id: ALICE, name: "Alice" }],
    registered: [ALICE],
  });
  const server = await startTestApp({
    WA_ENGINE: "wwebjs",
    WWEBJS_WEB_VERSION: cloud.webVersion,
    WWEBJS_WEB_CACHE_PATH: cloud.webVersionCachePath,
    ENGINE_CALL_TIMEOUT_MS: "2000",
    RESTART_BACKOFF_MIN_MS: "50",
    // Not about heartbeats: a Worker importing whatsapp-web.js on a busy machine may miss one.
    HEARTBEAT_TIMEOUT_MS: "10000",
  });
  const send = (text: string) =>
    server.json("POST", `/${PHONE}/send-text`, { body: { chatId: ALICE, text } });
  try {
    assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
    const qrCode = await waitFor("the QR", async () => {
      const qr = await server.json<{ qrCode?: string }>("GET", `/${PHONE}/qr`);
      return qr.status === 200 ? qr.body.qrCode : null;
    }, 30_000);
    cloud.scanQr(decodeQrDataUrl(qrCode));
    await waitForState(server, PHONE, "CONNECTED", 60_000);
    assert.equal((await send("before")).status, 200);
    const folder = join(server.dataDir, "sessions", PHONE);
    const [browser, ...others] = chromiumGroupsUnder(folder);
    assert.ok(browser && others.length === 0, "one Chromium runs under the session's folder");

    cloud.freezePage();
    // The page takes the freeze on its next poll: until then a send may still go through.
    const statuses: number[] = [];
    while (statuses.slice(-3).join() !== "504,504,504") {
      assert.ok(statuses.length < 10, `three timeouts in a row: ${statuses}`);
      statuses.push((await send("into the void")).status);
    }
    assert.ok(statuses.every((s) => s === 200 || s === 504), `${statuses}`);
    const state = await server.json("GET", `/${PHONE}/state`);
    assert.equal(state.body.status, "STARTING");
    assert.match(String(state.body.reason), /3 calls in a row timed out/);
    await waitFor(
      "the frozen Chromium to be killed",
      () => !chromiumGroupsUnder(folder).has(browser),
      10_000,
    );

    const refs = cloud.refsIssued.length;
    await waitForState(server, PHONE, "CONNECTED", 60_000);
    assert.equal(cloud.refsIssued.length, refs, "no new QR was needed");
    assert.equal((await send("after")).status, 200);
  } finally {
    await server.close();
    await cloud.close();
  }
});
