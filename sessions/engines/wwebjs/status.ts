/**
 * @module
 * The wwebjs engine's status (stories), through whatsapp-web.js's public API: a status is a
 * message sent to `status@broadcast` (`Client.sendMessage`; the text's background and font go in
 * its `extra` options as `backgroundColor` and `fontStyle`, which the library hands to WhatsApp
 * Web's status action), the statuses the account can see are `Client.getBroadcasts()`, and one
 * of its own is taken back with `Client.revokeStatusMessage`.
 */
import {
  type MediaStatusInput,
  notFound,
  type SentMessage,
  type StatusCapabilities,
  type StatusesOfContact,
  type TextStatusInput,
} from "../../engine.ts";
import { wwebjs } from "./lib.ts";
import { type Lib, serialized, toMessageDto } from "./mappers.ts";
import type { WwebjsContext } from "./context.ts";
import { send } from "./messaging.ts";
import { type PageCall, stageUpload } from "./media_transfer.ts";

const { MessageMedia } = wwebjs;
const STATUS_BROADCAST = "status@broadcast";

export function statusCapabilities(ctx: WwebjsContext): StatusCapabilities {
  const inPage: PageCall = (fn, ...args) =>
    ctx.call(() => ctx.client.pupPage.evaluate(fn, ...args));

  // A status is seen by whoever it is shown to: there is no chat to mark read, and no preview card.
  const STATUS_OPTIONS = { sendSeen: false, linkPreview: false };

  function sendTextStatus({ text, backgroundColor, font }: TextStatusInput): Promise<SentMessage> {
    return send(ctx, STATUS_BROADCAST, text, {
      ...STATUS_OPTIONS,
      extra: {
        ...(backgroundColor === undefined ? {} : { backgroundColor }),
        ...(font === undefined ? {} : { fontStyle: font }),
      },
    });
  }

  async function sendMediaStatus(input: MediaStatusInput): Promise<SentMessage> {
    ctx.ready();
    const data = await stageUpload(inPage, input.media.data);
    const media = new MessageMedia(input.media.mimetype, data, input.media.filename);
    try {
      return await send(ctx, STATUS_BROADCAST, media, {
        ...STATUS_OPTIONS,
        caption: input.caption,
      });
    } finally {
      if (data !== input.media.data) {
        await inPage((token: string) => (globalThis as Lib).waGatewayMedia?.delete(token), data)
          .catch(() => {});
      }
    }
  }

  async function listStatuses(): Promise<StatusesOfContact[]> {
    ctx.ready();
    const broadcasts: Lib[] = await ctx.call(() => ctx.client.getBroadcasts());
    return broadcasts
      .map((b: Lib) => {
        const statuses = (b.msgs ?? []).map((m: Lib) => toMessageDto(m, ctx.isMe));
        return {
          contactId: serialized(b.id),
          lastStatusAt: Number(b.timestamp ?? 0),
          unreadCount: Number(b.unreadCount ?? 0),
          statuses,
        };
      })
      .filter((s) => s.statuses.length > 0)
      .sort((a, b) => b.lastStatusAt - a.lastStatusAt);
  }

  async function deleteStatus(messageId: string): Promise<void> {
    // whatsapp-web.js does nothing, silently, for an id that is not one of our statuses.
    const own = (await listStatuses()).find((s) => ctx.isMe(s.contactId));
    if (!own?.statuses.some((s) => s.id === messageId)) {
      throw notFound(`Status "${messageId}" not found`);
    }
    await ctx.call(() => ctx.client.revokeStatusMessage(messageId));
  }

  return { sendTextStatus, sendMediaStatus, listStatuses, deleteStatus };
}
