/**
 * @module
 * The waha engine's chat extras: one chat's details, read from WAHA's chats overview filtered to
 * it (`GET /api/{session}/chats/overview?ids=…`, newer WAHA: the row's `_chat` is the engine's
 * own chat, whatsapp-web.js's for WEBJS), and marking a chat unread (`POST …/chats/{id}/unread`).
 */
import { type ChatDetail, type Engine, notFound } from "../../engine.ts";
import type { ChatsOverviewQuery, ChatSummary as WahaChatSummary } from "../../../waha/schemas.ts";
import { segment, type WahaContext } from "./context.ts";
import { seconds, toChatSummary } from "./mappers.ts";

export type WahaChatCapabilities = Pick<Engine, "getChat" | "markChatUnread">;

/** A row of WAHA's chats overview as our chat's details. */
export function toChatDetail(row: WahaChatSummary): ChatDetail {
  const chat = (row._chat ?? {}) as Record<string, unknown>;
  const last = row.lastMessage as { body?: unknown; timestamp?: unknown } | null;
  const summary = toChatSummary({
    ...chat,
    id: chat.id ?? row.id,
    name: row.name ?? chat.name,
    ...(last ? { lastMessage: { body: last.body ?? "", timestamp: last.timestamp } } : {}),
  });
  const mute = seconds(chat.muteExpiration);
  return {
    ...summary,
    timestamp: seconds(chat.timestamp) ?? summary.lastMessage?.timestamp ?? 0,
    muteExpiration: chat.muteExpiration === -1 ? -1 : summary.muted ? mute ?? -1 : 0,
  };
}

export function createWahaChats(ctx: WahaContext): WahaChatCapabilities {
  const { client, path } = ctx;
  return {
    async getChat(chatId) {
      const query = { ids: chatId, limit: 1 } satisfies ChatsOverviewQuery;
      const rows = await client.call<WahaChatSummary[] | null>({
        method: "GET",
        path: path("/chats/overview"),
        query,
      });
      const row = (rows ?? []).find((r) => r.id === chatId);
      if (!row) throw notFound(`Chat "${chatId}" not found`);
      return toChatDetail(row);
    },

    async markChatUnread(chatId) {
      await client.call({ method: "POST", path: path(`/chats/${segment(chatId)}/unread`) });
    },
  };
}
