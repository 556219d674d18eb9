/**
 * @module
 * The event vocabulary a webhook may subscribe to: the names this server sends, and WAHA's
 * other names, which it does not send yet but accepts, so that a configuration written for WAHA
 * keeps working. A name in neither list (`messages` for `message`) would never fire: it is
 * refused where a webhook is configured, with the list.
 */

/** What this server sends, in the order the README lists them. */
export const EMITTED_EVENTS = [
  "session.status",
  "state.change",
  "message",
  "message.any",
  "message.ack",
  "message.reaction",
  "poll.vote",
  "poll.vote.failed",
  "message.revoked",
  "message.edited",
  "presence.update",
  "group.v2.leave",
  "group.v2.participants",
  "label.upsert",
  "label.deleted",
  "label.chat.added",
  "label.chat.deleted",
  "call.received",
  "call.rejected",
  // From a waha-engine session's WAHA only (NOWEB and GOWS: a call answered on the phone).
  "call.accepted",
  "group.v2.join",
  "group.v2.update",
  "group.v2.participants.join-request",
] as const;

/** WAHA's event names that this server does not send (yet); `state.change` is WAHA's too. */
export const WAHA_ONLY_EVENTS = [
  "message.ack.group",
  "message.waiting",
  "chat.archive",
  "event.response",
  "event.response.failed",
  "engine.event",
  "group.join",
  "group.leave",
] as const;

const KNOWN = new Set<string>(["*", ...EMITTED_EVENTS, ...WAHA_ONLY_EVENTS]);

/** Why `name` cannot be subscribed to, or null when it can (`*` means every event). */
export function eventNameProblem(name: string): string | null {
  if (KNOWN.has(name)) return null;
  return `unknown event "${name.slice(0, 64)}": this server sends ${EMITTED_EVENTS.join(", ")} ` +
    `("*" for all); WAHA's other names are accepted too: ${WAHA_ONLY_EVENTS.join(", ")}`;
}
