/**
 * @module
 * What only the PostgreSQL outbox must do, as nodes sharing it meet it: a fenced append racing a
 * take-over of its number is refused once the take-over commits (never stored under a superseded
 * lease), and the node's listening connection, cut by the server, comes back and says so, so its
 * streams read again what the cut may have hidden.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import type { Envelope } from "../../events/envelope.ts";
import { StaleFenceError } from "../../events/outbox.ts";
import { startPostgres } from "../../tests/_postgres.ts";
import { waitFor } from "../../tests/_helpers.ts";
import { openPostgresStore } from "./store.ts";

const PHONE = "4915550003001";

function envelope(id: string): Envelope {
  return {
    id,
    timestamp: 1_700_000_000_000,
    event: "message",
    session: PHONE,
    payload: {},
    engine: "WAHA",
    environment: {},
  };
}

Deno.test("PostgreSQL outbox between nodes: fencing against a take-over, and a listener that comes back", async (t) => {
  await using pg = await startPostgres();

  await t.step(
    "an append fenced by a lease waits for a take-over in progress and is refused when it commits",
    async () => {
      const url = await pg.createDatabase();
      const store = await openPostgresStore(url, { poolSize: 2 });
      const other = postgres(url, { max: 1, onnotice: () => {} });
      const takeover = await other.reserve();
      try {
        await store.sessions.save({ phoneNumber: PHONE, engine: "simulator" });
        await store.sql`UPDATE sessions SET node_id = 'node-a', epoch = 1`;
        await takeover`BEGIN`;
        await takeover`UPDATE sessions SET node_id = 'node-b', epoch = epoch + 1`;
        const append = store.outbox.append([envelope("late")], {
          destinationsFor: () => [],
          fence: () => ({ nodeId: "node-a", epoch: 1 }),
        });
        const refused = assert.rejects(append, StaleFenceError);
        // The append checks its lease under a share lock of the row the take-over is updating.
        await waitFor("the append to wait for the take-over", async () => {
          const [row] = await store.sql<{ n: number }[]>`
            SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'
          `;
          return row.n > 0;
        });
        await takeover`COMMIT`;
        await refused;
        assert.equal(await store.outbox.seqOf("late"), null, "nothing was stored");
        const stored = await store.outbox.append([envelope("current")], {
          destinationsFor: () => [],
          fence: () => ({ nodeId: "node-b", epoch: 2 }),
        });
        assert.deepEqual(stored.events.map((e) => e.id), ["current"]);
      } finally {
        takeover.release();
        await other.end();
        await store.close();
      }
    },
  );

  await t.step(
    "a listening connection cut by the server reconnects, reports a resync, and reports again",
    async () => {
      const url = await pg.createDatabase();
      const store = await openPostgresStore(url, { poolSize: 2 });
      const events: string[] = [];
      let resyncs = 0;
      const stop = await store.outbox.watch({
        events: (session) => events.push(session),
        webhooks: () => {},
        forgotten: () => {},
        deliveries: () => {},
        resync: () => resyncs++,
      });
      try {
        await store.outbox.append([envelope("before")], { destinationsFor: () => [] });
        await waitFor("the first report", () => events.length === 1);
        const [cut] = await store.sql<{ n: number }[]>`
          SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
          WHERE application_name = 'wa-gateway listener' AND datname = current_database()
        `;
        assert.equal(cut.n, 1, "one listening connection per node");
        await waitFor("the resync", () => resyncs === 1);
        await store.outbox.append([envelope("after")], { destinationsFor: () => [] });
        await waitFor("a report after the reconnect", () => events.length === 2);
        assert.deepEqual(events, [PHONE, PHONE]);
      } finally {
        await stop();
        await store.close();
      }
    },
  );
});
