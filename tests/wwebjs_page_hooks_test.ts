/**
 * @module
 * What whatsapp-web.js changes in WhatsApp Web takes effect against the strict fake: the gate it
 * opens and the resend it asks for bring a message that arrived before its keys ("Waiting for this
 * message") to the API once the phone resends it. (The protobuf patches are checked where
 * locations and group invitations are sent, in `wwebjs_engine_more_test.ts`.) And what the engine
 * holds of the page's requests: its images are refused, unless told not to.
 */
import assert from "node:assert/strict";
import type { EngineEvent } from "../sessions/engine.ts";
import { withLinkedEngine } from "./fake_whatsapp/engine_harness.ts";
import { ALICE, ME } from "./fake_whatsapp/cast.ts";

type MessageEvent = Extract<EngineEvent, { type: "message" }>;

Deno.test("wwebjs engine delivers a message that arrived before its keys once whatsapp-web.js had the phone resend it", () =>
  withLinkedEngine({
    me: ME,
    chats: [{ id: ALICE, name: "Alice" }],
    contacts: [{ id: ALICE, name: "Alice", isMyContact: true }],
  }, async ({ cloud, rec }) => {
    const id = cloud.deliverIncoming({
      from: ALICE,
      body: "sent while the keys were missing",
      undecryptable: true,
    });
    // whatsapp-web.js batches the resend request for 5 s.
    const event = await rec.waitFor(
      (e): e is MessageEvent => e.type === "message" && e.message.id === id,
      { timeoutMs: 20_000 },
    );
    assert.deepEqual(
      [event.message.type, event.message.body, event.message.from],
      ["chat", "sent while the keys were missing", ALICE],
    );
    assert.deepEqual(cloud.resendRequests, [id], "the page asked the phone for it, once");
    assert.equal(rec.of("message").length, 1, "the placeholder itself was not delivered");
  }));

Deno.test("wwebjs engine refuses the page's images, and lets them through with blockResources off", async () => {
  await withLinkedEngine({ me: ME }, ({ cloud }) => {
    assert.equal(cloud.imageRequests, 0, "the avatar was refused");
    return Promise.resolve();
  });
  await withLinkedEngine({ me: ME }, async ({ cloud }) => {
    await cloud.waitFor(() => cloud.imageRequests > 0);
  }, { tuning: { blockResources: false } });
});
