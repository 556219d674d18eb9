/**
 * @module
 * The waha engine's calls and contact details: rejecting a call that rings (WAHA's `POST
 * /api/{session}/calls/reject`, newer WAHA) and a contact's "about" text (`GET
 * /api/contacts/about`, null when their privacy settings hide it).
 */
import type { Engine } from "../../engine.ts";
import type { ContactQuery, RejectCallRequest, WEBJSContactAbout } from "../../../waha/schemas.ts";
import type { WahaContext } from "./context.ts";

export type WahaCallCapabilities = Pick<Engine, "rejectCall" | "getContactAbout">;

export function createWahaCalls(ctx: WahaContext): WahaCallCapabilities {
  return {
    async rejectCall({ from, id }) {
      const body: RejectCallRequest = { from, id };
      await ctx.client.call({ method: "POST", path: ctx.path("/calls/reject"), body });
    },

    async getContactAbout(contactId) {
      const query: ContactQuery = { session: ctx.session, contactId };
      const answer = await ctx.client.call<WEBJSContactAbout | null>({
        method: "GET",
        path: "/api/contacts/about",
        query,
      });
      return answer?.about || null;
    },
  };
}
