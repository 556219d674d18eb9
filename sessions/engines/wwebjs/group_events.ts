/**
 * @module
 * whatsapp-web.js's group notifications as our group events: `group_join` (the account was added
 * or joined: `group.join` with the group; and, as WAHA, whoever joined, the account too:
 * `group.participants`), `group_leave` (the account left or was removed: `group.leave`; and
 * whoever left: `group.participants`), `group_admin_changed` (promote,
 * demote), `group_membership_request` (someone asks to join) and `group_update` (subject,
 * description, picture, the settings). A notification the
 * engine cannot read is dropped rather than killing the Worker.
 */
import type { EngineEvent, GroupChange, GroupDto } from "../../engine.ts";
import { type Lib, serialized } from "./mappers.ts";
import type { WwebjsContext } from "./context.ts";

/** The `group_update` subtypes and what they change. */
const UPDATES: Record<string, GroupChange> = {
  subject: "subject",
  description: "description",
  picture: "picture",
  announce: "settings",
  restrict: "settings",
  membership_approval_mode: "settings",
};

export interface GroupEventDeps {
  ctx: WwebjsContext;
  /** Emits in order with the session's other events. */
  emit(event: EngineEvent): void;
  /** The group as WhatsApp Web holds it now (with the LIDs' other ids). */
  group(groupId: string): Promise<GroupDto>;
  /** The group's invite code, when the account may see it; else null. */
  invite(groupId: string): Promise<string | null>;
}

export function listenToGroups(client: Lib, deps: GroupEventDeps): void {
  const { ctx, emit } = deps;
  const read = (n: Lib) => ({
    groupId: serialized(n.chatId ?? n.id?.remote),
    recipients: ((n.recipientIds ?? []) as Lib[]).map(serialized).filter(Boolean),
    author: n.author ? serialized(n.author) : null,
    timestamp: Number(n.timestamp) || Math.floor(Date.now() / 1000),
  });
  const safely = (handle: (n: Lib) => Promise<void> | void) => (n: Lib) => {
    Promise.resolve().then(() => handle(n)).catch(() => {});
  };

  client.on(
    "group_join",
    safely(async (n) => {
      const { groupId, recipients, timestamp } = read(n);
      if (recipients.some((id) => ctx.isMe(id))) {
        const group = await deps.group(groupId);
        emit({ type: "group.join", group, invite: await deps.invite(groupId), timestamp });
      }
      // As WAHA: the members who joined, the account too when it did.
      if (recipients.length) {
        emit({
          type: "group.participants",
          groupId,
          change: "join",
          participants: recipients,
          timestamp,
        });
      }
    }),
  );
  client.on(
    "group_leave",
    safely((n) => {
      const { groupId, recipients, timestamp } = read(n);
      if (recipients.some((id) => ctx.isMe(id))) {
        emit({ type: "group.leave", groupId, participants: [], timestamp });
      }
      // As WAHA: the members who left, the account too when it did.
      if (recipients.length) {
        emit({
          type: "group.participants",
          groupId,
          change: "leave",
          participants: recipients,
          timestamp,
        });
      }
    }),
  );
  client.on(
    "group_admin_changed",
    safely((n) => {
      const { groupId, recipients, timestamp } = read(n);
      if (n.type !== "promote" && n.type !== "demote") return;
      emit({
        type: "group.participants",
        groupId,
        change: n.type,
        participants: recipients,
        timestamp,
      });
    }),
  );
  client.on(
    "group_membership_request",
    safely((n) => {
      const { groupId, author, timestamp } = read(n);
      if (!author) return;
      // WhatsApp Web shows only new requests: a rejected or revoked one leaves no notification.
      emit({
        type: "group.join_request",
        groupId,
        action: "created",
        requester: author,
        requestMethod: null,
        timestamp,
      });
    }),
  );
  client.on(
    "group_update",
    safely(async (n) => {
      const change = UPDATES[String(n.type)];
      if (!change) return;
      const { groupId, author, timestamp } = read(n);
      emit({ type: "group.update", group: await deps.group(groupId), change, author, timestamp });
    }),
  );
}
