import assert from "node:assert/strict";
import { toGroupDto } from "./mappers.ts";

const wid = (id: string) => ({ _serialized: id });
const group = (groupMetadata: Record<string, unknown>) => ({
  id: wid("120363000000000001@g.us"),
  name: "Team",
  groupMetadata: { participants: [], ...groupMetadata },
});

Deno.test("toGroupDto() keeps adding members to admins when WhatsApp Web's memberAddMode is admin_add", () => {
  assert.equal(
    toGroupDto(group({ memberAddMode: "admin_add" })).settings.addMembersAdminsOnly,
    true,
  );
  assert.equal(
    toGroupDto(group({ memberAddMode: "all_member_add" })).settings.addMembersAdminsOnly,
    false,
  );
});

Deno.test("toGroupDto() says joining needs approval when WhatsApp Web's membershipApprovalMode is on", () => {
  assert.equal(
    toGroupDto(group({ membershipApprovalMode: true })).settings.membershipApproval,
    true,
  );
  assert.equal(toGroupDto(group({})).settings.membershipApproval, false);
});
