/**
 * @module
 * The simulator's group calls: create, read, update and leave groups and add or remove
 * participants, over the account data of `data.ts`. Numbers that are not on WhatsApp
 * and contacts whose privacy settings refuse group adds answer the way WhatsApp does.
 */
import type { Engine, ParticipantResult } from "../../engine.ts";
import {
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

export function createSimulatorGroups(data: SimulatorData): GroupCalls {
  const { chats, meId, group, groupDto } = data;
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
          settings: { messagesAdminsOnly: false, infoAdminsOnly: false },
        },
      };
      chats.set(id, chat);
      return Promise.resolve({ ...groupDto(chat), results });
    },
    getGroup(groupId) {
      return Promise.resolve(groupDto(group(groupId)));
    },
    updateGroup({ groupId, ...update }) {
      const chat = group(groupId);
      if (update.subject !== undefined) chat.group.subject = update.subject;
      if (update.description !== undefined) chat.group.description = update.description;
      if (update.messagesAdminsOnly !== undefined) {
        chat.group.settings.messagesAdminsOnly = update.messagesAdminsOnly;
      }
      if (update.infoAdminsOnly !== undefined) {
        chat.group.settings.infoAdminsOnly = update.infoAdminsOnly;
      }
      return Promise.resolve(groupDto(chat));
    },
    leaveGroup(groupId) {
      const chat = group(groupId);
      chat.group.participants = chat.group.participants.filter((p) => p.id !== meId);
      chats.delete(groupId);
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
