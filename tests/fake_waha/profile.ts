/**
 * @module
 * The fake WAHA's own profile and LIDs (newer WAHA): `GET /api/{session}/profile`, its name,
 * status (about) and picture (`PUT`, and `DELETE` for the picture), answering `{ success }`; and
 * the LIDs the session knows (`GET …/lids` a page at a time, sorted by LID, `…/lids/count`,
 * `…/lids/{lid}`, `…/lids/pn/{phone}`). A name set is the session's `me.pushName` from then on.
 * Each session knows 120 LIDs (more than WAHA's page of 100): `<100000000000000 + i>@lid` belongs to
 * `<15550000000 + i>@c.us`, but the last one's number is unknown.
 */
import {
  LidsListQueryParams,
  type LidToPhoneNumber,
  type MyProfile,
  ProfileNameRequest,
  ProfilePictureRequest,
  ProfileStatusRequest,
} from "../../waha/schemas.ts";
import { json, nestError, validate } from "./http.ts";

export interface FakeProfile {
  status: string;
  picture: string | null;
  /** Every LID the session knows, and its phone-number id (null: unknown). */
  lids: Map<string, string | null>;
}

export const KNOWN_LIDS = 120;

export function seedProfile(): FakeProfile {
  const lids = new Map<string, string | null>();
  for (let i = 1; i <= KNOWN_LIDS; i++) {
    lids.set(`${100000000000000 + i}@lid`, i === KNOWN_LIDS ? null : `${15550000000 + i}@c.us`);
  }
  return { status: "Hey there! I am using WhatsApp.", picture: null, lids };
}

export interface ProfileRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The (WORKING) session the path names: its profile and its `me`. */
  sessionOf(name: string): { profile: FakeProfile; me: { id: string; pushName: string } };
  next(): number;
}

/** Answers a profile or LIDs call, or null for a path that is not one. */
export function routeProfile(request: ProfileRequest): Response | null {
  const { method, path, query, body } = request;
  const m = path.match(/^\/api\/([^/]+)\/(profile|lids)(\/.*)?$/);
  if (!m) return null;
  const { profile, me } = request.sessionOf(m[1]);
  const rest = m[3] ?? "";
  if (m[2] === "profile") {
    switch (`${method} ${rest}`) {
      case "GET ": {
        const mine: MyProfile = { id: me.id, name: me.pushName, picture: profile.picture };
        return json(200, mine);
      }
      case "PUT /name":
        me.pushName = validate(ProfileNameRequest, body).name;
        return json(200, { success: true });
      case "PUT /status":
        profile.status = validate(ProfileStatusRequest, body).status;
        return json(200, { success: true });
      case "PUT /picture":
        validate(ProfilePictureRequest, body);
        profile.picture = `https://pps.whatsapp.net/fake/${me.id}/${request.next()}.jpg`;
        return json(200, { success: true });
      case "DELETE /picture":
        profile.picture = null;
        return json(200, { success: true });
    }
    return nestError(404, "Not Found", `Cannot ${method} ${path}`);
  }
  if (method !== "GET") return nestError(404, "Not Found", `Cannot ${method} ${path}`);
  const all = [...profile.lids.entries()].sort(([a], [b]) => a.localeCompare(b))
    .map(([lid, pn]): LidToPhoneNumber => ({ lid, pn }));
  if (rest === "" || rest === "/") {
    const page = validate(LidsListQueryParams, query);
    const offset = page.offset ?? 0;
    return json(200, all.slice(offset, offset + (page.limit ?? 100)));
  }
  if (rest === "/count") return json(200, { count: all.length });
  let found: RegExpMatchArray | null;
  if ((found = rest.match(/^\/pn\/([^/]+)$/))) {
    const pn = decodeURIComponent(found[1]);
    if (pn.endsWith("@lid")) return json(200, { lid: pn, pn: null });
    return json(200, { lid: all.find((e) => e.pn === pn)?.lid ?? null, pn });
  }
  if ((found = rest.match(/^\/([^/]+)$/))) {
    let lid = decodeURIComponent(found[1]);
    if (!lid.includes("@")) lid = `${lid}@lid`;
    if (!lid.endsWith("@lid")) {
      return nestError(422, "Unprocessable Entity", "Invalid LID - it must end with @lid");
    }
    return json(200, { lid, pn: profile.lids.get(lid) ?? null });
  }
  return nestError(404, "Not Found", `Cannot ${method} ${path}`);
}
