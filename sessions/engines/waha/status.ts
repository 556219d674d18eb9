/**
 * @module
 * The waha engine's status (stories): a text, image or video status posted to all the account's
 * contacts (WAHA's `POST /api/{session}/status/text|image|video` without an audience), and one of
 * the account's own taken back (`/status/delete`, by the status's own message id). WAHA has no
 * call that lists statuses, so `listStatuses` stays NOT_IMPLEMENTED (engine.ts).
 */
import { EngineError, type StatusCapabilities } from "../../engine.ts";
import type {
  DeleteStatusRequest,
  ImageStatus,
  TextStatus,
  VideoStatus,
} from "../../../waha/schemas.ts";
import type { WahaContext } from "./context.ts";
import { toSentMessage } from "./mappers.ts";

/**
 * WAHA's chat id of statuses (`BROADCAST_ID` of `waha/schemas.ts`, restated: that module brings zod,
 * which a session's Worker does not load, `sessions/worker_imports_test.ts`).
 */
const BROADCAST_ID = "status@broadcast";

export type WahaStatusCapabilities = Pick<
  StatusCapabilities,
  "sendTextStatus" | "sendMediaStatus" | "deleteStatus"
>;

/** WhatsApp's green and first font: the contract's background and font when absent. */
const GREEN = "#38b42f";
const FIRST_FONT = 0;

/**
 * The own message id of one of the account's statuses (`true_status@broadcast_<id>[_<poster>]`),
 * as WAHA takes it, or null for anyone else's id.
 */
function ownStatusId(messageId: string): string | null {
  const [fromMe, chatId, id] = messageId.split("_");
  return fromMe === "true" && chatId === BROADCAST_ID && id ? id : null;
}

export function createWahaStatus(ctx: WahaContext): WahaStatusCapabilities {
  const { client, path } = ctx;
  const post = async (kind: string, body: TextStatus | ImageStatus | VideoStatus) =>
    toSentMessage(await client.call({ method: "POST", path: path(`/status/${kind}`), body }));

  return {
    sendTextStatus({ text, backgroundColor, font }) {
      const body: TextStatus = {
        text,
        backgroundColor: backgroundColor ?? GREEN,
        font: font ?? FIRST_FONT,
      };
      return post("text", body);
    },

    sendMediaStatus({ kind, media, caption }) {
      const body: ImageStatus | VideoStatus = {
        file: { mimetype: media.mimetype, filename: media.filename, data: media.data },
        ...(caption ? { caption } : {}),
      };
      return post(kind, body);
    },

    async deleteStatus(messageId) {
      // WAHA takes back whatever id it is given: only one of our own statuses is one to take back.
      const id = ownStatusId(messageId);
      if (!id) throw new EngineError("NOT_FOUND", `Status "${messageId}" not found`);
      const body: DeleteStatusRequest = { id };
      await client.call({ method: "POST", path: path("/status/delete"), body });
    },
  };
}
