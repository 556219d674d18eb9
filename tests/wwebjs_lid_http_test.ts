/**
 * @module
 * LIDs end to end, through our HTTP API and the real whatsapp-web.js against the fake WhatsApp
 * Web, which writes users by LID where WhatsApp Web now does: Alice's chat was moved to her LID
 * (WhatsApp Web knows her number), a group writes its members and authors by LID, Bob's number
 * only WhatsApp's server tells, and Erin's nobody. Every endpoint that names a contact or chat
 * takes a phone number, a `@c.us` id or a `@lid` id; what carries a LID carries the phone number
 * beside it when known; `GET /lids…` maps between them; and the engine's own comparisons (the
 * API's own sends, media's chat, admin rights, quoted ids) hold for both forms.
 */
import assert from "node:assert/strict";
import type { FakeCloudOptions } from "./fake_whatsapp/fake_cloud.ts";
import { withLinkedServer } from "./fake_whatsapp/http_harness.ts";
import {
  ALICE,
  ALICE_LID,
  BOB,
  BOB_LID,
  CAROL,
  ERIN_LID,
  ME,
  ME_LID,
  NEIGHBOURS,
  PIXEL_PNG,
} from "./fake_whatsapp/cast.ts";
import { startSession, startTestApp } from "./_helpers.ts";

const ALICE_PHONE = ALICE.split("@")[0];

function lidWorld(): FakeCloudOptions {
  return {
    me: ME,
    pushName: "Lid World",
    accountLid: ME_LID,
    lidMap: { [ALICE_LID]: ALICE },
    serverLidMap: { [BOB_LID]: BOB },
    chats: [
      { id: ALICE_LID, name: "Alice" },
      {
        id: NEIGHBOURS,
        name: "Neighbours",
        group: {
          subject: "Neighbours",
          owner: ME_LID,
          addressingMode: "lid",
          participants: [
            { id: ME_LID, isAdmin: true, isSuperAdmin: true },
            { id: ALICE_LID },
            { id: BOB_LID },
            { id: ERIN_LID },
          ],
        },
      },
    ],
    contacts: [
      { id: ALICE_LID, name: "Alice", isMyContact: true },
      { id: BOB, name: "Bob", isMyContact: true },
      { id: ERIN_LID, pushname: "erin" },
    ],
    registered: [CAROL],
  };
}

type Json = Record<string, unknown>;
const payloadOf = (e: Json) => e.payload as Json;

Deno.test("a chat WhatsApp writes by a LID answers to the phone number: sends, reads, quotes and media, with the number beside the LID in answers and events", () =>
  withLinkedServer(lidWorld(), async ({ server, cloud, receiver, phone }) => {
    const stanza = "AC00000000000000A1";
    cloud.seedMessage({ chatId: ALICE_LID, body: "are we still on?", id: stanza });
    // Sent to the bare number: WhatsApp Web writes it in Alice's LID chat.
    const sent = await server.json("POST", `/${phone}/send-text`, {
      body: { chatId: ALICE_PHONE, text: "yes, 10am" },
    });
    assert.equal(sent.status, 200);
    assert.match(String(sent.body.messageId), new RegExp(`^true_${ALICE_LID}_`));
    const record = await cloud.waitFor(() => cloud.sent.find((s) => s.id === sent.body.messageId));
    assert.equal(record.chatId, ALICE_LID);
    // The API's own send is known as such although it named the chat by the number.
    const ours = payloadOf(
      await receiver.waitFor(
        (e) => e.event === "message.any" && payloadOf(e).id === sent.body.messageId,
        "our message.any",
      ),
    );
    assert.deepEqual(
      [ours.source, ours.to, ours.toPn, (ours._data as Json).chatId, (ours._data as Json).chatPn],
      ["api", ALICE_LID, ALICE, ALICE_LID, ALICE],
    );

    // An incoming message from the LID carries her number beside it.
    const incoming = cloud.deliverIncoming({ from: ALICE_LID, body: "great" });
    const heard = payloadOf(
      await receiver.waitFor(
        (e) => e.event === "message" && payloadOf(e).id === incoming,
        "the incoming message",
      ),
    );
    assert.deepEqual([heard.from, heard.fromPn, heard.body], [ALICE_LID, ALICE, "great"]);

    // The chat, by number or by LID.
    const chats = await server.json<{ chats: Json[] }>("GET", `/${phone}/chats`);
    assert.deepEqual(
      chats.body.chats.filter((c) => c.id === ALICE_LID).map((c) => c.pn),
      [ALICE],
    );
    for (const chatId of [ALICE_PHONE, ALICE, ALICE_LID]) {
      const chat = await server.json("GET", `/${phone}/chat/${chatId}`);
      assert.deepEqual([chat.status, chat.body.id, chat.body.pn], [200, ALICE_LID, ALICE], chatId);
      const page = await server.json<{ messages: Json[] }>(
        "GET",
        `/${phone}/messages/${chatId}?limit=3`,
      );
      assert.deepEqual(page.body.messages.map((m) => [m.body, m.chatPn]), [
        ["great", ALICE],
        ["yes, 10am", ALICE],
        ["are we still on?", ALICE],
      ], chatId);
    }

    // A quoted message named by the number-form id is the LID chat's message.
    const quoted = await server.json("POST", `/${phone}/send-text`, {
      body: { chatId: ALICE_LID, text: "see you", quotedMsgId: `false_${ALICE}_${stanza}` },
    });
    assert.equal(quoted.status, 200, JSON.stringify(quoted.body));
    const quoting = await cloud.waitFor(() =>
      cloud.sent.find((s) => s.id === quoted.body.messageId)
    );
    assert.equal(quoting.quotedMsgId, `false_${ALICE_LID}_${stanza}`);

    // Media of a message in the LID chat, asked for by number.
    const picture = cloud.deliverIncoming({
      from: ALICE_LID,
      media: {
        mimetype: "image/png",
        data: Uint8Array.from(atob(PIXEL_PNG), (c) => c.charCodeAt(0)),
      },
    });
    await receiver.waitFor((e) => payloadOf(e).id === picture, "the picture");
    const byNumber = picture.replace(ALICE_LID, ALICE);
    const media = await server.request(
      "GET",
      `/${phone}/messages/${ALICE_PHONE}/${byNumber}/media`,
    );
    assert.equal(media.status, 200);
    assert.equal(media.headers.get("content-type"), "image/png");
    assert.equal(
      btoa(String.fromCharCode(...new Uint8Array(await media.arrayBuffer()))),
      PIXEL_PNG,
    );
    const elsewhere = await server.json("GET", `/${phone}/messages/${BOB}/${picture}/media`);
    assert.equal(elsewhere.status, 404, "another chat's message is not found there");

    // Revoked by its number-form id.
    const revoked = await server.json(
      "DELETE",
      `/${phone}/messages/${String(sent.body.messageId).replace(ALICE_LID, ALICE)}`,
    );
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.deepEqual(cloud.actions.filter((a) => a.action === "revoke"), [
      { action: "revoke", id: sent.body.messageId },
    ]);
  }));

Deno.test("contacts and group members known by LID are found by either id, carry the other one beside, and admin rights and removals hold across both forms", () =>
  withLinkedServer(lidWorld(), async ({ server, cloud, receiver, phone }) => {
    for (const contactId of [ALICE_PHONE, ALICE_LID]) {
      const alice = await server.json("GET", `/${phone}/contact/${contactId}`);
      assert.deepEqual(
        [alice.status, alice.body.id, alice.body.lid, alice.body.number, alice.body.name],
        [200, ALICE, ALICE_LID, ALICE_PHONE, "Alice"],
        contactId,
      );
    }
    const erin = await server.json("GET", `/${phone}/contact/${ERIN_LID}`);
    assert.deepEqual(
      [erin.status, erin.body.id, erin.body.pn, erin.body.number, erin.body.pushname],
      [200, ERIN_LID, undefined, "", "erin"],
      "a LID without a known number has no number",
    );

    const group = await server.json<{ owner: string; ownerPn?: string; participants: Json[] }>(
      "GET",
      `/${phone}/group/${NEIGHBOURS}`,
    );
    assert.equal(group.status, 200);
    assert.deepEqual([group.body.owner, group.body.ownerPn], [ME_LID, ME]);
    assert.deepEqual(
      group.body.participants.map((p) => [p.id, p.pn ?? null, p.lid ?? null, p.isAdmin]),
      [
        // whatsapp-web.js writes members by number where WhatsApp Web knows it.
        [ME, null, ME_LID, true],
        [ALICE, null, ALICE_LID, false],
        [BOB_LID, null, null, false],
        [ERIN_LID, null, null, false],
      ],
    );

    // Authors in the LID group.
    const fromAlice = cloud.deliverIncoming({
      chatId: NEIGHBOURS,
      from: ALICE_LID,
      body: "hi all",
    });
    const fromErin = cloud.deliverIncoming({ chatId: NEIGHBOURS, from: ERIN_LID, body: "hello" });
    const a = payloadOf(await receiver.waitFor((e) => payloadOf(e).id === fromAlice, "Alice's"));
    const e = payloadOf(await receiver.waitFor((e) => payloadOf(e).id === fromErin, "Erin's"));
    assert.deepEqual([a.participant, a.participantPn], [ALICE_LID, ALICE]);
    assert.deepEqual([e.participant, e.participantPn], [ERIN_LID, undefined]);

    // We are admin by our LID: Erin's message may be revoked for everyone.
    const revoked = await server.json("DELETE", `/${phone}/messages/${fromErin}`);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.deepEqual(cloud.actions.filter((x) => x.action === "revoke"), [
      { action: "revoke", id: fromErin },
    ]);

    // Alice, listed by LID, removed by her number; Erin by LID; Carol added by number.
    const removed = await server.json<{ results: Json[] } | Json[]>(
      "POST",
      `/${phone}/group/${NEIGHBOURS}/participants/remove`,
      { body: { participants: [ALICE_PHONE, ERIN_LID] } },
    );
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.deepEqual(
      cloud.group(NEIGHBOURS)!.participants.map((p) => p.id),
      [ME_LID, BOB_LID],
    );
    const added = await server.json("POST", `/${phone}/group/${NEIGHBOURS}/participants/add`, {
      body: { participants: [CAROL, ERIN_LID] },
    });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    const results = (added.body.results ?? added.body) as Json[];
    assert.deepEqual(results.map((r) => [r.id, r.result]), [
      [CAROL, "added"],
      [ERIN_LID, "not_allowed"],
    ]);
  }));

Deno.test("GET lids maps LIDs and phone numbers, asking WhatsApp's server where the page does not know, and says null where nobody does", () =>
  withLinkedServer(lidWorld(), async ({ server, phone }) => {
    const all = await server.json<Json[]>("GET", `/${phone}/lids`);
    assert.equal(all.status, 200);
    assert.deepEqual(all.body, [
      { lid: ALICE_LID, pn: ALICE },
      { lid: BOB_LID, pn: null },
      { lid: ERIN_LID, pn: null },
      { lid: ME_LID, pn: ME },
    ]);
    assert.deepEqual(
      (await server.json("GET", `/${phone}/lids?limit=2&offset=1`)).body,
      [{ lid: BOB_LID, pn: null }, { lid: ERIN_LID, pn: null }],
    );
    assert.deepEqual((await server.json("GET", `/${phone}/lids/count`)).body, { count: 4 });
    // Bob's number: WhatsApp Web does not know it, WhatsApp's server tells it when asked.
    assert.deepEqual(
      (await server.json("GET", `/${phone}/lids/${BOB_LID}`)).body,
      { lid: BOB_LID, pn: BOB },
    );
    assert.deepEqual(
      (await server.json("GET", `/${phone}/lids/${BOB_LID.split("@")[0]}`)).body,
      { lid: BOB_LID, pn: BOB },
      "bare digits are a LID too",
    );
    assert.deepEqual(
      (await server.json("GET", `/${phone}/lids/${ERIN_LID}`)).body,
      { lid: ERIN_LID, pn: null },
    );
    assert.deepEqual(
      (await server.json("GET", `/${phone}/lids/pn/${ALICE_PHONE}`)).body,
      { lid: ALICE_LID, pn: ALICE },
    );
    assert.deepEqual(
      (await server.json("GET", `/${phone}/lids/pn/${CAROL}`)).body,
      { lid: null, pn: CAROL },
    );
    assert.equal((await server.json("GET", `/${phone}/lids/not-a-lid`)).status, 400);
    // What the server told is known from then on.
    const group = await server.json<{ participants: Json[] }>(
      "GET",
      `/${phone}/group/${NEIGHBOURS}`,
    );
    assert.deepEqual(
      group.body.participants.filter((p) => p.id === BOB_LID || p.id === BOB).map((p) => [
        p.id,
        p.pn ?? p.lid,
      ]),
      [[BOB, BOB_LID]],
      "whatsapp-web.js now writes him by his number, his LID beside",
    );
  }));

Deno.test("the simulator maps its LIDs too", async () => {
  const server = await startTestApp();
  try {
    const phone = "4915550777";
    await startSession(server, phone);
    const all = await server.json<Json[]>("GET", `/${phone}/lids`);
    assert.equal(all.status, 200);
    assert.ok(all.body.length >= 3);
    const known = all.body.find((m) => m.pn !== null)!;
    assert.deepEqual((await server.json("GET", `/${phone}/lids/${known.lid}`)).body, known);
    assert.deepEqual(
      (await server.json("GET", `/${phone}/lids/pn/${String(known.pn).split("@")[0]}`)).body,
      known,
    );
    const hidden = all.body.find((m) => m.pn === null)!;
    const contact = await server.json("GET", `/${phone}/contact/${hidden.lid}`);
    assert.deepEqual([contact.status, contact.body.number], [200, ""]);
    assert.deepEqual(
      (await server.json("GET", `/${phone}/lids/count`)).body,
      { count: all.body.length },
    );
  } finally {
    await server.close();
  }
});
