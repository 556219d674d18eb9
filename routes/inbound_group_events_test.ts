import assert from "node:assert/strict";
import { toEnvelope } from "../events/envelope.ts";
import { groupEventPayload } from "../events/group_payloads.ts";
import type { GroupDto, GroupEvent } from "../sessions/engine.ts";
import { GROUP_EVENT_PAYLOADS } from "./inbound_group_events.ts";

const GROUP_ID = "120363000000000001@g.us";
const ME = "4915550001234@c.us";
const ALICE = "15550000001@c.us";

const schemaOf = (event: string) => {
  const entry = GROUP_EVENT_PAYLOADS.find(([name]) => name === event);
  assert.ok(entry, `a schema for ${event}`);
  return entry[1];
};

const group: GroupDto = {
  id: GROUP_ID,
  subject: "Team",
  description: "",
  owner: ME,
  createdAt: 1666943000,
  participants: [
    { id: ME, isAdmin: true, isSuperAdmin: true },
    { id: "12345@lid", pn: ALICE, isAdmin: false, isSuperAdmin: false },
  ],
  settings: {
    messagesAdminsOnly: true,
    infoAdminsOnly: false,
    addMembersAdminsOnly: false,
    membershipApproval: false,
  },
};

Deno.test("GROUP_EVENT_PAYLOADS takes the group events our engines send, in WAHA's shapes", () => {
  const timestamp = 1666943582;
  const events: GroupEvent[] = [
    { type: "group.join", group, invite: "AbCdEf", timestamp },
    {
      type: "group.participants",
      groupId: GROUP_ID,
      change: "promote",
      participants: [ALICE],
      timestamp,
    },
    { type: "group.update", group, change: "settings", author: ALICE, timestamp },
    {
      type: "group.join_request",
      groupId: GROUP_ID,
      action: "created",
      requester: ALICE,
      requestMethod: "invite_link",
      timestamp,
    },
  ];
  for (const data of events) {
    const { event, payload } = groupEventPayload(data);
    const parsed = schemaOf(event).safeParse(payload);
    assert.ok(parsed.success, `${event}: ${JSON.stringify(parsed.error?.issues)}`);
    assert.deepEqual(parsed.data, payload, `${event} is kept as it is`);
  }
});

Deno.test("toEnvelope() sends the account's leaving and a member's with WAHA's _data, as the schemas take them", () => {
  const left = (participants: string[]) =>
    toEnvelope({
      session: "4915550001234",
      engine: "simulator",
      me: null,
      timestamp: 1666943582000,
      data: { type: "group.leave", groupId: GROUP_ID, participants, timestamp: 1666943582 },
    }, "test");
  const ours = left([]);
  assert.equal(ours.event, "group.v2.leave");
  assert.deepEqual(ours.payload, { group: { id: GROUP_ID }, timestamp: 1666943582, _data: null });
  assert.ok(schemaOf("group.v2.leave").safeParse(ours.payload).success);
  const alice = left([ALICE]);
  assert.equal(alice.event, "group.v2.participants");
  assert.equal(alice.payload._data, null);
  assert.ok(schemaOf("group.v2.participants").safeParse(alice.payload).success);
});

Deno.test("GROUP_EVENT_PAYLOADS takes WAHA's engines' payloads: a partial update, members without pn, what it adds", () => {
  const update = schemaOf("group.v2.update").safeParse({
    timestamp: 1666943582000,
    group: { id: GROUP_ID, subject: "Renamed" },
    _data: { id: GROUP_ID, subject: "Renamed", author: ALICE },
  });
  assert.ok(update.success, JSON.stringify(update.error?.issues));
  const participants = schemaOf("group.v2.participants").safeParse({
    group: { id: GROUP_ID },
    type: "join",
    timestamp: 1666943582,
    participants: [{ id: ALICE, role: "participant" }],
    _data: { type: "add", recipientIds: [ALICE] },
    newField: true,
  });
  assert.ok(participants.success, JSON.stringify(participants.error?.issues));
  assert.equal((participants.data as Record<string, unknown>).newField, true);
});

Deno.test("GROUP_EVENT_PAYLOADS refuses what WAHA's shapes do not allow", () => {
  const participants = schemaOf("group.v2.participants");
  const valid = {
    group: { id: GROUP_ID },
    type: "leave",
    timestamp: 1666943582,
    participants: [{ id: ALICE, role: "left" }],
  };
  assert.ok(participants.safeParse(valid).success);
  assert.equal(participants.safeParse({ ...valid, type: "kicked" }).success, false);
  assert.equal(participants.safeParse({ ...valid, participants: [{ id: ALICE }] }).success, false);
  assert.equal(participants.safeParse({ ...valid, group: { id: "" } }).success, false);
  assert.equal(participants.safeParse({ ...valid, timestamp: "now" }).success, false);
  const join = schemaOf("group.v2.join");
  assert.equal(join.safeParse({ timestamp: 1, group: { id: GROUP_ID } }).success, false);
  const request = schemaOf("group.v2.participants.join-request");
  assert.equal(
    request.safeParse({
      group: { id: GROUP_ID },
      action: "approved",
      requesterId: ALICE,
      timestamp: 1,
    }).success,
    false,
  );
  assert.equal(schemaOf("group.v2.leave").safeParse({ timestamp: 1 }).success, false);
});
