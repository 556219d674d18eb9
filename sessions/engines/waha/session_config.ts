/**
 * @module
 * The configuration the waha engine gives its WAHA session: webhooks to our inbound endpoints
 * (its message events, `MESSAGE_EVENTS`, its group events, `GROUP_EVENTS`, and those of edits,
 * labels, presence and calls, `SOCIAL_EVENTS`, to `/webhook/message`; `session.status` to
 * `/webhook/state-change`), authenticated with our webhook key in `X-Api-Key` and signed with
 * `WEBHOOK_HMAC_SECRET` (WAHA's `hmac.key`).
 */
import type { WahaEngineOptions } from "../../engine.ts";
import type { SessionConfig, WebhookConfig } from "../../../waha/schemas.ts";

/**
 * WAHA's message events (a poll's votes among them) posted to `/webhook/message`. The engine emits
 * none of its own (each arrives once, from WAHA); `message.any` is every message created, ours too.
 */
export const MESSAGE_EVENTS = [
  "message",
  "message.any",
  "message.ack",
  "message.reaction",
  "message.revoked",
  "poll.vote",
] as const;

/**
 * WAHA's group events, posted to `/webhook/message` too: we joined or left a group, its members
 * or info changed, someone asks to join. The engine emits none of these of its own either.
 */
export const GROUP_EVENTS = [
  "group.v2.join",
  "group.v2.leave",
  "group.v2.update",
  "group.v2.participants",
  "group.v2.participants.join-request",
] as const;

/**
 * WAHA's other events of what happens on the phone and to its contacts, posted to
 * `/webhook/message` too: an edited message, labels (created or changed, deleted, put on a chat or
 * taken off), a contact's presence, and calls (ringing, answered on the phone, rejected).
 */
export const SOCIAL_EVENTS = [
  "message.edited",
  "label.upsert",
  "label.deleted",
  "label.chat.added",
  "label.chat.deleted",
  "presence.update",
  "call.received",
  "call.accepted",
  "call.rejected",
] as const;

export function sessionConfigFor(options: WahaEngineOptions): SessionConfig {
  const hook = options.webhook;
  if (!hook) return {};
  const common = {
    customHeaders: [{ name: "X-Api-Key", value: hook.apiKey }],
    ...(hook.hmacKey ? { hmac: { key: hook.hmacKey } } : {}),
  };
  const webhooks: WebhookConfig[] = [
    {
      url: hook.messageUrl,
      events: [...MESSAGE_EVENTS, ...GROUP_EVENTS, ...SOCIAL_EVENTS],
      ...common,
    },
    { url: hook.statusUrl, events: ["session.status"], ...common },
  ];
  return { webhooks };
}
