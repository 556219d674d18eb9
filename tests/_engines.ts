/**
 * @module
 * The engines the HTTP suites run on, behind one harness: a server on the `simulator` engine, or
 * on the `waha` engine over a fake WAHA on loopback (`fake_waha/gateway.ts`), with the few things
 * a test needs from the other side of the phone done the same way on each: the phone links (scans
 * the QR), a contact writes to the number. The simulator's phone scans by itself after
 * `SIMULATOR_SCAN_MS` and its contacts write through `/simulator/messages`; WAHA's phone and
 * contacts act through the fake.
 *
 * `NOT_IMPLEMENTED_ON` is what each engine answers `501 NOT_IMPLEMENTED` for today, written out
 * here rather than read from the engines: a suite asserts the 501 for those calls on that engine
 * (`answersNotImplemented`), so mapping a call fails its tests until the table says so.
 * `GAPS` names where an engine's answers differ otherwise, each left-out assertion marked by it;
 * `World` is what the two other sides hold to begin with where they differ (the simulator's
 * group and the fake WAHA's, what each says of a participant it did not add), how a group changes
 * there from the phone or by its other members (`groupChange`), and what happens there that a
 * number sees only as events (a contact's presence and call, the phone's labels).
 */
import assert from "node:assert/strict";
import { startTestApp, type TestApp, waitFor, waitForState } from "./_helpers.ts";
import { startWahaGateway, type WahaGateway } from "./fake_waha/gateway.ts";
import { NOT_ON_WHATSAPP_REFUSAL, PRIVATE_INVITE_ONLY } from "./fake_waha/groups.ts";

export type EngineName = "simulator" | "waha";

/** How long a link may take: a busy machine may take over 10 s to start a session's Worker. */
const LINK_MS = 30_000;

/** The engines whose suites are parameterised, in the order they run. */
export const ENGINES: readonly EngineName[] = ["simulator", "waha"];

export interface EngineUnderTest {
  engine: EngineName;
  server: TestApp;
  /** The waha engine's fake WAHA and webhook receiver (null on the simulator). */
  waha: WahaGateway | null;
  /** Starts the number on this engine; it waits for its QR scan (or links by itself, simulator). */
  start(phone: string): Promise<void>;
  /** The phone links (scans the QR), and the number is CONNECTED. */
  link(phone: string): Promise<void>;
  /** `start`, then `link`. */
  connect(phone: string): Promise<void>;
  /** `from` writes `text` to the number; the message's id. */
  incoming(phone: string, from: string, text: string): Promise<string>;
  /**
   * `from` writes `count` messages, "Incoming message 1 of <count>" to "… <count> of <count>"
   * (as the simulator's `/simulate incoming` command does); the newest one's id.
   */
  incomingMany(phone: string, from: string, count: number): Promise<string>;
  /** A number the other side says is not on WhatsApp. */
  notOnWhatsApp: string;
  /** What the other side holds and says, where the engines' worlds differ. */
  world: World;
  close(): Promise<void>;
}

/**
 * What the other side of an engine holds to begin with and says, where the simulator's world and
 * the fake WAHA's differ and a suite reads it.
 */
export interface World {
  /**
   * The group the account administers (with Alice and Bob as members): its id, subject, number of
   * members and creator (null: the account itself).
   */
  group: { id: string; subject: string; size: number; creator: string | null };
  /** A group the account is not in, behind an invite code: the code and the group's subject. */
  invite: { code: string; subject: string };
  /**
   * What WhatsApp says of a participant it did not add to a group: one not on WhatsApp (null:
   * nothing), one whose privacy settings refuse it.
   */
  addRefusals: { notOnWhatsApp: string | null; privacy: string };
  /**
   * A group of `phone`'s changes elsewhere, from the phone or by another member: `action` and
   * `body` as the simulator's control of that name (`/simulator/group-…`), done there or by the
   * fake WAHA (`fake_waha/group_events.ts`); 200, or 400 for a change WhatsApp would refuse.
   */
  groupChange(
    phone: string,
    action: GroupChangeAction,
    body: Record<string, unknown>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /**
   * What happens on the phone and from its contacts, done on each engine's other side (the
   * simulator's `/simulator/…` controls, the fake WAHA's `social`) and seen only as WhatsApp's
   * events: a contact goes online or offline (`presence.update`), a contact calls
   * (`call.received`), the phone creates a label (no `id`) or changes one (`label.upsert`), deletes
   * one (`label.chat.deleted` for each chat that had it, then `label.deleted`), gives a chat
   * exactly these labels (`label.chat.added`, `label.chat.deleted`).
   */
  contactPresence(phone: string, contactId: string, presence: "online" | "offline"): Promise<void>;
  incomingCall(phone: string, from: string, options?: { isVideo?: boolean }): Promise<void>;
  phoneUpsertLabel(
    phone: string,
    label: { id?: string; name: string; color?: number },
  ): Promise<void>;
  phoneDeleteLabel(phone: string, labelId: string): Promise<void>;
  phoneSetChatLabels(phone: string, chatId: string, labelIds: string[]): Promise<void>;
}

/** The changes of a group `World.groupChange` makes. */
export type GroupChangeAction =
  | "group-settings"
  | "group-join"
  | "group-admin"
  | "group-leave"
  | "group-request";

/** What the other side does (`World`), done by each engine's own means (`groupChange` too). */
type Acts = Omit<World, "group" | "invite" | "addRefusals" | "groupChange">;

const WORLDS: Record<EngineName, Omit<World, keyof Acts | "groupChange">> = {
  simulator: {
    group: {
      id: "120363000000000001@g.us",
      subject: "Simulator Group",
      size: 4,
      creator: null,
    },
    invite: { code: "SimulatorInvite01", subject: "Simulator Invite Group" },
    addRefusals: { notOnWhatsApp: null, privacy: "Their privacy settings do not allow it" },
  },
  // `fake_waha/groups.ts`.
  waha: {
    group: {
      id: "120363000000000001@g.us",
      subject: "Seeded group",
      size: 4,
      creator: "15550000009@c.us",
    },
    invite: { code: "JOINME", subject: "Group to join" },
    addRefusals: { notOnWhatsApp: NOT_ON_WHATSAPP_REFUSAL, privacy: PRIVATE_INVITE_ONLY },
  },
};

/**
 * A server on `engine` with `env` added to the test settings. On the simulator, the phone scans
 * after `SIMULATOR_SCAN_MS` (0 unless `env` says otherwise, so `link` is at once).
 */
export async function startEngine(
  engine: EngineName,
  env: Record<string, string> = {},
): Promise<EngineUnderTest> {
  if (engine === "simulator") {
    const server = await startTestApp({ SIMULATOR_SCAN_MS: "0", ...env });
    const control = async (phone: string, action: string, body: unknown) => {
      const answer = await server.json("POST", `/${phone}/simulator/${action}`, { body });
      assert.equal(answer.status, 200, `simulator/${action}: ${JSON.stringify(answer.body)}`);
    };
    const acts: Acts = {
      contactPresence: (phone, contactId, presence) =>
        control(phone, "presence", { contactId, presence }),
      incomingCall: (phone, from, options = {}) =>
        control(phone, "calls", { from, isVideo: options.isVideo ?? false }),
      phoneUpsertLabel: (phone, label) => control(phone, "labels", label),
      phoneDeleteLabel: (phone, id) => control(phone, "label-delete", { id }),
      phoneSetChatLabels: (phone, chatId, labelIds) =>
        control(phone, "chat-labels", { chatId, labelIds }),
    };
    return harness(engine, server, null, {
      acts,
      notOnWhatsApp: "15559999999",
      groupChange: (phone, action, body) =>
        server.json("POST", `/${phone}/simulator/${action}`, { body }),
      link: (phone) => waitForState(server, phone, "CONNECTED", LINK_MS).then(() => {}),
      async incoming(phone, from, text) {
        const { status, body } = await server.json("POST", `/${phone}/simulator/messages`, {
          body: { chatId: from, text },
        });
        assert.equal(status, 200, JSON.stringify(body));
        return body.messageId as string;
      },
      async incomingMany(phone, from, count) {
        const { status, body } = await server.json("POST", `/${phone}/send-text`, {
          body: { chatId: from, text: `/simulate incoming ${count}` },
        });
        assert.equal(status, 200, JSON.stringify(body));
        return body.messageId as string;
      },
      close: () => server.close(),
    });
  }
  const gateway = await startWahaGateway(env);
  const social = (phone: string) => gateway.fake.social(phone);
  const acts: Acts = {
    contactPresence: (phone, contactId, presence) => social(phone).presence(contactId, presence),
    incomingCall: (phone, from, options) => social(phone).call(from, options).then(() => {}),
    phoneUpsertLabel: (phone, label) => social(phone).upsertLabel(label).then(() => {}),
    phoneDeleteLabel: (phone, id) => social(phone).deleteLabel(id),
    phoneSetChatLabels: (phone, chatId, labelIds) => social(phone).setChatLabels(chatId, labelIds),
  };
  return harness(engine, gateway.server, gateway, {
    acts,
    // The fake WAHA knows the numbers of +1 555 only, and says this one is not on WhatsApp.
    notOnWhatsApp: "15559999999",
    async groupChange(phone, action, body) {
      try {
        await gateway.fake.groupChange(phone, action, body);
        return { status: 200, body: {} };
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        return { status: 400, body: { error: error.message } };
      }
    },
    async link(phone) {
      await waitFor(
        `WAHA's session ${phone} to wait for a scan`,
        () => gateway.fake.sessions.get(phone)?.status === "SCAN_QR_CODE",
        LINK_MS,
      );
      // The phone scans the QR our API shows (WAHA's SCAN_QR_CODE post has arrived): scanned
      // sooner, that post and the WORKING one race, and the later-arriving one wins for a poll.
      await waitFor(
        "our API to show the QR",
        async () =>
          (await gateway.server.json("GET", `/${phone}/state`)).body.status === "SCAN_QR_CODE",
        LINK_MS,
      );
      await gateway.fake.scan(phone);
      await waitForState(gateway.server, phone, "CONNECTED", LINK_MS);
    },
    incoming: async (phone, from, text) => (await gateway.fake.incoming(phone, from, text)).id,
    async incomingMany(phone, from, count) {
      let id = "";
      for (let i = 1; i <= count; i++) {
        id = (await gateway.fake.incoming(phone, from, `Incoming message ${i} of ${count}`)).id;
      }
      return id;
    },
    close: gateway.close,
  });
}

function harness(
  engine: EngineName,
  server: TestApp,
  waha: WahaGateway | null,
  { acts, ...own }:
    & Pick<EngineUnderTest, "link" | "incoming" | "incomingMany" | "notOnWhatsApp" | "close">
    & Pick<World, "groupChange">
    & { acts: Acts },
): EngineUnderTest {
  const start = async (phone: string) => {
    const { status, body } = await server.json("POST", `/${phone}/start`, { body: { engine } });
    assert.equal(status, 200, `starting ${phone} on ${engine}: ${JSON.stringify(body)}`);
  };
  return {
    engine,
    server,
    waha,
    world: { ...WORLDS[engine], ...acts, groupChange: own.groupChange },
    start,
    ...own,
    async connect(phone) {
      await start(phone);
      await own.link(phone);
    },
  };
}

/**
 * The calls (`METHOD /{phoneNumber}/…`, as the OpenAPI document names them, and `(value)` after
 * it where one value of the body decides) each engine answers `501 NOT_IMPLEMENTED` on a connected
 * session, with the engine capability it names.
 */
export const NOT_IMPLEMENTED_ON: Record<EngineName, Readonly<Record<string, string>>> = {
  simulator: {},
  waha: {
    "GET /{phoneNumber}/polls/{messageId}/votes": "getPollVotes",
    "POST /{phoneNumber}/chats/{chatId}/mute": "muteChat",
    "POST /{phoneNumber}/chats/{chatId}/unmute": "unmuteChat",
    "POST /{phoneNumber}/chats/{chatId}/pin": "pinChat",
    "POST /{phoneNumber}/chats/{chatId}/unpin": "unpinChat",
    "GET /{phoneNumber}/status": "listStatuses",
    "PUT /{phoneNumber}/channels/{channelId}": "updateChannel",
    "GET /{phoneNumber}/contacts/{contactId}/business-profile": "getBusinessProfile",
  },
};

/**
 * The engine method `engine` answers 501 for at `operation` (`METHOD /{phoneNumber}/…`), or
 * null when the engine does it.
 */
export function notImplementedOn(engine: EngineName, operation: string): string | null {
  return NOT_IMPLEMENTED_ON[engine][operation] ?? null;
}

/**
 * Asserts the contract's 501 answer for `operation` on `engine`: `NOT_IMPLEMENTED`, naming the
 * engine method and the engine, exactly the error body.
 */
export function answersNotImplemented(
  engine: EngineName,
  operation: string,
  answer: { status: number; body: unknown },
): void {
  const method = notImplementedOn(engine, operation);
  assert.ok(method, `${operation} is in the ${engine} engine's 501 table`);
  assert.deepEqual(answer, {
    status: 501,
    body: {
      error: `"${method}" is not supported by the ${engine} engine`,
      code: "NOT_IMPLEMENTED",
      statusCode: 501,
    },
  }, `${operation} on ${engine}`);
}

/**
 * On `engine`, `check` the answer to `operation`, or, where the engine's table says it cannot do
 * it, the contract's 501 instead.
 */
export function answers<T extends { status: number; body: unknown }>(
  engine: EngineName,
  operation: string,
  answer: T,
  check: (answer: T) => void,
): void {
  if (notImplementedOn(engine, operation)) answersNotImplemented(engine, operation, answer);
  else check(answer);
}

/**
 * Where an engine under test answers otherwise than the contract or the simulator (not a 501: an
 * answer that differs), because of the engine itself or because the fake WAHA keeps or posts less
 * than WAHA. A suite names the gap where it leaves out an assertion; taking a gap out of `GAPS`
 * runs those assertions on that engine again.
 */
export type ContractGap =
  /** `total` of `GET /chats` is exact only on the page that reaches the end (WAHA counts none). */
  | "chatTotal"
  /** `GET /messages/{chatId}` of a chat that does not exist is an empty page, not 404. */
  | "unknownChatMessages"
  /**
   * A `before` cursor deeper than the window the waha engine reads (one page past the cursor's
   * expected place) gives a short page and `hasMore: false`: its third page of 50 of 120 holds one
   * message, and a page read after newer messages arrived comes up short too.
   */
  | "deepCursor"
  /**
   * WAHA writes, reacts, marks read, types, archives, forwards and deletes in any chat, known or
   * not (whatsapp-web.js makes a chat of any id), and makes a contact of any number, so none of
   * these is a 404 there, nor is deleting a group's chat refused; its 404 for an unknown quoted
   * message names no message.
   */
  | "unknownChats"
  /**
   * WAHA rejects any call it is asked to, ringing or not (a wrong caller, a call rejected before,
   * are no 404), and posts a call rejected through its API as it knows it (its WEBJS engine): the
   * call's id and caller, a voice call at the time of rejecting, not the `call.received` payload.
   */
  | "ringingCalls"
  /** WAHA's messages say nothing of where they were sent from (no `source`: `api`, `app`). */
  | "messageSource"
  /**
   * The fake WAHA starts with none of the simulator's chats (Alice's, the group's, Bob's archived
   * one) and keeps no archive mark, and the waha engine reads no star or pin of a message back.
   */
  | "chatState"
  /**
   * The fake WAHA reads and revokes a group's invite link, lists its requests to join and sends
   * where only admins send for an account that is no admin of the group; what WAHA answers there
   * (whatsapp-web.js's error for what WhatsApp refused) is not known here.
   */
  | "nonAdminRefusals"
  /**
   * WAHA has no audio send of its own (`sendVoice` sends a voice note): an audio file goes as its
   * file send, and arrives as a document (`type: "document"`), not as an audio message.
   */
  | "audioAsDocument";

export const GAPS: Record<EngineName, ReadonlySet<ContractGap>> = {
  simulator: new Set(),
  waha: new Set([
    "unknownChats",
    "ringingCalls",
    "messageSource",
    "chatState",
    "nonAdminRefusals",
    "audioAsDocument",
  ]),
};

/** Whether `engine` answers as the contract says where `gap` names a difference. */
export function keepsContract(engine: EngineName, gap: ContractGap): boolean {
  return !GAPS[engine].has(gap);
}
