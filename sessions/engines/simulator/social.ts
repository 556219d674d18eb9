/**
 * @module
 * The simulator's labels, presence and calls. It is a WhatsApp Business account: it starts with
 * WhatsApp Business's five labels, keeps the labels with the chats' own (`SimChat.labels`) across
 * restarts, and reports every change, the API's and the phone's (the control's), as WAHA's
 * `label.*` events. Presence is what the contacts last showed (the control makes them type or
 * go online; never seen: offline, last seen unknown); a subscription is answered with a
 * `presence.update` of the presence as it is, as WhatsApp answers one, and the chats subscribed to
 * are listed with their presence. A call rings until it is rejected, or is
 * rejected as it arrives when `calls.autoReject` says so (the caller then gets `calls.message`).
 */
import {
  type CallDto,
  type ChatPresencesDto,
  EngineError,
  type EngineEventSink,
  type EngineOptions,
  LABEL_COLORS,
  type LabelDto,
  type MessageDto,
  notFound,
  type PresenceDto,
  type SentMessage,
  type SocialCapabilities,
} from "../../engine.ts";
import { NOT_ON_WHATSAPP, randomHex, type SimChat, type SimulatorData, unixNow } from "./data.ts";

/** A label as the simulator's phone keeps it. */
export interface SimLabel {
  id: string;
  name: string;
  color: number;
}

/** WhatsApp Business's own labels, which every business account starts with. */
export const SEED_LABELS: readonly SimLabel[] = [
  { id: "1", name: "New customer", color: 0 },
  { id: "2", name: "New order", color: 1 },
  { id: "3", name: "Pending payment", color: 2 },
  { id: "4", name: "Paid", color: 3 },
  { id: "5", name: "Order complete", color: 4 },
];

/** Calls kept ringing at most (the oldest stops first). */
const MAX_RINGING = 100;

export interface SimulatorSocialDeps {
  data: SimulatorData;
  emit: EngineEventSink;
  /** Sends a message of ours into a chat, as every send of the engine does. */
  record(chatId: string, fields: Partial<MessageDto> & { body: string }): SentMessage;
  /** The account data changed: write it soon. */
  changed(): void;
  calls: EngineOptions["calls"];
}

export type SimulatorSocial = SocialCapabilities & {
  /** The labels to keep (`state_file.ts`). */
  labels(): SimLabel[];
  /** The labels of the last run, or WhatsApp Business's five on the first. */
  restoreLabels(saved: SimLabel[] | undefined): void;
  /** A contact's presence as it just showed (the control's typing and online). */
  observe(presence: PresenceDto): void;
  /** A contact calls the phone. */
  incomingCall(from: string, isVideo: boolean): void;
  /** The phone creates a label (no `id`) or edits one. */
  phoneUpsertLabel(label: { id?: string; name: string; color?: number }): LabelDto;
};

function refuse(message: string): EngineError {
  return new EngineError("BAD_REQUEST", message);
}

function labelDto(label: SimLabel): LabelDto {
  return {
    id: label.id,
    name: label.name,
    color: label.color,
    colorHex: LABEL_COLORS[label.color] ?? "#000000",
  };
}

export function createSimulatorSocial(deps: SimulatorSocialDeps): SimulatorSocial {
  const { data, emit } = deps;
  const labels = new Map<string, SimLabel>();
  /** What each chat's contacts last showed, by chat and participant. */
  const presences = new Map<string, Map<string, Omit<PresenceDto, "chatId" | "participant">>>();
  /** The chats whose presence was asked for, with their contacts (in the order asked). */
  const subscribed = new Map<string, string[]>();
  const ringing = new Map<string, CallDto>();

  function findLabel(labelId: string): SimLabel {
    const label = labels.get(labelId);
    if (!label) throw notFound(`Label "${labelId}" not found`);
    return label;
  }

  function assertNameFree(name: string, except?: string): void {
    const taken = [...labels.values()].find((l) =>
      l.id !== except && l.name.toLowerCase() === name.toLowerCase()
    );
    if (taken) throw refuse(`A label named "${taken.name}" exists already (id "${taken.id}")`);
  }

  function upsert(label: SimLabel): LabelDto {
    labels.set(label.id, label);
    deps.changed();
    const dto = labelDto(label);
    emit({ type: "label.upsert", label: dto });
    return dto;
  }

  function create(name: string, color: number): LabelDto {
    assertNameFree(name);
    const next = Math.max(0, ...[...labels.keys()].map(Number).filter(Number.isFinite)) + 1;
    return upsert({ id: String(next), name, color });
  }

  function edit(labelId: string, name: string, color: number | undefined): LabelDto {
    const label = findLabel(labelId);
    assertNameFree(name, labelId);
    return upsert({ ...label, name, color: color ?? label.color });
  }

  /** Gives `chat` exactly `ids`, reporting each label put on and taken off. */
  function relabel(chat: SimChat, ids: string[]): void {
    for (const id of ids) findLabel(id);
    const before = chat.labels ?? [];
    const after = [...new Set(ids)];
    chat.labels = after;
    deps.changed();
    for (const id of before.filter((id) => !after.includes(id))) {
      const label = labels.get(id);
      emit({
        type: "label.chat.deleted",
        labelId: id,
        chatId: chat.id,
        label: label ? labelDto(label) : null,
      });
    }
    for (const id of after.filter((id) => !before.includes(id))) {
      emit({
        type: "label.chat.added",
        labelId: id,
        chatId: chat.id,
        label: labelDto(labels.get(id)!),
      });
    }
  }

  function deleteLabel(labelId: string): Promise<void> {
    const label = findLabel(labelId);
    for (const chat of data.chats.values()) {
      if (chat.labels?.includes(labelId)) relabel(chat, chat.labels.filter((id) => id !== labelId));
    }
    labels.delete(labelId);
    deps.changed();
    emit({ type: "label.deleted", label: labelDto(label) });
    return Promise.resolve();
  }

  /** A chat whose presence may be asked for: a person on WhatsApp, or a group we know. */
  function presenceChat(chatId: string): string[] {
    if (chatId.endsWith("@g.us")) {
      return data.group(chatId).group.participants.map((p) => p.id).filter((id) =>
        id !== data.meId
      );
    }
    if (chatId === NOT_ON_WHATSAPP) throw notFound(`"${chatId}" is not on WhatsApp`);
    if (chatId === data.meId) throw refuse("Ask for another account's presence, not your own");
    return [chatId];
  }

  function presenceOf(chatId: string, participant: string): Omit<PresenceDto, "chatId"> {
    const known = presences.get(chatId)?.get(participant);
    // Never seen: offline, and when it was last seen is the contact's secret.
    return { participant, ...(known ?? { presence: "offline", lastSeen: null }) };
  }

  function reject(call: CallDto): void {
    ringing.delete(call.id);
    emit({ type: "call.rejected", call: { ...call } });
  }

  return {
    labels: () => [...labels.values()].map((l) => ({ ...l })),
    restoreLabels(saved) {
      labels.clear();
      for (const label of saved ?? SEED_LABELS) labels.set(label.id, { ...label });
    },

    listLabels() {
      const all = [...labels.values()].sort((a, b) => Number(a.id) - Number(b.id));
      return Promise.resolve(all.map(labelDto));
    },
    createLabel: ({ name, color }) => Promise.resolve(create(name, color ?? 0)),
    updateLabel: ({ labelId, name, color }) => Promise.resolve(edit(labelId, name, color)),
    deleteLabel: (labelId) => {
      try {
        return deleteLabel(labelId);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    getChatLabels(chatId) {
      const chat = data.existingChat(chatId);
      return Promise.resolve((chat.labels ?? []).flatMap((id) => {
        const label = labels.get(id);
        return label ? [labelDto(label)] : [];
      }));
    },
    setChatLabels({ chatId, labels: wanted }) {
      relabel(data.existingChat(chatId), wanted.map((l) => l.id));
      return Promise.resolve();
    },
    getLabelChats(labelId) {
      findLabel(labelId);
      const chats = [...data.chats.values()].filter((chat) => chat.labels?.includes(labelId));
      return Promise.resolve(chats.map(data.summary));
    },
    phoneUpsertLabel({ id, name, color }) {
      return id === undefined ? create(name, color ?? 0) : edit(id, name, color);
    },

    setPresence() {
      // Ours is shown to the contacts; nothing here reports it back.
      return Promise.resolve();
    },
    getPresence(chatId) {
      const participants = presenceChat(chatId);
      subscribed.set(chatId, participants);
      const result: ChatPresencesDto = {
        chatId,
        presences: participants.map((p) => presenceOf(chatId, p)),
      };
      return Promise.resolve(result);
    },
    subscribePresence(chatId) {
      const participants = presenceChat(chatId);
      subscribed.set(chatId, participants);
      // WhatsApp answers a subscription with the presence as it is now.
      for (const participant of participants) {
        emit({ type: "presence.update", presence: { chatId, ...presenceOf(chatId, participant) } });
      }
      return Promise.resolve();
    },
    listPresences() {
      return Promise.resolve([...subscribed].map(([chatId, participants]) => ({
        chatId,
        presences: participants.map((p) => presenceOf(chatId, p)),
      })));
    },
    observe({ chatId, participant, presence, lastSeen }) {
      const chat = presences.get(chatId) ?? new Map();
      chat.set(participant, { presence, lastSeen });
      presences.set(chatId, chat);
    },

    incomingCall(from, isVideo) {
      if (from === NOT_ON_WHATSAPP) throw notFound(`"${from}" is not on WhatsApp`);
      if (from.endsWith("@g.us") || from === data.meId) {
        throw refuse("A call comes from another account (a contact's id)");
      }
      const call: CallDto = {
        id: randomHex(16),
        from,
        timestamp: unixNow(),
        isVideo,
        isGroup: false,
      };
      if (ringing.size >= MAX_RINGING) ringing.delete(ringing.keys().next().value!);
      ringing.set(call.id, call);
      emit({ type: "call.received", call: { ...call } });
      if (!deps.calls?.autoReject) return;
      reject(call);
      if (deps.calls.message) deps.record(from, { body: deps.calls.message });
    },
    rejectCall({ from, id }) {
      const call = ringing.get(id);
      if (!call || call.from !== from) {
        return Promise.reject(notFound(`No call "${id}" from "${from}" is ringing`));
      }
      reject(call);
      return Promise.resolve();
    },
  };
}
