/**
 * @module
 * The fake WAHA's group events: what WAHA posts when one of the session's groups changes, in the
 * shapes of WAHA's `GroupV2*Event`s (`groups.events.dto.ts`), for a change made through its API
 * (`groups.ts`) and for one made elsewhere, from the phone or by the group's other members
 * (`changeGroup`, doing what the simulator's `/simulator/group-*` controls do). `_data` is the
 * notification whatsapp-web.js hands WAHA's WEBJS engine: its `type` (`create`, `add`, `invite`,
 * `remove`, `leave`, `promote`, `demote`, `subject`, `description`, `picture`, `announce`,
 * `restrict`), `author`, `chatId`, `recipientIds`, `timestamp`. Timestamps are Unix seconds.
 * `membersCanSendMessages` means what its name says, as WAHA's GOWS and WPP engines give it (its
 * WEBJS engine copies WhatsApp's `announce` flag there, the opposite); members carry their
 * phone-number id (`pn`) where their id is one, as WAHA's NOWEB and GOWS engines give it. The fake
 * keeps no member-add mode: every member may add others (`membersCanAddNewMember`), as in a group
 * new on WhatsApp; `newMembersApprovalRequired` is the group's `approval`.
 */
import type { FakeGroup, FakeGroupMember, FakeGroups } from "./groups.ts";

/** Posts one of WAHA's events of the session. */
export type GroupNotify = (event: string, payload: unknown) => void;

type Role = "left" | "participant" | "admin" | "superadmin";

const unixNow = () => Math.floor(Date.now() / 1000);
const pnOf = (id: string) => id.endsWith("@c.us") ? id : null;
const roleOf = (m: FakeGroupMember): Role =>
  m.isSuperAdmin ? "superadmin" : m.isAdmin ? "admin" : "participant";

/** WAHA's `GroupInfo` of `group` as the account `me` sees it (the invite code, if an admin). */
function groupInfo(group: FakeGroup, me: string, withParticipants: boolean) {
  const admin = group.participants.some((p) => p.id === me && p.isAdmin);
  return {
    id: group.id,
    subject: group.subject,
    description: group.desc,
    invite: admin ? group.invite : null,
    membersCanAddNewMember: true,
    membersCanSendMessages: !group.announce,
    newMembersApprovalRequired: group.approval,
    ...(withParticipants
      ? {
        participants: group.participants.map((p) => ({
          id: p.id,
          pn: pnOf(p.id),
          role: roleOf(p),
        })),
      }
      : {}),
  };
}

/** whatsapp-web.js's `GroupNotification`, as WAHA's WEBJS engine passes it on in `_data`. */
const notification = (group: FakeGroup, type: string, author: string, recipients: string[]) => ({
  type,
  timestamp: unixNow(),
  chatId: group.id,
  author,
  recipientIds: recipients,
});

/**
 * `group.v2.join`: the account `me` created `group` (`create`), was added or joined by link; the
 * last two are also a `group.v2.participants` with the account, as WAHA posts both for them.
 */
export function joined(
  notify: GroupNotify,
  group: FakeGroup,
  me: string,
  how: { type: "create" | "add" | "invite"; author: string },
): void {
  notify("group.v2.join", {
    timestamp: unixNow(),
    group: groupInfo(group, me, true),
    _data: notification(group, how.type, how.author, [me]),
  });
  if (how.type !== "create") participantsChanged(notify, group, "join", [me], how.author);
}

/**
 * `group.v2.leave`: the account `me` left `group`, or `author` removed it; also a
 * `group.v2.participants` with the account, as WAHA posts both.
 */
export function left(notify: GroupNotify, group: FakeGroup, me: string, author = me): void {
  notify("group.v2.leave", {
    timestamp: unixNow(),
    group: { id: group.id },
    _data: notification(group, author === me ? "leave" : "remove", author, [me]),
  });
  participantsChanged(notify, group, "leave", [me], author);
}

const PARTICIPANT_CHANGES = {
  join: { role: "participant", type: "add" },
  leave: { role: "left", type: "remove" },
  promote: { role: "admin", type: "promote" },
  demote: { role: "participant", type: "demote" },
} as const;

/** `group.v2.participants`: `ids` joined, left, were promoted or demoted (by `author`). */
export function participantsChanged(
  notify: GroupNotify,
  group: FakeGroup,
  change: keyof typeof PARTICIPANT_CHANGES,
  ids: string[],
  author: string,
): void {
  if (ids.length === 0) return;
  const { role, type } = PARTICIPANT_CHANGES[change];
  // A member who goes by themself leaves; one who comes by themself came by the invite link.
  const self = ids.length === 1 && ids[0] === author;
  const how = self && change === "leave" ? "leave" : self && change === "join" ? "invite" : type;
  notify("group.v2.participants", {
    group: { id: group.id },
    type: change,
    timestamp: unixNow(),
    participants: ids.map((id) => ({ id, pn: pnOf(id), role })),
    _data: notification(group, how, author, ids),
  });
}

/** `group.v2.update`: `author` changed `group`'s info (`type` says what, as whatsapp-web.js). */
export function updated(
  notify: GroupNotify,
  group: FakeGroup,
  me: string,
  type: "subject" | "description" | "picture" | "announce" | "restrict",
  author: string,
): void {
  notify("group.v2.update", {
    timestamp: unixNow(),
    group: groupInfo(group, me, false),
    _data: notification(group, type, author, []),
  });
}

/** `group.v2.participants.join-request`: `requester` asked to join `group` by its link. */
export function requested(notify: GroupNotify, group: FakeGroup, requester: string): void {
  notify("group.v2.participants.join-request", {
    group: { id: group.id },
    action: "created",
    requesterId: requester,
    requesterPn: pnOf(requester),
    requestMethod: "invite_link",
    timestamp: unixNow(),
    _data: null,
  });
}

/**
 * A change of a group made elsewhere, with the body of the simulator's control of that name:
 * `group-settings` (`by`, a member, changes the subject, description or, an admin, a setting),
 * `group-join` (`participant` joins, added by `by` when given; without `participant`, `by` adds the
 * account to a new group `groupId`), `group-admin` (`by`, an admin, promotes or demotes
 * `participant`, the account when absent), `group-leave` (`participant` leaves; the account when
 * absent), `group-request` (`participant` asks to join). Each posts what WAHA posts; one WhatsApp
 * would refuse throws an `Error` saying why.
 */
export function changeGroup(
  groups: FakeGroups,
  me: string,
  action: string,
  body: Record<string, unknown>,
  notify: GroupNotify,
): void {
  const groupId = String(body.groupId);
  const participant = body.participant === undefined ? undefined : String(body.participant);
  const group = () => {
    const found = groups.mine.get(groupId);
    if (!found) throw new Error(`The account is in no group "${groupId}"`);
    return found;
  };
  const memberOf = (g: FakeGroup, id: string) => g.participants.find((p) => p.id === id);
  /** `by`, another member of `g`, and an admin of it when `admin` is asked. */
  const actor = (g: FakeGroup, admin: boolean) => {
    const by = String(body.by);
    const member = by === me ? undefined : memberOf(g, by);
    if (!member) throw new Error(`"${by}" is not another member of group "${g.id}"`);
    if (admin && !member.isAdmin) throw new Error(`"${by}" is not an admin of group "${g.id}"`);
    return by;
  };
  switch (action) {
    case "group-settings": {
      const g = group();
      const settings = body.messagesAdminsOnly !== undefined || body.infoAdminsOnly !== undefined;
      const info = body.subject !== undefined || body.description !== undefined;
      const by = actor(g, settings || (info && g.restrict));
      if (body.subject !== undefined) {
        g.subject = String(body.subject);
        updated(notify, g, me, "subject", by);
      }
      if (body.description !== undefined) {
        g.desc = String(body.description);
        updated(notify, g, me, "description", by);
      }
      if (body.messagesAdminsOnly !== undefined) {
        g.announce = body.messagesAdminsOnly === true;
        updated(notify, g, me, "announce", by);
      }
      if (body.infoAdminsOnly !== undefined) {
        g.restrict = body.infoAdminsOnly === true;
        updated(notify, g, me, "restrict", by);
      }
      return;
    }
    case "group-join": {
      if (participant === undefined) {
        if (groups.mine.get(groupId)?.participants.some((p) => p.id === me)) {
          throw new Error(`The account is already a member of group "${groupId}"`);
        }
        const by = body.by === undefined ? "15550000001@c.us" : String(body.by);
        const subject = body.subject === undefined ? "Added by a contact" : String(body.subject);
        const added: FakeGroup = {
          id: groupId,
          subject,
          desc: "",
          owner: by,
          creation: unixNow(),
          announce: false,
          restrict: false,
          approval: false,
          participants: [
            { id: by, isAdmin: true, isSuperAdmin: true },
            { id: me, isAdmin: false, isSuperAdmin: false },
          ],
          invite: `INVITE${groupId.split("@")[0]}`,
          picture: null,
          requests: [],
        };
        groups.mine.set(groupId, added);
        joined(notify, added, me, { type: "add", author: by });
        return;
      }
      const g = group();
      const by = body.by === undefined ? participant : actor(g, true);
      if (memberOf(g, participant)) {
        throw new Error(`"${participant}" is already a member of group "${g.id}"`);
      }
      g.participants.push({ id: participant, isAdmin: false, isSuperAdmin: false });
      participantsChanged(notify, g, "join", [participant], by);
      return;
    }
    case "group-admin": {
      const g = group();
      const by = actor(g, true);
      const target = memberOf(g, participant ?? me);
      if (!target) throw new Error(`"${participant}" is not a member of group "${g.id}"`);
      const promote = body.action === "promote";
      if (!promote && target.isSuperAdmin) {
        throw new Error("The group's creator cannot be demoted");
      }
      if (target.isAdmin !== promote) {
        target.isAdmin = promote;
        participantsChanged(notify, g, promote ? "promote" : "demote", [target.id], by);
      }
      return;
    }
    case "group-leave": {
      const g = group();
      const leaving = participant ?? me;
      if (!memberOf(g, leaving)) {
        throw new Error(`"${leaving}" is not a member of group "${g.id}"`);
      }
      g.participants = g.participants.filter((p) => p.id !== leaving);
      if (participant === undefined) {
        groups.mine.delete(g.id);
        left(notify, g, me);
      } else {
        participantsChanged(notify, g, "leave", [leaving], leaving);
      }
      return;
    }
    case "group-request": {
      const g = group();
      if (participant === undefined || memberOf(g, participant)) {
        throw new Error(`"${participant}" is already a member of group "${g.id}"`);
      }
      if (!g.requests.some((r) => r.id === participant)) {
        g.requests.push({ id: participant, timestamp: unixNow() });
        requested(notify, g, participant);
      }
      return;
    }
  }
  throw new Error(`No group change "${action}"`);
}
