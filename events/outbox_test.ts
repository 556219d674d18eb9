/**
 * @module
 * Tests of the outbox's `append`: envelopes with the envelopes derived from them and their
 * deliveries go into SQLite in one transaction, all or nothing, and a re-sent id derives nothing.
 */
import assert from "node:assert/strict";
import { openDatabase } from "../store/sqlite.ts";
import type { Envelope } from "./envelope.ts";
import { createOutbox } from "./outbox.ts";

const SESSION = "4915550001234";

function envelope(id: string, event: string): Envelope {
  return {
    id,
    timestamp: 1_700_000_000_000,
    event,
    session: SESSION,
    payload: {},
    engine: "WAHA",
    environment: {},
  };
}

const hook = "global:http://h.test/";

/** `a` derives `a.derived`; nothing else derives anything. */
const derive = (source: Envelope) =>
  source.event === "a" ? [envelope(`${source.id}.derived`, "a.derived")] : [];

function storedIds(db: ReturnType<typeof openDatabase>): string[] {
  return (db.prepare("SELECT id FROM events ORDER BY seq").all() as { id: string }[])
    .map((row) => row.id);
}

Deno.test("outbox.append() stores each envelope followed by what it derives, with their deliveries", () => {
  const db = openDatabase(":memory:");
  try {
    const outbox = createOutbox(db);
    const result = outbox.append([envelope("e1", "a"), envelope("e2", "b")], {
      destinationsFor: () => [hook],
      derive,
    });
    assert.deepEqual(result.events.map((e) => e.id), ["e1", "e1.derived", "e2"]);
    assert.deepEqual(result.duplicates, []);
    assert.deepEqual([...result.destinations], [hook]);
    assert.deepEqual(storedIds(db), ["e1", "e1.derived", "e2"]);
    const deliveries = outbox.listDeliveries(SESSION, { limit: 10 });
    assert.deepEqual(deliveries.map((d) => d.eventId).reverse(), ["e1", "e1.derived", "e2"]);
  } finally {
    db.close();
  }
});

Deno.test("outbox.append() skips an id already stored together with what it would derive", () => {
  const db = openDatabase(":memory:");
  try {
    const outbox = createOutbox(db);
    outbox.append([envelope("e1", "a")], { destinationsFor: () => [], derive });
    let derived = 0;
    const again = outbox.append([envelope("e1", "a")], {
      destinationsFor: () => [],
      derive: (source) => (derived++, derive(source)),
    });
    assert.deepEqual(again.events, []);
    assert.deepEqual(again.duplicates, ["e1"]);
    assert.equal(derived, 0);
    assert.deepEqual(storedIds(db), ["e1", "e1.derived"]);
  } finally {
    db.close();
  }
});

Deno.test("outbox.append() stores nothing when a delivery insert throws midway", () => {
  const db = openDatabase(":memory:");
  try {
    const outbox = createOutbox(db);
    // The derived event's delivery fails after its source and the source's delivery were written.
    db.exec(`
      CREATE TRIGGER refuse_derived BEFORE INSERT ON webhook_deliveries
      WHEN (SELECT event FROM events WHERE seq = NEW.event_seq) = 'a.derived'
      BEGIN SELECT RAISE(ABORT, 'disk full'); END
    `);
    assert.throws(
      () => outbox.append([envelope("e1", "a")], { destinationsFor: () => [hook], derive }),
      /disk full/,
    );
    assert.deepEqual(storedIds(db), []);
    assert.deepEqual(outbox.listDeliveries(SESSION, { limit: 10 }), []);
    // The transaction was rolled back, not left open: the next append works.
    db.exec("DROP TRIGGER refuse_derived");
    outbox.append([envelope("e1", "a")], { destinationsFor: () => [hook], derive });
    assert.deepEqual(storedIds(db), ["e1", "e1.derived"]);
  } finally {
    db.close();
  }
});
