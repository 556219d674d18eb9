/**
 * @module
 * The waha engine's presence: ours set online or offline for every contact, and what is known of
 * a chat's (a contact's, or a group's members'), over WAHA's `/api/{session}/presence…` calls.
 * WAHA's presence statuses are the contract's.
 */
import type { ChatPresencesDto, Engine } from "../../engine.ts";
import type { WAHAChatPresences, WAHASessionPresence } from "../../../waha/schemas.ts";
import { segment, type WahaContext } from "./context.ts";
import { seconds } from "./mappers.ts";

export type WahaPresenceCapabilities = Pick<
  Engine,
  "setPresence" | "getPresence" | "subscribePresence" | "listPresences"
>;

function toChatPresences(raw: WAHAChatPresences): ChatPresencesDto {
  return {
    chatId: raw.id,
    presences: (raw.presences ?? []).map((p) => ({
      participant: p.participant,
      presence: p.lastKnownPresence,
      lastSeen: seconds(p.lastSeen),
    })),
  };
}

export function createWahaPresence(ctx: WahaContext): WahaPresenceCapabilities {
  const { client, path } = ctx;
  return {
    async setPresence(presence) {
      const body: WAHASessionPresence = { presence };
      await client.call({ method: "POST", path: path("/presence"), body });
    },

    async getPresence(chatId) {
      const answer = await client.call<WAHAChatPresences>({
        method: "GET",
        path: path(`/presence/${segment(chatId)}`),
      });
      return toChatPresences(answer ?? { id: chatId, presences: [] });
    },

    async subscribePresence(chatId) {
      await client.call({ method: "POST", path: path(`/presence/${segment(chatId)}/subscribe`) });
    },

    async listPresences() {
      const list = await client.call<WAHAChatPresences[] | null>({
        method: "GET",
        path: path("/presence"),
      });
      return (list ?? []).map(toChatPresences);
    },
  };
}
