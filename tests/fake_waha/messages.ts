/**
 * @module
 * The messages the fake WAHA keeps, as WAHA's WEBJS engine lists them: whatsapp-web.js's type in
 * `_data.type` (`chat`, `image`, `document`, `video`, `ptt`, `location`, `vcard`,
 * `poll_creation`), a caption as the body of a media message, the media as a file WAHA serves
 * (`chats.ts`), a location and vCards in their own fields, and a quoted message as `replyTo` with
 * its bare id, as WAHA gives it. A message revoked for everyone stays, as `revoked` with an empty
 * body and no media; one that is not ours cannot be revoked, so WhatsApp deletes it for us only.
 * A revoke and an edit of ours are posted as WAHA's `message.revoked` (with `revokedMessageId`)
 * and `message.edited` bodies. A receipt is posted as WAHA's `message.ack` body
 * (`WAMessageAckBody`), a contact's reaction as its `message.reaction` body (`WAMessageReaction`,
 * as its WEBJS engine fills it), a contact's vote as its `poll.vote` body (`PollVotePayload`).
 */
import type { WAMessage } from "../../waha/schemas.ts";
import { type FakeChatMarks, storeMedia } from "./chats.ts";

/** whatsapp-web.js's message type of a send call's path. */
const SEND_TYPES: Record<string, string> = {
  "/api/sendText": "chat",
  "/api/sendImage": "image",
  "/api/sendFile": "document",
  "/api/sendVoice": "ptt",
  "/api/sendVideo": "video",
  "/api/sendLocation": "location",
  "/api/sendContactVcard": "vcard",
  "/api/sendPoll": "poll_creation",
};

/** A send call's body, as the fake reads it (validated against WAHA's DTO before). */
export interface SendBody {
  chatId: string;
  text?: string;
  caption?: string;
  file?: { mimetype: string; filename?: string; data?: string; url?: string };
  latitude?: number;
  longitude?: number;
  title?: string;
  contacts?: ({ vcard: string } | { fullName: string; vcard?: string | null })[];
  poll?: { name: string };
}

/** whatsapp-web.js's type of a media message with `mimetype`. */
export function mediaTypeOf(mimetype: string): string {
  if (mimetype.startsWith("image/")) return "image";
  if (mimetype.startsWith("video/")) return "video";
  if (mimetype.startsWith("audio/")) return "audio";
  return "document";
}

/** The card of one of WAHA's `contacts` (a `Contact` with a name and number but no card: none). */
const vcardOf = (contact: NonNullable<SendBody["contacts"]>[number]): string =>
  ("vcard" in contact ? contact.vcard : null) ?? "";

/**
 * What a send to `path` with `body` keeps on its message besides the id and time: the type, the
 * body, its media (stored as a file WAHA serves), location and vCards.
 */
export function sentContent(
  path: string,
  body: SendBody,
  file: { marks: FakeChatMarks; session: string; id: string },
): Partial<WAMessage> & { _data: { type: string } } {
  const type = SEND_TYPES[path] ?? "chat";
  if (body.file) {
    const media = body.file.data === undefined
      ? { url: body.file.url, mimetype: body.file.mimetype, filename: body.file.filename ?? null }
      : storeMedia(file.marks, file.session, file.id, {
        mimetype: body.file.mimetype,
        filename: body.file.filename,
        data: body.file.data,
      });
    return { _data: { type }, body: body.caption ?? "", hasMedia: true, media };
  }
  if (type === "location") {
    return {
      _data: { type },
      body: "",
      location: {
        latitude: String(body.latitude),
        longitude: String(body.longitude),
        description: body.title,
      },
    };
  }
  if (type === "vcard") {
    const vCards = (body.contacts ?? []).map(vcardOf);
    return { _data: { type: vCards.length > 1 ? "multi_vcard" : type }, body: vCards[0], vCards };
  }
  return { _data: { type }, body: body.text ?? body.poll?.name ?? "" };
}

/** WAHA's `replyTo` of a message quoting `quoted`: its bare id, its sender and its body. */
export function replyToOf(quoted: WAMessage): NonNullable<WAMessage["replyTo"]> {
  return {
    id: quoted.id.split("_")[2],
    participant: quoted.participant ?? quoted.from,
    body: quoted.body,
  };
}

/** A message's own id, without the chat (`true_<chat>_<id>` → `<id>`), as WAHA names it. */
export function bareId(id: string): string {
  return id.split("_")[2] ?? id;
}

/**
 * WAHA's `message.edited` body (`WAMessageEditedBody`) for our message edited to its body, as its
 * WEBJS engine posts it: the message as it is now, and its own id as `editedMessageId`.
 */
export function edited(message: WAMessage): WAMessage & { editedMessageId: string } {
  return { ...message, editedMessageId: bareId(message.id) };
}

/** The message after it was revoked for everyone, as whatsapp-web.js then shows it. */
export function revoked(message: WAMessage): WAMessage {
  return {
    ...message,
    body: "",
    hasMedia: false,
    media: null,
    mediaUrl: null,
    _data: { ...(message._data as object ?? {}), type: "revoked" },
  };
}

/** WAHA's names of the ack levels (its `WAMessageAck` enum). */
const ACK_NAMES: Record<number, string> = {
  [-1]: "ERROR",
  0: "PENDING",
  1: "SERVER",
  2: "DEVICE",
  3: "READ",
  4: "PLAYED",
};

/** The message at `ack` (WhatsApp's receipt), and WAHA's `message.ack` body of it. */
export function acked(
  message: WAMessage,
  ack: number,
): { message: WAMessage; body: Record<string, unknown> } {
  const ackName = ACK_NAMES[ack] ?? "UNKNOWN";
  return {
    message: { ...message, ack, ackName },
    body: {
      id: message.id,
      from: message.from,
      to: message.to ?? null,
      participant: message.participant ?? null,
      fromMe: message.fromMe,
      ack,
      ackName,
    },
  };
}

/** WAHA's `message.reaction` body of `from` reacting with `emoji` to `message` in `chatId`. */
export function reactionOf(
  reaction: { id: string; from: string; chatId: string; emoji: string },
  message: WAMessage,
): Record<string, unknown> {
  return {
    id: reaction.id,
    timestamp: Math.floor(Date.now() / 1000),
    from: reaction.from,
    fromMe: false,
    participant: reaction.from,
    to: reaction.chatId,
    reaction: { text: reaction.emoji, messageId: message.id },
  };
}

/** WAHA's `poll.vote` body of `from` choosing `selectedOptions` in our `poll` in its chat. */
export function pollVoteOf(
  vote: { id: string; from: string; me: string; selectedOptions: string[] },
  poll: WAMessage,
): Record<string, unknown> {
  return {
    vote: {
      id: vote.id,
      from: vote.from,
      to: vote.me,
      participant: null,
      fromMe: false,
      selectedOptions: vote.selectedOptions,
      timestamp: Math.floor(Date.now() / 1000),
    },
    poll: { id: poll.id, from: poll.from, to: poll.to ?? null, fromMe: poll.fromMe },
  };
}
