/**
 * @module
 * What promoting or demoting did to each participant, for the engines whose library answers the
 * same whatever WhatsApp did (whatsapp-web.js, WAHA): the roles read before and after tell.
 */
import type { AdminResult } from "../engine.ts";

/** A participant's role, as a group's member list says it. */
export interface Role {
  isAdmin: boolean;
  isSuperAdmin?: boolean;
}

export function adminResults(
  participants: readonly string[],
  roles: { before(id: string): Role | undefined; after(id: string): Role | undefined },
  admin: boolean,
  iAmAdmin: boolean,
): AdminResult[] {
  return participants.map((id): AdminResult => {
    const was = roles.before(id);
    if (!was) return { id, result: "not_in_group" };
    if (roles.after(id)?.isAdmin === admin) {
      return { id, result: admin ? "promoted" : "demoted" };
    }
    return {
      id,
      result: "not_allowed",
      message: !iAmAdmin
        ? "Only admins can change who is an admin"
        : was.isSuperAdmin
        ? "The group's creator cannot be demoted"
        : "WhatsApp did not change their role",
    };
  });
}
