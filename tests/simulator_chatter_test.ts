/**
 * @module
 * The simulator's chatter (`POST /{phoneNumber}/simulator/chatter`), through HTTP with a webhook
 * receiver: a contact keeps writing by itself, each text numbered and stamped with the time it was
 * made; a group member chatters as a member; a new chatter replaces the one under way,
 * `durationMs: 0`, a stop of the session and a dropped connection end it. "Ended" is read from
 * the stamps: no message of the chatter was made after the call that ended it answered.
 */
import assert from "node:assert/strict";
import { type Received, type Receiver, startReceiver } from "../events/test_receivers.ts";
import { startTestApp, type TestApp, waitForState, webhookEvent } from "./_helpers.ts";

const PHONE = "4915550007101";
const CAROL = "15550000003@c.us";
const BOB = "15550000002@c.us";
const GROUP = "120363000000000001@g.us";
const CHATTER_TEXT = /^(.+) (\d+) of (\d+) at (\S+)$/;

interface Chatter {
  label: string;
  n: number;
  count: number;
  /** When the simulator made the message, Unix ms. */
  madeAt: number;
  received: Received;
}

/** The chatter messages the receiver got (`message` events), in arrival order. */
function chatterOf(hooks: Receiver, label: string): Chatter[] {
  const found: Chatter[] = [];
  for (const received of hooks.received) {
    if (received.json.event !== "message") continue;
    const match = CHATTER_TEXT.exec(String(received.json.payload.body));
    if (!match || match[1] !== label) continue;
    found.push({
      label,
      n: Number(match[2]),
      count: Number(match[3]),
      madeAt: Date.parse(match[4]),
      received,
    });
  }
  return found;
}

async function withPhone(
  test: (server: TestApp, hooks: Receiver) => Promise<void>,
): Promise<void> {
  const hooks = startReceiver();
  const server = await startTestApp({ WEBHOOK_URL: hooks.url, SIMULATOR_SCAN_MS: "0" });
  try {
    assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
    await waitForState(server, PHONE, "CONNECTED");
    await test(server, hooks);
  } finally {
    await server.close();
    await hooks.close();
  }
}

function chatter(server: TestApp, body: Record<string, unknown>) {
  return server.json("POST", `/${PHONE}/simulator/chatter`, { body });
}

/** A contact's message that arrived after everything before it (one destination is in order). */
async function marker(server: TestApp, hooks: Receiver, text: string): Promise<void> {
  const { status } = await server.json("POST", `/${PHONE}/simulator/messages`, {
    body: { chatId: CAROL, text },
  });
  assert.equal(status, 200);
  await webhookEvent(hooks, "message", (p) => p.body === text);
}

Deno.test("a chatter makes a contact write every everyMs for durationMs, each text numbered and stamped", async () => {
  await withPhone(async (server, hooks) => {
    const before = Date.now();
    const { status, body } = await chatter(server, {
      chatId: CAROL,
      everyMs: 20,
      durationMs: 100,
      text: "Hi",
    });
    assert.equal(status, 200, JSON.stringify(body));
    await webhookEvent(hooks, "message", (p) => String(p.body).startsWith("Hi 5 of 5 at "));
    await marker(server, hooks, "after the chatter");

    const got = chatterOf(hooks, "Hi");
    assert.deepEqual(got.map((c) => [c.n, c.count]), [[1, 5], [2, 5], [3, 5], [4, 5], [5, 5]]);
    for (const c of got) {
      assert.equal(c.received.json.payload.from, CAROL);
      assert.equal(c.received.json.payload.fromMe, false);
      // Made after the request, before it arrived: the stamp is the moment it was made.
      assert.ok(c.madeAt >= before && c.madeAt <= c.received.at, JSON.stringify(c));
    }
    for (let i = 1; i < got.length; i++) assert.ok(got[i].madeAt >= got[i - 1].madeAt);
    const anys = hooks.received.filter((r) =>
      r.json.event === "message.any" && String(r.json.payload.body).startsWith("Hi ")
    );
    assert.equal(anys.length, 5);

    const messages = await server.json<{ messages: { body: string }[] }>(
      "GET",
      `/${PHONE}/messages/${CAROL}?limit=10`,
    );
    assert.equal(messages.body.messages.filter((m) => m.body.startsWith("Hi ")).length, 5);
  });
});

Deno.test("a chatter given startAt makes its first message then, not everyMs from the request", async () => {
  await withPhone(async (server, hooks) => {
    const startAt = Date.now() + 1_500;
    const { status, body } = await chatter(server, {
      chatId: CAROL,
      everyMs: 50,
      durationMs: 150,
      text: "Later",
      startAt,
    });
    assert.equal(status, 200, JSON.stringify(body));
    await webhookEvent(hooks, "message", (p) => String(p.body).startsWith("Later 3 of 3 at "));
    const got = chatterOf(hooks, "Later");
    assert.deepEqual(got.map((c) => c.n), [1, 2, 3]);
    // Every stamp is at or after startAt (the clock is this process's too), the later ones
    // `everyMs` apart from it at least.
    got.forEach((c, i) => assert.ok(c.madeAt >= startAt + i * 50, JSON.stringify(c)));

    const tooLate = await chatter(server, {
      chatId: CAROL,
      everyMs: 50,
      durationMs: 150,
      startAt: Date.now() + 2 * 3_600_000,
    });
    assert.equal(tooLate.status, 400);
  });
});

Deno.test("a group member chatters in the group as the member; a stranger is refused at once", async () => {
  await withPhone(async (server, hooks) => {
    const refused = await chatter(server, {
      chatId: GROUP,
      from: CAROL,
      everyMs: 10,
      durationMs: 20,
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, `"${CAROL}" is not another member of group "${GROUP}"`);

    assert.equal(
      (await chatter(server, { chatId: GROUP, from: BOB, everyMs: 10, durationMs: 20 })).status,
      200,
    );
    const { json } = await webhookEvent(
      hooks,
      "message",
      (p) => String(p.body).startsWith("Chatter 2 of 2 at "),
    );
    assert.equal(json.payload.from, GROUP);
    assert.equal(json.payload.participant, BOB);
  });
});

Deno.test("a new chatter replaces the one under way, and durationMs 0 ends it", async () => {
  await withPhone(async (server, hooks) => {
    await chatter(server, { chatId: CAROL, everyMs: 20, durationMs: 600_000, text: "A" });
    await webhookEvent(hooks, "message", (p) => String(p.body).startsWith("A 2 of "));
    assert.equal(
      (await chatter(server, { chatId: BOB, everyMs: 20, durationMs: 600_000, text: "B" })).status,
      200,
    );
    const replacedAt = Date.now();
    await webhookEvent(hooks, "message", (p) => String(p.body).startsWith("B 2 of "));
    assert.equal(
      (await chatter(server, { chatId: BOB, everyMs: 20, durationMs: 0, text: "B" })).status,
      200,
    );
    const endedAt = Date.now();
    // Ten ticks' time: a chatter still under way would have made messages meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await marker(server, hooks, "after both");

    const a = chatterOf(hooks, "A");
    const b = chatterOf(hooks, "B");
    assert.ok(a.length >= 2 && b.length >= 2);
    assert.ok(a.every((c) => c.madeAt <= replacedAt), JSON.stringify(a.map((c) => c.madeAt)));
    assert.ok(b.every((c) => c.madeAt <= endedAt), JSON.stringify(b.map((c) => c.madeAt)));
  });
});

Deno.test("stopping the session ends its chatter, and so does a dropped connection", async () => {
  await withPhone(async (server, hooks) => {
    await chatter(server, { chatId: CAROL, everyMs: 20, durationMs: 600_000, text: "Before stop" });
    await webhookEvent(hooks, "message", (p) => String(p.body).startsWith("Before stop 2 of "));
    assert.equal((await server.json("POST", `/${PHONE}/stop`)).status, 200);
    const stoppedAt = Date.now();
    assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
    await waitForState(server, PHONE, "CONNECTED");

    await chatter(server, { chatId: CAROL, everyMs: 20, durationMs: 600_000, text: "Before drop" });
    await webhookEvent(hooks, "message", (p) => String(p.body).startsWith("Before drop 2 of "));
    const drop = await server.json("POST", `/${PHONE}/simulator/disconnect`, {
      body: { reconnectAfterMs: 50 },
    });
    assert.equal(drop.status, 200);
    const droppedAt = Date.now();
    await waitForState(server, PHONE, "CONNECTED");
    await new Promise((resolve) => setTimeout(resolve, 200));
    await marker(server, hooks, "after the restart and the drop");

    const stopped = chatterOf(hooks, "Before stop");
    const dropped = chatterOf(hooks, "Before drop");
    assert.ok(stopped.length >= 2 && dropped.length >= 2);
    assert.ok(stopped.every((c) => c.madeAt <= stoppedAt));
    assert.ok(dropped.every((c) => c.madeAt <= droppedAt));
  });
});
