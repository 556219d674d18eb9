import assert from "node:assert/strict";
import { toGroupDto } from "./groups.ts";

const wid = (id: string) => ({ _serialized: id });

Deno.test("toGroupDto() reads who may add members and whether joining needs approval from whatsapp-web.js's metadata", () => {
  const chat = (memberAddMode: string, membershipApprovalMode: boolean) => ({
    id: wid("120363000000000001@g.us"),
    name: "Team",
    groupMetadata: { memberAddMode, membershipApprovalMode, announce: true, participants: [] },
  });
  assert.deepEqual(toGroupDto(chat("admin_add", true)).settings, {
    messagesAdminsOnly: true,
    infoAdminsOnly: false,
    addMembersAdminsOnly: true,
    membershipApproval: true,
  });
  const open = toGroupDto(chat("all_member_add", false)).settings;
  assert.deepEqual([open.addMembersAdminsOnly, open.membershipApproval], [false, false]);
});

Deno.test("toGroupDto() reads NOWEB's memberAddMode and joinApprovalMode booleans", () => {
  const meta = (memberAddMode: boolean, joinApprovalMode: boolean) => ({
    id: "120363000000000001@g.us",
    subject: "Team",
    restrict: true,
    memberAddMode,
    joinApprovalMode,
    participants: [],
  });
  assert.deepEqual(toGroupDto(meta(false, true)).settings, {
    messagesAdminsOnly: false,
    infoAdminsOnly: true,
    addMembersAdminsOnly: true,
    membershipApproval: true,
  });
  const open = toGroupDto(meta(true, false)).settings;
  assert.deepEqual([open.addMembersAdminsOnly, open.membershipApproval], [false, false]);
});
