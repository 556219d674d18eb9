/**
 * @module
 * Labels, presence and calls through HTTP, with every event asserted as a webhook receiver gets
 * it, in WAHA's shapes. Labels: the business account's five, created, edited and deleted through
 * the API and from the phone, set on a chat (its whole set, each change a `label.chat.added` or
 * `label.chat.deleted`), the chats of a label, and all of it after a restart. Presence: ours set,
 * a contact's changes (`presence.update`) read back, a subscription answered with
 * `presence.update`, typing in one chat through the same endpoint. Calls: a contact's call arrives
 * as `call.received` and is rejected by its id (`call.rejected`), once; with `CALLS_AUTO_REJECT`
 * it is rejected as it arrives and the caller gets the message.
 *
 * On each engine of `_engines.ts` (what the phone and the contacts do through `World`: the
 * simulator's controls, the fake WAHA's): the label list, labels made through the API and from
 * the phone, a chat's labels, a contact's presence and a contact's call (where WAHA rejects any
 * call: GAPS `ringingCalls`). On the simulator only: the refusals (a chat the account does not
 * have is a 404 there, while WAHA lists no labels for any chat: GAPS `unknownChats`; "paid" is
 * taken by "Paid" there, not on the waha engine; the simulator's control refuses a label it does
 * not have), what survives a restart (the simulator's data directory), what the simulator answers
 * for a contact never seen and a group's typing (the fake WAHA knows no presence of either), and
 * `CALLS_AUTO_REJECT` (the waha engine never sees a call: WAHA posts it to our webhooks, not to
 * the engine, so it rejects none by itself).
 */
import assert from "node:assert/strict";
import { type Received, type Receiver, startReceiver } from "../events/test_receivers.ts";
import {
  answersNotImplemented,
  type EngineName,
  ENGINES,
  keepsContract,
  notImplementedOn,
  startEngine,
  type World,
} from "./_engines.ts";
import { startTestApp, type TestApp, waitForState, webhookEvent } from "./_helpers.ts";

const PHONE = "4915550007201";
const ALICE = "15550000001@c.us";
const BOB = "15550000002@c.us";
const GROUP = "120363000000000001@g.us";

interface Label {
  id: string;
  name: string;
  color: number | null;
  colorHex: string;
}

interface Setup {
  /** The server (another one after `restart`). */
  readonly server: TestApp;
  hooks: Receiver;
  /** The first event named `event` at the webhook whose payload `matches`, within 10 s. */
  event(event: string, matches?: (payload: Record<string, unknown>) => boolean): Promise<Received>;
  /** Every event named `event` at the webhook so far. */
  events(event: string): Record<string, unknown>[];
  /** A request that must answer 200; its body. */
  ok(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  /** Stops the server and starts another on the same data, the session connected again. */
  restart(): Promise<void>;
}

/**
 * A connected number on `engine` with a webhook receiver (the tests that run on each engine), and
 * what the phone and its contacts do there (`world`).
 */
async function onEngine(
  engine: EngineName,
  test: (setup: Omit<Setup, "restart"> & { world: World }) => Promise<void>,
): Promise<void> {
  const hooks = startReceiver();
  const { server, connect, close, world } = await startEngine(engine, { WEBHOOK_URL: hooks.url });
  try {
    await connect(PHONE);
    await test({
      server,
      hooks,
      world,
      event: (event, matches) => webhookEvent(hooks, event, matches, 10_000),
      events: (event) =>
        hooks.received.filter((r) => r.json.event === event).map((r) => r.json.payload),
      async ok(method, path, body) {
        const answer = await server.json(method, `/${PHONE}${path}`, { body });
        assert.equal(answer.status, 200, `${method} ${path}: ${JSON.stringify(answer.body)}`);
        return answer.body;
      },
    });
  } finally {
    await close();
    await hooks.close();
  }
}

/** A connected number on the simulator, restarted on the same data by `restart`. */
async function withPhone(
  test: (setup: Setup) => Promise<void>,
  extra: Record<string, string> = {},
): Promise<void> {
  const hooks = startReceiver();
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-social-" });
  const env = { WEBHOOK_URL: hooks.url, SIMULATOR_SCAN_MS: "0", DATA_DIR: dataDir, ...extra };
  let server: TestApp | null = null;
  const connect = async () => {
    server = await startTestApp(env);
    assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
    // A busy machine may take a while to start a session's Worker.
    await waitForState(server, PHONE, "CONNECTED", 30_000);
  };
  try {
    await connect();
    await test({
      get server() {
        return server!;
      },
      hooks,
      event: (event, matches) => webhookEvent(hooks, event, matches, 10_000),
      events: (event) =>
        hooks.received.filter((r) => r.json.event === event).map((r) => r.json.payload),
      async ok(method, path, body) {
        const answer = await server!.json(method, `/${PHONE}${path}`, { body });
        assert.equal(answer.status, 200, `${method} ${path}: ${JSON.stringify(answer.body)}`);
        return answer.body;
      },
      async restart() {
        await server!.close();
        server = null;
        await connect();
      },
    });
  } finally {
    await (server as TestApp | null)?.close();
    await hooks.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, GET /labels lists WhatsApp Business's five labels with WAHA's colour number and hex`, async () => {
    const { server, connect, close } = await startEngine(engine);
    try {
      await connect(PHONE);
      const answer = await server.json<Label[]>("GET", `/${PHONE}/labels`);
      const operation = "GET /{phoneNumber}/labels";
      if (notImplementedOn(engine, operation)) {
        return answersNotImplemented(engine, operation, answer);
      }
      const { status, body } = answer;
      assert.equal(status, 200);
      assert.deepEqual(body.map((l) => [l.id, l.name]), [
        ["1", "New customer"],
        ["2", "New order"],
        ["3", "Pending payment"],
        ["4", "Paid"],
        ["5", "Order complete"],
      ]);
      assert.deepEqual(body[0], { id: "1", name: "New customer", color: 0, colorHex: "#ff9485" });
    } finally {
      await close();
    }
  });
}

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, a label created, edited and deleted through the API arrives as label.upsert and label.deleted`, async () => {
    await onEngine(engine, async ({ ok, event, server }) => {
      const created = await ok("POST", "/labels", { name: "Lead", color: 3 }) as unknown as Label;
      assert.deepEqual(created, { id: "6", name: "Lead", color: 3, colorHex: "#dfaef0" });
      const upsert = await event("label.upsert", (p) => p.id === "6");
      assert.deepEqual(upsert.json.payload, created);

      const edited = await ok("PUT", "/labels/6", { name: "Hot lead" }) as unknown as Label;
      assert.deepEqual(edited, { id: "6", name: "Hot lead", color: 3, colorHex: "#dfaef0" });
      // WAHA's other way to give a colour: its hex value.
      const hex = await ok("POST", "/labels", { name: "Cold", colorHex: "#64C4FF" });
      assert.deepEqual(hex, { id: "7", name: "Cold", color: 1, colorHex: "#64c4ff" });
      await event("label.upsert", (p) => p.name === "Hot lead");

      await ok("PUT", `/labels/chats/${ALICE}`, { labels: [{ id: "6" }] });
      await ok("DELETE", "/labels/6");
      const off = await event("label.chat.deleted", (p) => p.labelId === "6");
      assert.deepEqual(off.json.payload, { labelId: "6", chatId: ALICE, label: edited });
      const deleted = await event("label.deleted");
      assert.deepEqual(deleted.json.payload, edited);
      const after = await server.json<Label[]>("GET", `/${PHONE}/labels`);
      assert.equal(after.body.some((l) => l.id === "6"), false);
      assert.deepEqual((await server.json("GET", `/${PHONE}/labels/chats/${ALICE}`)).body, []);
      assert.equal((await server.json("DELETE", `/${PHONE}/labels/6`)).status, 404);
    });
  });
}

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, PUT /labels/chats/{chatId} gives the chat exactly the labels given, each change an event`, async () => {
    await onEngine(engine, async ({ ok, event, events, server }) => {
      await ok("PUT", `/labels/chats/${ALICE}`, { labels: [{ id: "1" }, { id: "2" }] });
      const added = await event("label.chat.added", (p) => p.labelId === "2");
      assert.deepEqual(added.json.payload, {
        labelId: "2",
        chatId: ALICE,
        label: { id: "2", name: "New order", color: 1, colorHex: "#64c4ff" },
      });
      const labels = await server.json<Label[]>("GET", `/${PHONE}/labels/chats/${ALICE}`);
      assert.deepEqual(labels.body.map((l) => l.id), ["1", "2"]);

      await ok("PUT", `/labels/chats/${ALICE}`, { labels: [{ id: "2" }, { id: "4" }] });
      await event("label.chat.added", (p) => p.labelId === "4");
      await event("label.chat.deleted", (p) => p.labelId === "1" && p.chatId === ALICE);
      // "2" stayed on: no second event for it.
      assert.equal(events("label.chat.added").filter((p) => p.labelId === "2").length, 1);
      assert.deepEqual(
        (await server.json<Label[]>("GET", `/${PHONE}/labels/chats/${ALICE}`)).body.map((l) =>
          l.id
        ),
        ["2", "4"],
      );

      const chats = await server.json<{ id: string }[]>("GET", `/${PHONE}/labels/2/chats`);
      assert.deepEqual(chats.body.map((c) => c.id), [ALICE]);

      await ok("PUT", `/labels/chats/${ALICE}`, { labels: [] });
      await event("label.chat.deleted", (p) => p.labelId === "4");
      assert.deepEqual((await server.json("GET", `/${PHONE}/labels/chats/${ALICE}`)).body, []);
    });
  });
}

Deno.test("labels that do not exist, chats that do not exist and bad bodies are refused", async () => {
  await withPhone(async ({ server }) => {
    const unknownLabel = await server.json("PUT", `/${PHONE}/labels/chats/${ALICE}`, {
      body: { labels: [{ id: "99" }] },
    });
    assert.equal(unknownLabel.status, 404);
    assert.match(String(unknownLabel.body.error), /Label "99" not found/);
    const noChat = await server.json("GET", `/${PHONE}/labels/chats/15550000077@c.us`);
    assert.equal(noChat.status, 404);
    assert.equal((await server.json("GET", `/${PHONE}/labels/99/chats`)).status, 404);
    assert.equal(
      (await server.json("PUT", `/${PHONE}/labels/99`, { body: { name: "x" } })).status,
      404,
    );
    const taken = await server.json("POST", `/${PHONE}/labels`, { body: { name: "paid" } });
    assert.equal(taken.status, 400);
    assert.match(String(taken.body.error), /exists already/);
    const color = await server.json("POST", `/${PHONE}/labels`, { body: { name: "x", color: 20 } });
    assert.equal(color.status, 400);
    assert.match(String(color.body.error), /color/);
    const hex = await server.json("POST", `/${PHONE}/labels`, {
      body: { name: "x", colorHex: "#123456" },
    });
    assert.equal(hex.status, 400);
    assert.match(String(hex.body.error), /colorHex.*not one of WhatsApp's label colours/);
    const both = await server.json("POST", `/${PHONE}/labels`, {
      body: { name: "x", color: 2, colorHex: "#ff9485" },
    });
    assert.equal(both.status, 400);
    assert.match(String(both.body.error), /is colour 0, not 2/);
    const shape = await server.json("PUT", `/${PHONE}/labels/chats/${ALICE}`, {
      body: { labels: ["1"] },
    });
    assert.equal(shape.status, 400);
    // The phone cannot delete a label it does not have (the simulator's control).
    const missing = await server.json("POST", `/${PHONE}/simulator/label-delete`, {
      body: { id: "99" },
    });
    assert.equal(missing.status, 404);
  });
});

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, the phone's own label changes arrive as the same events`, async () => {
    await onEngine(engine, async ({ event, events, server, world }) => {
      await world.phoneUpsertLabel(PHONE, { name: "VIP", color: 5 });
      const upsert = await event("label.upsert", (p) => p.name === "VIP");
      assert.deepEqual(upsert.json.payload, {
        id: "6",
        name: "VIP",
        color: 5,
        colorHex: "#55ccb3",
      });
      await world.phoneUpsertLabel(PHONE, { id: "1", name: "Customer" });
      const renamed = await event("label.upsert", (p) => p.id === "1");
      assert.deepEqual(renamed.json.payload, {
        id: "1",
        name: "Customer",
        color: 0,
        colorHex: "#ff9485",
      });

      await world.phoneSetChatLabels(PHONE, GROUP, ["6"]);
      const added = await event("label.chat.added", (p) => p.chatId === GROUP);
      assert.equal(added.json.payload.labelId, "6");
      const group = await server.json<Label[]>("GET", `/${PHONE}/labels/chats/${GROUP}`);
      assert.deepEqual(group.body.map((l) => l.name), ["VIP"]);

      await world.phoneDeleteLabel(PHONE, "6");
      await event("label.chat.deleted", (p) => p.chatId === GROUP && p.labelId === "6");
      await event("label.deleted", (p) => p.id === "6");
      assert.deepEqual((await server.json("GET", `/${PHONE}/labels/chats/${GROUP}`)).body, []);
      assert.equal(events("label.chat.added").length, 1);
    });
  });
}

Deno.test("labels and a chat's labels survive a restart of the server", async () => {
  await withPhone(async (setup) => {
    await setup.ok("POST", "/labels", { name: "Kept", color: 7 });
    await setup.ok("PUT", `/labels/chats/${BOB}`, { labels: [{ id: "3" }, { id: "6" }] });
    await setup.restart();
    const labels = await setup.server.json<Label[]>("GET", `/${PHONE}/labels`);
    assert.equal(labels.body.find((l) => l.id === "6")?.name, "Kept");
    const chat = await setup.server.json<Label[]>("GET", `/${PHONE}/labels/chats/${BOB}`);
    assert.deepEqual(chat.body.map((l) => l.id), ["3", "6"]);
  });
});

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, a contact's presence arrives as presence.update and reads back`, async () => {
    await onEngine(engine, async ({ ok, event, events, world }) => {
      type Presences = {
        id: string;
        presences: { lastKnownPresence: string; lastSeen: unknown }[];
      };
      const shows = (presence: string) => (p: Record<string, unknown>) =>
        p.id === BOB && (p as unknown as Presences).presences[0]?.lastKnownPresence === presence;
      await world.contactPresence(PHONE, BOB, "online");
      const online = await event("presence.update", shows("online"));
      assert.deepEqual(online.json.payload, {
        id: BOB,
        presences: [{ participant: BOB, lastKnownPresence: "online", lastSeen: null }],
      });
      assert.deepEqual(await ok("GET", `/presence/${BOB}`), online.json.payload);
      // Read, it is subscribed to, and listed.
      const all = await ok("GET", "/presence") as unknown as Presences[];
      assert.deepEqual(all.find((p) => p.id === BOB), online.json.payload);

      await world.contactPresence(PHONE, BOB, "offline");
      const offline = await event("presence.update", shows("offline"));
      const [seen] = (offline.json.payload as unknown as Presences).presences;
      assert.equal(typeof seen.lastSeen, "number", "going offline, it was last seen now");
      assert.deepEqual(await ok("GET", `/presence/${BOB}`), offline.json.payload);
      assert.equal(events("presence.update").filter(shows("online")).length, 1);
    });
  });
}

Deno.test("presence: ours is set, a contact's is read and subscribed to (presence.update) and listed, typing goes through POST /presence", async () => {
  await withPhone(async ({ ok, event, server }) => {
    assert.deepEqual(await server.json("GET", `/${PHONE}/presence`), { status: 200, body: [] });
    assert.equal((await ok("POST", "/presence", { presence: "online" })).success, true);
    assert.equal((await ok("POST", "/presence", { presence: "offline" })).success, true);

    const unseen = await ok("GET", `/presence/${BOB}`);
    assert.deepEqual(unseen, {
      id: BOB,
      presences: [{ participant: BOB, lastKnownPresence: "offline", lastSeen: null }],
    });

    await ok("POST", "/simulator/presence", { contactId: ALICE, presence: "online" });
    const online = await event("presence.update", (p) => p.id === ALICE);
    assert.deepEqual(online.json.payload, {
      id: ALICE,
      presences: [{ participant: ALICE, lastKnownPresence: "online", lastSeen: null }],
    });
    assert.deepEqual(await ok("GET", `/presence/${ALICE}`), online.json.payload);

    await ok("POST", `/presence/${BOB}/subscribe`);
    const answer = await event("presence.update", (p) => p.id === BOB);
    assert.deepEqual(answer.json.payload, unseen);
    // Both chats asked for are listed, as they are now.
    const all = await ok("GET", "/presence") as unknown as { id: string }[];
    assert.deepEqual(all, [unseen, online.json.payload]);

    await ok("POST", "/simulator/typing", { chatId: GROUP, from: ALICE, state: "typing" });
    await event("presence.update", (p) => p.id === GROUP);
    const group = await ok("GET", `/presence/${GROUP}`) as {
      presences: { participant: string; lastKnownPresence: string }[];
    };
    assert.equal(
      group.presences.find((p) => p.participant === ALICE)?.lastKnownPresence,
      "typing",
    );

    assert.equal(
      (await ok("POST", "/presence", { presence: "typing", chatId: ALICE })).success,
      true,
    );
    const noChat = await server.json("POST", `/${PHONE}/presence`, {
      body: { presence: "typing" },
    });
    assert.equal(noChat.status, 400);
    assert.match(String(noChat.body.error), /chatId/);
    const extra = await server.json("POST", `/${PHONE}/presence`, {
      body: { presence: "online", chatId: ALICE },
    });
    assert.equal(extra.status, 400);
    assert.equal((await server.json("GET", `/${PHONE}/presence/15559999999@c.us`)).status, 404);
    assert.equal(
      (await server.json("POST", `/${PHONE}/presence/120363999999999999@g.us/subscribe`)).status,
      404,
    );
  });
});

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, a contact's call arrives as call.received and is rejected by its id: call.rejected, once`, async () => {
    await onEngine(engine, async ({ ok, event, events, server, world }) => {
      await world.incomingCall(PHONE, ALICE, { isVideo: true });
      const received = await event("call.received");
      const call = received.json.payload;
      assert.equal(call.from, ALICE);
      assert.equal(call.isVideo, true);
      assert.equal(call.isGroup, false);
      assert.equal(typeof call.timestamp, "number");
      assert.match(String(call.id), /^[0-9A-F]{32}$/);

      // WAHA rejects any call, and knows only its id and caller (GAPS: ringingCalls).
      const ringing = keepsContract(engine, "ringingCalls");
      if (ringing) {
        const wrongCaller = await server.json("POST", `/${PHONE}/calls/reject`, {
          body: { from: BOB, id: call.id },
        });
        assert.equal(wrongCaller.status, 404);
      }
      await ok("POST", "/calls/reject", { from: ALICE, id: call.id });
      const rejected = await event("call.rejected");
      if (ringing) assert.deepEqual(rejected.json.payload, call);
      const { id, from, isGroup } = rejected.json.payload;
      assert.deepEqual({ id, from, isGroup }, { id: call.id, from: ALICE, isGroup: false });
      assert.equal(events("call.rejected").length, 1);
      if (ringing) {
        const again = await server.json("POST", `/${PHONE}/calls/reject`, {
          body: { from: ALICE, id: call.id },
        });
        assert.equal(again.status, 404);
        assert.match(String(again.body.error), /is ringing/);
      }
      // Nothing was sent to the caller without a message configured (the simulator's chat with
      // Alice; the fake WAHA has none: GAPS chatState).
      if (!keepsContract(engine, "chatState")) return;
      const chat = await server.json<{ messages: { fromMe: boolean }[] }>(
        "GET",
        `/${PHONE}/messages/${ALICE}`,
      );
      assert.equal(chat.body.messages[0].fromMe, true);
      assert.notEqual((chat.body.messages[0] as { source?: string }).source, "api");
    });
  });
}

Deno.test("CALLS_AUTO_REJECT rejects a call as it arrives and sends the caller CALLS_AUTO_REJECT_MESSAGE", async () => {
  await withPhone(async ({ ok, event, server }) => {
    await ok("POST", "/simulator/calls", { from: BOB });
    const received = await event("call.received");
    const rejected = await event("call.rejected");
    assert.deepEqual(rejected.json.payload, received.json.payload);
    assert.equal(received.json.payload.isVideo, false);
    const reply = await event(
      "message.any",
      (p) => p.to === BOB && p.body === "Sorry, I cannot take calls: please write",
    );
    assert.equal(reply.json.payload.fromMe, true);
    const chat = await server.json<{ messages: { body: string }[] }>(
      "GET",
      `/${PHONE}/messages/${BOB}`,
    );
    assert.equal(chat.body.messages[0].body, "Sorry, I cannot take calls: please write");
    const late = await server.json("POST", `/${PHONE}/calls/reject`, {
      body: { from: BOB, id: received.json.payload.id },
    });
    assert.equal(late.status, 404);
  }, {
    CALLS_AUTO_REJECT: "true",
    CALLS_AUTO_REJECT_MESSAGE: "Sorry, I cannot take calls: please write",
  });
});

Deno.test("a number's own call setting (POST /start with calls) overrides CALLS_AUTO_REJECT from its next start, and null gives it back", async () => {
  await withPhone(async ({ ok, event, events, server }) => {
    // Its own setting: calls ring (the server's default would reject them).
    const started = await ok("POST", "/start", { calls: { autoReject: false } });
    assert.match(String(started.message), /its new settings apply from its next restart/);
    const state = await ok("GET", "/state");
    assert.deepEqual(state.calls, { autoReject: false, message: null });
    await ok("POST", "/restart");
    await waitForState(server, PHONE, "CONNECTED", 30_000);
    await ok("POST", "/simulator/calls", { from: ALICE });
    const ringing = await event("call.received", (p) => p.from === ALICE);
    await ok("POST", "/calls/reject", { from: ALICE, id: ringing.json.payload.id });
    await event("call.rejected", (p) => p.id === ringing.json.payload.id);
    assert.equal(events("call.rejected").length, 1, "only the one rejected by hand");

    // Its own message, rejected at once.
    await ok("POST", "/start", { calls: { autoReject: true, message: "Only texts here" } });
    await ok("POST", "/restart");
    await waitForState(server, PHONE, "CONNECTED", 30_000);
    await ok("POST", "/simulator/calls", { from: BOB });
    await event("call.rejected", (p) => p.from === BOB);
    await event("message.any", (p) => p.to === BOB && p.body === "Only texts here");

    // Removed: the server's default (reject, with its message) again.
    await ok("POST", "/start", { calls: null });
    assert.equal((await ok("GET", "/state")).calls, null);
    await ok("POST", "/restart");
    await waitForState(server, PHONE, "CONNECTED", 30_000);
    await ok("POST", "/simulator/calls", { from: ALICE });
    await event("message.any", (p) => p.to === ALICE && p.body === "Server-wide: please write");
  }, {
    CALLS_AUTO_REJECT: "true",
    CALLS_AUTO_REJECT_MESSAGE: "Server-wide: please write",
  });
});
