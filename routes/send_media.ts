/**
 * @module
 * `sendMediaMessage`: a media send as every route that sends one makes it (the contract's
 * `send-image` and its siblings, WAHA's `sendImage` and its siblings): the media field is resolved
 * (fetched, size-capped, typed from its bytes) only once the session is known to be connected, then
 * the session sends it.
 */
import type { Context } from "hono";
import type { MediaResolver } from "../media/media_input.ts";
import type { AppEnv } from "../middleware/principal.ts";
import type { MediaKind, SendMediaInput, SentMessage } from "../sessions/engine.ts";
import type { SessionManager } from "../sessions/manager.ts";

/** The media field as the caller gave it: its name (for errors), its value, what it must be. */
export interface MediaField {
  name: string;
  value: string;
  kind: MediaKind;
}

export async function sendMediaMessage(
  deps: { manager: SessionManager; media: MediaResolver },
  c: Context<AppEnv>,
  send: {
    phoneNumber: string;
    input: Omit<SendMediaInput, "media" | "kind"> & { filename?: string };
    field: MediaField;
  },
): Promise<SentMessage> {
  const { manager, media } = deps;
  const { phoneNumber, input, field } = send;
  const caller = c.get("principal");
  await manager.session(phoneNumber, caller).assertReady();
  const { filename, ...rest } = input;
  const resolved = await media(field.value, {
    field: field.name,
    kind: field.kind,
    signal: c.req.raw.signal,
    requestId: c.get("requestId"),
    ...(filename === undefined ? {} : { filename }),
  });
  return await manager.session(phoneNumber, caller).sendMedia({
    ...rest,
    kind: field.kind,
    media: resolved,
  });
}
