/**
 * @module
 * The simulator's group administration: invite codes (get, revoke, join by one, preview the group
 * behind one), promoting and demoting admins, the group's picture and the requests to join, kept
 * with the group's chat (`SimChat.invite`, `picture`, `requests`) so they survive a restart; and
 * what the other side of a group does (the control API): an admin promotes or demotes a member
 * (the phone's account included), changes the group's info, adds the phone's account to a group,
 * a member joins, a contact asks to join. Only admins may do what WhatsApp keeps to admins; the
 * others are refused as WhatsApp refuses them. Every change leaves as WAHA's group events.
 */
import {
  type AdminResult,
  EngineError,
  type EngineEventSink,
  type GroupAdminCapabilities,
  type GroupChange,
  type GroupControlAction,
  type GroupInvitePreview,
  type MembershipRequestResult,
  notFound,
} from "../../engine.ts";
import {
  NEW_GROUP_SETTINGS,
  randomHex,
  type SimGroupChat,
  type SimulatorData,
  unixNow,
} from "./data.ts";

/** The invite code of a group the phone is not in yet (try `POST /groups/join` with it). */
export const SIMULATOR_INVITE_CODE = "SimulatorInvite01";
const INVITE_GROUP_ID = "120363000000000002@g.us";

export interface SimulatorGroupAdminDeps {
  data: SimulatorData;
  emit: EngineEventSink;
  /** The account data changed: write it soon. */
  changed(): void;
}

function refuse(message: string): EngineError {
  return new EngineError("BAD_REQUEST", message);
}

/** A code like WhatsApp's: 22 letters and digits. */
function newCode(): string {
  return randomHex(9) + randomHex(2).toLowerCase();
}

export function createSimulatorGroupAdmin(deps: SimulatorGroupAdminDeps) {
  const { data, emit } = deps;
  const { meId } = data;

  const member = (chat: SimGroupChat, id: string) =>
    chat.group.participants.find((p) => p.id === id);
  const isAdmin = (chat: SimGroupChat, id: string) => member(chat, id)?.isAdmin === true;

  /** WhatsApp keeps this to the group's admins: anyone else is refused. */
  function adminOnly(chat: SimGroupChat, what: string): void {
    if (!isAdmin(chat, meId)) throw refuse(`Only admins of group "${chat.id}" can ${what}`);
  }

  function codeOf(chat: SimGroupChat): string {
    chat.invite ??= newCode();
    return chat.invite;
  }

  /** The group another user's invite leads to, as it is before the phone joins it. */
  function inviteGroup(): SimGroupChat {
    const owner = "15550000001@c.us";
    return {
      id: INVITE_GROUP_ID,
      name: "Simulator Invite Group",
      archived: false,
      pinned: false,
      muted: false,
      unreadCount: 0,
      messages: [],
      invite: SIMULATOR_INVITE_CODE,
      group: {
        subject: "Simulator Invite Group",
        description: "A group the phone joins by its invite code",
        owner,
        createdAt: unixNow() - 86_400,
        participants: [
          { id: owner, isAdmin: true, isSuperAdmin: true },
          { id: "15550000003@c.us", isAdmin: false, isSuperAdmin: false },
        ],
        settings: { ...NEW_GROUP_SETTINGS },
      },
    };
  }

  /** The group behind a code: one of ours with that code, or the invite group; else 404. */
  function byCode(code: string): SimGroupChat {
    for (const chat of data.chats.values()) {
      if (chat.group && chat.invite === code) return chat as SimGroupChat;
    }
    if (code === SIMULATOR_INVITE_CODE) {
      return (data.chats.get(INVITE_GROUP_ID) as SimGroupChat | undefined) ?? inviteGroup();
    }
    throw notFound("The invite link is invalid or was revoked");
  }

  function updated(chat: SimGroupChat, change: GroupChange, author: string): void {
    deps.changed();
    emit({
      type: "group.update",
      group: data.groupDto(chat),
      change,
      author,
      timestamp: unixNow(),
    });
  }

  /** As WAHA: the account's join is the group's (`group.join`) and a member's like any other. */
  function accountJoined(chat: SimGroupChat): void {
    emit({ type: "group.join", group: data.groupDto(chat), invite: null, timestamp: unixNow() });
    participantsChanged(chat, "join", [meId]);
  }

  function participantsChanged(
    chat: SimGroupChat,
    change: "join" | "leave" | "promote" | "demote",
    participants: string[],
  ): void {
    if (!participants.length) return;
    deps.changed();
    emit({
      type: "group.participants",
      groupId: chat.id,
      change,
      participants,
      timestamp: unixNow(),
    });
  }

  /** Promotes or demotes, by `by` (an admin), each of `ids`: a result for each. */
  function setAdmins(
    chat: SimGroupChat,
    ids: string[],
    admin: boolean,
    by: string,
  ): AdminResult[] {
    const done: string[] = [];
    const results = ids.map((id): AdminResult => {
      if (!isAdmin(chat, by)) {
        return { id, result: "not_allowed", message: "Only admins can change who is an admin" };
      }
      const p = member(chat, id);
      if (!p) return { id, result: "not_in_group" };
      if (!admin && p.isSuperAdmin) {
        return { id, result: "not_allowed", message: "The group's creator cannot be demoted" };
      }
      if (p.isAdmin !== admin) {
        p.isAdmin = admin;
        done.push(id);
      }
      return { id, result: admin ? "promoted" : "demoted" };
    });
    participantsChanged(chat, admin ? "promote" : "demote", done);
    return results;
  }

  function answerRequests(
    chat: SimGroupChat,
    ids: string[] | undefined,
    approve: boolean,
  ): MembershipRequestResult[] {
    adminOnly(chat, "answer requests to join");
    const pending = chat.requests ?? [];
    const asked = ids ?? pending.map((r) => r.id);
    const joined: string[] = [];
    const results = asked.map((id): MembershipRequestResult => {
      const request = pending.find((r) => r.id === id);
      if (!request) {
        return { id, success: false, error: 404, message: "No pending request to join from them" };
      }
      chat.requests = (chat.requests ?? []).filter((r) => r.id !== id);
      if (approve && !member(chat, id)) {
        chat.group.participants.push({ id, isAdmin: false, isSuperAdmin: false });
        joined.push(id);
      }
      if (!approve) requested(chat, "rejected", id, request.requestMethod);
      return { id, success: true };
    });
    deps.changed();
    participantsChanged(chat, "join", joined);
    return results;
  }

  function requested(
    chat: SimGroupChat,
    action: "created" | "rejected",
    requester: string,
    requestMethod: string | null,
  ): void {
    emit({
      type: "group.join_request",
      groupId: chat.id,
      action,
      requester,
      requestMethod,
      timestamp: unixNow(),
    });
  }

  const capabilities: GroupAdminCapabilities = {
    getGroupInviteCode(groupId) {
      try {
        const chat = data.group(groupId);
        adminOnly(chat, "see its invite link");
        return Promise.resolve(codeOf(chat));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    revokeGroupInviteCode(groupId) {
      try {
        const chat = data.group(groupId);
        adminOnly(chat, "reset its invite link");
        chat.invite = newCode();
        deps.changed();
        return Promise.resolve(chat.invite);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    getGroupInviteInfo(code) {
      try {
        const chat = byCode(code);
        const preview: GroupInvitePreview = {
          id: chat.id,
          subject: chat.group.subject,
          description: chat.group.description,
          owner: chat.group.owner,
          createdAt: chat.group.createdAt,
          size: chat.group.participants.length,
          membershipApproval: chat.group.settings.membershipApproval,
        };
        return Promise.resolve(preview);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    joinGroup(code) {
      try {
        const chat = byCode(code);
        if (member(chat, meId)) throw refuse(`Already a member of group "${chat.id}"`);
        chat.group.participants.push({ id: meId, isAdmin: false, isSuperAdmin: false });
        data.chats.set(chat.id, chat);
        deps.changed();
        accountJoined(chat);
        return Promise.resolve({ id: chat.id });
      } catch (error) {
        return Promise.reject(error);
      }
    },
    promoteParticipants({ groupId, participants }) {
      try {
        return Promise.resolve(setAdmins(data.group(groupId), participants, true, meId));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    demoteParticipants({ groupId, participants }) {
      try {
        return Promise.resolve(setAdmins(data.group(groupId), participants, false, meId));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    getGroupPicture(groupId) {
      try {
        return Promise.resolve(data.group(groupId).picture ?? null);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    setGroupPicture({ groupId, media }) {
      try {
        const chat = data.group(groupId);
        if (chat.group.settings.infoAdminsOnly) adminOnly(chat, "change its picture");
        if (!media.mimetype.startsWith("image/")) throw refuse("A group picture must be an image");
        chat.picture = `https://pps.example.invalid/${chat.id}/${randomHex(6)}.jpg`;
        updated(chat, "picture", meId);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    },
    deleteGroupPicture(groupId) {
      try {
        const chat = data.group(groupId);
        if (chat.group.settings.infoAdminsOnly) adminOnly(chat, "remove its picture");
        if (!chat.picture) throw refuse(`Group "${groupId}" has no picture`);
        delete chat.picture;
        updated(chat, "picture", meId);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    },
    listMembershipRequests(groupId) {
      try {
        const chat = data.group(groupId);
        adminOnly(chat, "see requests to join");
        return Promise.resolve(structuredClone(chat.requests ?? []));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    approveMembershipRequests({ groupId, participants }) {
      try {
        return Promise.resolve(answerRequests(data.group(groupId), participants, true));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    rejectMembershipRequests({ groupId, participants }) {
      try {
        return Promise.resolve(answerRequests(data.group(groupId), participants, false));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };

  /** `by`, who acts on the other side: a member of the group other than the phone's account. */
  function otherMember(chat: SimGroupChat, by: string): string {
    if (by === meId || !member(chat, by)) {
      throw refuse(`"${by}" is not another member of group "${chat.id}"`);
    }
    return by;
  }

  function settings(action: Extract<GroupControlAction, { type: "group_settings" }>): void {
    const chat = data.group(action.groupId);
    const by = otherMember(chat, action.by);
    const admin = isAdmin(chat, by);
    const { group } = chat;
    const settingsChange = action.messagesAdminsOnly !== undefined ||
      action.infoAdminsOnly !== undefined;
    const infoChange = action.subject !== undefined || action.description !== undefined;
    if ((settingsChange || (infoChange && group.settings.infoAdminsOnly)) && !admin) {
      throw refuse(`"${by}" is not an admin of group "${chat.id}"`);
    }
    if (action.subject !== undefined) {
      group.subject = action.subject;
      chat.name = action.subject;
      updated(chat, "subject", by);
    }
    if (action.description !== undefined) {
      group.description = action.description;
      updated(chat, "description", by);
    }
    if (settingsChange) {
      if (action.messagesAdminsOnly !== undefined) {
        group.settings.messagesAdminsOnly = action.messagesAdminsOnly;
      }
      if (action.infoAdminsOnly !== undefined) {
        group.settings.infoAdminsOnly = action.infoAdminsOnly;
      }
      updated(chat, "settings", by);
    }
  }

  function join(action: Extract<GroupControlAction, { type: "group_join" }>): void {
    const existing = data.chats.get(action.groupId) as SimGroupChat | undefined;
    if (action.participant === undefined) {
      // The phone's account is added: to a group it is not in (made here when new).
      if (existing?.group && member(existing, meId)) {
        throw refuse(`The phone is already a member of group "${action.groupId}"`);
      }
      const by = action.by ?? "15550000001@c.us";
      const chat: SimGroupChat = {
        id: action.groupId,
        name: action.subject ?? "Added by a contact",
        archived: false,
        pinned: false,
        muted: false,
        unreadCount: 0,
        messages: [],
        group: {
          subject: action.subject ?? "Added by a contact",
          description: "",
          owner: by,
          createdAt: unixNow(),
          participants: [
            { id: by, isAdmin: true, isSuperAdmin: true },
            { id: meId, isAdmin: false, isSuperAdmin: false },
          ],
          settings: { ...NEW_GROUP_SETTINGS },
        },
      };
      data.chats.set(chat.id, chat);
      deps.changed();
      accountJoined(chat);
      return;
    }
    const chat = data.group(action.groupId);
    if (action.by !== undefined && !isAdmin(chat, otherMember(chat, action.by))) {
      throw refuse(`"${action.by}" is not an admin of group "${chat.id}"`);
    }
    if (member(chat, action.participant)) {
      throw refuse(`"${action.participant}" is already a member of group "${chat.id}"`);
    }
    chat.group.participants.push({ id: action.participant, isAdmin: false, isSuperAdmin: false });
    participantsChanged(chat, "join", [action.participant]);
  }

  function request(action: Extract<GroupControlAction, { type: "group_request" }>): void {
    const chat = data.group(action.groupId);
    if (member(chat, action.participant)) {
      throw refuse(`"${action.participant}" is already a member of group "${chat.id}"`);
    }
    chat.requests ??= [];
    if (!chat.requests.some((r) => r.id === action.participant)) {
      chat.requests.push({
        id: action.participant,
        addedBy: action.participant,
        requestMethod: "invite_link",
        timestamp: unixNow(),
      });
      requested(chat, "created", action.participant, "invite_link");
    }
    deps.changed();
  }

  /** Makes the other side of a group act (`Engine.simulate`). */
  function control(action: GroupControlAction): void {
    switch (action.type) {
      case "group_admin": {
        const chat = data.group(action.groupId);
        const by = otherMember(chat, action.by);
        const target = action.participant ?? meId;
        const [result] = setAdmins(chat, [target], action.action === "promote", by);
        if (result.result !== "promoted" && result.result !== "demoted") {
          throw refuse(result.message ?? `"${target}" is not a member of group "${chat.id}"`);
        }
        return;
      }
      case "group_settings":
        return settings(action);
      case "group_join":
        return join(action);
      case "group_request":
        return request(action);
    }
  }

  return { capabilities, control };
}
