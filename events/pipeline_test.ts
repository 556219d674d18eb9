/**
 * @module
 * Tests of the pipeline's `accept`: a `session.status` (inbound or from a session) is stored with
 * its derived `state.change` in one transaction, both or neither, and a re-sent status derives
 * nothing.
 */
import assert from "node:assert/strict";
import { createLogger } from "../logger.ts";
import { createAddressPolicy } from "../ssrf_guard/address_policy.ts";
import { openSqliteStore } from "../store/sqlite/store.ts";
import { createDispatcher } from "./dispatcher.ts";
import type { Envelope } from "./envelope.ts";
import type { Fence, Outbox } from "./outbox.ts";
import { createEventPipeline } from "./pipeline.ts";
import { createWebhookDirectory } from "./webhook_directory.ts";
import { textMessageEvent } from "./test_events.ts";

const SESSION = "4915550001234";

/**
 * `wrap` stands between the pipeline and the outbox (a slower store, say); `fenceOf` is the
 * node's lease of a number (the cluster's).
 */
function setup(
  wrap: (outbox: Outbox) => Outbox = (outbox) => outbox,
  fenceOf?: (phoneNumber: string) => Fence | null,
  writeGapMs?: number,
) {
  const store = openSqliteStore(":memory:");
  const { db } = store;
  const outbox = wrap(store.outbox);
  const log = createLogger("silent");
  const webhooks = createWebhookDirectory(outbox, {
    enabled: true,
    // Every event gets a delivery; nothing listens on port 9 and these tests do not look.
    url: "http://127.0.0.1:9/hook",
    events: ["*"],
  });
  const dispatcher = createDispatcher({
    outbox,
    resolve: webhooks.resolve,
    log,
    maxAttempts: 1,
    timeoutMs: 1_000,
    concurrency: 1,
    retryBaseMs: 10,
    retryMaxMs: 10,
  });
  const pipeline = createEventPipeline({
    outbox,
    dispatcher,
    webhooks,
    log,
    version: "test",
    retentionHours: 1,
    policy: createAddressPolicy([]),
    heartbeatMs: 1_000,
    fenceOf,
    writeGapMs,
  });
  return {
    db,
    store,
    pipeline,
    stored: () =>
      (db.prepare("SELECT id, event FROM events ORDER BY seq").all() as {
        id: string;
        event: string;
      }[]).map((row) => row.event),
    async close() {
      await pipeline.close();
      await store.close();
    },
  };
}

function statusEnvelope(id: string): Envelope {
  return {
    id,
    timestamp: 1_700_000_000_000,
    event: "session.status",
    session: SESSION,
    payload: { name: SESSION, status: "FAILED", data: { reason: "Logged out" } },
    engine: "WAHA",
    environment: {},
  };
}

Deno.test("pipeline.accept() stores a session.status and its derived state.change, once per id", async () => {
  const server = setup();
  try {
    const first = await server.pipeline.accept([statusEnvelope("evt_status_1")]);
    assert.equal(first.ids.length, 2);
    assert.equal(first.ids[0], "evt_status_1");
    assert.deepEqual(first.duplicates, []);
    const [, change] = await server.pipeline.eventsAfter(SESSION, null, 10);
    assert.equal(change.id, first.ids[1]);
    assert.deepEqual(JSON.parse(change.body).payload, {
      state: "DISCONNECTED",
      status: "FAILED",
      reason: "Logged out",
    });
    const again = await server.pipeline.accept([statusEnvelope("evt_status_1")]);
    assert.deepEqual(again, { ids: [], duplicates: ["evt_status_1"] });
    assert.deepEqual(server.stored(), ["session.status", "state.change"]);
  } finally {
    await server.close();
  }
});

Deno.test("pipeline.accept() rolls back the session.status when the state.change's delivery cannot be written", async () => {
  const server = setup();
  try {
    server.db.exec(`
      CREATE TRIGGER refuse_state_change BEFORE INSERT ON webhook_deliveries
      WHEN (SELECT event FROM events WHERE seq = NEW.event_seq) = 'state.change'
      BEGIN SELECT RAISE(ABORT, 'disk full'); END
    `);
    await assert.rejects(server.pipeline.accept([statusEnvelope("evt_status_2")]), /disk full/);
    // Session events are written in batches after the current turn; a failed batch is logged.
    server.pipeline.acceptSessionEvent({
      session: SESSION,
      engine: "simulator",
      me: null,
      timestamp: Date.now(),
      data: { type: "session.status", status: "WORKING", reason: null, statuses: [] },
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(server.stored(), []);
  } finally {
    await server.close();
  }
});

Deno.test("pipeline.setWebhooks() writes nothing when confirm() refuses after the URL checks", async () => {
  const server = setup();
  try {
    // An IP literal: the check needs no DNS (there is none here), and nothing is sent to it.
    const hooks = [{ url: "https://93.184.215.14/hook", events: ["*"] }];
    await assert.rejects(
      server.pipeline.setWebhooks(SESSION, hooks, {
        confirm: () => Promise.reject(new Error("the number changed hands")),
      }),
      /changed hands/,
    );
    assert.deepEqual(await server.pipeline.getWebhooks(SESSION), []);
    await server.pipeline.setWebhooks(SESSION, hooks, { confirm: () => Promise.resolve() });
    assert.equal((await server.pipeline.getWebhooks(SESSION)).length, 1);
  } finally {
    await server.close();
  }
});

Deno.test("pipeline.flush() gathers the session events of a turn into one write; flush(true) writes them without waiting for the turn to end", async () => {
  const server = setup();
  try {
    server.pipeline.acceptSessionEvent(textMessageEvent(SESSION, "one"));
    server.pipeline.acceptSessionEvent(textMessageEvent(SESSION, "two"));
    const gathered = server.pipeline.flush();
    assert.deepEqual(server.stored(), [], "a plain flush waits for the turn's tick");
    await gathered;
    assert.deepEqual(server.stored(), ["message.any", "message.any"]);

    server.pipeline.acceptSessionEvent(textMessageEvent(SESSION, "three"));
    const now = server.pipeline.flush(true);
    const first = await Promise.race([
      now.then(() => "written"),
      new Promise((resolve) => setTimeout(() => resolve("a task later"), 0)),
    ]);
    assert.equal(first, "written", "flush(true) did not wait for a task");
    assert.equal(server.stored().length, 3);
    await new Promise((resolve) => setTimeout(resolve, 10)); // The tick finds nothing left.
    assert.equal(server.stored().length, 3);
  } finally {
    await server.close();
  }
});

Deno.test("pipeline.flush() also waits for session events already on their way to the store", async () => {
  // A store whose writes take a round trip (PostgreSQL): the tick took the batch, its write is
  // under way, and nothing is queued any more. The answer of the call must wait all the same.
  let started!: () => void;
  const writing = new Promise<void>((resolve) => started = resolve);
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const server = setup((outbox) => ({
    ...outbox,
    async append(envelopes, options) {
      started();
      await released;
      return await outbox.append(envelopes, options);
    },
  }));
  try {
    server.pipeline.acceptSessionEvent(textMessageEvent(SESSION, "in flight"));
    await writing;
    let done = false;
    const flushed = server.pipeline.flush().then(() => done = true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(done, false, "flush() waits for the write under way");
    release();
    await flushed;
    assert.deepEqual(server.stored(), ["message.any"]);
  } finally {
    release();
    await server.close();
  }
});

Deno.test("pipeline.flush() fails when the session events could not be stored, so the call does not answer 200; a later flush is not failed for it", async () => {
  let down = true;
  const server = setup((outbox) => ({
    ...outbox,
    append(envelopes, options) {
      return down
        ? Promise.reject(new Error("the database went away"))
        : outbox.append(envelopes, options);
    },
  }));
  try {
    server.pipeline.acceptSessionEvent(textMessageEvent(SESSION, "lost"));
    await assert.rejects(server.pipeline.flush(), /the database went away/);
    server.pipeline.acceptSessionEvent(textMessageEvent(SESSION, "also lost"));
    await assert.rejects(server.pipeline.flush(true), /the database went away/);
    // A call that emitted nothing waits for nothing, and nothing failed for it.
    await server.pipeline.flush();
    down = false;
    server.pipeline.acceptSessionEvent(textMessageEvent(SESSION, "stored"));
    await server.pipeline.flush();
    assert.deepEqual(server.stored(), ["message.any"]);
  } finally {
    await server.close();
  }
});

Deno.test("pipeline: session events written under a stale lease are refused and dropped; other numbers' are stored", async () => {
  const OTHER = "4915550009876";
  const server = setup(
    undefined,
    (phone) => phone === SESSION ? { nodeId: "node-a", epoch: 1 } : null,
  );
  try {
    await server.store.sessions.save({ phoneNumber: SESSION, engine: "simulator" });
    // Another node took the number over: its epoch is 2 now.
    server.db.prepare("UPDATE sessions SET node_id = 'node-b', epoch = 2").run();
    server.pipeline.acceptSessionEvent(textMessageEvent(SESSION, "stale"));
    server.pipeline.acceptSessionEvent(textMessageEvent(OTHER, "unfenced"));
    await server.pipeline.flush(true);
    const rows = server.db.prepare("SELECT session FROM events").all() as { session: string }[];
    assert.deepEqual(rows.map((row) => row.session), [OTHER]);

    server.db.prepare("UPDATE sessions SET node_id = 'node-a', epoch = 1").run();
    server.pipeline.acceptSessionEvent(textMessageEvent(SESSION, "current"));
    await server.pipeline.flush(true);
    assert.equal(server.stored().length, 2, "the lease's own events are stored");
  } finally {
    await server.close();
  }
});

/** The outbox, counting its `append` calls into `appends`. */
function countingAppends(appends: { count: number }) {
  return (outbox: Outbox): Outbox => ({
    ...outbox,
    append(...args) {
      appends.count++;
      return outbox.append(...args);
    },
  });
}

Deno.test("session events that keep coming share transactions, written at most once per write gap", async () => {
  const appends = { count: 0 };
  // Twenty events a few milliseconds apart, well within one gap after the first write.
  const server = setup(countingAppends(appends), undefined, 1_000);
  try {
    for (let i = 0; i < 20; i++) {
      server.pipeline.acceptSessionEvent(textMessageEvent(SESSION, `t${i}`, false));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await server.pipeline.flush();
    assert.equal(server.stored().length, 20);
    assert.ok(appends.count < 20, `20 events in ${appends.count} writes`);
  } finally {
    await server.close();
  }
});

Deno.test("a session event held back for the write gap is written by itself once it is over", async () => {
  const server = setup(undefined, undefined, 50);
  try {
    server.pipeline.acceptSessionEvent(textMessageEvent(SESSION, "first", false));
    await server.pipeline.flush();
    server.pipeline.acceptSessionEvent(textMessageEvent(SESSION, "second", false));
    const deadline = Date.now() + 10_000;
    while (server.stored().length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(server.stored().length, 2);
  } finally {
    await server.close();
  }
});

Deno.test("a caller that waits for its session events is not held for the write gap", async () => {
  // A gap longer than the test: only the caller's flush can have the second event written.
  const server = setup(undefined, undefined, 600_000);
  try {
    server.pipeline.acceptSessionEvent(textMessageEvent(SESSION, "first", false));
    await server.pipeline.flush();
    server.pipeline.acceptSessionEvent(textMessageEvent(SESSION, "second", false));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const written = await Promise.race([
      server.pipeline.flush().then(() => true),
      new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), 10_000)),
    ]);
    clearTimeout(timer);
    assert.ok(written, "the flush was held for the gap");
    assert.equal(server.stored().length, 2);
  } finally {
    await server.close();
  }
});
