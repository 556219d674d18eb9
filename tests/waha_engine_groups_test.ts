/**
 * @module
 * Groups on the waha engine through our HTTP API, against the fake WAHA: creating a group,
 * reading and changing it, adding, removing, promoting and demoting participants, its picture,
 * previewing and joining by an invite link, and the requests to join, each reach WAHA's call with
 * the body WAHA's DTO takes, and answer in our contract's shapes (per-participant results
 * included); what WhatsApp keeps to admins is refused for the account where it is not one.
 */
import assert from "node:assert/strict";
import { PNG_DATA_URL } from "../routes/engine_inputs.ts";
import { linkWahaSession, startWahaGateway } from "./fake_waha/gateway.ts";
import { JOINABLE_CODE, JOINABLE_GROUP, SEEDED_GROUP } from "./fake_waha/groups.ts";

const PHONE = "4915550022101";
const ME = `${PHONE}@c.us`;
const ALICE = "15550000001@c.us";
const BOB = "15550000002@c.us";
const STRANGER = "15550000005@c.us";
const NOT_ON_WHATSAPP = "4930000000001@c.us";

interface Group {
  id: string;
  subject: string;
  description: string;
  owner: string | null;
  createdAt: number | null;
  participants: { id: string; isAdmin: boolean; isSuperAdmin: boolean }[];
  settings: {
    messagesAdminsOnly: boolean;
    infoAdminsOnly: boolean;
    addMembersAdminsOnly: boolean;
    membershipApproval: boolean;
  };
}

Deno.test("groups on the waha engine are WAHA's group calls", async (t) => {
  const gateway = await startWahaGateway();
  const { server, fake } = gateway;
  const lastCall = (path: string, method?: string) => fake.callsTo(path, method).at(-1);
  const groupCall = (groupId: string, suffix = "") => `/api/${PHONE}/groups/${groupId}${suffix}`;
  const roles = (group: Group) =>
    Object.fromEntries(group.participants.map((p) => [p.id, p.isSuperAdmin ? "super" : p.isAdmin]));
  try {
    await linkWahaSession(gateway, PHONE);
    let groupId = "";

    await t.step("create is WAHA's POST groups, with a result per participant", async () => {
      const created = await server.json<Group & { results: unknown[] }>(
        "POST",
        `/${PHONE}/group/create`,
        { body: { name: "Team", participants: [ALICE, NOT_ON_WHATSAPP] } },
      );
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.deepEqual(lastCall(`/api/${PHONE}/groups`, "POST")?.body, {
        name: "Team",
        participants: [{ id: ALICE }, { id: NOT_ON_WHATSAPP }],
      });
      groupId = created.body.id;
      assert.match(groupId, /^\d+@g\.us$/);
      assert.equal(created.body.subject, "Team");
      assert.equal(created.body.owner, ME);
      assert.ok(Number.isInteger(created.body.createdAt));
      assert.deepEqual(roles(created.body), { [ME]: "super", [ALICE]: false });
      assert.deepEqual(created.body.results, [
        { id: ALICE, result: "added" },
        {
          id: NOT_ON_WHATSAPP,
          result: "not_on_whatsapp",
          message: "The participant is not on WhatsApp",
        },
      ]);
    });

    await t.step("the group is read back from WAHA's GET groups/{id}", async () => {
      const group = await server.json<Group>("GET", `/${PHONE}/group/${groupId}`);
      assert.equal(group.status, 200, JSON.stringify(group.body));
      assert.equal(lastCall(groupCall(groupId), "GET")?.method, "GET");
      assert.deepEqual(group.body, {
        id: groupId,
        subject: "Team",
        description: "",
        owner: ME,
        createdAt: group.body.createdAt,
        participants: [
          { id: ME, isAdmin: true, isSuperAdmin: true },
          { id: ALICE, isAdmin: false, isSuperAdmin: false },
        ],
        settings: {
          messagesAdminsOnly: false,
          infoAdminsOnly: false,
          addMembersAdminsOnly: false,
          membershipApproval: false,
        },
      });
      const missing = await server.json("GET", `/${PHONE}/group/120363999999999999@g.us`);
      assert.equal(missing.status, 404, JSON.stringify(missing.body));
    });

    await t.step("an update is WAHA's subject, description and settings calls", async () => {
      const updated = await server.json<Group>("PUT", `/${PHONE}/group/${groupId}`, {
        body: { subject: "Team 2", description: "What we do", messagesAdminsOnly: true },
      });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      assert.deepEqual(lastCall(groupCall(groupId, "/subject"), "PUT")?.body, {
        subject: "Team 2",
      });
      assert.deepEqual(lastCall(groupCall(groupId, "/description"), "PUT")?.body, {
        description: "What we do",
      });
      const messages = groupCall(groupId, "/settings/security/messages-admin-only");
      assert.deepEqual(lastCall(messages, "PUT")?.body, { adminsOnly: true });
      const info = groupCall(groupId, "/settings/security/info-admin-only");
      assert.equal(fake.callsTo(info, "PUT").length, 0, "only what changes is sent");
      assert.equal(updated.body.subject, "Team 2");
      assert.equal(updated.body.description, "What we do");
      assert.deepEqual(updated.body.settings, {
        messagesAdminsOnly: true,
        infoAdminsOnly: false,
        addMembersAdminsOnly: false,
        membershipApproval: false,
      });
    });

    await t.step("add and remove are WAHA's participants calls, one result each", async () => {
      const added = await server.json<{ results: unknown[] }>(
        "POST",
        `/${PHONE}/group/${groupId}/participants/add`,
        { body: { participants: [BOB, ALICE] } },
      );
      assert.equal(added.status, 200, JSON.stringify(added.body));
      assert.deepEqual(lastCall(groupCall(groupId, "/participants/add"))?.body, {
        participants: [{ id: BOB }, { id: ALICE }],
      });
      assert.deepEqual(added.body.results, [
        { id: BOB, result: "added" },
        { id: ALICE, result: "already_in", message: "Could not add the participant (409)" },
      ]);
      const removed = await server.json<{ results: unknown[] }>(
        "POST",
        `/${PHONE}/group/${groupId}/participants/remove`,
        { body: { participants: [ALICE, STRANGER] } },
      );
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.deepEqual(lastCall(groupCall(groupId, "/participants/remove"))?.body, {
        participants: [{ id: ALICE }],
      });
      assert.deepEqual(removed.body.results, [
        { id: ALICE, result: "removed" },
        { id: STRANGER, result: "not_in_group" },
      ]);
      const group = await server.json<Group>("GET", `/${PHONE}/group/${groupId}`);
      assert.deepEqual(roles(group.body), { [ME]: "super", [BOB]: false });
    });

    await t.step("promote and demote are WAHA's admin calls, told by the roles after", async () => {
      const promoted = await server.json<{ results: unknown[] }>(
        "POST",
        `/${PHONE}/groups/${groupId}/admin/promote`,
        { body: { participants: [BOB, { id: STRANGER }] } },
      );
      assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
      assert.deepEqual(lastCall(groupCall(groupId, "/admin/promote"))?.body, {
        participants: [{ id: BOB }],
      });
      assert.deepEqual(promoted.body.results, [
        { id: BOB, result: "promoted" },
        { id: STRANGER, result: "not_in_group" },
      ]);
      const demoted = await server.json<{ results: unknown[] }>(
        "POST",
        `/${PHONE}/groups/${groupId}/admin/demote`,
        { body: { participants: [BOB, ME] } },
      );
      assert.equal(demoted.status, 200, JSON.stringify(demoted.body));
      assert.deepEqual(demoted.body.results, [
        { id: BOB, result: "demoted" },
        { id: ME, result: "not_allowed", message: "The group's creator cannot be demoted" },
      ]);
    });

    await t.step("the picture is WAHA's GET, PUT and DELETE groups/{id}/picture", async () => {
      const path = `/${PHONE}/groups/${groupId}/picture`;
      const none = await server.json("GET", path);
      assert.equal(none.status, 200, JSON.stringify(none.body));
      assert.deepEqual(none.body, { url: null });
      const set = await server.json("PUT", path, { body: { file: { url: PNG_DATA_URL } } });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      const file = (lastCall(groupCall(groupId, "/picture"), "PUT")?.body as {
        file: { mimetype: string; data: string; filename: string };
      }).file;
      assert.equal(file.mimetype, "image/png");
      assert.equal(file.data, PNG_DATA_URL.split(",")[1]);
      const now = await server.json<{ url: string }>("GET", path);
      assert.match(now.body.url, /^https:\/\/pps\.whatsapp\.net\/fake\//);
      const removed = await server.json("DELETE", path);
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.equal(fake.callsTo(groupCall(groupId, "/picture"), "DELETE").length, 1);
      assert.deepEqual((await server.json("GET", path)).body, { url: null });
    });

    await t.step("an invite link is previewed, then joined, by WAHA's join calls", async () => {
      const preview = await server.json(
        "GET",
        `/${PHONE}/groups/join-info?code=${JOINABLE_CODE}`,
      );
      assert.equal(preview.status, 200, JSON.stringify(preview.body));
      assert.deepEqual(lastCall(`/api/${PHONE}/groups/join-info`)?.query, {
        code: JOINABLE_CODE,
      });
      assert.deepEqual(preview.body, {
        id: JOINABLE_GROUP,
        subject: "Group to join",
        description: "Joined by its link",
        owner: "15550000008@c.us",
        createdAt: preview.body.createdAt,
        size: 2,
        membershipApproval: false,
      });
      const joined = await server.json("POST", `/${PHONE}/groups/join`, {
        body: { code: `https://chat.whatsapp.com/${JOINABLE_CODE}` },
      });
      assert.equal(joined.status, 200, JSON.stringify(joined.body));
      assert.deepEqual(joined.body, { id: JOINABLE_GROUP });
      assert.deepEqual(lastCall(`/api/${PHONE}/groups/join`)?.body, { code: JOINABLE_CODE });
      const unknown = await server.json("GET", `/${PHONE}/groups/join-info?code=NOSUCHCODE`);
      assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
    });

    await t.step("where the account is no admin, WhatsApp's refusals are ours", async () => {
      const subject = await server.json("PUT", `/${PHONE}/group/${JOINABLE_GROUP}`, {
        body: { subject: "Mine now" },
      });
      assert.equal(subject.status, 400, JSON.stringify(subject.body));
      const promoted = await server.json<{ results: unknown[] }>(
        "POST",
        `/${PHONE}/groups/${JOINABLE_GROUP}/admin/promote`,
        { body: { participants: [ALICE] } },
      );
      assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
      assert.deepEqual(promoted.body.results, [
        { id: ALICE, result: "not_allowed", message: "Only admins can change who is an admin" },
      ]);
    });

    await t.step("requests to join are WAHA's participants/join-requests calls", async () => {
      const path = `/${PHONE}/groups/${SEEDED_GROUP}/participants/join-requests`;
      const listed = await server.json<{ requesterId: string }[]>("GET", path);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      assert.deepEqual(listed.body.map((r) => r.requesterId), ["15550000007@c.us"]);
      const approved = await server.json("POST", `${path}/approve`, {
        body: { participants: ["15550000007@c.us", STRANGER] },
      });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.deepEqual(
        lastCall(groupCall(SEEDED_GROUP, "/participants/join-requests/approve"))
          ?.body,
        { participants: [{ id: "15550000007@c.us" }, { id: STRANGER }] },
      );
      assert.deepEqual(approved.body, [
        { requesterId: "15550000007@c.us", success: true },
        { requesterId: STRANGER, success: false, error: 404 },
      ]);
      const group = await server.json<Group>("GET", `/${PHONE}/group/${SEEDED_GROUP}`);
      assert.ok(group.body.participants.some((p) => p.id === "15550000007@c.us"));
      assert.deepEqual((await server.json("GET", path)).body, []);
    });
  } finally {
    await gateway.close();
  }
});
