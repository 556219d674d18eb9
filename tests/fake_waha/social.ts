/**
 * @module
 * The fake WAHA's presence, labels and calls. Presence (`/api/{session}/presence…`): the
 * session's own (online, offline, or a state in one chat), and what is known of the chats
 * subscribed to; asking for a chat's presence subscribes to it. ALICE (`15550000001@c.us`) is
 * online; anyone else has never been seen (no presence known) until the test says otherwise.
 * Labels (`/api/{session}/labels…`, newer WAHA): WhatsApp Business's five labels to begin with,
 * refused as WAHA refuses them (422: a name some label has, the label changed included, a 21st
 * label, a colour given both ways or not at all), and the labels of each chat. Calls: rejecting
 * one (`POST …/calls/reject`; WhatsApp rejects it if it rings).
 *
 * What changes is posted as WAHA posts it (its NOWEB engine's label events: `label.upsert` for a
 * label created or changed, `label.chat.added` and `label.chat.deleted` for each label put on a
 * chat or taken off, `label.deleted`; for a label deleted, `label.chat.deleted` for each chat that
 * had it first, as our simulator does, where WAHA posts what WhatsApp's sync reports; a call
 * rejected through the API as its WEBJS engine posts it, `call.rejected` naming the call and the
 * caller, a voice call at the time of rejecting). `socialControls` is
 * what happens on the phone and from contacts, posted the same way: a contact's presence changes
 * (`presence.update`), a contact calls (`call.received`) and the phone answers (`call.accepted`),
 * the phone changes labels.
 */
import {
  type Label,
  LabelBody,
  RejectCallRequest,
  SetLabelsRequest,
  type WAHAChatPresences,
  type WAHAPresenceData,
  type WAHAPresenceStatus,
  WAHASessionPresence,
} from "../../waha/schemas.ts";
import { json, nestError, validate } from "./http.ts";

const COLORS = ["#ff9485", "#64c4ff", "#ffd429", "#dfaef0", "#99b6c1", "#55ccb3", "#ff9dff"]
  .concat(["#d3a91d", "#6d7cce", "#d7e752", "#00d0e2", "#ffc5c7", "#93ceac", "#f74848"])
  .concat(["#00a0f2", "#83e422", "#ffaf04", "#b5ebff", "#9ba6ff", "#9368cf"]);

export interface FakeSocial {
  /** The session's own presence, as last set. */
  presence: { presence: WAHAPresenceStatus; chatId?: string } | null;
  /** The chats whose presence the session subscribed to. */
  subscribed: Set<string>;
  /** What is known of each chat's presence. */
  presences: Map<string, WAHAPresenceData[]>;
  labels: Map<string, { id: string; name: string; color: number }>;
  /** Each chat's labels, by id. */
  chatLabels: Map<string, Set<string>>;
  /** Calls ringing now: who calls, by call id. */
  ringing: Map<string, string>;
  /** Every call a contact made, as WAHA posted it when it rang (`CallData`). */
  calls: Map<string, FakeCall>;
}

/** WAHA's `CallData`. */
export interface FakeCall {
  id: string;
  from: string;
  timestamp: number;
  isVideo: boolean;
  isGroup: boolean;
  _data: Record<string, unknown>;
}

/** Posts one of the session's webhooks (`server.ts`). */
export type PostEvent = (event: string, payload: unknown) => Promise<void>;

export const ONLINE_CONTACT = "15550000001@c.us";

export function seedSocial(): FakeSocial {
  return {
    presence: null,
    subscribed: new Set(),
    presences: new Map<string, WAHAPresenceData[]>([[ONLINE_CONTACT, [{
      participant: ONLINE_CONTACT,
      lastKnownPresence: "online",
      lastSeen: null,
    }]]]),
    labels: new Map(
      ["New customer", "New order", "Pending payment", "Paid", "Order complete"]
        .map((name, color) => [String(color + 1), { id: String(color + 1), name, color }]),
    ),
    chatLabels: new Map(),
    ringing: new Map(),
    calls: new Map(),
  };
}

export interface SocialRequest {
  method: string;
  path: string;
  body: unknown;
  /** The (WORKING) session the path names. */
  socialOf(session: string): FakeSocial;
  /** Posts a webhook of the session the path names. */
  postOf(session: string): PostEvent;
}

const unprocessable = (message: string) => nestError(422, "Unprocessable Entity", message);

function presencesOf(social: FakeSocial, chatId: string): WAHAChatPresences {
  return { id: chatId, presences: social.presences.get(chatId) ?? [] };
}

const unixNow = () => Math.floor(Date.now() / 1000);

const asLabel = (l: { id: string; name: string; color: number }): Label => ({
  ...l,
  colorHex: COLORS[l.color] ?? "#000000",
});

const nextLabelId = (social: FakeSocial) =>
  String(Math.max(0, ...[...social.labels.keys()].map(Number)) + 1);

/** A label put on a chat or taken off, as WAHA posts it (`LabelChatAssociation`). */
function association(social: FakeSocial, labelId: string, chatId: string) {
  const label = social.labels.get(labelId);
  return { labelId, chatId, label: label ? asLabel(label) : null };
}

/** Gives `chatId` exactly the labels `ids`, posting each one put on and taken off. */
function relabel(social: FakeSocial, post: PostEvent, chatId: string, ids: string[]): void {
  const before = social.chatLabels.get(chatId) ?? new Set<string>();
  for (const id of before) {
    if (!ids.includes(id)) void post("label.chat.deleted", association(social, id, chatId));
  }
  for (const id of new Set(ids)) {
    if (!before.has(id)) void post("label.chat.added", association(social, id, chatId));
  }
  social.chatLabels.set(chatId, new Set(ids));
}

/** Deletes a label: taken off each chat that had it (posted), then posted as deleted. */
function deleteLabel(social: FakeSocial, post: PostEvent, id: string): void {
  const label = social.labels.get(id)!;
  for (const [chatId, labels] of social.chatLabels) {
    if (!labels.has(id)) continue;
    void post("label.chat.deleted", association(social, id, chatId));
    labels.delete(id);
  }
  social.labels.delete(id);
  void post("label.deleted", asLabel(label));
}

/** What happens on the phone and from its contacts, posted as WAHA posts it. */
export interface SocialControls {
  /** A contact's presence changes (going offline, it was last seen now): `presence.update`. */
  presence(contactId: string, presence: WAHAPresenceStatus): Promise<void>;
  /** A contact calls: `call.received`; the call's id. */
  call(from: string, options?: { isVideo?: boolean }): Promise<string>;
  /** The phone answers a call that rings: `call.accepted`. */
  answer(callId: string): Promise<void>;
  /** The phone creates a label (no `id`) or changes one: `label.upsert`; the label. */
  upsertLabel(label: { id?: string; name: string; color?: number }): Promise<Label>;
  /** The phone deletes a label. */
  deleteLabel(id: string): Promise<void>;
  /** The phone gives a chat exactly these labels. */
  setChatLabels(chatId: string, labelIds: string[]): Promise<void>;
}

export function socialControls(social: FakeSocial, post: PostEvent): SocialControls {
  // Each control's posts have arrived when it returns.
  const posting: Promise<void>[] = [];
  const tracked: PostEvent = (event, payload) => {
    const done = post(event, payload);
    posting.push(done);
    return done;
  };
  const settled = () => Promise.all(posting.splice(0)).then(() => {});
  const known = (id: string) => {
    if (!social.labels.has(id)) throw new Error(`the fake WAHA has no label "${id}"`);
    return social.labels.get(id)!;
  };
  return {
    async presence(contactId, presence) {
      const lastSeen = presence === "offline" ? unixNow() : null;
      social.presences.set(contactId, [{
        participant: contactId,
        lastKnownPresence: presence,
        lastSeen,
      }]);
      await post("presence.update", presencesOf(social, contactId));
    },
    async call(from, options = {}) {
      const id = crypto.randomUUID().replaceAll("-", "").toUpperCase();
      const isVideo = options.isVideo ?? false;
      const call: FakeCall = {
        id,
        from,
        timestamp: unixNow(),
        isVideo,
        isGroup: false,
        _data: { id, from, isVideo, isGroup: false, status: "offer" },
      };
      social.ringing.set(id, from);
      social.calls.set(id, call);
      await post("call.received", call);
      return id;
    },
    async answer(callId) {
      const call = social.calls.get(callId);
      if (!call || !social.ringing.has(callId)) throw new Error(`no call "${callId}" rings`);
      social.ringing.delete(callId);
      await post("call.accepted", { ...call, _data: { ...call._data, status: "accept" } });
    },
    async upsertLabel({ id, name, color }) {
      const label = id === undefined
        ? { id: nextLabelId(social), name, color: color ?? 0 }
        : Object.assign(known(id), { name }, color === undefined ? {} : { color });
      social.labels.set(label.id, label);
      await post("label.upsert", asLabel(label));
      return asLabel(label);
    },
    async deleteLabel(id) {
      known(id);
      deleteLabel(social, tracked, id);
      await settled();
    },
    async setChatLabels(chatId, labelIds) {
      labelIds.forEach(known);
      relabel(social, tracked, chatId, labelIds);
      await settled();
    },
  };
}

/** Answers a presence or labels call, or null for a path that is not one. */
export function routeSocial(request: SocialRequest): Response | null {
  const { method, path, body } = request;
  if (/^\/api\/[^/]+\/calls\/reject$/.test(path) && method === "POST") {
    const call = validate(RejectCallRequest, body);
    const session = path.split("/")[2];
    const social = request.socialOf(session);
    // WhatsApp rejects a call that rings; anything else is let be. WAHA's WEBJS engine posts the
    // rejection either way, knowing only the call's id and the caller.
    if (social.ringing.get(call.id) === call.from) social.ringing.delete(call.id);
    const isGroup = call.from.endsWith("@g.us");
    void request.postOf(session)("call.rejected", {
      id: call.id,
      from: call.from,
      timestamp: unixNow(),
      isVideo: false,
      isGroup,
      _data: { id: call.id, from: call.from, status: "reject", api: true },
    });
    return json(201, undefined);
  }
  const m = path.match(/^\/api\/([^/]+)\/(presence|labels)(\/.*)?$/);
  if (!m) return null;
  const social = request.socialOf(m[1]);
  const post = request.postOf(m[1]);
  const rest = m[3] ?? "";
  // `/chats/{id}`, `/{id}` and `/{id}/<what>`: the id, and the path's shape.
  const segments = rest.split("/").slice(1).map(decodeURIComponent);
  const byChat = segments[0] === "chats" && segments.length === 2;
  const id = (byChat ? segments[1] : segments[0]) ?? "";
  const shape = byChat
    ? "/chats/:id"
    : segments.map((part, i) => i === 0 ? "/:id" : `/${part}`).join("");
  const action = `${method} ${shape}`;

  if (m[2] === "presence") {
    switch (action) {
      case "POST ":
        social.presence = validate(WAHASessionPresence, body);
        return json(201, undefined);
      case "GET ":
        return json(200, [...social.subscribed].map((chatId) => presencesOf(social, chatId)));
      case "GET /:id":
        social.subscribed.add(id);
        return json(200, presencesOf(social, id));
      case "POST /:id/subscribe":
        social.subscribed.add(id);
        return json(201, undefined);
    }
    return nestError(404, "Not Found", `Cannot ${method} ${path}`);
  }

  /** WAHA's `LabelBody.toDTO`: exactly one of `color` and `colorHex`. */
  const labelOfBody = (): { name: string; color: number } | Response => {
    const input = validate(LabelBody, body);
    if ((input.color === undefined) === (input.colorHex === undefined)) {
      return unprocessable("Use either 'color' or 'colorHex'");
    }
    const color = input.color ?? COLORS.indexOf(input.colorHex!);
    if (color < 0) return unprocessable("Invalid 'colorHex'");
    if ([...social.labels.values()].some((l) => l.name === input.name)) {
      return unprocessable(`Label with '${input.name}' already exists`);
    }
    return { name: input.name, color };
  };
  switch (action) {
    case "GET ":
      return json(200, [...social.labels.values()].map(asLabel));
    case "POST ": {
      if (social.labels.size >= 20) return unprocessable("Maximum 20 labels allowed");
      const fields = labelOfBody();
      if (fields instanceof Response) return fields;
      const label = { id: nextLabelId(social), ...fields };
      social.labels.set(label.id, label);
      void post("label.upsert", asLabel(label));
      return json(201, asLabel(label));
    }
    case "PUT /:id":
    case "DELETE /:id": {
      const label = social.labels.get(id);
      if (!label) return nestError(404, "Not Found", "Label not found");
      if (method === "DELETE") {
        deleteLabel(social, post, id);
        return json(200, { result: true });
      }
      const fields = labelOfBody();
      if (fields instanceof Response) return fields;
      Object.assign(label, fields);
      void post("label.upsert", asLabel(label));
      return json(200, asLabel(label));
    }
    case "GET /chats/:id":
    case "PUT /chats/:id": {
      if (method === "PUT") {
        const ids = validate(SetLabelsRequest, body).labels.map((l) => l.id);
        if (ids.some((l) => !social.labels.has(l))) {
          return nestError(404, "Not Found", "Label not found");
        }
        relabel(social, post, id, ids);
        return json(200, undefined);
      }
      const ids = [...social.chatLabels.get(id) ?? []];
      return json(200, ids.map((l) => asLabel(social.labels.get(l)!)));
    }
    case "GET /:id/chats": {
      const chats = [...social.chatLabels.entries()].filter(([, labels]) => labels.has(id));
      return json(
        200,
        chats.map(([chatId]) => ({
          id: { server: chatId.split("@")[1], user: chatId.split("@")[0], _serialized: chatId },
          name: `Chat ${chatId.split("@")[0]}`,
          isGroup: chatId.endsWith("@g.us"),
          unreadCount: 0,
          archived: false,
          pinned: false,
          isMuted: false,
        })),
      );
    }
  }
  return nestError(404, "Not Found", `Cannot ${method} ${path}`);
}
