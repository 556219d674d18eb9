/**
 * @module
 * The fake WAHA's presence and labels. Presence (`/api/{session}/presence…`): the session's own
 * (online, offline, or a state in one chat), and what is known of the chats subscribed to; asking
 * for a chat's presence subscribes to it. ALICE (`15550000001@c.us`) is online; anyone else has
 * never been seen (no presence known). Labels (`/api/{session}/labels…`, newer WAHA): WhatsApp
 * Business's five labels to begin with, refused as WAHA refuses them (422: a name some label
 * has, the label changed included, a 21st label, a colour given both ways or not at all), and the
 * labels of each chat. Calls: rejecting one that rings (`POST …/calls/reject`; `ringing` is set by
 * the test).
 */
import {
  type Label,
  LabelBody,
  RejectCallRequest,
  SetLabelsRequest,
  type WAHAChatPresences,
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
  labels: Map<string, { id: string; name: string; color: number }>;
  /** Each chat's labels, by id. */
  chatLabels: Map<string, Set<string>>;
  /** Calls ringing now: who calls, by call id. */
  ringing: Map<string, string>;
}

export const ONLINE_CONTACT = "15550000001@c.us";

export function seedSocial(): FakeSocial {
  return {
    presence: null,
    subscribed: new Set(),
    labels: new Map(
      ["New customer", "New order", "Pending payment", "Paid", "Order complete"]
        .map((name, color) => [String(color + 1), { id: String(color + 1), name, color }]),
    ),
    chatLabels: new Map(),
    ringing: new Map(),
  };
}

export interface SocialRequest {
  method: string;
  path: string;
  body: unknown;
  /** The (WORKING) session the path names. */
  socialOf(session: string): FakeSocial;
}

const unprocessable = (message: string) => nestError(422, "Unprocessable Entity", message);

function presencesOf(chatId: string): WAHAChatPresences {
  const known = chatId === ONLINE_CONTACT
    ? [{ participant: chatId, lastKnownPresence: "online" as const, lastSeen: null }]
    : [];
  return { id: chatId, presences: known };
}

/** Answers a presence or labels call, or null for a path that is not one. */
export function routeSocial(request: SocialRequest): Response | null {
  const { method, path, body } = request;
  if (/^\/api\/[^/]+\/calls\/reject$/.test(path) && method === "POST") {
    const call = validate(RejectCallRequest, body);
    const social = request.socialOf(path.split("/")[2]);
    // WhatsApp rejects a call that rings; anything else is let be.
    if (social.ringing.get(call.id) === call.from) social.ringing.delete(call.id);
    return json(201, undefined);
  }
  const m = path.match(/^\/api\/([^/]+)\/(presence|labels)(\/.*)?$/);
  if (!m) return null;
  const social = request.socialOf(m[1]);
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
        return json(200, [...social.subscribed].map(presencesOf));
      case "GET /:id":
        social.subscribed.add(id);
        return json(200, presencesOf(id));
      case "POST /:id/subscribe":
        social.subscribed.add(id);
        return json(201, undefined);
    }
    return nestError(404, "Not Found", `Cannot ${method} ${path}`);
  }

  const asLabel = (l: { id: string; name: string; color: number }): Label => ({
    ...l,
    colorHex: COLORS[l.color] ?? "#000000",
  });
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
      const next = String(Math.max(0, ...[...social.labels.keys()].map(Number)) + 1);
      const label = { id: next, ...fields };
      social.labels.set(next, label);
      return json(201, asLabel(label));
    }
    case "PUT /:id":
    case "DELETE /:id": {
      const label = social.labels.get(id);
      if (!label) return nestError(404, "Not Found", "Label not found");
      if (method === "DELETE") {
        social.labels.delete(id);
        for (const labels of social.chatLabels.values()) labels.delete(id);
        return json(200, { result: true });
      }
      const fields = labelOfBody();
      if (fields instanceof Response) return fields;
      Object.assign(label, fields);
      return json(200, asLabel(label));
    }
    case "GET /chats/:id":
    case "PUT /chats/:id": {
      if (method === "PUT") {
        const ids = validate(SetLabelsRequest, body).labels.map((l) => l.id);
        if (ids.some((l) => !social.labels.has(l))) {
          return nestError(404, "Not Found", "Label not found");
        }
        social.chatLabels.set(id, new Set(ids));
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
