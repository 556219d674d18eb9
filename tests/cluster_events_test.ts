/**
 * @module
 * Events in a cluster (issue #16: the "Events" bullet and test 7), with two nodes (two composed
 * servers, each its own pool and listening connection) on one real PostgreSQL. The SSE stream of a
 * number is served by either node, whichever wrote its events, and a client resuming from any id
 * on either node gets every later event exactly once, in the stream's order, while both write at
 * once and one of them holds a transaction open behind the other's commits (the case a `seq`
 * cursor gets wrong). Deliveries to one destination written by both nodes are sent by one node
 * at a time, each once, in order; a destination whose node died is taken once its lease expires;
 * a webhook changed on one node is what the other's next delivery uses. The stream of every number
 * (`GET /events`) on one node carries what both write.
 */
import assert from "node:assert/strict";
import type { Envelope } from "../events/envelope.ts";
import { FIRST_POSITION } from "../events/outbox.ts";
import { delay, startReceiver } from "../events/test_receivers.ts";
import type { PostgresStore } from "../store/postgres/store.ts";
import { startTestApp, type TestApp, waitFor } from "./_helpers.ts";
import { startPostgres } from "./_postgres.ts";

const PHONE = "4915550004001";
const OTHER = "4915550004002";
const KEY_A = "account-a-key-0123456789abcdef";
const KEY_B = "account-b-key-0123456789abcdef";

function message(id: string, session = PHONE): Envelope {
  return {
    id,
    timestamp: 1_700_000_000_000,
    event: "message",
    session,
    payload: { id, body: `text of ${id}` },
    engine: "WAHA",
    environment: {},
  };
}

function sqlOf(node: TestApp) {
  return (node.store as PostgresStore).sql;
}

/**
 * Reads SSE messages with an id until `count` arrived, or until `timeoutMs` (then fewer); the
 * stream is cancelled either way.
 */
async function readIds(response: Response, count: number, timeoutMs = 15_000): Promise<string[]> {
  assert.equal(response.status, 200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const ids: string[] = [];
  let buffer = "";
  const deadline = setTimeout(() => reader.cancel().catch(() => {}), timeoutMs);
  try {
    while (ids.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = block.split("\n").find((line) => line.startsWith("id: "));
        if (id) ids.push(id.slice(4));
      }
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => {});
  }
  return ids;
}

/**
 * Waits until the stream is open (its first line, sent once it is subscribed); `ended` then
 * resolves true when the server ends the stream, false when it is still open after 10 s.
 */
async function whenEnded(response: Response): Promise<{ ended: Promise<boolean> }> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  assert.match((await reader.read()).value ?? "", /^: connected/);
  const ended = (async () => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reader.cancel().catch(() => {});
    }, 10_000);
    try {
      while (!(await reader.read()).done);
      return !timedOut;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  })();
  return { ended };
}

function stream(node: TestApp, lastEventId?: string) {
  return node.request("GET", `/${PHONE}/events`, {
    headers: lastEventId ? { "Last-Event-ID": lastEventId } : {},
  });
}

Deno.test("events in a cluster: two nodes on one PostgreSQL", async (t) => {
  await using pg = await startPostgres();
  const node = (url: string, id: string, env: Record<string, string> = {}) =>
    startTestApp({ DATABASE_URL: url, NODE_ID: id, SSE_HEARTBEAT_MS: "500", ...env });

  await t.step(
    "test 7: streams and resumes from any id on either node give every event once, in the stream's order, while both nodes write",
    async () => {
      const url = await pg.createDatabase();
      const x = await node(url, "node-x");
      const y = await node(url, "node-y");
      const gate = await sqlOf(x).reserve();
      try {
        await x.store.sessions.save({ phoneNumber: PHONE, engine: "simulator" });
        // Node X's append of `slow` waits inside its transaction (after taking its transaction
        // id and `seq`) until the test lets it go: node Y commits later events meanwhile.
        await sqlOf(x).unsafe(`
          CREATE FUNCTION hold_slow() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN NEW; END $$;
          CREATE TRIGGER hold_slow BEFORE INSERT ON events FOR EACH ROW
            WHEN (NEW.id = 'slow') EXECUTE FUNCTION hold_slow();
        `);
        const liveX = await stream(x);
        const liveY = await stream(y);
        const written: string[] = [];
        const write = async (by: TestApp, id: string) => {
          await by.events.accept([message(id)]);
          written.push(id);
        };
        const burst = (from: number) =>
          Promise.all([x, y].map(async (by, n) => {
            for (let i = from; i < from + 15; i++) await write(by, `${n ? "y" : "x"}${i}`);
          }));
        const total = 2 * 15 + 1 + 5 + 2 * 15;

        // A client that reads a few events at a time, reconnecting with Last-Event-ID to the
        // other node each time, until it has them all.
        const follower = (async () => {
          const got: string[] = [];
          for (let turn = 0; got.length < total && turn < 200; turn++) {
            const by = turn % 2 ? y : x;
            const want = Math.min(7, total - got.length);
            got.push(...await readIds(await stream(by, got.at(-1) ?? "evt_before_all"), want));
          }
          return got;
        })();

        await burst(0);
        await gate`SELECT pg_advisory_lock(4242)`;
        const slow = write(x, "slow");
        await waitFor("node X's append to hold its transaction open", async () => {
          const [row] = await sqlOf(y)<{ n: number }[]>`
            SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'
          `;
          return row.n > 0;
        });
        for (let i = 0; i < 5; i++) await write(y, `y-behind-${i}`);
        const [naive] = await sqlOf(y)<{ seq: number }[]>`
          SELECT max(seq) AS seq FROM events WHERE session = ${PHONE}
        `;
        await gate`SELECT pg_advisory_unlock(4242)`;
        await slow;
        const [late] = await sqlOf(y)<{ seq: number }[]>`SELECT seq FROM events WHERE id = 'slow'`;
        assert.ok(late.seq < naive.seq, "a lower seq committed after a higher one was readable");
        await burst(15);

        const final = (await x.store.outbox.eventsAfter(PHONE, 0, 1_000)).events.map((e) => e.id);
        assert.equal(final.length, total);
        assert.deepEqual(new Set(final), new Set(written));
        assert.ok(
          final.indexOf("slow") < final.indexOf("y-behind-0"),
          "the stream's order puts the held transaction first, where every reader saw it",
        );
        assert.deepEqual(await readIds(liveX, total), final, "the live stream on node X");
        assert.deepEqual(await readIds(liveY, total), final, "the live stream on node Y");
        assert.deepEqual(await follower, final, "the client reconnecting between the nodes");
        for (const [i, id] of final.entries()) {
          const rest = final.slice(i + 1);
          if (rest.length === 0) continue;
          const resumed = await readIds(await stream(i % 2 ? x : y, id), rest.length);
          assert.deepEqual(resumed, rest, `resumed after ${id}`);
        }
      } finally {
        gate.release();
        await x.close();
        await y.close();
      }
    },
  );

  // The destination's lease keeps a second node out: with one lane a second node serving it would
  // put two requests in flight, with lanes two of one number's.
  for (const lanes of ["1", "8"]) {
    await t.step(
      `deliveries written by both nodes to one destination are sent one at a time per ${
        lanes === "1" ? "destination" : "number"
      }, each once, in order (WEBHOOK_LANES=${lanes})`,
      async () => {
        const url = await pg.createDatabase();
        const inFlight = new Map<string, number>();
        const most = { all: 0, perNumber: 0 };
        const receiver = startReceiver(async (_attempt, received) => {
          const session = received.json.session;
          inFlight.set(session, (inFlight.get(session) ?? 0) + 1);
          const all = [...inFlight.values()].reduce((sum, n) => sum + n, 0);
          most.all = Math.max(most.all, all);
          most.perNumber = Math.max(most.perNumber, inFlight.get(session)!);
          await delay(3);
          inFlight.set(session, inFlight.get(session)! - 1);
          return new Response("ok");
        });
        const env = { WEBHOOK_URL: receiver.url, WEBHOOK_LANES: lanes };
        const x = await node(url, "node-x", env);
        const y = await node(url, "node-y", env);
        try {
          const count = 25;
          await Promise.all([[x, PHONE], [y, OTHER]].map(async ([by, session]) => {
            for (let i = 0; i < count; i++) {
              await (by as TestApp).events.accept([message(`${session}-${i}`, session as string)]);
            }
          }));
          await waitFor("every delivery", () => receiver.received.length >= 2 * count);
          const ids = receiver.received.map((r) => r.json.id);
          assert.equal(new Set(ids).size, ids.length, "no event was delivered twice");
          for (const session of [PHONE, OTHER]) {
            assert.deepEqual(
              ids.filter((id) => id.startsWith(session)),
              Array.from({ length: count }, (_, i) => `${session}-${i}`),
              `${session}'s events in the order they were written`,
            );
          }
          assert.equal(most.perNumber, 1, "one request of a number in flight at a time");
          if (lanes === "1") assert.equal(most.all, 1, "one request in flight at a time");
          const [lease] = await sqlOf(x)<{ node_id: string }[]>`
            SELECT node_id FROM webhook_destinations
          `;
          assert.ok(["node-x", "node-y"].includes(lease.node_id));
        } finally {
          await x.close();
          await y.close();
          await receiver.close();
        }
      },
    );
  }

  await t.step(
    "a destination whose node died is served by another once its lease expires",
    async () => {
      const url = await pg.createDatabase();
      const receiver = startReceiver();
      const y = await node(url, "node-y", { WEBHOOK_URL: receiver.url, LEASE_TTL_MS: "1500" });
      try {
        // The lease of a node that stopped renewing it, with a little time left.
        await sqlOf(y)`
          INSERT INTO webhook_destinations (destination, node_id, lease_until)
          VALUES (${`global:${receiver.url}`}, 'node-dead', wa_now_ms() + 1000)
        `;
        for (let i = 0; i < 3; i++) await y.events.accept([message(`m${i}`)]);
        const [held] = await sqlOf(y)<{ node_id: string; pending: number }[]>`
          SELECT w.node_id, (SELECT count(*)::int FROM webhook_deliveries
            WHERE status = 'pending') AS pending
          FROM webhook_destinations w
        `;
        assert.deepEqual(
          held,
          { node_id: "node-dead", pending: 3 },
          "nothing sent under its lease",
        );
        await waitFor("the deliveries", () => receiver.received.length >= 3);
        assert.deepEqual(receiver.received.map((r) => r.json.id), ["m0", "m1", "m2"]);
        const [lease] = await sqlOf(y)<{ node_id: string }[]>`
          SELECT node_id FROM webhook_destinations
        `;
        assert.equal(lease.node_id, "node-y");
      } finally {
        await y.close();
        await receiver.close();
      }
    },
  );

  await t.step(
    "a webhook changed through one node is what the other node's next delivery uses",
    async () => {
      const url = await pg.createDatabase();
      const receiver = startReceiver();
      const env = { WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1" };
      const x = await node(url, "node-x", env);
      const y = await node(url, "node-y", env);
      const hook = (version: string) => ({
        body: {
          webhooks: [{ url: receiver.url, events: ["message"], headers: { "X-V": version } }],
        },
      });
      try {
        await x.store.sessions.save({ phoneNumber: PHONE, engine: "simulator" });
        assert.equal((await x.json("PUT", `/${PHONE}/webhooks`, hook("1"))).status, 200);
        await y.events.accept([message("first")]);
        await waitFor("the first delivery", () => receiver.received.length >= 1);
        assert.equal(receiver.received[0].headers.get("x-v"), "1");
        // Node Y has the webhook cached now; node X changes it.
        assert.equal((await x.json("PUT", `/${PHONE}/webhooks`, hook("2"))).status, 200);
        await waitFor("node Y to drop its cached webhook", async () => {
          const [found] = await y.events.getWebhooks(PHONE);
          return found?.headers?.["X-V"] === "2";
        });
        await y.events.accept([message("second")]);
        await waitFor("the second delivery", () => receiver.received.length >= 2);
        assert.equal(receiver.received[1].json.id, "second");
        assert.equal(receiver.received[1].headers.get("x-v"), "2");
      } finally {
        await x.close();
        await y.close();
        await receiver.close();
      }
    },
  );

  await t.step("a number forgotten through one node ends its streams on the other", async () => {
    const url = await pg.createDatabase();
    const x = await node(url, "node-x");
    const y = await node(url, "node-y");
    try {
      await x.store.sessions.save({ phoneNumber: PHONE, engine: "simulator" });
      const onY = await stream(y);
      assert.equal(onY.status, 200);
      const { ended } = await whenEnded(onY);
      await x.events.forgetNumber(PHONE);
      assert.equal(await ended, true, "node Y ended the stream its old owner opened");
    } finally {
      await x.close();
      await y.close();
    }
  });

  await t.step(
    "GET /events on one node streams an account's numbers written by both nodes, in the stream's order, and none of another account's",
    async () => {
      const url = await pg.createDatabase();
      const keys = { API_KEYS: `${KEY_A}=org_a,${KEY_B}=org_b` };
      const x = await node(url, "node-x", keys);
      const y = await node(url, "node-y", keys);
      try {
        await x.store.sessions.save({
          phoneNumber: PHONE,
          engine: "simulator",
          ownerAccountId: "org_a",
        });
        await x.store.sessions.save({
          phoneNumber: OTHER,
          engine: "simulator",
          ownerAccountId: "org_b",
        });
        const ofA = await x.request("GET", "/events", { headers: { "X-Api-Key": KEY_A } });
        const ofAll = await y.request("GET", "/events");
        const mine: string[] = [];
        for (let i = 0; i < 10; i++) {
          await (i % 2 ? x : y).events.accept([message(`a${i}`), message(`b${i}`, OTHER)]);
          mine.push(`a${i}`);
        }
        const order = (await x.store.outbox.eventsAfterAll(FIRST_POSITION, 100)).events
          .map((e) => e.id);
        assert.deepEqual(order.filter((id) => id.startsWith("a")), mine);
        assert.deepEqual(await readIds(ofA, mine.length), mine, "account A's, from both nodes");
        assert.deepEqual(await readIds(ofAll, order.length), order, "the admin's: every number");
      } finally {
        await x.close();
        await y.close();
      }
    },
  );

  // Last: it restarts the server under the other steps' databases.
  await t.step(
    "after PostgreSQL restarts, open streams on both nodes carry on from where they were",
    async () => {
      const url = await pg.createDatabase();
      const x = await node(url, "node-x");
      const y = await node(url, "node-y");
      try {
        await x.store.sessions.save({ phoneNumber: PHONE, engine: "simulator" });
        const onX = await stream(x);
        const onY = await stream(y);
        await x.events.accept([message("before")]);
        await pg.kill();
        await pg.restart();
        // The pools reconnect on their next query; the listening connections on their own.
        await waitFor(
          "node Y to write again",
          async () => {
            await y.events.accept([message("after")]);
            return true;
          },
          20_000,
          200,
        );
        assert.deepEqual(await readIds(onX, 2), ["before", "after"], "the stream on node X");
        assert.deepEqual(await readIds(onY, 2), ["before", "after"], "the stream on node Y");
      } finally {
        await x.close();
        await y.close();
      }
    },
  );
});
