/**
 * @module
 * WAHA's `session.status` posts travel side by side, so they can arrive out of order: a
 * `SCAN_QR_CODE` post still in flight when the scan's `WORKING` one lands. On the waha engine the
 * gateway applies a post only when WAHA made it after the last one applied (the envelope's
 * `timestamp`, WAHA's clock); an older one is acknowledged and dropped. The posts here are made
 * as the fake WAHA makes its own (same URL, key and HMAC), with the times chosen by the test.
 */
import assert from "node:assert/strict";
import { waitFor, webhookEvent } from "./_helpers.ts";
import { signHmac } from "../events/test_receivers.ts";
import { HMAC_SECRET, type WahaGateway, withLinkedWaha } from "./fake_waha/gateway.ts";

const PHONE = "4915550022301";

/** Posts a `session.status` as WAHA would, made at `timestamp`, to the hook the engine set. */
async function postStatus(
  gateway: WahaGateway,
  status: string,
  timestamp: number,
): Promise<Response> {
  const session = gateway.fake.sessions.get(PHONE)!;
  const hook = session.config.webhooks!.find((h) => h.events.includes("session.status"))!;
  const body = JSON.stringify({
    id: `evt_${crypto.randomUUID().replaceAll("-", "")}`,
    timestamp,
    event: "session.status",
    session: PHONE,
    me: session.me,
    payload: { name: PHONE, status },
    engine: "NOWEB",
  });
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "X-Webhook-Hmac": await signHmac(HMAC_SECRET, body),
    "X-Webhook-Hmac-Algorithm": "sha512",
  };
  for (const header of hook.customHeaders ?? []) headers[header.name] = header.value;
  return fetch(hook.url, { method: "POST", headers, body });
}

const statusesOf = (gateway: WahaGateway) =>
  gateway.receiver.received
    .filter((r) => r.json.event === "session.status")
    .map((r) => r.json.payload.status);

Deno.test("a session.status WAHA made before the last one applied is acknowledged and dropped", async () => {
  await withLinkedWaha(PHONE, async (gateway) => {
    await webhookEvent(gateway.receiver, "session.status", (p) => p.status === "WORKING");
    const applied = Date.now();
    // The scan's WORKING, made now, lands first…
    const working = await postStatus(gateway, "WORKING", applied);
    assert.equal(working.status, 200, await working.text());
    // …then the SCAN_QR_CODE WAHA made a second earlier.
    const stale = await postStatus(gateway, "SCAN_QR_CODE", applied - 1_000);
    assert.equal(stale.status, 200, await stale.text());
    // Applied at once, as a post is: the number is still linked.
    const state = await gateway.server.json("GET", `/${PHONE}/state`);
    assert.equal(state.body.status, "WORKING");

    // A later one is applied: WAHA made it after the WORKING.
    const later = await postStatus(gateway, "SCAN_QR_CODE", applied + 1);
    assert.equal(later.status, 200, await later.text());
    const sinceLinked = () => statusesOf(gateway).slice(statusesOf(gateway).indexOf("WORKING"));
    await waitFor(
      "the later SCAN_QR_CODE at the webhook",
      () => sinceLinked().includes("SCAN_QR_CODE"),
    );
    // Once: had the stale post been applied, it would have sent one of its own.
    assert.equal(
      sinceLinked().filter((s) => s === "SCAN_QR_CODE").length,
      1,
      sinceLinked().join(),
    );
  });
});
