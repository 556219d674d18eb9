/**
 * @module
 * The fake WAHA's status (stories), `/api/{session}/status/…` (newer WAHA): a text, image or video
 * status is posted, to the contacts named or to all of them, and answered as the message it is
 * in `status@broadcast`; `delete` takes one back by its own message id. Like WAHA, the fake lists
 * no statuses and takes back any id it is given (one not posted changes nothing).
 */
import {
  BROADCAST_ID,
  DeleteStatusRequest,
  ImageStatus,
  TextStatus,
  VideoStatus,
} from "../../waha/schemas.ts";
import { json, validate } from "./http.ts";

/** A status the account posted and has not taken back. */
export interface FakeStatus {
  kind: "text" | "image" | "video";
  /** The text, or the media's caption. */
  body: string;
  mimetype: string | null;
  /** Whom it went to (null: all contacts). */
  contacts: string[] | null;
}

export interface StatusRequest {
  method: string;
  path: string;
  body: unknown;
  /** The (WORKING) session the path names: its statuses by own message id, and its own id. */
  statusOf(session: string): { statuses: Map<string, FakeStatus>; me: string };
  next(): number;
}

/** Answers a status call, or null for a path that is not one. */
export function routeStatus(request: StatusRequest): Response | null {
  const m = request.path.match(/^\/api\/([^/]+)\/status\/(text|image|video|delete)$/);
  if (!m || request.method !== "POST") return null;
  const { statuses, me } = request.statusOf(m[1]);
  const kind = m[2];
  if (kind === "delete") {
    statuses.delete(validate(DeleteStatusRequest, request.body).id);
    return json(201, undefined);
  }
  let status: FakeStatus;
  if (kind === "text") {
    const input = validate(TextStatus, request.body);
    status = { kind, body: input.text, mimetype: null, contacts: input.contacts ?? null };
  } else {
    const input = validate(kind === "image" ? ImageStatus : VideoStatus, request.body);
    status = {
      kind: kind as FakeStatus["kind"],
      body: input.caption ?? "",
      mimetype: input.file.mimetype,
      contacts: input.contacts ?? null,
    };
  }
  const id = `FAKESTATUS${String(request.next()).padStart(10, "0")}`;
  statuses.set(id, status);
  return json(201, {
    id: `true_${BROADCAST_ID}_${id}`,
    timestamp: Math.floor(Date.now() / 1000),
    from: me,
    fromMe: true,
    to: BROADCAST_ID,
    body: status.body,
    hasMedia: status.mimetype !== null,
  });
}
