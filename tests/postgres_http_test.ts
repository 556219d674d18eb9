/**
 * @module
 * The server on PostgreSQL (`DATABASE_URL`), through HTTP as on SQLite: a representative slice of
 * the HTTP suite against a real PostgreSQL server of the test's own. Sessions start, stop and come
 * back after a restart; an answered send has its event in the database before the answer leaves,
 * reaches a webhook and resumes on the stream; accounts own their numbers; a generated admin key
 * lives in the database, not in one node's `DATA_DIR`.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startReceiver } from "../events/test_receivers.ts";
import { POSTGRES_MIGRATIONS } from "../store/postgres/migrations.ts";
import { openPostgresStore, type PostgresStore } from "../store/postgres/store.ts";
import {
  ADMIN_KEY,
  AUTH_ENCRYPTION_KEY,
  freePort,
  startServerProcess,
  startTestApp,
  type TestApp,
  waitFor,
  waitForState,
} from "./_helpers.ts";
import { startPostgres } from "./_postgres.ts";
import { type SseMessage, sseReader } from "./_sse.ts";

const PHONE = "4915550007001";
const KEY_A = "account-a-key-0123456789abcdef";
const KEY_B = "account-b-key-0123456789abcdef";
/** A node on DATABASE_URL hosts sessions: it needs NODE_URL, CLUSTER_SECRET, AUTH_ENCRYPTION_KEY. */
const CLUSTER_SECRET = "cluster-secret-0123456789abcdef";
const nodeEnv = (port = 1) => ({
  NODE_URL: `http://127.0.0.1:${port}`,
  CLUSTER_SECRET,
  AUTH_ENCRYPTION_KEY,
});

/** Reads SSE messages until `count` arrived (or the time is up); then cancels the stream. */
async function readSse(response: Response, count: number, timeoutMs = 10_000) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const messages: { event?: string; id?: string; data: string }[] = [];
  let buffer = "";
  const deadline = setTimeout(() => reader.cancel(), timeoutMs);
  try {
    while (messages.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const message: { event?: string; id?: string; data: string } = { data: "" };
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) message.event = line.slice(7);
          else if (line.startsWith("id: ")) message.id = line.slice(4);
          else if (line.startsWith("data: ")) message.data += line.slice(6);
        }
        if (message.data) messages.push(message);
      }
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => {});
  }
  return messages;
}

Deno.test("the server on PostgreSQL works through HTTP as it does on SQLite", async (t) => {
  await using pg = await startPostgres();
  /** A server on a fresh database (or `url`'s), with its own temporary DATA_DIR. */
  const serve = async (url: string, env: Record<string, string> = {}) =>
    await startTestApp({ DATABASE_URL: url, ...nodeEnv(), ...env });
  /** The database as another node (or a tool) sees it. */
  const look = async (url: string, work: (store: PostgresStore) => Promise<void>) => {
    const store = await openPostgresStore(url, { poolSize: 1 });
    try {
      await work(store);
    } finally {
      await store.close();
    }
  };

  await t.step(
    "a session starts, stops, and is brought back by a server restarted on the database",
    async () => {
      const url = await pg.createDatabase();
      const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-pg-" });
      let server: TestApp | null = await serve(url, { DATA_DIR: dataDir });
      try {
        assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
        await waitForState(server, PHONE, "CONNECTED");
        assert.equal((await server.json("POST", "/4915550007002/start")).status, 200);
        await waitForState(server, "4915550007002", "CONNECTED");
        assert.equal((await server.json("POST", "/4915550007002/stop")).status, 200);
        await waitForState(server, "4915550007002", "DISCONNECTED");
        assert.ok(!existsSync(join(dataDir, "wa-gateway.db")), "nothing is kept in SQLite");
        await server.close();
        server = null;
        await look(url, async (store) => {
          assert.equal((await store.sessions.get(PHONE))?.shouldRun, true);
          assert.equal((await store.sessions.get("4915550007002"))?.shouldRun, false);
        });

        server = await serve(url, { DATA_DIR: dataDir });
        await server.manager.restore();
        await waitForState(server, PHONE, "CONNECTED");
        const { body } = await server.json<{ sessions: { phoneNumber: string; status: string }[] }>(
          "GET",
          "/sessions",
        );
        assert.deepEqual(
          body.sessions.map((s) => [s.phoneNumber, s.status]).sort(),
          [[PHONE, "WORKING"], ["4915550007002", "STOPPED"]],
        );
        assert.equal((await server.json("DELETE", "/4915550007002")).status, 200);
        assert.equal((await server.json("GET", "/4915550007002/state")).status, 404);
      } finally {
        await server?.close();
        await Deno.remove(dataDir, { recursive: true });
      }
    },
  );

  await t.step(
    "an answered send has its event stored before the answer, delivered to the webhook and resumable on the stream",
    async () => {
      const url = await pg.createDatabase();
      const receiver = startReceiver();
      const server = await serve(url, {
        WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
        SSE_HEARTBEAT_MS: "100",
      });
      const reader = await openPostgresStore(url, { poolSize: 2 });
      try {
        assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
        await waitForState(server, PHONE, "CONNECTED");
        const hooks = await server.json("PUT", `/${PHONE}/webhooks`, {
          body: { webhooks: [{ url: receiver.url, events: ["message.any"] }] },
        });
        assert.equal(hooks.status, 200);
        const sends = await Promise.all(
          Array.from({ length: 8 }, async (_, i) => {
            const { status, body } = await server.json<{ messageId: string }>(
              "POST",
              `/${PHONE}/send-text`,
              { body: { chatId: "15550000001@c.us", text: `durable ${i}` } },
            );
            assert.equal(status, 200);
            // Read by another connection the moment the answer is in: committed, not just sent.
            const rows = await reader.sql<{ body: string }[]>`
            SELECT body FROM events WHERE event = 'message.any'
          `;
            const stored = rows.map((row) => JSON.parse(row.body).payload.id);
            assert.ok(stored.includes(body.messageId), `${body.messageId} was stored first`);
            return body.messageId;
          }),
        );
        await waitFor("the deliveries", () => receiver.received.length >= sends.length);
        const delivered = receiver.received.map((r) => r.json);
        assert.deepEqual(
          new Set(delivered.map((e) => (e.payload as { id: string }).id)),
          new Set(sends),
        );
        const { body } = await server.json<{ deliveries: { status: string }[] }>(
          "GET",
          `/${PHONE}/webhooks/deliveries?status=delivered`,
        );
        assert.equal(body.deliveries.length, sends.length);

        // Resuming after the first delivered event gives the events after it, in order.
        const events = await reader.outbox.eventsAfter(PHONE, 0, 1_000);
        const order = events.events.map((e) => e.id);
        const first = delivered[0].id;
        const after = order.slice(order.indexOf(first) + 1);
        const resumed = await readSse(
          await server.request("GET", `/${PHONE}/events`, { headers: { "Last-Event-ID": first } }),
          after.length,
        );
        assert.deepEqual(resumed.map((m) => m.id), after);
      } finally {
        await reader.close();
        await server.close();
        await receiver.close();
      }
    },
  );

  await t.step("an account owns the numbers it starts; another account gets 403", async () => {
    const url = await pg.createDatabase();
    const server = await serve(url, {
      API_KEYS: `${KEY_A}=org_a,${KEY_B}=org_b`,
      MAX_NUMBERS_PER_ACCOUNT: "1",
    });
    const as = (key: string) => ({ headers: { "X-Api-Key": key } });
    try {
      assert.equal((await server.json("POST", `/${PHONE}/start`, as(KEY_A))).status, 200);
      await waitForState(server, PHONE, "CONNECTED");
      const other = await server.json("GET", `/${PHONE}/state`, as(KEY_B));
      assert.equal(other.status, 403);
      assert.equal((await server.json("POST", `/${PHONE}/start`, as(KEY_B))).status, 403);
      const second = await server.json("POST", "/4915550007003/start", as(KEY_A));
      assert.equal(second.status, 403, "account A's limit is one number");
      assert.equal((await server.json("POST", "/4915550007003/start", as(KEY_B))).status, 200);
      await look(url, async (store) => {
        assert.equal((await store.sessions.get(PHONE))?.ownerAccountId, "org_a");
        assert.equal((await store.sessions.get("4915550007003"))?.ownerAccountId, "org_b");
      });
    } finally {
      await server.close();
    }
  });

  await t.step(
    "GET /events streams an account's numbers and none of another's, and resumes after Last-Event-ID",
    async () => {
      const url = await pg.createDatabase();
      const server = await serve(url, {
        API_KEYS: `${KEY_A}=org_a,${KEY_B}=org_b`,
        SSE_HEARTBEAT_MS: "100",
      });
      const as = (key: string) => ({ headers: { "X-Api-Key": key } });
      const sent = (text: string) => (m: SseMessage) =>
        m.event === "message.any" && JSON.parse(m.data).payload.body === text;
      const send = async (key: string, phone: string, text: string) => {
        const answer = await server.json("POST", `/${phone}/send-text`, {
          ...as(key),
          body: { chatId: "15550000001@c.us", text },
        });
        assert.equal(answer.status, 200);
      };
      try {
        const t0 = Date.now();
        for (const [key, phone] of [[KEY_A, PHONE], [KEY_B, "4915550007003"]]) {
          assert.equal((await server.json("POST", `/${phone}/start`, as(key))).status, 200);
          await waitForState(server, phone, "CONNECTED");
        }
        await send(KEY_A, PHONE, "a one");
        await send(KEY_B, "4915550007003", "b one");
        await send(KEY_A, PHONE, "a two");
        const first = sseReader(await server.request("GET", `/events?since=${t0}`, as(KEY_A)));
        const seen = await first.until(sent("a two")).finally(() => first.close());
        assert.deepEqual(new Set(seen.map((m) => JSON.parse(m.data).session)), new Set([PHONE]));
        const one = seen.findIndex(sent("a one"));
        const resumed = sseReader(
          await server.request("GET", "/events", {
            headers: { ...as(KEY_A).headers, "Last-Event-ID": seen[one].id! },
          }),
        );
        const next = await resumed.until(sent("a two")).finally(() => resumed.close());
        assert.deepEqual(next.map((m) => m.id), seen.slice(one + 1).map((m) => m.id));
      } finally {
        await server.close();
      }
    },
  );

  await t.step("a generated admin key is kept in the database and used by every node", async () => {
    const url = await pg.createDatabase();
    const first = await serve(url, { API_KEY: "" });
    const second = await serve(url, { API_KEY: "" });
    try {
      assert.equal((await first.json("GET", "/sessions", { anonymous: true })).status, 401);
      await look(url, async (store) => {
        const { key } = await store.adminKey();
        for (const node of [first, second]) {
          const answer = await node.json("GET", "/sessions", {
            anonymous: true,
            headers: { "X-Api-Key": key },
          });
          assert.equal(answer.status, 200);
          assert.ok(!existsSync(join(node.dataDir, "admin-api-key")), "no key file in DATA_DIR");
        }
      });
    } finally {
      await first.close();
      await second.close();
    }
  });

  await t.step(
    "main.ts on PostgreSQL brings its sessions back after a restart and exits 0 on SIGTERM",
    async () => {
      const url = await pg.createDatabase();
      const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-pg-main-" });
      const port = freePort();
      const env = {
        DATABASE_URL: url,
        DATA_DIR: dataDir,
        SIMULATOR_SCAN_MS: "50",
        ...nodeEnv(port),
      };
      try {
        const first = await startServerProcess(env, { port });
        try {
          assert.equal((await first.call("POST", `/${PHONE}/start`)).status, 200);
          await waitFor(
            "CONNECTED",
            async () => (await first.call("GET", `/${PHONE}/state`)).body?.state === "CONNECTED",
          );
        } finally {
          assert.equal(await first.stop("SIGTERM"), 0);
        }
        const second = await startServerProcess(env, { port });
        try {
          await waitFor(
            "CONNECTED after the restart",
            async () => (await second.call("GET", `/${PHONE}/state`)).body?.state === "CONNECTED",
          );
        } finally {
          assert.equal(await second.stop("SIGTERM"), 0);
        }
      } finally {
        await Deno.remove(dataDir, { recursive: true });
      }
    },
  );

  await t.step(
    "main.ts exits 1 with one line on a database migrated further, or out of reach",
    async () => {
      const url = await pg.createDatabase();
      await look(url, async (store) => {
        const newest = Math.max(...POSTGRES_MIGRATIONS.map((m) => m.version));
        await store.sql`
        INSERT INTO schema_version (version, description) VALUES (${newest + 1}, 'from the future')
      `;
      });
      const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-pg-refused-" });
      const run = async (databaseUrl: string) => {
        const output = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
          env: {
            PORT: "0",
            HOST: "127.0.0.1",
            DATA_DIR: dataDir,
            WA_ENGINE: "simulator",
            API_KEY: ADMIN_KEY,
            NO_COLOR: "1",
            DATABASE_URL: databaseUrl,
            ...nodeEnv(),
          },
          stdin: "null",
          stdout: "null",
          stderr: "piped",
          signal: AbortSignal.timeout(60_000),
        }).output();
        return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
      };
      try {
        const newer = await run(url);
        assert.equal(newer.code, 1);
        assert.match(
          newer.stderr,
          /^The database postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+ has schema version \d+, newer than \d+, the newest this version of wa-gateway knows: start a newer version\n$/,
        );
        const away = await run(`postgres://wa:hunter2-secret@127.0.0.1:${freePort()}/nowhere`);
        assert.equal(away.code, 1);
        assert.match(
          away.stderr,
          /^Cannot open the PostgreSQL database postgres:\/\/wa@127\.0\.0\.1:\d+\/nowhere: [^\n]+\n$/,
        );
        assert.doesNotMatch(away.stderr, /hunter2/);
      } finally {
        await Deno.remove(dataDir, { recursive: true });
      }
    },
  );
});
