/**
 * @module
 * The wwebjs engine's labels, presence and calls, through whatsapp-web.js's public API. Labels:
 * `getLabels`, `getChatLabels`, `getChatsByLabelId` and `addOrRemoveLabels` (WhatsApp Business
 * accounts only); the library can neither create, edit nor delete a label, and reports no label
 * event. Presence: `sendPresenceAvailable`/`sendPresenceUnavailable` set ours; the library has no
 * way to read or subscribe to a contact's presence and reports none. Calls: the library's `call`
 * event (`Call`) becomes `call.received`; `Call.reject()` rejects one, asked for by id while it
 * rings, or at once when `calls.autoReject` says so (then the caller gets `calls.message`).
 */
import {
  type CallDto,
  EngineError,
  type EngineEvent,
  type EngineOptions,
  LABEL_COLORS,
  type LabelDto,
  notFound,
  notImplemented,
  type SetChatLabelsInput,
  type SocialCapabilities,
} from "../../engine.ts";
import { describeError, findChat, type WwebjsContext } from "./context.ts";
import { type Lib, serialized, toChatSummary } from "./mappers.ts";
import { send } from "./messaging.ts";

/** Calls kept to be rejected at most (the oldest is forgotten first). */
const MAX_RINGING = 100;

/** The session as this module needs it: the capability context, and the library's events. */
export interface SocialContext extends WwebjsContext {
  /** Runs `fn` on every client the session creates, with the engine's ordered event sink. */
  listenWith(fn: (client: Lib, emit: (event: EngineEvent) => void) => void): void;
}

/** A library `Label` as WAHA's: its colour's number found from its hex value. */
function toLabelDto(label: Lib): LabelDto {
  const colorHex = String(label.hexColor ?? "").toLowerCase();
  const color = (LABEL_COLORS as readonly string[]).indexOf(colorHex);
  return {
    id: String(label.id),
    name: String(label.name ?? ""),
    color: color < 0 ? null : color,
    colorHex,
  };
}

/** A library `Call` as WAHA's `CallData`. */
function toCallDto(call: Lib): CallDto {
  const at = Number(call.timestamp);
  return {
    id: String(call.id),
    from: typeof call.from === "string" ? call.from : serialized(call.from),
    timestamp: at > 0 ? Math.floor(at) : Math.floor(Date.now() / 1000),
    isVideo: Boolean(call.isVideo),
    isGroup: Boolean(call.isGroup),
  };
}

export function socialCapabilities(
  ctx: SocialContext,
  calls: EngineOptions["calls"],
): SocialCapabilities {
  /** Calls that rang and were not rejected yet, by id. */
  const ringing = new Map<string, { call: Lib; dto: CallDto }>();
  let emit: (event: EngineEvent) => void = () => {};

  ctx.listenWith((client, sink) => {
    emit = sink;
    client.on("call", (call: Lib) => void onCall(call));
  });

  async function onCall(call: Lib): Promise<void> {
    // The library reports our own calls too.
    if (call?.fromMe) return;
    let dto: CallDto;
    try {
      dto = toCallDto(call);
    } catch {
      return;
    }
    if (ringing.size >= MAX_RINGING) ringing.delete(ringing.keys().next().value!);
    ringing.set(dto.id, { call, dto });
    emit({ type: "call.received", call: dto });
    if (!calls?.autoReject) return;
    try {
      await reject(dto.id);
      if (calls.message) await send(ctx, dto.from, calls.message, {});
    } catch (error) {
      console.error(JSON.stringify({
        time: new Date().toISOString(),
        level: "warn",
        msg: "rejecting a call automatically failed",
        error: describeError(error),
      }));
    }
  }

  async function reject(id: string): Promise<void> {
    const ring = ringing.get(id);
    if (!ring) return;
    await ctx.call(() => ring.call.reject());
    ringing.delete(id);
    emit({ type: "call.rejected", call: ring.dto });
  }

  /** Every label of the account (none for an account that is not a business). */
  async function labels(): Promise<LabelDto[]> {
    ctx.ready();
    const list: Lib[] = await ctx.call(() => ctx.client.getLabels());
    return list.map(toLabelDto);
  }

  async function knownLabel(labelId: string): Promise<void> {
    if (!(await labels()).some((label) => label.id === labelId)) {
      throw notFound(`Label "${labelId}" not found`);
    }
  }

  async function setChatLabels({ chatId, labels: wanted }: SetChatLabelsInput): Promise<void> {
    const chat = await findChat(ctx, chatId);
    const ids = [...new Set(wanted.map((label) => label.id))];
    // The library leaves out, silently, the ids of labels that do not exist.
    const known = new Set((await labels()).map((label) => label.id));
    const unknown = ids.find((id) => !known.has(id));
    if (unknown !== undefined) throw notFound(`Label "${unknown}" not found`);
    try {
      await ctx.call(() => ctx.client.addOrRemoveLabels(ids, [serialized(chat.id)]));
    } catch (error) {
      // whatsapp-web.js throws a bare string for an account that is not a business.
      if (/LT01|Only Whatsapp business/i.test(describeError(error))) {
        throw new EngineError("BAD_REQUEST", "Labels are for WhatsApp Business accounts only");
      }
      throw error;
    }
  }

  const unsupported = (what: string) => () => Promise.reject(notImplemented(what, "wwebjs"));

  return {
    listLabels: labels,
    createLabel: unsupported("createLabel"),
    updateLabel: unsupported("updateLabel"),
    deleteLabel: unsupported("deleteLabel"),
    async getChatLabels(chatId) {
      const chat = await findChat(ctx, chatId);
      const list: Lib[] = await ctx.call(() => ctx.client.getChatLabels(serialized(chat.id)));
      return list.map(toLabelDto);
    },
    setChatLabels,
    async getLabelChats(labelId) {
      await knownLabel(labelId);
      const chats: Lib[] = await ctx.call(() => ctx.client.getChatsByLabelId(labelId));
      return chats.filter(Boolean).map(toChatSummary);
    },
    async setPresence(presence) {
      ctx.ready();
      await ctx.call(() =>
        presence === "online"
          ? ctx.client.sendPresenceAvailable()
          : ctx.client.sendPresenceUnavailable()
      );
    },
    getPresence: unsupported("getPresence"),
    subscribePresence: unsupported("subscribePresence"),
    listPresences: unsupported("listPresences"),
    async rejectCall({ from, id }) {
      ctx.ready();
      const ring = ringing.get(id);
      if (!ring || !(ring.dto.from === from || ctx.lids.same(ring.dto.from, from))) {
        throw notFound(`No call "${id}" from "${from}" is ringing`);
      }
      await reject(id);
    },
  };
}
