/**
 * @module
 * The rest of the wwebjs engine's capabilities, through the real whatsapp-web.js against the fake
 * WhatsApp Web: locations, vCards, voice notes, documents, edits and revokes; the profile (name,
 * about, picture); groups (create, update, add and remove with each per-participant outcome,
 * leave, what a non-admin may not do); not-found wording; and logging out through the engine.
 * Each test links its own engine to its own seeded cloud, so one failure shows one cause; each
 * checks what the fake cloud received and what the engine returned.
 */
import assert from "node:assert/strict";
import type { EngineEvent } from "../sessions/engine.ts";
import type { FakeCloud, FakeCloudOptions, SentRecord } from "./fake_whatsapp/fake_cloud.ts";
import { type LinkedEngine, withLinkedEngine } from "./fake_whatsapp/engine_harness.ts";
import {
  ALICE,
  ALICE_LID,
  BOB,
  CAROL,
  CLUB,
  DAVE,
  expectEngineError,
  ME,
  ME_LID,
  NOBODY,
  TEAM,
} from "./fake_whatsapp/cast.ts";

// A 2x2 PNG (red, green, blue, white).
const PNG_2X2 =
  "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEklEQVR4nGP4z8DAAMIM/4EAAB/uBfsL2WiLAAAAAElFTkSuQmCC";
const PDF = btoa("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
const OPUS = btoa("OggS\0\x02fake opus voice note");
const VCARD = [
  "BEGIN:VCARD",
  "VERSION:3.0",
  "N:Doe;Jane;;;",
  "FN:Jane Doe",
  "TEL;type=CELL;waid=4915550007:+49 1555 0007",
  "END:VCARD",
].join("\n");

function base64ToBytes(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

const SEED: FakeCloudOptions = {
  me: ME,
  pushName: "Test Me",
  about: "Available",
  chats: [
    { id: ALICE, name: "Alice" },
    {
      id: TEAM,
      name: "Team",
      group: {
        subject: "Team",
        desc: "The team",
        owner: ME,
        creation: 1_700_000_000,
        participants: [{ id: ME, isAdmin: true, isSuperAdmin: true }, { id: ALICE }],
      },
    },
    {
      id: CLUB,
      name: "Club",
      group: {
        subject: "Club",
        desc: "Alice's club",
        owner: ALICE,
        creation: 1_700_000_100,
        restrict: true,
        participants: [{ id: ALICE, isAdmin: true, isSuperAdmin: true }, { id: ME }, { id: BOB }],
      },
    },
  ],
  contacts: [
    { id: ALICE, name: "Alice", isMyContact: true, about: "Alice here" },
    { id: BOB, name: "Bob", isMyContact: true },
  ],
  registered: [CAROL, DAVE],
  refuseGroupAdd: [DAVE],
};

/** Alice's message in her chat, and one in the team's group: the history the tests read. */
function seedHistory(cloud: FakeCloud): void {
  cloud.seedMessage({ chatId: ALICE, body: "hello from alice", id: INCOMING_ID });
  cloud.seedMessage({ chatId: TEAM, body: "hi team", author: ALICE, from: TEAM });
}
const INCOMING_ID = "AC0000000000000001";
const incoming = `false_${ALICE}_${INCOMING_ID}`;

interface Ctx extends LinkedEngine {
  sentRecord: (id: string) => Promise<SentRecord>;
  messageAny: (id: string) => Promise<Extract<EngineEvent, { type: "message.any" }>>;
}

/** A test on its own engine, linked to its own cloud seeded as above. */
function linked(fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  return withLinkedEngine(SEED, (l) =>
    fn({
      ...l,
      sentRecord: (id) => l.cloud.waitFor(() => l.cloud.sent.find((s) => s.id === id)),
      messageAny: (id) =>
        l.rec.waitFor((e): e is Extract<EngineEvent, { type: "message.any" }> =>
          e.type === "message.any" && e.message.id === id
        ),
    }), { seed: seedHistory });
}

Deno.test("wwebjs engine sendLocation() sends a location with its coordinates and description", () =>
  linked(async ({ engine, sentRecord, messageAny }) => {
    const sent = await engine.sendLocation({
      chatId: ALICE,
      latitude: 52.520008,
      longitude: 13.404954,
      name: "Fernsehturm",
      address: "Panoramastraße 1A, Berlin",
    });
    assert.match(sent.messageId, new RegExp(`^true_${ALICE}_3EB0`));
    assert.ok(sent.timestamp > 0);
    const record = await sentRecord(sent.messageId);
    assert.deepEqual(
      [record.chatId, record.type, record.location, record.media],
      [
        ALICE,
        "location",
        {
          latitude: 52.520008,
          longitude: 13.404954,
          description: "Fernsehturm\nPanoramastraße 1A, Berlin",
        },
        null,
      ],
    );
    assert.equal((await messageAny(sent.messageId)).message.type, "location");
    // whatsapp-web.js patches WhatsApp Web so that a location goes out as a text stanza, not as
    // media (which phones would not show): the patch took.
    assert.deepEqual(record.stanza, { type: "text", mediatype: null });
    // Without a name or address, only the coordinates.
    const bare = await engine.sendLocation({ chatId: ALICE, latitude: -33.86, longitude: 151.2 });
    const bareRecord = await sentRecord(bare.messageId);
    assert.deepEqual(bareRecord.location, {
      latitude: -33.86,
      longitude: 151.2,
      description: "",
    });
  }));

Deno.test("wwebjs engine sendContact() sends the vCard as a contact card, quoting a message", () =>
  linked(async ({ engine, sentRecord }) => {
    const sent = await engine.sendContact({ chatId: ALICE, vcard: VCARD, quotedMsgId: incoming });
    const record = await sentRecord(sent.messageId);
    assert.deepEqual(
      [record.type, record.body, record.vcardName, record.quotedMsgId],
      ["vcard", VCARD, "Jane Doe", incoming],
    );
  }));

Deno.test("wwebjs engine sendMedia() kind voice sends a voice note (ptt)", () =>
  linked(async ({ engine, sentRecord }) => {
    const sent = await engine.sendMedia({
      chatId: ALICE,
      kind: "voice",
      media: { mimetype: "audio/ogg; codecs=opus", data: OPUS, filename: "note.ogg" },
    });
    const record = await sentRecord(sent.messageId);
    assert.equal(record.type, "ptt");
    assert.equal(record.isPtt, true);
    assert.deepEqual(record.media, {
      mimetype: "audio/ogg; codecs=opus",
      filename: "note.ogg",
      data: OPUS,
    });
    // The same audio as kind audio is a plain audio message.
    const audio = await engine.sendMedia({
      chatId: ALICE,
      kind: "audio",
      media: { mimetype: "audio/ogg; codecs=opus", data: OPUS, filename: "song.ogg" },
    });
    assert.equal((await sentRecord(audio.messageId)).type, "audio");
  }));

Deno.test("wwebjs engine sendMedia() kind file sends a document, images included", () =>
  linked(async ({ engine, sentRecord }) => {
    const sent = await engine.sendMedia({
      chatId: ALICE,
      kind: "file",
      media: { mimetype: "application/pdf", data: PDF, filename: "report.pdf" },
      caption: "the report",
    });
    const record = await sentRecord(sent.messageId);
    assert.deepEqual(
      [record.type, record.caption, record.media],
      ["document", "the report", {
        mimetype: "application/pdf",
        filename: "report.pdf",
        data: PDF,
      }],
    );
    const image = await engine.sendMedia({
      chatId: ALICE,
      kind: "file",
      media: { mimetype: "image/png", data: PNG_2X2, filename: "pixels.png" },
    });
    const imageRecord = await sentRecord(image.messageId);
    assert.equal(imageRecord.type, "document");
    assert.equal(imageRecord.media?.data, PNG_2X2);
  }));

Deno.test("wwebjs engine editMessage() edits our own text; others' messages and unknown ids fail", () =>
  linked(async ({ cloud, engine, sentRecord }) => {
    const sent = await engine.sendText({ chatId: ALICE, text: "see you at 5" });
    await sentRecord(sent.messageId);
    const edited = await engine.editMessage({ messageId: sent.messageId, text: "see you at 6" });
    assert.equal(edited.messageId, sent.messageId);
    // The time of the edit.
    assert.ok(Math.abs(edited.timestamp - Date.now() / 1000) < 5, String(edited.timestamp));
    assert.deepEqual(cloud.actions.filter((a) => a.action === "edit"), [
      { action: "edit", id: sent.messageId, body: "see you at 6" },
    ]);
    const stored = cloud.messages.get(ALICE)!.find((m) => sent.messageId.endsWith(m.id))!;
    assert.equal(stored.body, "see you at 6");
    const page = await engine.listMessages({ chatId: ALICE, page: 1, limit: 1 });
    assert.deepEqual(page.messages.map((m) => [m.id, m.body]), [[
      sent.messageId,
      "see you at 6",
    ]]);
    await expectEngineError(
      engine.editMessage({ messageId: incoming, text: "mine now" }),
      "BAD_REQUEST",
    );
    const unknown = `true_${ALICE}_3EB0NOPE`;
    await expectEngineError(
      engine.editMessage({ messageId: unknown, text: "x" }),
      "NOT_FOUND",
      `Message "${unknown}" not found`,
    );
    assert.equal(cloud.actions.filter((a) => a.action === "edit").length, 1);
  }));

Deno.test("wwebjs engine deleteMessage() revokes our own message for everyone, not others'", () =>
  linked(async ({ cloud, engine, sentRecord }) => {
    const sent = await engine.sendText({ chatId: ALICE, text: "oops" });
    await sentRecord(sent.messageId);
    await engine.deleteMessage(sent.messageId);
    assert.deepEqual(cloud.actions.filter((a) => a.action === "revoke"), [
      { action: "revoke", id: sent.messageId },
    ]);
    const stored = cloud.messages.get(ALICE)!.find((m) => sent.messageId.endsWith(m.id))!;
    assert.deepEqual([stored.type, stored.body], ["revoked", ""]);
    const newest = (await engine.listMessages({ chatId: ALICE, page: 1, limit: 1 })).messages[0];
    assert.deepEqual([newest.id, newest.type], [sent.messageId, "revoked"]);
    // A second revoke is refused before whatsapp-web.js could fall back to "delete for me".
    await expectEngineError(
      engine.deleteMessage(sent.messageId),
      "BAD_REQUEST",
      `Message "${sent.messageId}" can no longer be revoked for everyone`,
    );
    const again = (await engine.listMessages({ chatId: ALICE, page: 1, limit: 1 })).messages[0];
    assert.deepEqual([again.id, again.type], [sent.messageId, "revoked"], "still here");
    // Alice's message cannot be revoked by us (whatsapp-web.js would delete it for us only).
    await expectEngineError(
      engine.deleteMessage(incoming),
      "BAD_REQUEST",
      "Only your own messages can be revoked",
    );
    assert.equal(cloud.actions.filter((a) => a.action === "revoke").length, 1);
    const still = await engine.listMessages({ chatId: ALICE, page: 1, limit: 50 });
    assert.ok(still.messages.some((m) => m.id === incoming && m.body === "hello from alice"));
    const unknown = `true_${ALICE}_3EB0GONE`;
    await expectEngineError(
      engine.deleteMessage(unknown),
      "NOT_FOUND",
      `Message "${unknown}" not found`,
    );
  }));

Deno.test("wwebjs engine getProfile() reads the account; name, about and picture changes reach the cloud", () =>
  linked(async ({ cloud, engine }) => {
    assert.deepEqual(await engine.getProfile(), {
      id: ME,
      number: "4915550001",
      name: "Test Me",
      status: "Available",
      pictureUrl: null,
    });
    await engine.setProfileName("New Me");
    assert.equal(cloud.pushName, "New Me");
    await engine.setProfileStatus("Busy building");
    assert.equal(cloud.about, "Busy building");
    await engine.setProfilePicture({
      mimetype: "image/png",
      data: PNG_2X2,
      filename: "me.png",
    });
    assert.equal(cloud.pictures.length, 1);
    const picture = cloud.pictures[0];
    assert.equal(picture.id, ME);
    // WhatsApp Web crops the picture to JPEGs: a 96 px thumbnail and a 640 px picture.
    for (const [dataUrl, size] of [[picture.thumb, 96], [picture.picture, 640]] as const) {
      assert.match(dataUrl, /^data:image\/jpeg;base64,/);
      assert.deepEqual(jpegSize(base64ToBytes(dataUrl.split(",")[1])), [size, size]);
    }
    assert.deepEqual(
      cloud.actions.filter((a) => ["pushname", "about", "picture"].includes(String(a.action))),
      [
        { action: "pushname", name: "New Me" },
        { action: "about", status: "Busy building" },
        { action: "picture", id: ME },
      ],
    );
    assert.deepEqual(await engine.getProfile(), {
      id: ME,
      number: "4915550001",
      name: "New Me",
      status: "Busy building",
      pictureUrl: picture.url,
    });
    const served = await fetch(picture.url);
    assert.equal(served.headers.get("content-type"), "image/jpeg");
    assert.deepEqual(jpegSize(new Uint8Array(await served.arrayBuffer())), [640, 640]);
  }));

Deno.test("wwebjs engine createGroup() creates the group and reports each participant", () =>
  linked(async ({ cloud, engine }) => {
    const group = await engine.createGroup({
      name: "Project",
      participants: [ALICE, CAROL, DAVE, NOBODY],
    });
    const created = group.id;
    assert.match(created, /^120363\d+@g\.us$/);
    const { createdAt, results, ...rest } = group;
    assert.ok(createdAt && createdAt > 1_700_000_000);
    assert.deepEqual(rest, {
      id: created,
      subject: "Project",
      description: "",
      owner: ME,
      participants: [
        { id: ME, isAdmin: true, isSuperAdmin: true },
        { id: ALICE, isAdmin: false, isSuperAdmin: false },
        { id: CAROL, isAdmin: false, isSuperAdmin: false },
      ],
      settings: {
        messagesAdminsOnly: false,
        infoAdminsOnly: false,
        addMembersAdminsOnly: false,
        membershipApproval: false,
      },
    });
    assert.deepEqual(sortById(results), [
      { id: ALICE, result: "added" },
      { id: CAROL, result: "added" },
      {
        id: DAVE,
        result: "not_allowed",
        message: "The participant can be added by sending private invitation only",
      },
      {
        id: NOBODY,
        result: "not_on_whatsapp",
        message: "The phone number is not registered on WhatsApp",
      },
    ]);
    // Whoever is not on WhatsApp is not even asked for; the cloud creates with the rest.
    assert.deepEqual(cloud.actions.filter((a) => a.action === "group-create"), [
      {
        action: "group-create",
        id: created,
        subject: "Project",
        participants: [ME, ALICE, CAROL],
      },
    ]);
    // Dave, who only accepts invitations, got one.
    const invite = await cloud.waitFor(() =>
      cloud.sent.find((s) => s.type === "groups_v4_invite" && s.chatId === DAVE)
    );
    assert.deepEqual(
      [invite.invite?.groupId, invite.invite?.groupName],
      [created, "Project"],
    );
    // An invitation goes out as text too (whatsapp-web.js's other protobuf patch).
    assert.deepEqual(invite.stanza, { type: "text", mediatype: null });
    assert.equal((await engine.getGroup(created)).subject, "Project");
    const listed = await engine.listChats({ page: 1, limit: 20 });
    assert.ok(listed.chats.some((c) => c.id === created && c.isGroup && c.name === "Project"));
  }));

Deno.test("wwebjs engine updateGroup() changes subject, description and both settings", () =>
  linked(async ({ cloud, engine }) => {
    const updated = await engine.updateGroup({
      groupId: TEAM,
      subject: "Team A",
      description: "The A team",
      messagesAdminsOnly: true,
      infoAdminsOnly: true,
    });
    assert.deepEqual(
      [updated.subject, updated.description, updated.settings],
      ["Team A", "The A team", {
        messagesAdminsOnly: true,
        infoAdminsOnly: true,
        addMembersAdminsOnly: false,
        membershipApproval: false,
      }],
    );
    const held = cloud.group(TEAM)!;
    assert.deepEqual(
      [held.subject, held.desc, held.announce, held.restrict],
      ["Team A", "The A team", true, true],
    );
    assert.deepEqual(
      cloud.actions.filter((a) => String(a.action).startsWith("group-") && a.id === TEAM),
      [
        { action: "group-subject", id: TEAM, subject: "Team A" },
        { action: "group-description", id: TEAM, desc: "The A team" },
        { action: "group-property", id: TEAM, property: "announcement", value: true },
        { action: "group-property", id: TEAM, property: "restrict", value: true },
      ],
    );
    const back = await engine.updateGroup({ groupId: TEAM, messagesAdminsOnly: false });
    assert.deepEqual(back.settings, {
      messagesAdminsOnly: false,
      infoAdminsOnly: true,
      addMembersAdminsOnly: false,
      membershipApproval: false,
    });
    assert.equal(cloud.group(TEAM)!.announce, false);
    assert.equal((await engine.getChat(TEAM)).name, "Team A");
  }));

Deno.test("wwebjs engine addParticipants() reports added, already_in, not_allowed, not_on_whatsapp", () =>
  linked(async ({ cloud, engine }) => {
    const results = await engine.addParticipants({
      groupId: TEAM,
      participants: [BOB, ALICE, DAVE, NOBODY],
    });
    assert.deepEqual(sortById(results), [
      { id: ALICE, result: "already_in", message: "The participant is already a group member" },
      { id: BOB, result: "added" },
      {
        id: DAVE,
        result: "not_allowed",
        message: "The participant can be added by sending private invitation only",
      },
      {
        id: NOBODY,
        result: "not_on_whatsapp",
        message: "The phone number is not registered on WhatsApp",
      },
    ]);
    // Nobody is checked before asking; the others are asked for one by one.
    assert.deepEqual(
      cloud.actions.filter((a) => a.action === "group-add").map((
        a,
      ) => [a.participant, a.result]),
      [[BOB, 200], [ALICE, 409], [DAVE, 403]],
    );
    assert.deepEqual(cloud.group(TEAM)!.participants.map((p) => p.id), [ME, ALICE, BOB]);
    assert.deepEqual(
      (await engine.getGroup(TEAM)).participants.map((p) => p.id),
      [ME, ALICE, BOB],
    );
    const invites = cloud.sent.filter((s) => s.type === "groups_v4_invite" && s.chatId === DAVE);
    assert.deepEqual(invites.map((s) => s.invite?.groupId), [TEAM]);
  }));

Deno.test("wwebjs engine removeParticipants() reports removed and not_in_group", () =>
  linked(async ({ cloud, engine }) => {
    assert.deepEqual(await engine.addParticipants({ groupId: TEAM, participants: [BOB] }), [{
      id: BOB,
      result: "added",
    }]);
    const results = await engine.removeParticipants({ groupId: TEAM, participants: [BOB, CAROL] });
    assert.deepEqual(results, [
      { id: BOB, result: "removed" },
      { id: CAROL, result: "not_in_group" },
    ]);
    assert.deepEqual(cloud.actions.filter((a) => a.action === "group-remove"), [
      { action: "group-remove", id: TEAM, participants: [BOB] },
    ]);
    assert.deepEqual(cloud.group(TEAM)!.participants.map((p) => p.id), [ME, ALICE]);
  }));

Deno.test("wwebjs engine in a group where we are not admin, WhatsApp's refusals come back", () =>
  linked(async ({ cloud, engine }) => {
    const before = cloud.actions.length;
    await expectEngineError(
      engine.addParticipants({ groupId: CLUB, participants: [CAROL] }),
      "BAD_REQUEST",
      /no admin rights/,
    );
    await expectEngineError(
      engine.updateGroup({ groupId: CLUB, subject: "Mine" }),
      "BAD_REQUEST",
      "Cannot change the group's subject",
    );
    const removed = await engine.removeParticipants({ groupId: CLUB, participants: [BOB] });
    assert.equal(removed.length, 1);
    assert.deepEqual([removed[0].id, removed[0].result], [BOB, "not_allowed"]);
    assert.equal(cloud.actions.length, before, "the cloud changed nothing");
    assert.deepEqual(cloud.group(CLUB)!.participants.map((p) => p.id), [ALICE, ME, BOB]);
    assert.equal(cloud.group(CLUB)!.subject, "Club");
  }));

Deno.test("wwebjs engine leaveGroup() leaves: the cloud drops us from the participants", () =>
  linked(async ({ cloud, engine }) => {
    await engine.leaveGroup(CLUB);
    assert.deepEqual(cloud.actions.filter((a) => a.action === "group-leave"), [
      { action: "group-leave", id: CLUB },
    ]);
    assert.deepEqual(cloud.group(CLUB)!.participants.map((p) => p.id), [ALICE, BOB]);
    const group = await engine.getGroup(CLUB);
    assert.deepEqual(group.participants.map((p) => p.id), [ALICE, BOB]);
  }));

Deno.test("wwebjs engine not-found errors name the missing chat, message, contact or group", () =>
  linked(async ({ engine }) => {
    const chat = "4915558888@c.us";
    await expectEngineError(engine.getChat(chat), "NOT_FOUND", `Chat "${chat}" not found`);
    await expectEngineError(engine.getContact(chat), "NOT_FOUND", `Contact "${chat}" not found`);
    await expectEngineError(engine.getGroup(ALICE), "NOT_FOUND", `Group "${ALICE}" not found`);
    const unknown = `false_${ALICE}_NOPE`;
    await expectEngineError(
      engine.listMessages({ chatId: ALICE, page: 1, limit: 5, before: unknown }),
      "NOT_FOUND",
      `Message "${unknown}" not found`,
    );
    await expectEngineError(
      engine.sendText({ chatId: ALICE, text: "x", quotedMsgId: unknown }),
      "NOT_FOUND",
      `Message "${unknown}" not found`,
    );
    await expectEngineError(
      engine.getMessageMedia({ chatId: CAROL, messageId: incoming }),
      "NOT_FOUND",
      `Message "${incoming}" not found`,
    );
    await expectEngineError(
      engine.getMessageMedia({ chatId: ALICE, messageId: incoming }),
      "NOT_FOUND",
      `Media of message "${incoming}" not found`,
    );
  }));

Deno.test("wwebjs engine logout() unlinks the device at the cloud and deletes the login", () =>
  linked(async ({ cloud, engine, rec, sessionDir }) => {
    await Deno.stat(`${sessionDir}/auth`);
    const from = rec.events.length;
    await engine.logout();
    assert.equal(cloud.credential, null);
    assert.deepEqual(cloud.actions.filter((a) => a.action === "logout"), [{ action: "logout" }]);
    await assert.rejects(Deno.stat(`${sessionDir}/auth`), Deno.errors.NotFound);
    const after = rec.events.slice(from).filter((e) => e.type !== "child_process");
    assert.deepEqual(after, [
      { type: "logged_out", reason: "Logged out on request" },
      { type: "status", status: "STOPPED" },
    ]);
    await expectEngineError(engine.sendText({ chatId: ALICE, text: "gone" }), "NOT_READY");
  }));

function sortById<T extends { id: string }>(list: T[]): T[] {
  return [...list].sort((a, b) => a.id.localeCompare(b.id));
}

/** The [width, height] of a baseline or progressive JPEG, from its SOF segment. */
function jpegSize(bytes: Uint8Array): [number, number] {
  assert.deepEqual([bytes[0], bytes[1]], [0xff, 0xd8], "a JPEG");
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) throw new Error("bad JPEG marker");
    const marker = bytes[i + 1];
    const length = (bytes[i + 2] << 8) | bytes[i + 3];
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return [(bytes[i + 7] << 8) | bytes[i + 8], (bytes[i + 5] << 8) | bytes[i + 6]];
    }
    i += 2 + length;
  }
  throw new Error("no SOF in the JPEG");
}

Deno.test("wwebjs engine answers a send after its message.any, which carries the number beside the LID chat", () =>
  withLinkedEngine({
    me: ME,
    accountLid: ME_LID,
    lidMap: { [ALICE_LID]: ALICE },
    chats: [{ id: ALICE_LID, name: "Alice" }],
    contacts: [{ id: ALICE_LID, name: "Alice", isMyContact: true }],
  }, async ({ engine, rec }) => {
    for (const text of ["one", "two", "three"]) {
      const sent = await engine.sendText({ chatId: ALICE, text });
      // No waiting: the event is there when the answer is.
      const any = rec.of("message.any").find((e) => e.message.id === sent.messageId);
      assert.ok(any, `the message.any of "${text}" came before its answer`);
      assert.deepEqual(
        [any.message.chatId, any.message.chatPn, any.message.source],
        [ALICE_LID, ALICE, "api"],
      );
    }
  }));
