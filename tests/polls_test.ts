/**
 * @module
 * Polls through HTTP: `send-poll` puts a poll in the chat (and a `message.any`
 * event out), a contact's or group member's vote from the simulator's control API reaches a
 * webhook receiver as WAHA's `poll.vote` and changes what `polls/{messageId}/votes` answers, a vote
 * replaces the voter's last one, a single-answer poll takes one option, and the poll with its votes
 * survives a restart. Bodies WhatsApp would refuse are 400s that name the field. Sending a poll
 * and the refusals run on each engine of `_engines.ts` (the waha engine answers 501 for the
 * votes, WAHA having no call to read them, and its `message.any` names no `source`: GAPS
 * `messageSource`); the votes' tests run on the simulator only, as the votes are read with the 501
 * call (WAHA's `poll.vote` webhook reaching us on the waha engine: `waha_events_test.ts`).
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
} from "./_engines.ts";
import { type TestApp, waitForState, webhookEvent } from "./_helpers.ts";

const PHONE = "4915550007101";
const ME = `${PHONE}@c.us`;
const CAROL = "15550000003@c.us";
const ALICE = "15550000001@c.us";
const BOB = "15550000002@c.us";
const GROUP = "120363000000000001@g.us";
const VOTES = "GET /{phoneNumber}/polls/{messageId}/votes";
const LUNCH = { name: "Lunch on Friday?", options: ["Pizza", "Sushi", "Salad"] };

interface Votes {
  pollId: string;
  chatId: string;
  name: string;
  multipleAnswers: boolean;
  options: { name: string; votes: number }[];
  votes: { voter: string; selectedOptions: string[]; timestamp: number }[];
}

interface Setup {
  server: TestApp;
  hooks: Receiver;
  /** Sends a poll; its message id. */
  sendPoll(chatId: string, poll: Record<string, unknown>): Promise<string>;
  /** A vote through the simulator's control API. */
  vote(body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }>;
  votes(pollId: string): Promise<{ status: number; body: Votes }>;
  /** The first event named `event` at the webhook whose payload `matches`, within 5 s. */
  event(event: string, matches: (payload: Record<string, unknown>) => boolean): Promise<Received>;
}

/** A connected number on `engine` (the votes' tests: the simulator, whose contacts vote). */
async function withPhone(
  engine: EngineName,
  test: (setup: Setup) => Promise<void>,
): Promise<void> {
  const hooks = startReceiver();
  const { server, connect, close } = await startEngine(engine, { WEBHOOK_URL: hooks.url });
  try {
    await connect(PHONE);
    await test({
      server,
      hooks,
      async sendPoll(chatId, poll) {
        const sent = await server.json("POST", `/${PHONE}/send-poll`, { body: { chatId, poll } });
        assert.equal(sent.status, 200, JSON.stringify(sent.body));
        return String(sent.body.messageId);
      },
      vote: (body) => server.json("POST", `/${PHONE}/simulator/poll-votes`, { body }),
      votes: (pollId) =>
        server.json<Votes>("GET", `/${PHONE}/polls/${encodeURIComponent(pollId)}/votes`),
      event: (event, matches) => webhookEvent(hooks, event, matches, 5_000),
    });
  } finally {
    await close();
    await hooks.close();
  }
}

const counts = (votes: Votes) => votes.options.map((o) => [o.name, o.votes]);

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, send-poll puts the poll in the chat, announces it as message.any, and it starts without votes`, async () => {
    await withPhone(engine, async ({ server, sendPoll, votes, event }) => {
      const pollId = await sendPoll("+1 555 000 0003", LUNCH);
      assert.match(pollId, /^true_15550000003@c\.us_/);
      const read = await votes(pollId);
      const { json } = await event("message.any", (p) => p.id === pollId);
      assert.equal(json.payload.body, LUNCH.name);
      assert.equal(json.payload.fromMe, true);
      // WAHA's messages name no source (GAPS: messageSource).
      if (keepsContract(engine, "messageSource")) assert.equal(json.payload.source, "api");
      assert.equal((json.payload._data as { type: string }).type, "poll_creation");

      const chat = await server.json<{ messages: { id: string; type: string; body: string }[] }>(
        "GET",
        `/${PHONE}/messages/${CAROL}`,
      );
      assert.deepEqual(
        [chat.body.messages[0].id, chat.body.messages[0].type, chat.body.messages[0].body],
        [pollId, "poll_creation", LUNCH.name],
      );
      if (notImplementedOn(engine, VOTES)) return answersNotImplemented(engine, VOTES, read);
      const { status, body } = read;
      assert.equal(status, 200);
      assert.deepEqual(body, {
        pollId,
        chatId: CAROL,
        name: LUNCH.name,
        multipleAnswers: false,
        options: [["Pizza", 0], ["Sushi", 0], ["Salad", 0]].map(([name, votes]) => ({
          name,
          votes,
        })),
        votes: [],
      });
    });
  });
}

Deno.test("a contact's vote arrives as WAHA's poll.vote and the poll's votes count it; a new vote replaces it", async () => {
  await withPhone("simulator", async ({ sendPoll, vote, votes, event }) => {
    const pollId = await sendPoll(CAROL, LUNCH);

    const cast = await vote({ pollId, options: ["Sushi"] });
    assert.equal(cast.status, 200, JSON.stringify(cast.body));
    const { json } = await event("poll.vote", (p) => (p.poll as { id: string }).id === pollId);
    const { vote: payloadVote, poll } = json.payload as Record<string, Record<string, unknown>>;
    assert.equal(typeof payloadVote.id, "string");
    assert.equal(typeof payloadVote.timestamp, "number");
    assert.deepEqual({ ...payloadVote, id: undefined, timestamp: undefined }, {
      id: undefined,
      timestamp: undefined,
      from: CAROL,
      to: ME,
      participant: null,
      fromMe: false,
      selectedOptions: ["Sushi"],
    });
    assert.deepEqual(poll, { id: pollId, from: ME, to: CAROL, fromMe: true });
    let now = (await votes(pollId)).body;
    assert.deepEqual(counts(now), [["Pizza", 0], ["Sushi", 1], ["Salad", 0]]);
    assert.deepEqual(now.votes.map((v) => [v.voter, v.selectedOptions]), [[CAROL, ["Sushi"]]]);

    // Carol changes her mind, then takes her vote back: each time her whole choice arrives.
    await vote({ pollId, options: ["Pizza"] });
    await event(
      "poll.vote",
      (p) => (p.vote as { selectedOptions: string[] }).selectedOptions[0] === "Pizza",
    );
    now = (await votes(pollId)).body;
    assert.deepEqual(counts(now), [["Pizza", 1], ["Sushi", 0], ["Salad", 0]]);
    await vote({ pollId, options: [] });
    await event(
      "poll.vote",
      (p) => (p.vote as { selectedOptions: string[] }).selectedOptions.length === 0,
    );
    now = (await votes(pollId)).body;
    assert.deepEqual(counts(now), [["Pizza", 0], ["Sushi", 0], ["Salad", 0]]);
    assert.deepEqual(now.votes, []);
  });
});

Deno.test("group members vote on a poll with multiple answers; the event names the group and the member", async () => {
  await withPhone("simulator", async ({ sendPoll, vote, votes, event }) => {
    const pollId = await sendPoll(GROUP, { ...LUNCH, multipleAnswers: true });
    assert.equal((await vote({ pollId, from: ALICE, options: ["Salad", "Pizza"] })).status, 200);
    assert.equal((await vote({ pollId, from: BOB, options: ["Pizza"] })).status, 200);

    const { json } = await event("poll.vote", (p) => (p.vote as { from: string }).from === ALICE);
    const { vote: cast, poll } = json.payload as Record<string, Record<string, unknown>>;
    assert.equal(cast.to, GROUP);
    assert.equal(cast.participant, ALICE);
    assert.deepEqual(cast.selectedOptions, ["Pizza", "Salad"], "in the poll's order");
    assert.deepEqual(poll, { id: pollId, from: ME, to: GROUP, fromMe: true });

    const { body } = await votes(pollId);
    assert.equal(body.multipleAnswers, true);
    assert.deepEqual(counts(body), [["Pizza", 2], ["Sushi", 0], ["Salad", 1]]);

    const stranger = await vote({ pollId, from: CAROL, options: ["Pizza"] });
    assert.equal(stranger.status, 400);
    assert.equal(stranger.body.error, `"${CAROL}" is not another member of group "${GROUP}"`);
  });
});

Deno.test("a single-answer poll refuses two options, and no poll takes an option it does not have", async () => {
  await withPhone("simulator", async ({ sendPoll, vote, votes }) => {
    const pollId = await sendPoll(CAROL, LUNCH);
    const two = await vote({ pollId, options: ["Pizza", "Sushi"] });
    assert.equal(two.status, 400);
    assert.equal(two.body.error, `Poll "${pollId}" takes one answer, not 2`);
    const unknown = await vote({ pollId, options: ["Tacos"] });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, `"Tacos" is not an option of poll "${pollId}"`);
    assert.deepEqual((await votes(pollId)).body.votes, [], "nothing was counted");
  });
});

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, send-poll refuses fewer than 2 or more than 12 options and repeated ones; votes of a message that is no poll are 400, of none 404`, async () => {
    await withPhone(engine, async ({ server, votes }) => {
      const refused = async (poll: Record<string, unknown>, field: RegExp) => {
        const { status, body } = await server.json("POST", `/${PHONE}/send-poll`, {
          body: { chatId: CAROL, poll },
        });
        assert.equal(status, 400, JSON.stringify(poll));
        assert.match(String(body.error), field);
      };
      await refused({ name: "One?", options: ["Yes"] }, /poll\.options/);
      const thirteen = Array.from({ length: 13 }, (_, i) => `Option ${i + 1}`);
      await refused({ name: "Many?", options: thirteen }, /poll\.options/);
      await refused({ name: "Twice?", options: ["Yes", "Yes"] }, /each option must differ/);
      await refused({ name: " ", options: ["Yes", "No"] }, /poll\.name/);

      const text = await server.json("POST", `/${PHONE}/send-text`, {
        body: { chatId: CAROL, text: "not a poll" },
      });
      const notPoll = await votes(String(text.body.messageId));
      const none = await votes("true_15550000003@c.us_3EB0NOSUCHPOLL");
      if (notImplementedOn(engine, VOTES)) {
        answersNotImplemented(engine, VOTES, notPoll);
        return answersNotImplemented(engine, VOTES, none);
      }
      assert.equal(notPoll.status, 400);
      assert.equal(
        (notPoll.body as unknown as { error: string }).error,
        `Message "${text.body.messageId}" is not a poll`,
      );
      assert.equal(none.status, 404);
    });
  });
}

Deno.test("a poll and its votes are still there after a restart, as the phone keeps them", async () => {
  await withPhone("simulator", async ({ server, sendPoll, vote, votes, event }) => {
    const pollId = await sendPoll(CAROL, LUNCH);
    await vote({ pollId, options: ["Salad"] });
    await event("poll.vote", (p) => (p.poll as { id: string }).id === pollId);
    assert.equal((await server.json("POST", `/${PHONE}/restart`)).status, 200);
    await waitForState(server, PHONE, "CONNECTED");
    const { status, body } = await votes(pollId);
    assert.equal(status, 200);
    assert.deepEqual(counts(body), [["Pizza", 0], ["Sushi", 0], ["Salad", 1]]);
  });
});
