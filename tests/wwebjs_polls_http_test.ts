/**
 * @module
 * Polls through our HTTP API and the real whatsapp-web.js against the fake WhatsApp Web: a poll
 * sent with `send-poll` reaches WhatsApp (the fake cloud) with its options, its one-or-many flag
 * and the secret votes are encrypted with; a vote cast on a contact's phone reaches a webhook
 * receiver as WAHA's `poll.vote` (through the library's `vote_update`), and the votes endpoint
 * reads the poll's votes as they stand (the library's `getPollVotes`). A vote on a poll WhatsApp
 * Web has not loaded cannot be read: it arrives as `poll.vote.failed`.
 */
import assert from "node:assert/strict";
import type { FakeCloudOptions } from "./fake_whatsapp/fake_cloud.ts";
import { withLinkedServer } from "./fake_whatsapp/http_harness.ts";
import { ALICE, BOB, ME, TEAM } from "./fake_whatsapp/cast.ts";

const world: FakeCloudOptions = {
  me: ME,
  chats: [
    { id: ALICE, name: "Alice" },
    {
      id: TEAM,
      name: "Team",
      group: {
        subject: "Team",
        participants: [{ id: ME, isAdmin: true, isSuperAdmin: true }, { id: ALICE }, { id: BOB }],
      },
    },
  ],
  contacts: [
    { id: ALICE, name: "Alice", isMyContact: true },
    { id: BOB, name: "Bob", isMyContact: true },
  ],
};
const LUNCH = { name: "Lunch on Friday?", options: ["Pizza", "Sushi", "Salad"] };

type Envelope = Record<string, unknown> & { event: string; payload: Record<string, unknown> };
type Votes = {
  name: string;
  multipleAnswers: boolean;
  options: { name: string; votes: number }[];
  votes: { voter: string; selectedOptions: string[]; timestamp: number }[];
};

const pollOf = (envelope: Envelope) => envelope.payload.poll as Record<string, unknown>;
const voteOf = (envelope: Envelope) => envelope.payload.vote as Record<string, unknown>;
const counts = (votes: Votes) => votes.options.map((o) => [o.name, o.votes]);

Deno.test("a poll sent through whatsapp-web.js reaches WhatsApp with its options; a contact's vote arrives as poll.vote and is counted", () =>
  withLinkedServer(world, async ({ server, cloud, receiver, phone }) => {
    const sent = await server.json("POST", `/${phone}/send-poll`, {
      body: { chatId: ALICE, poll: LUNCH },
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const pollId = String(sent.body.messageId);
    assert.match(pollId, new RegExp(`^true_${ALICE}_3EB0`));
    const record = await cloud.waitFor(() => cloud.sent.find((s) => s.id === pollId));
    assert.equal(record.type, "poll_creation");
    assert.deepEqual(record.poll, {
      name: LUNCH.name,
      options: LUNCH.options,
      selectableOptionsCount: 1,
      hasSecret: true,
    });
    assert.deepEqual(record.stanza, { type: "poll", mediatype: null });
    const any = await receiver.waitFor(
      (e) => e.event === "message.any" && (e.payload as { id: string }).id === pollId,
      "the poll's message.any",
    ) as Envelope;
    assert.equal(any.payload.body, LUNCH.name);
    assert.equal((any.payload._data as { type: string }).type, "poll_creation");

    const before = await server.json<Votes>("GET", `/${phone}/polls/${pollId}/votes`);
    assert.equal(before.status, 200, JSON.stringify(before.body));
    assert.deepEqual(counts(before.body), [["Pizza", 0], ["Sushi", 0], ["Salad", 0]]);
    assert.equal(before.body.multipleAnswers, false);

    cloud.vote(pollId, ALICE, ["Sushi"]);
    const event = await receiver.waitFor(
      (e) => e.event === "poll.vote" && pollOf(e as Envelope).id === pollId,
      "Alice's vote at the webhook",
    ) as Envelope;
    const vote = voteOf(event);
    assert.deepEqual(
      [vote.from, vote.to, vote.participant, vote.fromMe, vote.selectedOptions],
      [ALICE, ME, null, false, ["Sushi"]],
    );
    assert.equal(typeof vote.id, "string");
    assert.ok(Number(vote.timestamp) > 1_700_000_000, "Unix seconds");
    assert.deepEqual(pollOf(event), { id: pollId, from: ME, to: ALICE, fromMe: true });

    const after = await server.json<Votes>("GET", `/${phone}/polls/${pollId}/votes`);
    assert.deepEqual(counts(after.body), [["Pizza", 0], ["Sushi", 1], ["Salad", 0]]);
    assert.deepEqual(after.body.votes.map((v) => [v.voter, v.selectedOptions]), [
      [ALICE, ["Sushi"]],
    ]);

    // She changes her mind: her new choice replaces the old one.
    cloud.vote(pollId, ALICE, ["Pizza"]);
    await receiver.waitFor(
      (e) =>
        e.event === "poll.vote" &&
        (voteOf(e as Envelope).selectedOptions as string[])[0] === "Pizza",
      "Alice's second vote",
    );
    const changed = await server.json<Votes>("GET", `/${phone}/polls/${pollId}/votes`);
    assert.deepEqual(counts(changed.body), [["Pizza", 1], ["Sushi", 0], ["Salad", 0]]);

    const text = await server.json("POST", `/${phone}/send-text`, {
      body: { chatId: ALICE, text: "no poll", linkPreview: false },
    });
    const notPoll = await server.json("GET", `/${phone}/polls/${text.body.messageId}/votes`);
    assert.equal(notPoll.status, 400);
    assert.equal(notPoll.body.error, `Message "${text.body.messageId}" is not a poll`);
  }));

Deno.test("group members' votes on a poll with multiple answers arrive naming the group and the member, and are counted", () =>
  withLinkedServer(world, async ({ server, cloud, receiver, phone }) => {
    const sent = await server.json("POST", `/${phone}/send-poll`, {
      body: { chatId: TEAM, poll: { ...LUNCH, multipleAnswers: true } },
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const pollId = String(sent.body.messageId);
    const record = await cloud.waitFor(() => cloud.sent.find((s) => s.id === pollId));
    assert.equal(record.poll?.selectableOptionsCount, 0, "any number of options");

    cloud.vote(pollId, BOB, ["Pizza", "Salad"]);
    cloud.vote(pollId, ALICE, ["Pizza"]);
    const bob = await receiver.waitFor(
      (e) => e.event === "poll.vote" && voteOf(e as Envelope).from === BOB,
      "Bob's vote",
    ) as Envelope;
    assert.deepEqual(
      [voteOf(bob).to, voteOf(bob).participant, voteOf(bob).selectedOptions],
      [TEAM, BOB, ["Pizza", "Salad"]],
    );
    assert.deepEqual(pollOf(bob), { id: pollId, from: ME, to: TEAM, fromMe: true });
    await receiver.waitFor(
      (e) => e.event === "poll.vote" && voteOf(e as Envelope).from === ALICE,
      "Alice's vote",
    );

    const { status, body } = await server.json<Votes>("GET", `/${phone}/polls/${pollId}/votes`);
    assert.equal(status, 200);
    assert.equal(body.multipleAnswers, true);
    assert.deepEqual(counts(body), [["Pizza", 2], ["Sushi", 0], ["Salad", 1]]);
    assert.deepEqual(body.votes.map((v) => v.voter).sort(), [ALICE, BOB].sort());
  }));

Deno.test("a vote on a poll WhatsApp Web has not loaded arrives as poll.vote.failed, without options", () =>
  withLinkedServer(world, async ({ cloud, receiver }) => {
    const pollId = cloud.seedMessage({
      chatId: ALICE,
      fromMe: true,
      type: "poll_creation",
      body: "",
      pollName: "Old question?",
      pollOptions: [{ name: "Yes", localId: 0 }, { name: "No", localId: 1 }],
      pollSelectableOptionsCount: 1,
    });
    cloud.vote(pollId, ALICE, ["No"]);
    const failed = await receiver.waitFor(
      (e) => e.event === "poll.vote.failed",
      "the unreadable vote",
    ) as Envelope;
    assert.deepEqual(pollOf(failed), { id: pollId, from: ME, to: ALICE, fromMe: true });
    assert.deepEqual(voteOf(failed).selectedOptions, []);
    assert.equal(voteOf(failed).from, ALICE);
    assert.equal(receiver.received.some((e) => e.event === "poll.vote"), false);
  }));
