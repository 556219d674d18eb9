/**
 * @module
 * WAHA's label, presence and call events as `POST /webhook/message` takes them
 * (`inbound_webhooks.ts`): each payload as WAHA's DTO declares it (`Label`,
 * `LabelChatAssociation`, `WAHAChatPresences`, `CallData`), extra fields kept, so that what a
 * waha-engine session's WAHA posts reaches our webhooks in WAHA's shape. `call.accepted` comes from
 * WAHA's NOWEB and GOWS engines only (a call answered on the phone).
 */
import { z } from "@hono/zod-openapi";

/** WAHA's `Label`: its id, name and colour (WhatsApp's number, and its hex value). */
const LabelPayloadSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  color: z.number().int().nonnegative(),
  colorHex: z.string(),
});

/** WAHA's `LabelChatAssociation`: a label put on a chat or taken off (`label` null: unknown). */
const LabelChatPayloadSchema = z.looseObject({
  labelId: z.string().min(1),
  chatId: z.string().min(1),
  label: LabelPayloadSchema.nullable().optional(),
});

/** WAHA's `WAHAChatPresences`: what is known of a chat's contact, or of a group's members. */
const PresencePayloadSchema = z.looseObject({
  id: z.string().min(1),
  presences: z.array(z.looseObject({
    participant: z.string().min(1),
    lastKnownPresence: z.enum(["offline", "online", "typing", "recording", "paused"]),
    lastSeen: z.number().nullable().optional(),
  })),
});

/** WAHA's `CallData`: the call's id, who calls, when (seconds), video or voice, a group's. */
const CallPayloadSchema = z.looseObject({
  id: z.string().min(1),
  from: z.string().nullable().optional(),
  timestamp: z.number().nonnegative(),
  isVideo: z.boolean(),
  isGroup: z.boolean(),
  _data: z.unknown().optional(),
});

/**
 * The envelopes of these events for the discriminated union of `/webhook/message`, each made by
 * `envelope` (the route's own WAHA envelope around an event name and a payload).
 */
export function socialEventEnvelopes<T>(
  envelope: (event: z.ZodType, payload: z.ZodType) => T,
): [T, T, T, T] {
  return [
    envelope(z.enum(["label.upsert", "label.deleted"]), LabelPayloadSchema),
    envelope(z.enum(["label.chat.added", "label.chat.deleted"]), LabelChatPayloadSchema),
    envelope(z.enum(["presence.update"]), PresencePayloadSchema),
    envelope(z.enum(["call.received", "call.accepted", "call.rejected"]), CallPayloadSchema),
  ];
}
