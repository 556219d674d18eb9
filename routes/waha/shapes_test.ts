/**
 * @module
 * Each mapper of `shapes.ts`: our session call's answer in, WAHA's (WEBJS) shape out, checked
 * against the schema transcribed in `waha/schemas.ts` and for what it carries over.
 */
import assert from "node:assert/strict";
import type { ChatSummary, ContactDto, GroupCreated, GroupDto } from "../../sessions/engine.ts";
import * as Waha from "../../waha/schemas.ts";
import {
  PARTICIPANTS_CHANGED,
  toChatSummary,
  toWebjsAddParticipantsResult,
  toWebjsChat,
  toWebjsContact,
  toWebjsCreateGroupResult,
  toWebjsGroupChat,
  toWebjsParticipant,
  toWid,
} from "./shapes.ts";

const ALICE = "15550000001@c.us";
const GROUP = "120363000000000001@g.us";

const chat = (overrides: Partial<ChatSummary> = {}): ChatSummary => ({
  id: ALICE,
  name: "Alice",
  isGroup: false,
  unreadCount: 2,
  lastMessage: { body: "hi", timestamp: 1_700_000_000 },
  archived: true,
  pinned: false,
  muted: true,
  markedUnread: false,
  ...overrides,
});

const group: GroupDto = {
  id: GROUP,
  subject: "Team",
  description: "About us",
  owner: "15550000002@c.us",
  createdAt: 1_690_000_000,
  participants: [
    { id: "15550000002@c.us", isAdmin: true, isSuperAdmin: true },
    { id: ALICE, isAdmin: false, isSuperAdmin: false },
  ],
  settings: {
    messagesAdminsOnly: true,
    infoAdminsOnly: false,
    addMembersAdminsOnly: false,
    membershipApproval: false,
  },
};

Deno.test("toWid() splits an id into whatsapp-web.js's user and server", () => {
  assert.deepEqual(toWid(ALICE), { server: "c.us", user: "15550000001", _serialized: ALICE });
  assert.deepEqual(toWid("100000000000001@lid"), {
    server: "lid",
    user: "100000000000001",
    _serialized: "100000000000001@lid",
  });
});

Deno.test("toWebjsChat() gives whatsapp-web.js's Chat, marked-unread as -1", () => {
  const webjs = Waha.WEBJSChat.parse(toWebjsChat(chat()));
  assert.deepEqual(webjs, {
    id: { server: "c.us", user: "15550000001", _serialized: ALICE },
    name: "Alice",
    isGroup: false,
    unreadCount: 2,
    timestamp: 1_700_000_000,
    archived: true,
    pinned: false,
    isMuted: true,
    lastMessage: { body: "hi", timestamp: 1_700_000_000 },
  });
  const marked = toWebjsChat(chat({ unreadCount: 0, markedUnread: true }));
  assert.equal(marked.unreadCount, -1);
  const empty = toWebjsChat(chat({ lastMessage: undefined }));
  assert.equal("lastMessage" in empty, false);
  assert.equal("timestamp" in empty, false);
});

Deno.test("toChatSummary() gives WAHA's ChatSummary with the chat as _chat", () => {
  const summary = Waha.ChatSummary.parse(toChatSummary(chat()));
  assert.equal(summary.id, ALICE);
  assert.equal(summary.name, "Alice");
  assert.equal(summary.picture, null);
  assert.deepEqual(summary.lastMessage, { body: "hi", timestamp: 1_700_000_000 });
  assert.deepEqual(Waha.WEBJSChat.parse(summary._chat), toWebjsChat(chat()));
  assert.equal(toChatSummary(chat({ lastMessage: undefined })).lastMessage, null);
});

Deno.test("toWebjsContact() gives WAHA's Contact: id a string, unknown names left out, isMe", () => {
  const contact: ContactDto = {
    id: ALICE,
    lid: "100000000000001@lid",
    number: "15550000001",
    name: null,
    pushname: "Ali",
    isMyContact: true,
    isBusiness: false,
    isBlocked: false,
    isGroup: false,
    isUser: true,
  };
  const webjs = Waha.WEBJSContact.strict().parse(toWebjsContact(contact, "4915550001234@c.us"));
  assert.deepEqual(webjs, {
    id: ALICE,
    number: "15550000001",
    isBusiness: false,
    pushname: "Ali",
    isMe: false,
    isUser: true,
    isGroup: false,
    isMyContact: true,
    isBlocked: false,
  });
  assert.equal(toWebjsContact(contact, ALICE).isMe, true);
});

Deno.test("toWebjsParticipant() gives whatsapp-web.js's GroupParticipant", () => {
  const participant = toWebjsParticipant(group.participants[0]);
  assert.deepEqual(Waha.WEBJSGroupParticipant.parse(participant), {
    id: { server: "c.us", user: "15550000002", _serialized: "15550000002@c.us" },
    isAdmin: true,
    isSuperAdmin: true,
  });
});

Deno.test("toWebjsGroupChat() gives whatsapp-web.js's GroupChat with its groupMetadata", () => {
  const webjs = Waha.WEBJSGroupChat.parse(toWebjsGroupChat(group));
  assert.equal(webjs.id._serialized, GROUP);
  assert.equal(webjs.name, "Team");
  assert.equal(webjs.isGroup, true);
  const meta = webjs.groupMetadata;
  assert.equal(meta.subject, "Team");
  assert.equal(meta.desc, "About us");
  assert.equal(meta.owner?._serialized, "15550000002@c.us");
  assert.equal(meta.creation, 1_690_000_000);
  assert.equal(meta.restrict, false);
  assert.equal(meta.announce, true);
  assert.deepEqual(meta.participants.map((p) => p.id._serialized), ["15550000002@c.us", ALICE]);
  const unknown = toWebjsGroupChat({ ...group, owner: null, createdAt: null }).groupMetadata;
  assert.equal("owner" in unknown, false);
  assert.equal("creation" in unknown, false);
});

Deno.test("toWebjsCreateGroupResult() gives whatsapp-web.js's CreateGroupResult by participant", () => {
  const created: GroupCreated = {
    ...group,
    results: [
      { id: ALICE, result: "added" },
      { id: "15550000003@c.us", result: "not_on_whatsapp" },
      { id: "15550000004@c.us", result: "not_allowed", message: "invite only" },
    ],
  };
  const webjs = Waha.WEBJSCreateGroupResult.parse(toWebjsCreateGroupResult(created));
  assert.equal(webjs.title, "Team");
  assert.deepEqual(webjs.gid, toWid(GROUP));
  assert.deepEqual(
    Object.entries(webjs.participants).map(([id, r]) => [id, r.statusCode]),
    [[ALICE, 200], ["15550000003@c.us", 404], ["15550000004@c.us", 403]],
  );
  assert.equal(webjs.participants["15550000004@c.us"].message, "invite only");
  assert.equal(webjs.participants[ALICE].isGroupCreator, false);
});

Deno.test("toWebjsAddParticipantsResult() gives whatsapp-web.js's codes by participant", () => {
  const webjs = Waha.WEBJSAddParticipantsResult.parse(toWebjsAddParticipantsResult([
    { id: ALICE, result: "added" },
    { id: "15550000002@c.us", result: "already_in" },
  ]));
  assert.equal(webjs[ALICE].code, 200);
  assert.equal(webjs["15550000002@c.us"].code, 409);
  assert.ok(webjs["15550000002@c.us"].message.length > 0);
  assert.equal(webjs[ALICE].isInviteV4Sent, false);
});

Deno.test("PARTICIPANTS_CHANGED is whatsapp-web.js's answer to a participants change", () => {
  assert.deepEqual(Waha.WEBJSParticipantsStatus.parse(PARTICIPANTS_CHANGED), { status: 200 });
});
