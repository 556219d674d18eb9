/**
 * @module
 * Session events for tests and benches: a text message as the session manager hands it to the
 * event pipeline.
 */
import type { SessionEvent } from "../sessions/manager.ts";

/** The other party of every test message. */
export const PEER = "15551234567@c.us";

/** A text message with `body` that `session` sent (`message.any`) or received (`message`). */
export function textMessageEvent(session: string, body: string, fromMe = true): SessionEvent {
  const me = `${session}@c.us`;
  return {
    session,
    engine: "simulator",
    me: { id: me, pushName: "Test" },
    timestamp: Date.now(),
    data: {
      type: fromMe ? "message.any" : "message",
      message: {
        id: `${fromMe}_${PEER}_${body}`,
        chatId: PEER,
        from: fromMe ? me : PEER,
        to: fromMe ? PEER : me,
        author: null,
        fromMe,
        body,
        type: "chat",
        timestamp: Math.floor(Date.now() / 1000),
        hasMedia: false,
        media: null,
        ack: fromMe ? 1 : 0,
        quotedMsgId: null,
      },
    },
  };
}
