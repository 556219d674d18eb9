/**
 * @module
 * Group administration through HTTP, with WAHA's paths and events as a webhook receiver gets
 * them: the invite link (read, revoke, preview, join by code or link), promoting and demoting
 * admins, the two security settings, the subject, description and picture, requests to join, and
 * what the other side of a group does (`World.groupChange`: the simulator's control API, or the
 * fake WAHA's): an admin demotes the phone, changes the info, adds the phone to a group, a member
 * joins or leaves. Once the phone is no admin, what WhatsApp keeps to admins is refused (GAPS
 * `nonAdminRefusals` where the fake WAHA does not). All of it runs on each engine of `_engines.ts`
 * (the group's creator and the group to join by its link are the engine's `World`'s; a rejected
 * request to join is an event on the simulator only, as WhatsApp Web shows none). A
 * `group.v2.update`'s `_data` is ours on the simulator (`{ change, author }`) and whatsapp-web.js's notification on
 * WAHA (`{ type, author, … }`): `changeOf` reads either.
 */
import assert from "node:assert/strict";
import { type Received, type Receiver, startReceiver } from "../events/test_receivers.ts";
import {
  answersNotImplemented,
  type EngineName,
  ENGINES,
  type GroupChangeAction,
  keepsContract,
  notImplementedOn,
  startEngine,
  type World,
} from "./_engines.ts";
import { type TestApp, webhookEvent } from "./_helpers.ts";

const PHONE = "4915550007201";
const ME = `${PHONE}@c.us`;
const ALICE = "15550000001@c.us";
const BOB = "15550000002@c.us";
const CAROL = "15550000003@c.us";
const DAVE = "15550000004@c.us";
const GROUP = "120363000000000001@g.us";
const PNG_DATA_URL =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

type Json = Record<string, unknown>;

interface Setup {
  server: TestApp;
  /** What the engine's other side holds to begin with. */
  world: World;
  hooks: Receiver;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }>;
  /** The other side changes a group (`World.groupChange`). */
  simulate(action: GroupChangeAction, body: Json): Promise<{ status: number; body: Json }>;
  /** The first event named `event` at the webhook whose payload `matches`, within 5 s. */
  event(event: string, matches: (payload: Json) => boolean): Promise<Received>;
}

/** A connected number on `engine`. */
async function withPhone(
  test: (setup: Setup) => Promise<void>,
  engine: EngineName,
): Promise<void> {
  const hooks = startReceiver();
  const { server, connect, world, close } = await startEngine(engine, { WEBHOOK_URL: hooks.url });
  try {
    await connect(PHONE);
    await test({
      server,
      world,
      hooks,
      call: (method, path, body) =>
        server.json(method, `/${PHONE}${path}`, body === undefined ? {} : { body }),
      simulate: (action, body) => world.groupChange(PHONE, action, body),
      event: (event, matches) => webhookEvent(hooks, event, matches, 5_000),
    });
  } finally {
    await close();
    await hooks.close();
  }
}

const JOIN_INFO = "GET /{phoneNumber}/groups/join-info";
const g = (groupId: string) => `/groups/${encodeURIComponent(groupId)}`;
const groupOf = (p: Json) => p.group as Json;
/**
 * What a `group.v2.update` changed: `subject`, `description`, `settings` or `picture`, from our
 * `_data.change` or whatsapp-web.js's `_data.type` (`announce`, `restrict`: a setting).
 */
function changeOf(p: Json): string {
  const data = p._data as Json;
  const type = String(data.change ?? data.type);
  return type === "announce" || type === "restrict" ? "settings" : type;
}

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, an admin reads the invite link, revokes it for a new one, and only the new code previews the group`, async () => {
    await withPhone(async ({ call, world }) => {
      const first = await call("GET", `${g(GROUP)}/invite-code`);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const code = String(first.body.code);
      assert.equal(first.body.link, `https://chat.whatsapp.com/${code}`);
      assert.equal((await call("GET", `${g(GROUP)}/invite-code`)).body.code, code);

      const preview = await call("GET", `/groups/join-info?code=${encodeURIComponent(code)}`);
      const previews = !notImplementedOn(engine, JOIN_INFO);
      if (previews) {
        assert.equal(preview.status, 200, JSON.stringify(preview.body));
        assert.equal(preview.body.id, GROUP);
        assert.equal(preview.body.subject, world.group.subject);
        assert.equal(preview.body.size, world.group.size);
      } else {
        answersNotImplemented(engine, JOIN_INFO, preview);
      }

      const revoked = await call("POST", `${g(GROUP)}/invite-code/revoke`);
      assert.equal(revoked.status, 200);
      assert.notEqual(revoked.body.code, code);
      if (previews) {
        assert.equal((await call("GET", `/groups/join-info?code=${code}`)).status, 404);
        const link = encodeURIComponent(String(revoked.body.link));
        assert.equal((await call("GET", `/groups/join-info?code=${link}`)).body.id, GROUP);
      }
      assert.equal((await call("GET", "/groups/join-info?code=not%20a%20code")).status, 400);
      assert.equal((await call("GET", "/groups/join-info")).status, 400);
    }, engine);
  });
}

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, joining by an invite link adds the phone to the group and sends group.v2.join with the group in WAHA's shape`, async () => {
    await withPhone(async ({ call, event, world }) => {
      const { code, subject } = world.invite;
      const preview = await call("GET", `/groups/join-info?code=${code}`);
      assert.equal(preview.status, 200, JSON.stringify(preview.body));
      assert.equal(preview.body.subject, subject);

      const joined = await call("POST", "/groups/join", {
        code: `https://chat.whatsapp.com/${code}`,
      });
      assert.equal(joined.status, 200, JSON.stringify(joined.body));
      const id = String(joined.body.id);
      assert.equal(id, preview.body.id);
      const { json } = await event("group.v2.join", (p) => groupOf(p).id === id);
      const group = groupOf(json.payload);
      assert.equal(group.subject, subject);
      assert.equal(group.membersCanSendMessages, true);
      assert.deepEqual(
        (group.participants as Json[]).find((p) => p.id === ME),
        { id: ME, pn: ME, role: "participant" },
      );
      assert.equal(typeof json.payload.timestamp, "number");
      const us = await event(
        "group.v2.participants",
        (p) => groupOf(p).id === id && p.type === "join",
      );
      assert.deepEqual(us.json.payload.participants, [{ id: ME, pn: ME, role: "participant" }]);

      const read = await call("GET", `/group/${encodeURIComponent(id)}`);
      assert.ok((read.body.participants as Json[]).some((p) => p.id === ME));
      const again = await call("POST", "/groups/join", { code });
      assert.equal(again.status, 400, JSON.stringify(again.body));
      assert.match(String(again.body.error), /Already a member/);
      assert.equal((await call("POST", "/groups/join", { code: "NoSuchInvite99" })).status, 404);
    }, engine);
  });
}

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, promote and demote change admins, answer per participant, and send group.v2.participants`, async () => {
    await withPhone(async ({ call, event, world }) => {
      const promoted = await call("POST", `${g(GROUP)}/admin/promote`, {
        participants: [ALICE, CAROL],
      });
      assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
      assert.deepEqual(promoted.body.results, [
        { id: ALICE, result: "promoted" },
        { id: CAROL, result: "not_in_group" },
      ]);
      const up = await event("group.v2.participants", (p) => p.type === "promote");
      assert.deepEqual(up.json.payload.group, { id: GROUP });
      assert.deepEqual(up.json.payload.participants, [{ id: ALICE, pn: ALICE, role: "admin" }]);
      const group = await call("GET", `/group/${GROUP}`);
      assert.equal(
        (group.body.participants as Json[]).find((p) => p.id === ALICE)?.isAdmin,
        true,
      );

      const creator = world.group.creator ?? ME;
      const demoted = await call("POST", `${g(GROUP)}/admin/demote`, {
        participants: [{ id: ALICE }, creator],
      });
      assert.deepEqual(demoted.body.results, [
        { id: ALICE, result: "demoted" },
        { id: creator, result: "not_allowed", message: "The group's creator cannot be demoted" },
      ]);
      const down = await event("group.v2.participants", (p) => p.type === "demote");
      assert.deepEqual(down.json.payload.participants, [{
        id: ALICE,
        pn: ALICE,
        role: "participant",
      }]);
    }, engine);
  });
}

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, the security settings, subject and description change through WAHA's paths and each sends group.v2.update`, async () => {
    await withPhone(async ({ call, event }) => {
      const path = `${g(GROUP)}/settings/security`;
      assert.deepEqual((await call("GET", `${path}/messages-admin-only`)).body, {
        adminsOnly: false,
      });
      const set = await call("PUT", `${path}/messages-admin-only`, { adminsOnly: true });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.deepEqual(set.body, { adminsOnly: true });
      assert.deepEqual((await call("GET", `${path}/messages-admin-only`)).body, {
        adminsOnly: true,
      });
      const settings = await event("group.v2.update", (p) => changeOf(p) === "settings");
      assert.equal(groupOf(settings.json.payload).membersCanSendMessages, false);
      assert.equal(groupOf(settings.json.payload).id, GROUP);

      assert.deepEqual((await call("PUT", `${path}/info-admin-only`, { adminsOnly: true })).body, {
        adminsOnly: true,
      });
      assert.deepEqual((await call("GET", `${path}/info-admin-only`)).body, { adminsOnly: true });
      assert.equal(
        (await call("PUT", `${path}/info-admin-only`, { adminsOnly: "yes" })).status,
        400,
      );

      assert.equal(
        (await call("PUT", `${g(GROUP)}/description`, { description: "Rules: be kind" })).status,
        200,
      );
      const described = await event("group.v2.update", (p) => changeOf(p) === "description");
      assert.equal(groupOf(described.json.payload).description, "Rules: be kind");
      assert.equal((await call("PUT", `${g(GROUP)}/subject`, { subject: "Renamed" })).status, 200);
      const renamed = await event("group.v2.update", (p) => changeOf(p) === "subject");
      assert.equal(groupOf(renamed.json.payload).subject, "Renamed");
      assert.deepEqual((renamed.json.payload._data as Json).author, ME);
      const read = (await call("GET", `/group/${GROUP}`)).body;
      assert.equal(read.description, "Rules: be kind");
      assert.equal(read.subject, "Renamed");
    }, engine);
  });
}

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, the group's picture is set from an image, read back, removed, and each change sends group.v2.update`, async () => {
    await withPhone(async ({ call, event }) => {
      assert.deepEqual((await call("GET", `${g(GROUP)}/picture`)).body, { url: null });
      const set = await call("PUT", `${g(GROUP)}/picture`, { file: { url: PNG_DATA_URL } });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      const { url } = (await call("GET", `${g(GROUP)}/picture`)).body;
      assert.match(String(url), /^https:\/\//);
      await event("group.v2.update", (p) => changeOf(p) === "picture");

      const base64 = PNG_DATA_URL.split(",")[1];
      const again = await call("PUT", `${g(GROUP)}/picture`, {
        file: { mimetype: "image/png", data: base64 },
      });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.notEqual((await call("GET", `${g(GROUP)}/picture`)).body.url, url);

      assert.equal((await call("DELETE", `${g(GROUP)}/picture`)).status, 200);
      assert.deepEqual((await call("GET", `${g(GROUP)}/picture`)).body, { url: null });
      assert.equal((await call("DELETE", `${g(GROUP)}/picture`)).status, 400);
      const text = await call("PUT", `${g(GROUP)}/picture`, {
        file: { url: "data:text/plain;base64,aGVsbG8=" },
      });
      assert.equal(text.status, 400);
    }, engine);
  });
}

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, requests to join arrive as group.v2.participants.join-request and wait for an admin, who approves (they join) or rejects them`, async () => {
    await withPhone(async ({ call, simulate, event }) => {
      const requests = `${g(GROUP)}/participants/join-requests`;
      const idsOf = (list: Json[]) => list.map((r) => r.requesterId);
      // The group may have requests waiting already (the fake WAHA's has one).
      const waiting = idsOf((await call("GET", requests)).body as unknown as Json[]);
      for (const participant of [CAROL, DAVE]) {
        const asked = await simulate("group-request", { groupId: GROUP, participant });
        assert.equal(asked.status, 200, JSON.stringify(asked.body));
      }
      const created = await event(
        "group.v2.participants.join-request",
        (p) => p.requesterId === CAROL && p.action === "created",
      );
      assert.deepEqual(created.json.payload.group, { id: GROUP });
      assert.equal(created.json.payload.requesterPn, CAROL);
      assert.equal(created.json.payload.requestMethod, "invite_link");
      const listed = ((await call("GET", requests)).body as unknown as Json[])
        .filter((r) => !waiting.includes(r.requesterId));
      assert.deepEqual(
        listed.map((r) => [r.requesterId, r.addedById, r.parentGroupId, r.requestMethod]),
        [[CAROL, CAROL, null, "invite_link"], [DAVE, DAVE, null, "invite_link"]],
      );

      // WAHA's body: participants as `{ id }` objects (ids work too).
      const approved = await call("POST", `${requests}/approve`, {
        participants: [{ id: CAROL }, BOB],
      });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      const [carol, bob] = approved.body as unknown as Json[];
      assert.deepEqual(carol, { requesterId: CAROL, success: true });
      assert.deepEqual([bob.requesterId, bob.success, bob.error], [BOB, false, 404]);
      const joined = await event(
        "group.v2.participants",
        (p) => groupOf(p).id === GROUP && p.type === "join",
      );
      assert.deepEqual(joined.json.payload.participants, [{
        id: CAROL,
        pn: CAROL,
        role: "participant",
      }]);
      // No list: every request still waiting is rejected, those there before too.
      const rejected = await call("POST", `${requests}/reject`, {});
      assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
      assert.deepEqual(
        (rejected.body as unknown as Json[]).map((r) => [r.requesterId, r.success]).sort(),
        [...waiting, DAVE].map((id) => [id, true]).sort(),
      );
      if (engine === "simulator") {
        // WhatsApp Web shows nothing of a rejection, so WAHA's WEBJS posts none; ours does.
        await event(
          "group.v2.participants.join-request",
          (p) => p.requesterId === DAVE && p.action === "rejected",
        );
      }
      assert.deepEqual((await call("GET", requests)).body, []);
      const members = ((await call("GET", `/group/${GROUP}`)).body.participants as Json[])
        .map((p) => p.id);
      assert.ok(members.includes(CAROL));
      assert.ok(!members.includes(DAVE));
    }, engine);
  });
}

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, once another admin demotes the phone, what WhatsApp keeps to admins is refused`, async () => {
    await withPhone(async ({ call, simulate, event }) => {
      /** The fake WAHA does some of it for a non-admin (GAPS: nonAdminRefusals). */
      const refuses = keepsContract(engine, "nonAdminRefusals");
      assert.equal(
        (await call("POST", `${g(GROUP)}/admin/promote`, { participants: [ALICE] })).status,
        200,
      );
      // Alice, an admin now, cannot be helped by a non-admin: Bob's demotion is refused.
      const byBob = await simulate("group-admin", { groupId: GROUP, by: BOB, action: "demote" });
      assert.equal(byBob.status, 400);
      // The phone is the group's creator: it stays one, so a group of Alice's is used.
      const other = "120363000000000077@g.us";
      const added = await simulate("group-join", {
        groupId: other,
        by: ALICE,
        subject: "Alice's group",
      });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      const join = await event("group.v2.join", (p) => groupOf(p).id === other);
      assert.equal(groupOf(join.json.payload).subject, "Alice's group");

      const up = await simulate("group-admin", { groupId: other, by: ALICE, action: "promote" });
      assert.equal(up.status, 200, JSON.stringify(up.body));
      const promoted = await event(
        "group.v2.participants",
        (p) => (p.group as Json).id === other && p.type === "promote",
      );
      assert.deepEqual(promoted.json.payload.participants, [{ id: ME, pn: ME, role: "admin" }]);
      assert.equal((await call("GET", `${g(other)}/invite-code`)).status, 200);

      await simulate("group-admin", { groupId: other, by: ALICE, action: "demote" });
      await event(
        "group.v2.participants",
        (p) => (p.group as Json).id === other && p.type === "demote",
      );
      const settings = await call("PUT", `${g(other)}/settings/security/messages-admin-only`, {
        adminsOnly: true,
      });
      assert.equal(settings.status, 400);
      if (refuses) {
        const refused = [
          await call("GET", `${g(other)}/invite-code`),
          await call("POST", `${g(other)}/invite-code/revoke`),
          await call("GET", `${g(other)}/participants/join-requests`),
        ];
        assert.deepEqual(refused.map((r) => r.status), [400, 400, 400]);
        assert.match(String((refused[0].body as Json).error), /Only admins/);
      }
      // Bob joins by the link; the phone, no admin now, cannot make him one.
      assert.equal(
        (await simulate("group-join", { groupId: other, participant: BOB })).status,
        200,
      );
      const promote = await call("POST", `${g(other)}/admin/promote`, { participants: [BOB] });
      assert.equal((promote.body.results as Json[])[0].result, "not_allowed");

      // Members may still change the info until an admin keeps it to admins.
      assert.equal((await call("PUT", `${g(other)}/subject`, { subject: "Ours" })).status, 200);
      const locked = await simulate("group-settings", {
        groupId: other,
        by: ALICE,
        infoAdminsOnly: true,
      });
      assert.equal(locked.status, 200, JSON.stringify(locked.body));
      const update = await event(
        "group.v2.update",
        (p) => groupOf(p).id === other && changeOf(p) === "settings",
      );
      assert.equal((update.json.payload._data as Json).author, ALICE);
      assert.equal((await call("PUT", `${g(other)}/subject`, { subject: "Mine" })).status, 400);

      // Only admins send, says Alice: our message is refused, as WhatsApp refuses it.
      const text = { chatId: other, text: "hello" };
      assert.equal((await call("POST", "/send-text", text)).status, 200);
      await simulate("group-settings", { groupId: other, by: ALICE, messagesAdminsOnly: true });
      if (refuses) {
        const refusedText = await call("POST", "/send-text", text);
        assert.equal(refusedText.status, 400);
        assert.match(String(refusedText.body.error), /Only admins can send messages/);
      }
      assert.equal(
        (await call("PUT", `${g(other)}/picture`, { file: { url: PNG_DATA_URL } })).status,
        400,
      );
    }, engine);
  });
}

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, the other side of a group renames it, and members join and leave, as WAHA's events`, async () => {
    await withPhone(async ({ call, simulate, event }) => {
      const byMember = await simulate("group-settings", {
        groupId: GROUP,
        by: ALICE,
        messagesAdminsOnly: true,
      });
      assert.equal(byMember.status, 400);
      const renamed = await simulate("group-settings", {
        groupId: GROUP,
        by: ALICE,
        subject: "Hi",
      });
      assert.equal(renamed.status, 200);
      const update = await event("group.v2.update", (p) => changeOf(p) === "subject");
      assert.equal(groupOf(update.json.payload).subject, "Hi");
      assert.equal((update.json.payload._data as Json).author, ALICE);
      assert.equal((await call("GET", `/group/${GROUP}`)).body.subject, "Hi");

      const joined = await simulate("group-join", { groupId: GROUP, participant: CAROL });
      assert.equal(joined.status, 200);
      const join = await event("group.v2.participants", (p) => p.type === "join");
      assert.deepEqual(join.json.payload.group, { id: GROUP });
      assert.deepEqual(join.json.payload.participants, [{
        id: CAROL,
        pn: CAROL,
        role: "participant",
      }]);
      assert.equal(
        (await simulate("group-join", { groupId: GROUP, participant: CAROL })).status,
        400,
      );
      assert.equal((await simulate("group-join", { groupId: GROUP })).status, 400);

      assert.equal(
        (await simulate("group-leave", { groupId: GROUP, participant: BOB })).status,
        200,
      );
      const leave = await event("group.v2.participants", (p) => p.type === "leave");
      assert.deepEqual(leave.json.payload.participants, [{ id: BOB, pn: BOB, role: "left" }]);
      const members = ((await call("GET", `/group/${GROUP}`)).body.participants as Json[]).map((
        p,
      ) => p.id);
      assert.ok(members.includes(CAROL));
      assert.ok(!members.includes(BOB));
    }, engine);
  });
}

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, the phone added to a group and leaving it (there, or through the API) is group.v2.join and group.v2.leave, each with a group.v2.participants naming the phone, as WAHA posts them`, async () => {
    await withPhone(async ({ call, simulate, event }) => {
      const other = "120363000000000078@g.us";
      const ofOther = (p: Json) => groupOf(p).id === other;
      const added = await simulate("group-join", { groupId: other, by: ALICE, subject: "Trip" });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      const join = groupOf((await event("group.v2.join", ofOther)).json.payload);
      // WAHA's GroupInfo: a new group lets every member write and add others, and asks no approval.
      assert.equal(join.membersCanSendMessages, true);
      assert.equal(join.membersCanAddNewMember, true);
      assert.equal(join.newMembersApprovalRequired, false);
      assert.ok(!("membersCanEditInfo" in join), "WAHA's GroupInfo has no membersCanEditInfo");
      const joined = await event("group.v2.participants", (p) => ofOther(p) && p.type === "join");
      assert.deepEqual(joined.json.payload.participants, [{ id: ME, pn: ME, role: "participant" }]);

      assert.equal((await simulate("group-leave", { groupId: other })).status, 200);
      await event("group.v2.leave", ofOther);
      const left = await event("group.v2.participants", (p) => ofOther(p) && p.type === "leave");
      assert.deepEqual(left.json.payload.participants, [{ id: ME, pn: ME, role: "left" }]);

      // Leaving through the API is told the same way.
      const ofGroup = (p: Json) => groupOf(p).id === GROUP;
      assert.equal((await call("POST", `/group/${GROUP}/leave`)).status, 200);
      await event("group.v2.leave", ofGroup);
      const gone = await event("group.v2.participants", (p) => ofGroup(p) && p.type === "leave");
      assert.deepEqual(gone.json.payload.participants, [{ id: ME, pn: ME, role: "left" }]);
    }, engine);
  });
}
