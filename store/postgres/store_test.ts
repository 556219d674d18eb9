import assert from "node:assert/strict";
import postgres from "postgres";
import { freePort } from "../../tests/_helpers.ts";
import { startPostgres } from "../../tests/_postgres.ts";
import { SchemaTooNewError, StoreRefusedError } from "../errors.ts";
import { runStoreSuite } from "../store_suite.ts";
import { POSTGRES_MIGRATIONS } from "./migrations.ts";
import { openPostgresStore, type PostgresStore } from "./store.ts";

const NEWEST = Math.max(...POSTGRES_MIGRATIONS.map((m) => m.version));

async function open(url: string, poolSize = 5): Promise<PostgresStore> {
  return await openPostgresStore(url, { poolSize });
}

/** The message of what `work` rejects with, checked to be an instance of `type`. */
async function refusal(work: Promise<unknown>, type: new (...args: never[]) => Error) {
  let message = "";
  await assert.rejects(work, (error: unknown) => {
    message = (error as Error).message;
    return error instanceof type;
  });
  return message;
}

Deno.test("the store suite passes on PostgreSQL", async (t) => {
  await using pg = await startPostgres();
  await runStoreSuite(t, async () => {
    const store = await open(await pg.createDatabase());
    const { sql } = store;
    return {
      store,
      async storedIds() {
        const rows = await sql<{ id: string }[]>`SELECT id FROM events ORDER BY txid, seq`;
        return rows.map((row) => row.id);
      },
      async refuseDeliveries(event) {
        await sql.unsafe(`
          CREATE FUNCTION refuse_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF (SELECT event FROM events WHERE seq = NEW.event_seq) = '${event}' THEN
              RAISE EXCEPTION 'disk full';
            END IF;
            RETURN NEW;
          END $$;
          CREATE TRIGGER refuse_deliveries BEFORE INSERT ON webhook_deliveries
            FOR EACH ROW EXECUTE FUNCTION refuse_deliveries();
        `);
        return async () => {
          await sql.unsafe("DROP TRIGGER refuse_deliveries ON webhook_deliveries");
        };
      },
      async setLease(phoneNumber, nodeId, epoch) {
        await sql`
          UPDATE sessions SET node_id = ${nodeId}, epoch = ${epoch}
          WHERE phone_number = ${phoneNumber}
        `;
      },
      close: () => store.close(),
    };
  });
});

Deno.test("PostgreSQL: nodes share a database's schema, admin key and claims", async (t) => {
  await using pg = await startPostgres();

  await t.step(
    "nodes opening the store at once migrate it once and record its version",
    async () => {
      const url = await pg.createDatabase();
      const nodes = await Promise.all(Array.from({ length: 4 }, () => open(url, 2)));
      try {
        assert.ok(nodes.every((node) => node.schemaVersion === NEWEST));
        const versions = await nodes[0].sql<{ version: number }[]>`
        SELECT version FROM schema_version ORDER BY version
      `;
        assert.deepEqual(
          versions.map((row) => row.version),
          POSTGRES_MIGRATIONS.map((m) => m.version),
        );
      } finally {
        await Promise.all(nodes.map((node) => node.close()));
      }
      const again = await open(url);
      assert.equal(again.schemaVersion, NEWEST, "a restart finds nothing to do");
      await again.close();
    },
  );

  await t.step(
    "a database migrated further than this version knows is refused in one line",
    async () => {
      const url = await pg.createDatabase();
      const first = await open(url);
      await first.sql`
      INSERT INTO schema_version (version, description) VALUES (${NEWEST + 1}, 'from the future')
    `;
      await first.close();
      const message = await refusal(open(url), SchemaTooNewError);
      assert.doesNotMatch(message, /\n/);
      assert.match(message, new RegExp(`schema version ${NEWEST + 1}, newer than ${NEWEST}`));
      assert.match(message, new RegExp(`127\\.0\\.0\\.1:${pg.port}/`), "it names the database");
    },
  );

  await t.step(
    "a database out of reach is refused in one line that holds no password",
    async () => {
      const url = `postgres://someone:hunter2-secret@127.0.0.1:${freePort()}/nowhere`;
      const message = await refusal(
        openPostgresStore(url, { poolSize: 1, connectTimeoutS: 2 }),
        StoreRefusedError,
      );
      assert.doesNotMatch(message, /\n/);
      assert.doesNotMatch(message, /hunter2/);
      assert.match(message, /postgres:\/\/someone@127\.0\.0\.1:\d+\/nowhere/);
    },
  );

  await t.step("two nodes starting at once generate one admin key, and both use it", async () => {
    const url = await pg.createDatabase();
    const [a, b] = await Promise.all([open(url, 1), open(url, 1)]);
    try {
      const keys = await Promise.all([a.adminKey(), b.adminKey(), a.adminKey(), b.adminKey()]);
      assert.equal(new Set(keys.map((k) => k.key)).size, 1);
      assert.equal(keys.filter((k) => k.generated).length, 1);
      assert.match(keys[0].location, /generated_keys/);
    } finally {
      await a.close();
      await b.close();
    }
  });

  await t.step("claims made through two nodes at once hold the account's limit", async () => {
    const url = await pg.createDatabase();
    const [a, b] = await Promise.all([open(url, 3), open(url, 3)]);
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? a : b).sessions.claim(`49155500${10 + i}`, {
            engine: "simulator",
            ownerAccountId: "org_a",
            max: 2,
          })),
      );
      assert.equal(outcomes.filter((o) => o === "claimed").length, 2);
      assert.equal(await a.sessions.countOwnedBy("org_a"), 2);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

/** A writer on a connection of its own, whose transaction stays open until it commits. */
async function writer(url: string, name: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const conn = await sql.reserve();
  let open = false;
  const written: { id: string; session: string }[] = [];
  return {
    name,
    get open() {
      return open;
    },
    async insert(id: string, session: string) {
      if (!open) await conn`BEGIN`;
      open = true;
      // As the outbox writes: the transaction's id and the next `seq` come from the defaults.
      await conn`
        INSERT INTO events (id, session, event, body, created_at)
        VALUES (${id}, ${session}, 'message', ${JSON.stringify({ id })}, wa_now_ms())
      `;
      written.push({ id, session });
    },
    /** Ends the transaction; the events it made visible (none on a rollback). */
    async end(commit: boolean): Promise<{ id: string; session: string }[]> {
      if (!open) return [];
      await conn.unsafe(commit ? "COMMIT" : "ROLLBACK");
      open = false;
      return written.splice(0).filter(() => commit);
    },
    async close() {
      if (open) await conn.unsafe("ROLLBACK");
      conn.release();
      await sql.end();
    },
  };
}

/** Reads everything after `after` to the end, `limit` at a time; the ids and the last seq. */
async function readOn(store: PostgresStore, session: string, after: number, limit: number) {
  const ids: string[] = [];
  for (;;) {
    const { events } = await store.outbox.eventsAfter(session, after, limit);
    for (const event of events) {
      ids.push(event.id);
      after = event.seq;
    }
    if (events.length < limit) return { ids, after };
  }
}

Deno.test("PostgreSQL: the event cursor follows commit order, so a reader resuming after any event gets every later one exactly once", async (t) => {
  await using pg = await startPostgres();

  await t.step(
    "a row committed behind an open transaction is held back until it ends",
    async () => {
      const url = await pg.createDatabase();
      const store = await open(url);
      const a = await writer(url, "a");
      const b = await writer(url, "b");
      try {
        await a.insert("a1", "s"); // A takes the lower transaction id and the lower seq, and waits.
        await b.insert("b1", "s");
        await b.end(true);
        const early = await store.outbox.eventsAfter("s", 0, 10);
        assert.deepEqual(early.events, [], "b1 waits behind A, still open");
        assert.equal(early.pending, true);
        // A reader by `seq` alone would be past b1 now, and never see a1 (lower) once A commits.
        const [naive] = await store.sql<{ seq: number }[]>`SELECT max(seq) AS seq FROM events`;
        await a.insert("a2", "s");
        await a.end(true);
        const [lost] = await store.sql<{ n: number }[]>`
        SELECT count(*) AS n FROM events WHERE id = 'a1' AND seq < ${naive.seq}
      `;
        assert.equal(lost.n, 1, "the case a seq cursor gets wrong happened");
        const late = await store.outbox.eventsAfter("s", 0, 10);
        assert.deepEqual(late.events.map((e) => e.id), ["a1", "a2", "b1"]);
        assert.equal(late.pending, false);
      } finally {
        await a.close();
        await b.close();
        await store.close();
      }
    },
  );

  await t.step(
    "under two writers interleaving at random, a follower and every resume see each event once",
    async () => {
      const url = await pg.createDatabase();
      const store = await open(url);
      const writers = [await writer(url, "a"), await writer(url, "b")];
      // A fixed seed: the same interleaving every run (a failure can be replayed).
      let seed = 0x2545f491;
      const random = () => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 2 ** 32;
      };
      /** The ids of session `s` that were committed. */
      const committed = new Set<string>();
      const commit = (events: { id: string; session: string }[]) => {
        for (const { id, session } of events) if (session === "s") committed.add(id);
      };
      const followed: string[] = [];
      let cursor = 0;
      let n = 0;
      try {
        for (let step = 0; step < 300; step++) {
          const w = writers[random() < 0.5 ? 0 : 1];
          const roll = random();
          if (roll < 0.5) {
            await w.insert(`${w.name}${++n}`, random() < 0.85 ? "s" : "other");
          } else if (roll < 0.65) {
            commit(await w.end(random() < 0.85));
          } else {
            const read = await readOn(store, "s", cursor, 3);
            followed.push(...read.ids);
            cursor = read.after;
          }
        }
        for (const w of writers) commit(await w.end(true));
        const rest = await readOn(store, "s", cursor, 3);
        followed.push(...rest.ids);

        const final = (await store.outbox.eventsAfter("s", 0, 10_000)).events;
        const order = final.map((e) => e.id);
        assert.ok(order.length > 50, `enough events to mean something (${order.length})`);
        assert.deepEqual(new Set(order), committed, "every committed event, no rolled back one");
        assert.equal(order.length, committed.size);
        assert.equal(new Set(followed).size, followed.length, "the follower got none twice");
        assert.deepEqual(followed, order, "the follower got every event, in the final order");
        for (const [i, event] of final.entries()) {
          const resumed = await readOn(store, "s", event.seq, 7);
          assert.deepEqual(resumed.ids, order.slice(i + 1), `resumed after ${event.id}`);
        }
      } finally {
        for (const w of writers) await w.close();
        await store.close();
      }
    },
  );
});
