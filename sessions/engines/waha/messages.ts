/**
 * @module
 * The waha engine's message extras: pinning and unpinning a message, and a message's media, over
 * WAHA's `/api/{session}/chats/{chatId}/messages/{id}…` calls (newer WAHA). WAHA keeps a
 * message's media as a file it serves (`media.url` of the message read with `downloadMedia`): the
 * engine downloads it from the WAHA server it is configured with, with WAHA's key, taking only the
 * URL's path (never another host, whatever address WAHA writes into its URLs).
 */
import { Buffer } from "node:buffer";
import { type Engine, EngineError, type MessageMediaDto, notFound } from "../../engine.ts";
import type { PinMessageRequest, Result, WAMessage } from "../../../waha/schemas.ts";
import { segment, type WahaContext } from "./context.ts";
import { chatOfMessageId } from "./mappers.ts";

export type WahaMessageCapabilities = Pick<
  Engine,
  "pinMessage" | "unpinMessage" | "getMessageMedia"
>;

/** The most media bytes the engine takes from WAHA (`MEDIA_MAX_BYTES`'s default). */
export const MAX_MEDIA_BYTES = 64 * 1024 * 1024;

/** The path (and query) of a URL WAHA wrote for one of its files. */
function pathOf(url: string): string {
  const parsed = new URL(url, "http://waha.invalid");
  return `${parsed.pathname}${parsed.search}`;
}

export function createWahaMessages(ctx: WahaContext): WahaMessageCapabilities {
  const { client, path } = ctx;
  const messagePath = (chatId: string, messageId: string, suffix = "") =>
    path(`/chats/${segment(chatId)}/messages/${segment(messageId)}${suffix}`);

  const chatOf = (messageId: string): string => {
    const chatId = chatOfMessageId(messageId);
    if (!chatId) throw notFound(`Message "${messageId}" not found`);
    return chatId;
  };

  async function pin(messageId: string, body?: PinMessageRequest): Promise<void> {
    const answer = await client.call<Result | null>({
      method: "POST",
      path: messagePath(chatOf(messageId), messageId, body ? "/pin" : "/unpin"),
      ...(body ? { body } : {}),
    });
    if (answer?.success === false) {
      throw new EngineError(
        "BAD_REQUEST",
        `WhatsApp did not ${body ? "pin" : "unpin"} message "${messageId}"`,
      );
    }
  }

  return {
    pinMessage: ({ messageId, duration }) => pin(messageId, { duration }),
    unpinMessage: (messageId) => pin(messageId),

    async getMessageMedia({ chatId, messageId }): Promise<MessageMediaDto> {
      const message = await client.call<WAMessage | null>({
        method: "GET",
        path: messagePath(chatId, messageId),
        query: { downloadMedia: true },
      });
      const url = message?.hasMedia ? message.media?.url : null;
      if (!url) throw notFound(`Media of message "${messageId}" not found`);
      const file = await client.download(pathOf(url), MAX_MEDIA_BYTES);
      const bytes = file.bytes;
      return {
        mimetype: message!.media?.mimetype ?? file.contentType?.split(";")[0].trim() ??
          "application/octet-stream",
        filename: message!.media?.filename ?? url.split("/").pop()?.split("?")[0] ?? messageId,
        data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
      };
    },
  };
}
