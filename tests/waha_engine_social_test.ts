/**
 * @module
 * Presence and labels on the waha engine through our HTTP API, against the fake WAHA: setting our
 * presence, reading and subscribing to a chat's, and listing them are WAHA's presence calls;
 * labels are listed, created, changed and deleted, put on a chat and read back by WAHA's labels
 * calls, with the bodies WAHA's DTOs take, answering in our contract's shapes; what WAHA would
 * refuse as "unprocessable" is refused by us first, as a bad request. Rejecting a call and a
 * contact's about are WAHA's calls too.
 */
import assert from "node:assert/strict";
import { linkWahaSession, startWahaGateway } from "./fake_waha/gateway.ts";
import { ONLINE_CONTACT } from "./fake_waha/social.ts";

const PHONE = "4915550022401";
const BOB = "15550000002@c.us";

Deno.test("presence, labels, calls and a contact's about on the waha engine are WAHA's calls", async (t) => {
  const gateway = await startWahaGateway();
  const { server, fake } = gateway;
  const lastCall = (path: string, method: string) => fake.callsTo(path, method).at(-1);
  const api = (suffix: string) => `/api/${PHONE}${suffix}`;
  try {
    await linkWahaSession(gateway, PHONE);

    await t.step("our presence is WAHA's POST presence", async () => {
      const set = await server.json("POST", `/${PHONE}/presence`, { body: { presence: "online" } });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.deepEqual(lastCall(api("/presence"), "POST")?.body, { presence: "online" });
      assert.deepEqual(fake.sessions.get(PHONE)?.social.presence, { presence: "online" });
    });

    await t.step("a chat's presence is WAHA's, and so are those subscribed to", async () => {
      const alice = await server.json("GET", `/${PHONE}/presence/${ONLINE_CONTACT}`);
      assert.equal(alice.status, 200, JSON.stringify(alice.body));
      assert.deepEqual(alice.body, {
        id: ONLINE_CONTACT,
        presences: [{ participant: ONLINE_CONTACT, lastKnownPresence: "online", lastSeen: null }],
      });
      const subscribed = await server.json("POST", `/${PHONE}/presence/${BOB}/subscribe`);
      assert.equal(subscribed.status, 200, JSON.stringify(subscribed.body));
      assert.equal(fake.callsTo(api(`/presence/${BOB}/subscribe`), "POST").length, 1);
      const all = await server.json<{ id: string }[]>("GET", `/${PHONE}/presence`);
      assert.equal(all.status, 200, JSON.stringify(all.body));
      assert.deepEqual(all.body, [
        alice.body,
        { id: BOB, presences: [] },
      ]);
    });

    await t.step("labels are listed, created and changed by WAHA's labels calls", async () => {
      const listed = await server.json("GET", `/${PHONE}/labels`);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      assert.deepEqual(listed.body, [
        { id: "1", name: "New customer", color: 0, colorHex: "#ff9485" },
        { id: "2", name: "New order", color: 1, colorHex: "#64c4ff" },
        { id: "3", name: "Pending payment", color: 2, colorHex: "#ffd429" },
        { id: "4", name: "Paid", color: 3, colorHex: "#dfaef0" },
        { id: "5", name: "Order complete", color: 4, colorHex: "#99b6c1" },
      ]);
      const created = await server.json("POST", `/${PHONE}/labels`, {
        body: { name: "VIP", colorHex: "#ffd429" },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.deepEqual(lastCall(api("/labels"), "POST")?.body, { name: "VIP", color: 2 });
      assert.deepEqual(created.body, { id: "6", name: "VIP", color: 2, colorHex: "#ffd429" });
      const plain = await server.json("POST", `/${PHONE}/labels`, { body: { name: "Plain" } });
      assert.equal(plain.status, 200, JSON.stringify(plain.body));
      assert.deepEqual(lastCall(api("/labels"), "POST")?.body, { name: "Plain", color: 0 });
      const changed = await server.json("PUT", `/${PHONE}/labels/6`, {
        body: { name: "Very important" },
      });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assert.deepEqual(lastCall(api("/labels/6"), "PUT")?.body, {
        name: "Very important",
        color: 2,
      });
      assert.deepEqual(changed.body, {
        id: "6",
        name: "Very important",
        color: 2,
        colorHex: "#ffd429",
      });
    });

    await t.step("what WAHA would refuse as unprocessable is a bad request", async () => {
      const calls = fake.callsTo(api("/labels"), "POST").length;
      const taken = await server.json("POST", `/${PHONE}/labels`, { body: { name: "New order" } });
      assert.equal(taken.status, 400, JSON.stringify(taken.body));
      assert.match(String(taken.body.error), /New order/);
      assert.equal(fake.callsTo(api("/labels"), "POST").length, calls, "WAHA is not asked");
      const same = await server.json("PUT", `/${PHONE}/labels/1`, {
        body: { name: "New customer", color: 5 },
      });
      assert.equal(same.status, 400, JSON.stringify(same.body));
      const missing = await server.json("PUT", `/${PHONE}/labels/99`, { body: { name: "X" } });
      assert.equal(missing.status, 404, JSON.stringify(missing.body));
    });

    await t.step("a chat's labels are set and read by WAHA's labels/chats calls", async () => {
      const set = await server.json("PUT", `/${PHONE}/labels/chats/${BOB}`, {
        body: { labels: [{ id: "1" }, { id: "6" }] },
      });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.deepEqual(lastCall(api(`/labels/chats/${BOB}`), "PUT")?.body, {
        labels: [{ id: "1" }, { id: "6" }],
      });
      const labels = await server.json<{ id: string }[]>("GET", `/${PHONE}/labels/chats/${BOB}`);
      assert.equal(labels.status, 200, JSON.stringify(labels.body));
      assert.deepEqual(labels.body.map((l) => l.id), ["1", "6"]);
      const chats = await server.json<{ id: string; isGroup: boolean }[]>(
        "GET",
        `/${PHONE}/labels/6/chats`,
      );
      assert.equal(chats.status, 200, JSON.stringify(chats.body));
      assert.deepEqual(chats.body.map((c) => [c.id, c.isGroup]), [[BOB, false]]);
    });

    await t.step("a label deleted is WAHA's DELETE, and leaves its chats", async () => {
      const removed = await server.json("DELETE", `/${PHONE}/labels/6`);
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.equal(fake.callsTo(api("/labels/6"), "DELETE").length, 1);
      const labels = await server.json<{ id: string }[]>("GET", `/${PHONE}/labels/chats/${BOB}`);
      assert.deepEqual(labels.body.map((l) => l.id), ["1"]);
      const gone = await server.json("DELETE", `/${PHONE}/labels/6`);
      assert.equal(gone.status, 404, JSON.stringify(gone.body));
    });

    await t.step("rejecting a call is WAHA's calls/reject", async () => {
      const call = { from: BOB, id: "ABCDEFGABCDEFGABCDEFGABCDEFG" };
      fake.sessions.get(PHONE)!.social.ringing.set(call.id, call.from);
      const rejected = await server.json("POST", `/${PHONE}/calls/reject`, { body: call });
      assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
      assert.deepEqual(lastCall(api("/calls/reject"), "POST")?.body, call);
      assert.equal(fake.sessions.get(PHONE)?.social.ringing.has(call.id), false);
    });

    await t.step("a contact's about is WAHA's contacts/about, null when hidden", async () => {
      const shared = await server.json("GET", `/${PHONE}/contacts/${BOB}/about`);
      assert.equal(shared.status, 200, JSON.stringify(shared.body));
      assert.deepEqual(lastCall("/api/contacts/about", "GET")?.query, {
        session: PHONE,
        contactId: BOB,
      });
      assert.deepEqual(shared.body, { about: "Hey there! I am using WhatsApp." });
      const hidden = await server.json("GET", `/${PHONE}/contacts/4930000000001@c.us/about`);
      assert.equal(hidden.status, 200, JSON.stringify(hidden.body));
      assert.deepEqual(hidden.body, { about: null });
    });
  } finally {
    await gateway.close();
  }
});
