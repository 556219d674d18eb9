/**
 * @module
 * Who linked, as the real whatsapp-web.js engine reports it from the fake WhatsApp Web in real
 * Chromium: the account's phone number when WhatsApp Web reports `me` by its LID (resolved through
 * the page's LID mapping), the LID as it is when the page cannot map it, and another number's
 * phone when the QR was scanned with it, whose device a logout then removes.
 */
import assert from "node:assert/strict";
import { createWwebjsEngine } from "../sessions/engines/wwebjs/engine.ts";
import type { EngineEvent } from "../sessions/engine.ts";
import { type FakeCloud, type LinkingPhone, startFakeCloud } from "./fake_whatsapp/fake_cloud.ts";
import { EventRecorder, fakeEngineOptions, killGroup } from "./fake_whatsapp/engine_harness.ts";
import { ALICE, ME } from "./fake_whatsapp/cast.ts";

const ME_LID = "111111111111111@lid";
const OTHER = "4915550099@c.us";
const OTHER_LID = "222222222222222@lid";

/**
 * Starts an engine for the cloud's number, has `by` scan its QR (a message arriving at once), and
 * hands the engine and its events, once WORKING, to `fn`.
 */
async function linkedBy(
  cloud: FakeCloud,
  by: LinkingPhone,
  fn: (engine: ReturnType<typeof createWwebjsEngine>, rec: EventRecorder) => void | Promise<void>,
): Promise<void> {
  const sessionDir = await Deno.makeTempDir({ prefix: "wwebjs_link_test_" });
  const rec = new EventRecorder();
  const engine = createWwebjsEngine(fakeEngineOptions(cloud, sessionDir));
  try {
    await engine.start(rec.sink);
    cloud.scanQr((await rec.type("qr")).value, by);
    cloud.deliverIncoming({ from: ALICE, body: "hello whoever linked" });
    await rec.status("WORKING");
    await fn(engine, rec);
  } finally {
    await engine.stop().catch(() => {});
    for (const e of rec.of("child_process")) killGroup(e.pid);
    await Deno.remove(sessionDir, { recursive: true }).catch(() => {});
  }
}

/** The events before the first WORKING report. */
function beforeWorking(rec: EventRecorder): EngineEvent[] {
  const at = rec.events.findIndex((e) => e.type === "status" && e.status === "WORKING");
  return rec.events.slice(0, at);
}

Deno.test("wwebjs engine reports a LID-reported account by the phone number WhatsApp Web maps it to", async () => {
  const cloud = await startFakeCloud({ me: ME, meLid: ME_LID, pushName: "Lid Me" });
  try {
    await linkedBy(cloud, {}, (_engine, rec) => {
      assert.deepEqual(cloud.linkedBy, { phone: ME, lid: ME_LID }, "the page was told its LID");
      assert.deepEqual(rec.of("status").at(-1)?.me, { id: ME, pushName: "Lid Me", lid: ME_LID });
      assert.deepEqual(
        beforeWorking(rec).filter((e) => e.type.startsWith("message")),
        [],
        "no message event leaves before the account is reported",
      );
    });
  } finally {
    await cloud.close();
  }
});

Deno.test("wwebjs engine reports a LID it cannot map as it is, and another phone's account by its number, whose device logout removes", async (t) => {
  const cloud = await startFakeCloud({ me: ME });
  try {
    await t.step("a LID without a mapping is reported as the LID", async () => {
      await linkedBy(cloud, { phone: OTHER, lid: OTHER_LID, unmapped: true }, (_engine, rec) => {
        assert.equal(rec.of("status").at(-1)?.me?.id, OTHER_LID);
      });
    });

    await t.step(
      "another number's phone is reported by its number; logout unlinks it",
      async () => {
        await linkedBy(cloud, { phone: OTHER }, async (engine, rec) => {
          assert.equal(rec.of("status").at(-1)?.me?.id, OTHER);
          assert.ok(cloud.credential, "linked in the cloud");
          await engine.logout();
          assert.equal(cloud.credential, null, "the phone's linked device is gone");
          assert.equal(cloud.linkedBy, null);
          assert.ok(cloud.actions.some((a) => a.action === "logout"));
          assert.equal(rec.of("logged_out").length, 1);
        });
      },
    );
  } finally {
    await cloud.close();
  }
});
