/**
 * @module
 * Chat and message housekeeping through our HTTP API and the real whatsapp-web.js against the
 * fake WhatsApp Web: archive, mute, mark unread and read, pin (three at most, the library's own
 * rule), clear and delete a chat; forward, star and pin a message; and `message.edited` and
 * `message.revoked` reaching a webhook in WAHA's shape, for our own edits and revokes and for a
 * contact's. Each asserts what reached WhatsApp (the fake cloud's records) and what the API
 * answers and shows afterwards.
 */
import assert from "node:assert/strict";
import type { FakeCloud, FakeCloudOptions } from "./fake_whatsapp/fake_cloud.ts";
import { withLinkedServer } from "./fake_whatsapp/http_harness.ts";
import { ALICE, BOB, CAROL, ME, NOBODY, TEAM } from "./fake_whatsapp/cast.ts";

const world: FakeCloudOptions = {
  me: ME,
  chats: [
    { id: ALICE, name: "Alice" },
    { id: BOB, name: "Bob" },
    { id: CAROL, name: "Carol" },
    {
      id: TEAM,
      name: "Team",
      group: {
        subject: "Team",
        participants: [{ id: ME, isAdmin: true, isSuperAdmin: true }, { id: ALICE }],
      },
    },
  ],
  contacts: [
    { id: ALICE, name: "Alice", isMyContact: true },
    { id: BOB, name: "Bob", isMyContact: true },
    { id: CAROL, name: "Carol", isMyContact: true },
  ],
};

function seed(cloud: FakeCloud): void {
  for (const chatId of [ALICE, BOB, CAROL]) {
    cloud.seedMessage({ chatId, body: `hi from ${chatId}` });
  }
  cloud.seedMessage({ chatId: TEAM, body: "welcome", author: ALICE, from: TEAM });
}

interface Chat {
  id: string;
  unreadCount: number;
  archived: boolean;
  pinned: boolean;
  muted: boolean;
  markedUnread: boolean;
  muteExpiration?: number;
}

/** The cloud's records of one action, without the fields every record has. */
function actionsOf(cloud: FakeCloud, action: string) {
  return cloud.actions.filter((a) => a.action === action).map(({ action: _a, ...rest }) => rest);
}

Deno.test("a wwebjs session archives, mutes, marks, pins, clears and deletes chats through the API", () =>
  withLinkedServer(world, async ({ server, cloud, phone }) => {
    const post = (path: string, body?: unknown) =>
      server.json("POST", `/${phone}/${path}`, body === undefined ? {} : { body });
    const chat = async (id: string) =>
      (await server.json<Chat>("GET", `/${phone}/chat/${id}`)).body;
    const listed = async (id: string) => {
      const { body } = await server.json<{ chats: Chat[] }>("GET", `/${phone}/chats?limit=100`);
      return body.chats.find((c) => c.id === id);
    };

    // Archive and unarchive.
    const archived = await post(`chats/${ALICE}/archive`);
    assert.deepEqual(archived.body, { success: true, message: `Chat "${ALICE}" archived` });
    assert.equal((await chat(ALICE)).archived, true);
    assert.equal((await post(`chats/${ALICE}/unarchive`)).status, 200);
    assert.equal((await listed(ALICE))?.archived, false);
    assert.deepEqual(actionsOf(cloud, "chat-archive"), [
      { chatId: ALICE, archive: true },
      { chatId: ALICE, archive: false },
    ]);

    // Mute for a while, for good, and unmute.
    const before = Math.floor(Date.now() / 1000);
    assert.equal((await post(`chats/${ALICE}/mute`, { duration: 28_800 })).status, 200);
    const [{ expiration }] = actionsOf(cloud, "chat-mute") as { expiration: number }[];
    assert.ok(expiration >= before + 28_800 && expiration <= before + 28_802, String(expiration));
    const muted = await chat(ALICE);
    assert.deepEqual([muted.muted, muted.muteExpiration], [true, expiration]);
    assert.equal((await post(`chats/${ALICE}/mute`, {})).status, 200);
    assert.equal((await chat(ALICE)).muteExpiration, -1);
    assert.equal((await post(`chats/${ALICE}/unmute`)).status, 200);
    assert.deepEqual(
      actionsOf(cloud, "chat-mute").map((a) => a.expiration).slice(1),
      [-1, 0],
    );
    const unmuted = await chat(ALICE);
    assert.deepEqual([unmuted.muted, unmuted.muteExpiration], [false, 0]);

    // Mark unread, then read.
    assert.equal((await post(`chats/${BOB}/unread`)).status, 200);
    assert.deepEqual(actionsOf(cloud, "chat-unread"), [{ chatId: BOB, unread: true }]);
    const unread = await listed(BOB);
    assert.deepEqual([unread?.markedUnread, unread?.unreadCount], [true, 0]);
    assert.equal((await post(`chats/${BOB}/read`)).status, 200);
    assert.ok(actionsOf(cloud, "seen").some((a) => a.chatId === BOB));
    assert.equal((await chat(BOB)).markedUnread, false);

    // Pin three; the fourth is refused by whatsapp-web.js's own limit, before WhatsApp hears of it.
    for (const id of [ALICE, BOB, CAROL]) {
      assert.equal((await post(`chats/${id}/pin`)).status, 200, id);
      assert.equal((await chat(id)).pinned, true, id);
    }
    const fourth = await post(`chats/${TEAM}/pin`);
    assert.equal(fourth.status, 400);
    assert.match(String(fourth.body.error), /At most 3 chats can be pinned/);
    assert.equal((await post(`chats/${BOB}/unpin`)).status, 200);
    assert.equal((await post(`chats/${TEAM}/pin`)).status, 200);
    assert.deepEqual(actionsOf(cloud, "chat-pin"), [
      { chatId: ALICE, pin: true },
      { chatId: BOB, pin: true },
      { chatId: CAROL, pin: true },
      { chatId: BOB, pin: false },
      { chatId: TEAM, pin: true },
    ]);
    assert.equal((await listed(TEAM))?.pinned, true);

    // Clear keeps the chat; delete removes it; a group we are in must be left first.
    const cleared = await server.json("DELETE", `/${phone}/chats/${ALICE}/messages`);
    assert.deepEqual(cleared.body, { success: true, message: `Chat "${ALICE}" cleared` });
    assert.deepEqual(actionsOf(cloud, "chat-clear"), [{ chatId: ALICE, keepStarred: false }]);
    const after = await server.json<{ messages: unknown[] }>("GET", `/${phone}/messages/${ALICE}`);
    assert.deepEqual([after.status, after.body.messages], [200, []]);
    assert.deepEqual(cloud.messages.get(ALICE), []);
    assert.equal((await server.json("DELETE", `/${phone}/chats/${CAROL}`)).status, 200);
    assert.deepEqual(actionsOf(cloud, "chat-delete"), [{ chatId: CAROL }]);
    assert.equal((await server.json("GET", `/${phone}/chat/${CAROL}`)).status, 404);
    assert.equal(await listed(CAROL), undefined);
    const group = await server.json("DELETE", `/${phone}/chats/${TEAM}`);
    assert.equal(group.status, 400);
    assert.match(String(group.body.error), /Leave the group/);

    // A chat that does not exist is 404, and nothing reaches WhatsApp.
    const actions = cloud.actions.length;
    for (const action of ["archive", "unread", "pin"]) {
      assert.equal((await post(`chats/${NOBODY}/${action}`)).status, 404, action);
    }
    assert.equal(cloud.actions.length, actions);
  }, { seed }));

/** A message from Alice that the phone holds when the device links. */
let fromAlice = "";

Deno.test("a wwebjs session forwards, stars and pins messages, and reports edits and revokes as WAHA does", () =>
  withLinkedServer(world, async ({ server, cloud, receiver, phone }) => {
    // Forward: a new message of ours in Bob's chat, marked forwarded, with its message.any.
    const forwarded = await server.json("POST", `/${phone}/messages/${fromAlice}/forward`, {
      body: { chatId: BOB },
    });
    assert.deepEqual(forwarded.body, { success: true, message: `Message forwarded to "${BOB}"` });
    const copy = await cloud.waitFor(() => cloud.sent.find((s) => s.chatId === BOB));
    assert.deepEqual([copy.body, copy.type, copy.forwarded], ["pass it on", "chat", true]);
    const any = await receiver.waitFor(
      (e) => e.event === "message.any" && (e.payload as { id: string }).id === copy.id,
      "the forwarded copy's message.any",
    );
    assert.deepEqual(
      [(any.payload as { to: string }).to, (any.payload as { source: string }).source],
      [BOB, "api"],
    );
    const nowhere = await server.json("POST", `/${phone}/messages/${fromAlice}/forward`, {
      body: { chatId: NOBODY },
    });
    assert.equal(nowhere.status, 404);
    const unknown = await server.json("POST", `/${phone}/messages/false_${ALICE}_AC00/forward`, {
      body: { chatId: BOB },
    });
    assert.equal(unknown.status, 404);
    assert.equal(cloud.sent.length, 1);

    // Star and unstar.
    assert.equal((await server.json("PUT", `/${phone}/messages/${fromAlice}/star`)).status, 200);
    const starred = await server.json<{ messages: { id: string; starred?: boolean }[] }>(
      "GET",
      `/${phone}/messages/${ALICE}`,
    );
    assert.equal(starred.body.messages.find((m) => m.id === fromAlice)?.starred, true);
    assert.equal((await server.json("DELETE", `/${phone}/messages/${fromAlice}/star`)).status, 200);
    assert.deepEqual(actionsOf(cloud, "star"), [
      { ids: [fromAlice], star: true },
      { ids: [fromAlice], star: false },
    ]);

    // Pin for 24 hours (the duration reaches WhatsApp), and unpin.
    const pinned = await server.json("POST", `/${phone}/messages/${fromAlice}/pin`, {
      body: { duration: 86_400 },
    });
    assert.deepEqual(pinned.body, { success: true, message: `Message "${fromAlice}" pinned` });
    assert.equal((await server.json("DELETE", `/${phone}/messages/${fromAlice}/pin`)).status, 200);
    assert.deepEqual(actionsOf(cloud, "pin-msg"), [
      { id: fromAlice, pin: true, duration: 86_400 },
      { id: fromAlice, pin: false, duration: 0 },
    ]);
    const odd = await server.json("POST", `/${phone}/messages/${fromAlice}/pin`, {
      body: { duration: 3_600 },
    });
    assert.equal(odd.status, 400);

    // Our own edit and revoke.
    const sent = await server.json("POST", `/${phone}/send-text`, {
      body: { chatId: ALICE, text: "first words" },
    });
    const ours = String(sent.body.messageId);
    const edit = await server.json("PUT", `/${phone}/messages/${ours}`, {
      body: { text: "better words" },
    });
    assert.equal(edit.status, 200, JSON.stringify(edit.body));
    const edited = await receiver.waitFor(
      (e) => e.event === "message.edited" && (e.payload as { id: string }).id === ours,
      "message.edited for our edit",
    );
    const editPayload = edited.payload as Record<string, unknown>;
    assert.deepEqual(
      [editPayload.body, editPayload.fromMe, editPayload.editedMessageId, editPayload.previousBody],
      ["better words", true, ours.split("_")[2], "first words"],
    );
    assert.equal((await server.json("DELETE", `/${phone}/messages/${ours}`)).status, 200);
    const revoked = await receiver.waitFor(
      (e) => e.event === "message.revoked" && revokedId(e) === ours,
      "message.revoked for our revoke",
    );
    const payload = revoked.payload as {
      after: Record<string, unknown>;
      before: Record<string, unknown> | null;
      revokedMessageId: string;
    };
    assert.equal(payload.revokedMessageId, ours.split("_")[2]);
    assert.deepEqual([payload.after.body, (payload.after._data as { type: string }).type], [
      "",
      "revoked",
    ]);
    assert.deepEqual([payload.before?.id, payload.before?.body], [ours, "better words"]);

    // A contact's edit and revoke.
    const theirs = cloud.deliverIncoming({ from: ALICE, body: "oops" });
    await receiver.waitFor((e) => e.event === "message" && msgId(e) === theirs, "the message");
    cloud.editBySender(theirs, "oops, fixed");
    const theirEdit = await receiver.waitFor(
      (e) => e.event === "message.edited" && msgId(e) === theirs,
      "message.edited for Alice's edit",
    );
    const theirEditPayload = theirEdit.payload as Record<string, unknown>;
    assert.deepEqual(
      [theirEditPayload.body, theirEditPayload.fromMe, theirEditPayload.from],
      ["oops, fixed", false, ALICE],
    );
    cloud.revokeBySender(theirs);
    const theirRevoke = await receiver.waitFor(
      (e) => e.event === "message.revoked" && revokedId(e) === theirs,
      "message.revoked for Alice's revoke",
    );
    const theirPayload = theirRevoke.payload as {
      revokedMessageId: string;
      after: { from: string };
    };
    assert.deepEqual(
      [theirPayload.revokedMessageId, theirPayload.after.from],
      [theirs.split("_")[2], ALICE],
    );
    // A revoked message has nothing left to forward, star or pin.
    const gone = await server.json("POST", `/${phone}/messages/${theirs}/forward`, {
      body: { chatId: BOB },
    });
    assert.equal(gone.status, 400);
    assert.match(String(gone.body.error), /revoked/);
  }, {
    seed(cloud) {
      seed(cloud);
      fromAlice = cloud.seedMessage({ chatId: ALICE, body: "pass it on" });
    },
  }));

function msgId(envelope: Record<string, unknown>): unknown {
  return (envelope.payload as { id?: unknown }).id;
}

function revokedId(envelope: Record<string, unknown>): unknown {
  return (envelope.payload as { after?: { id?: unknown } }).after?.id;
}
