/**
 * @module
 * The simulator's group calls: create, read, update and leave groups and add or remove
 * participants, over the account data of `data.ts`. Numbers that are not on WhatsApp
 * and contacts whose privacy settings refuse group adds answer the way WhatsApp does.
 */
import {
  type Engine,
  EngineError,
  type EngineEventSink,
  type GroupChange,
  type ParticipantResult,
} from "../../engine.ts";
import type { GroupUpdate } from "../../engine.ts";
import {
  NEW_GROUP_SETTINGS,
  NO_GROUP_ADDS,
  NOT_ON_WHATSAPP,
  randomHex,
  type SimGroupChat,
  type SimulatorData,
  unixNow,
} from "./data.ts";

export type GroupCalls = Pick<
  Engine,
  | "createGroup"
  | "getGroup"
  | "updateGroup"
  | "leaveGroup"
  | "addParticipants"
  | "removeParticipants"
>;

export function createSimulatorGroups(data: SimulatorData, emit: EngineEventSink): GroupCalls {
  const { chats, meId, group, groupDto } = data;

  /** WhatsApp keeps settings to admins, and the info too once `infoAdminsOnly` is on. */
  function assertMayUpdate(chat: SimGroupChat, update: Omit<GroupUpdate, "groupId">): void {
    const admin = chat.group.participants.some((p) => p.id === meId && p.isAdmin);
    if (admin) return;
    const settings = update.messagesAdminsOnly !== undefined ||
      update.infoAdminsOnly !== undefined;
    const info = update.subject !== undefined || update.description !== undefined;
    if (settings || (info && chat.group.settings.infoAdminsOnly)) {
      throw new EngineError(
        "BAD_REQUEST",
        `Only admins of group "${chat.id}" can change ${settings ? "its settings" : "its info"}`,
      );
    }
  }

  function updated(chat: SimGroupChat, change: GroupChange): void {
    emit({
      type: "group.update",
      group: groupDto(chat),
      change,
      author: meId,
      timestamp: unixNow(),
    });
  }
  return {
    createGroup({ name, participants }) {
      const id = `120363${Date.now()}${randomHex(2).replace(/\D/g, "7")}@g.us`;
      const results: ParticipantResult[] = participants.map((p) =>
        p === NOT_ON_WHATSAPP
          ? { id: p, result: "not_on_whatsapp" }
          : p === NO_GROUP_ADDS
          ? { id: p, result: "not_allowed", message: "Their privacy settings do not allow it" }
          : { id: p, result: "added" }
      );
      const chat: SimGroupChat = {
        id,
        name,
        archived: false,
        pinned: false,
        muted: false,
        unreadCount: 0,
        messages: [],
        group: {
          subject: name,
          description: "",
          owner: meId,
          createdAt: unixNow(),
          participants: [
            { id: meId, isAdmin: true, isSuperAdmin: true },
            ...results.filter((r) => r.result === "added").map((r) => ({
              id: r.id,
              isAdmin: false,
              isSuperAdmin: false,
            })),
          ],
          settings: { ...NEW_GROUP_SETTINGS },
        },
      };
      chats.set(id, chat);
      return Promise.resolve({ ...groupDto(chat), results });
    },
    getGroup(groupId) {
      return Promise.resolve(groupDto(group(groupId)));
    },
    updateGroup({ groupId, ...update }) {
      let chat: SimGroupChat;
      try {
        chat = group(groupId);
        assertMayUpdate(chat, update);
      } catch (error) {
        return Promise.reject(error);
      }
      const { settings } = chat.group;
      if (update.subject !== undefined && update.subject !== chat.group.subject) {
        chat.group.subject = update.subject;
        updated(chat, "subject");
      }
      if (update.description !== undefined && update.description !== chat.group.description) {
        chat.group.description = update.description;
        updated(chat, "description");
      }
      const before = JSON.stringify(settings);
      if (update.messagesAdminsOnly !== undefined) {
        settings.messagesAdminsOnly = update.messagesAdminsOnly;
      }
      if (update.infoAdminsOnly !== undefined) settings.infoAdminsOnly = update.infoAdminsOnly;
      if (JSON.stringify(settings) !== before) updated(chat, "settings");
      return Promise.resolve(groupDto(chat));
    },
    leaveGroup(groupId) {
      const chat = group(groupId);
      chat.group.participants = chat.group.participants.filter((p) => p.id !== meId);
      chats.delete(groupId);
      // As WAHA: the account's leave is the group's (`participants: []`) and a member's too.
      const timestamp = unixNow();
      emit({ type: "group.leave", groupId, participants: [], timestamp });
      emit({ type: "group.leave", groupId, participants: [meId], timestamp });
      return Promise.resolve();
    },
    addParticipants({ groupId, participants }) {
      const chat = group(groupId);
      return Promise.resolve(participants.map((id): ParticipantResult => {
        if (id === NOT_ON_WHATSAPP) return { id, result: "not_on_whatsapp" };
        if (id === NO_GROUP_ADDS) {
          return { id, result: "not_allowed", message: "Their privacy settings do not allow it" };
        }
        if (chat.group.participants.some((p) => p.id === id)) return { id, result: "already_in" };
        chat.group.participants.push({ id, isAdmin: false, isSuperAdmin: false });
        return { id, result: "added" };
      }));
    },
    removeParticipants({ groupId, participants }) {
      const chat = group(groupId);
      return Promise.resolve(participants.map((id): ParticipantResult => {
        if (id === meId) return { id, result: "not_allowed", message: "Use leave instead" };
        const before = chat.group.participants.length;
        chat.group.participants = chat.group.participants.filter((p) => p.id !== id);
        return chat.group.participants.length < before
          ? { id, result: "removed" }
          : { id, result: "not_in_group" };
      }));
    },
  };
}
