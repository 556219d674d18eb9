/**
 * @module
 * Group administration through our HTTP API and the real whatsapp-web.js against the fake
 * WhatsApp Web (real headless Chromium): the invite link (read, revoke, preview, join by link),
 * promoting and demoting admins, the security settings, description, subject and picture, and
 * requests to join; WAHA's `group.v2.join`, `group.v2.participants` and `group.v2.update` reaching
 * a webhook for our own changes and for what other members do on their phones. In a group where
 * the account is no admin, WhatsApp (the fake cloud) refuses what it keeps to admins, and the API
 * says so.
 */
import assert from "node:assert/strict";
import type { FakeCloud, FakeCloudOptions } from "./fake_whatsapp/fake_cloud.ts";
import { type LinkedServer, withLinkedServer } from "./fake_whatsapp/http_harness.ts";
import { ALICE, BOB, CAROL, CLUB, DAVE, ME, PIXEL_PNG, TEAM } from "./fake_whatsapp/cast.ts";

const BOOK_CLUB = "120363000000000009@g.us";
const ADDED = "120363000000000010@g.us";

const world: FakeCloudOptions = {
  me: ME,
  chats: [
    {
      id: TEAM,
      name: "Team",
      group: {
        subject: "Team",
        owner: ME,
        participants: [{ id: ME, isAdmin: true, isSuperAdmin: true }, { id: ALICE }, { id: BOB }],
      },
    },
    {
      id: CLUB,
      name: "Club",
      group: {
        subject: "Club",
        owner: ALICE,
        restrict: true,
        participants: [{ id: ALICE, isAdmin: true, isSuperAdmin: true }, { id: ME }, { id: BOB }],
      },
    },
  ],
  contacts: [
    { id: ALICE, name: "Alice", isMyContact: true },
    { id: BOB, name: "Bob", isMyContact: true },
    { id: CAROL, name: "Carol", isMyContact: true },
    { id: DAVE, name: "Dave", isMyContact: true },
  ],
};

type Json = Record<string, unknown>;

function helpers({ server, receiver, phone }: LinkedServer) {
  return {
    call: (method: string, path: string, body?: unknown) =>
      server.json(method, `/${phone}${path}`, body === undefined ? {} : { body }),
    /** The first envelope named `event` whose payload matches. */
    event: async (event: string, matches: (payload: Json) => boolean) =>
      (await receiver.waitFor(
        (e) => e.event === event && matches(e.payload as Json),
        `a "${event}" event`,
      )).payload as Json,
  };
}

const g = (id: string) => `/groups/${encodeURIComponent(id)}`;
const groupOf = (p: Json) => p.group as Json;
const changeOf = (p: Json) => (p._data as Json | null)?.change;
const actionsOf = (cloud: FakeCloud, action: string) =>
  cloud.actions.filter((a) => a.action === action).map(({ action: _a, ...rest }) => rest);

Deno.test("a wwebjs session reads and revokes an invite link, previews a group by its link and joins it", () =>
  withLinkedServer(world, async (linked) => {
    const { cloud } = linked;
    const { call, event } = helpers(linked);
    const first = await call("GET", `${g(TEAM)}/invite-code`);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const code = String(first.body.code);
    assert.equal(first.body.link, `https://chat.whatsapp.com/${code}`);
    assert.equal(cloud.group(TEAM)?.invite, code);
    const revoked = await call("POST", `${g(TEAM)}/invite-code/revoke`);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.notEqual(revoked.body.code, code);
    assert.equal(cloud.group(TEAM)?.invite, revoked.body.code);
    assert.equal((await call("GET", `/groups/join-info?code=${code}`)).status, 404);
    const own = await call(
      "GET",
      `/groups/join-info?code=${encodeURIComponent(String(revoked.body.link))}`,
    );
    assert.equal(own.body.id, TEAM);

    // Not an admin of Alice's club: WhatsApp refuses the link to us.
    assert.equal((await call("GET", `${g(CLUB)}/invite-code`)).status, 400);
    assert.equal((await call("POST", `${g(CLUB)}/invite-code/revoke`)).status, 400);

    cloud.offerInvite({
      id: BOOK_CLUB,
      subject: "Book club",
      desc: "We read",
      owner: ALICE,
      creation: 1_700_000_000,
      participants: [{ id: ALICE, isAdmin: true, isSuperAdmin: true }, { id: CAROL }],
      invite: "BookClubInvite01",
    });
    const preview = await call("GET", "/groups/join-info?code=BookClubInvite01");
    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    assert.deepEqual(preview.body, {
      id: BOOK_CLUB,
      subject: "Book club",
      description: "We read",
      owner: ALICE,
      createdAt: 1_700_000_000,
      size: 2,
      membershipApproval: false,
    });
    const joined = await call("POST", "/groups/join", {
      code: "https://chat.whatsapp.com/BookClubInvite01",
    });
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    assert.deepEqual(joined.body, { id: BOOK_CLUB });
    assert.deepEqual(actionsOf(cloud, "group-join"), [{ id: BOOK_CLUB, code: "BookClubInvite01" }]);
    const join = await event("group.v2.join", (p) => groupOf(p).id === BOOK_CLUB);
    assert.equal(groupOf(join).subject, "Book club");
    assert.equal(groupOf(join).invite, null);
    assert.deepEqual(
      (groupOf(join).participants as Json[]).find((p) => p.id === ME),
      { id: ME, pn: ME, role: "participant" },
    );
    const read = await call("GET", `/group/${BOOK_CLUB}`);
    assert.ok((read.body.participants as Json[]).some((p) => p.id === ME));
    assert.equal(
      (await call("POST", "/groups/join", { code: String(revoked.body.code) })).status,
      400,
    );
    assert.equal((await call("POST", "/groups/join", { code: "NoSuchInvite99" })).status, 404);
  }));

Deno.test("a wwebjs session promotes and demotes admins, and other admins' changes arrive as group.v2.participants", () =>
  withLinkedServer(world, async (linked) => {
    const { cloud } = linked;
    const { call, event } = helpers(linked);
    const promoted = await call("POST", `${g(TEAM)}/admin/promote`, {
      participants: [ALICE, CAROL],
    });
    assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
    assert.deepEqual(promoted.body.results, [
      { id: ALICE, result: "promoted" },
      { id: CAROL, result: "not_in_group" },
    ]);
    assert.equal(cloud.group(TEAM)?.participants.find((p) => p.id === ALICE)?.isAdmin, true);
    const up = await event("group.v2.participants", (p) => p.type === "promote");
    assert.deepEqual(up.group, { id: TEAM });
    assert.deepEqual(up.participants, [{ id: ALICE, pn: ALICE, role: "admin" }]);
    const demoted = await call("POST", `${g(TEAM)}/admin/demote`, {
      participants: [{ id: ALICE }],
    });
    assert.deepEqual(demoted.body.results, [{ id: ALICE, result: "demoted" }]);
    await event("group.v2.participants", (p) => p.type === "demote");
    assert.equal(cloud.group(TEAM)?.participants.find((p) => p.id === ALICE)?.isAdmin, false);

    // In Alice's club we are no admin: WhatsApp refuses, and nothing changes.
    const refused = await call("POST", `${g(CLUB)}/admin/promote`, { participants: [BOB] });
    assert.deepEqual(refused.body.results, [
      { id: BOB, result: "not_allowed", message: "Only admins can change who is an admin" },
    ]);
    assert.equal(cloud.group(CLUB)?.participants.find((p) => p.id === BOB)?.isAdmin, undefined);

    // Alice makes us an admin on her phone: the link is ours to read then.
    cloud.actInGroup(CLUB, ALICE, { promote: [ME] });
    const us = await event(
      "group.v2.participants",
      (p) => groupOf(p).id === CLUB && p.type === "promote",
    );
    assert.deepEqual(us.participants, [{ id: ME, pn: ME, role: "admin" }]);
    assert.equal((await call("GET", `${g(CLUB)}/invite-code`)).status, 200);
    cloud.actInGroup(CLUB, ALICE, { demote: [ME] });
    await event("group.v2.participants", (p) => groupOf(p).id === CLUB && p.type === "demote");
    assert.equal((await call("GET", `${g(CLUB)}/invite-code`)).status, 400);

    cloud.addMeToGroup({
      id: ADDED,
      subject: "Added by Bob",
      owner: BOB,
      participants: [{ id: BOB, isAdmin: true, isSuperAdmin: true }],
    }, BOB);
    const added = await event("group.v2.join", (p) => groupOf(p).id === ADDED);
    assert.equal(groupOf(added).subject, "Added by Bob");
    // WAHA's GroupInfo, from whatsapp-web.js's metadata: everyone adds, no approval asked.
    assert.equal(groupOf(added).membersCanAddNewMember, true);
    assert.equal(groupOf(added).newMembersApprovalRequired, false);
    assert.ok(!("membersCanEditInfo" in groupOf(added)));
    // As WAHA, our being added is also a group.v2.participants naming us.
    const us2 = await event(
      "group.v2.participants",
      (p) => groupOf(p).id === ADDED && p.type === "join",
    );
    assert.deepEqual(us2.participants, [{ id: ME, pn: ME, role: "participant" }]);
    cloud.joinGroup(TEAM, CAROL);
    const carol = await event(
      "group.v2.participants",
      (p) => groupOf(p).id === TEAM && p.type === "join",
    );
    assert.deepEqual(carol.participants, [{ id: CAROL, pn: CAROL, role: "participant" }]);
  }));

Deno.test("a wwebjs session changes a group's settings, description, subject and picture, each a group.v2.update", () =>
  withLinkedServer(world, async (linked) => {
    const { cloud } = linked;
    const { call, event } = helpers(linked);
    const security = `${g(TEAM)}/settings/security`;
    const set = await call("PUT", `${security}/messages-admin-only`, { adminsOnly: true });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body, { adminsOnly: true });
    assert.deepEqual((await call("GET", `${security}/messages-admin-only`)).body, {
      adminsOnly: true,
    });
    assert.equal(cloud.group(TEAM)?.announce, true);
    const settings = await event("group.v2.update", (p) => changeOf(p) === "settings");
    assert.equal(groupOf(settings).membersCanSendMessages, false);
    assert.deepEqual(
      (await call("PUT", `${security}/info-admin-only`, { adminsOnly: true })).body,
      {
        adminsOnly: true,
      },
    );
    assert.equal(cloud.group(TEAM)?.restrict, true);
    assert.deepEqual((await call("GET", `${security}/info-admin-only`)).body, { adminsOnly: true });

    assert.equal(
      (await call("PUT", `${g(TEAM)}/description`, { description: "Be kind" })).status,
      200,
    );
    assert.equal(cloud.group(TEAM)?.desc, "Be kind");
    const described = await event("group.v2.update", (p) => changeOf(p) === "description");
    assert.equal(groupOf(described).description, "Be kind");
    assert.equal((await call("PUT", `${g(TEAM)}/subject`, { subject: "Team A" })).status, 200);
    const renamed = await event("group.v2.update", (p) => changeOf(p) === "subject");
    assert.equal(groupOf(renamed).subject, "Team A");

    assert.deepEqual((await call("GET", `${g(TEAM)}/picture`)).body, { url: null });
    const picture = await call("PUT", `${g(TEAM)}/picture`, {
      file: { mimetype: "image/png", data: PIXEL_PNG },
    });
    assert.equal(picture.status, 200, JSON.stringify(picture.body));
    const stored = cloud.pictures.findLast((p) => p.id === TEAM);
    assert.match(String(stored?.picture), /^data:image\/jpeg;base64,/);
    assert.deepEqual((await call("GET", `${g(TEAM)}/picture`)).body, { url: stored?.url });
    await event("group.v2.update", (p) => changeOf(p) === "picture");
    assert.equal((await call("DELETE", `${g(TEAM)}/picture`)).status, 200);
    assert.deepEqual(actionsOf(cloud, "picture-delete"), [{ id: TEAM }]);
    assert.deepEqual((await call("GET", `${g(TEAM)}/picture`)).body, { url: null });
    assert.equal((await call("DELETE", `${g(TEAM)}/picture`)).status, 400);

    // Alice's club keeps its info to admins, and we are none: WhatsApp refuses each change.
    const club = `${g(CLUB)}/settings/security`;
    assert.equal(
      (await call("PUT", `${club}/messages-admin-only`, { adminsOnly: true })).status,
      400,
    );
    assert.equal((await call("PUT", `${g(CLUB)}/description`, { description: "x" })).status, 400);
    const clubPicture = await call("PUT", `${g(CLUB)}/picture`, {
      file: { mimetype: "image/png", data: PIXEL_PNG },
    });
    assert.equal(clubPicture.status, 400);
    assert.equal(cloud.group(CLUB)?.announce, undefined);

    // A member renames the team on their phone.
    cloud.actInGroup(TEAM, BOB, { subject: "Bob's team" });
    const byBob = await event(
      "group.v2.update",
      (p) => changeOf(p) === "subject" && groupOf(p).subject === "Bob's team",
    );
    assert.equal((byBob._data as Json).author, BOB);
    assert.equal((await call("GET", `/group/${TEAM}`)).body.subject, "Bob's team");
  }));

Deno.test("a wwebjs session hears requests to join, lists them, approves and rejects them; a non-admin may not see them", () =>
  withLinkedServer(world, async (linked) => {
    const { cloud } = linked;
    const { call, event } = helpers(linked);
    const requests = `${g(TEAM)}/participants/join-requests`;
    cloud.requestToJoin(TEAM, CAROL);
    const created = await event(
      "group.v2.participants.join-request",
      (p) => p.requesterId === CAROL,
    );
    assert.deepEqual(created.group, { id: TEAM });
    assert.equal(created.action, "created");
    assert.equal(created.requesterPn, CAROL);
    cloud.requestToJoin(TEAM, DAVE);
    const listed = await call("GET", requests);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.deepEqual(
      (listed.body as unknown as Json[]).map((r) => [r.requesterId, r.addedById, r.requestMethod]),
      [[CAROL, CAROL, "invite_link"], [DAVE, DAVE, "invite_link"]],
    );
    const approved = await call("POST", `${requests}/approve`, {
      participants: [{ id: CAROL }, { id: BOB }],
    });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.deepEqual(approved.body, [
      { requesterId: CAROL, success: true },
      {
        requesterId: BOB,
        success: false,
        error: 404,
        message: "No pending request to join from them",
      },
    ]);
    assert.ok(cloud.group(TEAM)?.participants.some((p) => p.id === CAROL));
    const joined = await event("group.v2.participants", (p) => p.type === "join");
    assert.deepEqual(joined.participants, [{ id: CAROL, pn: CAROL, role: "participant" }]);
    const rejected = await call("POST", `${requests}/reject`, {});
    assert.deepEqual(rejected.body, [{ requesterId: DAVE, success: true }]);
    assert.deepEqual(actionsOf(cloud, "group-request"), [
      { id: TEAM, participant: CAROL, approve: true },
      { id: TEAM, participant: DAVE, approve: false },
    ]);
    assert.deepEqual((await call("GET", requests)).body, []);
    assert.equal((await call("GET", `${g(CLUB)}/participants/join-requests`)).status, 400);
  }));

Deno.test("a wwebjs session's leaving and members leaving or being removed arrive as group.v2.leave and group.v2.participants", () =>
  withLinkedServer(world, async (linked) => {
    const { cloud } = linked;
    const { call, event } = helpers(linked);
    // Bob leaves the team on his phone; we remove Alice.
    cloud.leaveGroupBy(TEAM, [BOB]);
    const bob = await event("group.v2.participants", (p) => p.type === "leave");
    assert.deepEqual(bob.participants, [{ id: BOB, pn: BOB, role: "left" }]);
    const removed = await call("POST", `/group/${TEAM}/participants/remove`, {
      participants: [ALICE],
    });
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    const alice = await event(
      "group.v2.participants",
      (p) => p.type === "leave" && (p.participants as Json[])[0].id === ALICE,
    );
    assert.deepEqual(alice.group, { id: TEAM });

    // Alice removes us from her club; we leave the team ourselves.
    cloud.leaveGroupBy(CLUB, [ME], ALICE);
    const out = await event("group.v2.leave", (p) => groupOf(p).id === CLUB);
    assert.equal(typeof out.timestamp, "number");
    // As WAHA, our leaving is also a group.v2.participants naming us.
    const gone = await event(
      "group.v2.participants",
      (p) => groupOf(p).id === CLUB && p.type === "leave",
    );
    assert.deepEqual(gone.participants, [{ id: ME, pn: ME, role: "left" }]);
    assert.equal((await call("POST", `/group/${TEAM}/leave`)).status, 200);
    await event("group.v2.leave", (p) => groupOf(p).id === TEAM);
    const left = await event(
      "group.v2.participants",
      (p) =>
        groupOf(p).id === TEAM && p.type === "leave" &&
        (p.participants as Json[])[0].id === ME,
    );
    assert.deepEqual(left.participants, [{ id: ME, pn: ME, role: "left" }]);
    assert.ok(!cloud.group(TEAM)?.participants.some((p) => p.id === ME));
  }));
