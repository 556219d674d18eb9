/**
 * @module
 * Moving up (issue #16, test 8): a single node on SQLite serves two accounts' numbers with a
 * webhook whose receiver is down, so deliveries wait; `deno task migrate-to-postgres` copies its
 * `DATA_DIR` into an empty PostgreSQL; a server on PostgreSQL then serves the same state: the
 * owners still own, the webhook is listed, the sessions come back, the events keep their ids and
 * order, the generated admin key still opens it, and the waiting deliveries reach the receiver
 * once it is up. A copy while the server runs, and a second copy into the now used database, are
 * refused in one line.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import postgres from "postgres";
import { startReceiver } from "../events/test_receivers.ts";
import { freePort, startServerProcess, waitFor } from "./_helpers.ts";
import { startPostgres } from "./_postgres.ts";

const KEY_A = "account-a-key-0123456789abcdef";
const KEY_B = "account-b-key-0123456789abcdef";
const PHONE_A = "4915550008201";
const PHONE_B = "4915550008202";
const CHAT = "15550000001@c.us";
const ROOT = new URL("..", import.meta.url).pathname;

async function request(base: string, key: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      "X-Api-Key": key,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** `deno task migrate-to-postgres` as an operator runs it. */
async function migrate(env: Record<string, string>) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "migrate-to-postgres"],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("migrate-to-postgres moves a single node's numbers, owners, webhooks, events and waiting deliveries to PostgreSQL, where a server serves them", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase();
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-moving-up-" });
  const hookPort = freePort();
  const hookUrl = `http://127.0.0.1:${hookPort}/hook`;
  const env = {
    DATA_DIR: dataDir,
    API_KEY: "", // The admin key is generated into DATA_DIR, and must follow.
    API_KEYS: `${KEY_A}=org_a,${KEY_B}=org_b`,
    MAX_NUMBERS_PER_ACCOUNT: "1",
    SIMULATOR_SCAN_MS: "50",
    WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
    WEBHOOK_RETRY_BASE_MS: "200",
    WEBHOOK_RETRY_MAX_MS: "1000",
    WEBHOOK_MAX_ATTEMPTS: "1000",
  };
  let receiver: ReturnType<typeof startReceiver> | null = null;
  try {
    // A single node on SQLite, its webhook receiver down.
    const single = await startServerProcess(env);
    let waiting: string[];
    try {
      const a = (method: string, path: string, body?: unknown) =>
        request(single.base, KEY_A, method, path, body);
      assert.equal((await a("POST", `/${PHONE_A}/start`)).status, 200);
      assert.equal((await request(single.base, KEY_B, "POST", `/${PHONE_B}/start`)).status, 200);
      await waitFor("both numbers CONNECTED", async () => {
        const [x, y] = await Promise.all([
          a("GET", `/${PHONE_A}/state`),
          request(single.base, KEY_B, "GET", `/${PHONE_B}/state`),
        ]);
        return x.body?.state === "CONNECTED" && y.body?.state === "CONNECTED";
      });
      const hooks = await a("PUT", `/${PHONE_A}/webhooks`, {
        webhooks: [{ url: hookUrl, events: ["message.any"] }],
      });
      assert.equal(hooks.status, 200, JSON.stringify(hooks.body));
      for (let i = 0; i < 3; i++) {
        const sent = await a("POST", `/${PHONE_A}/send-text`, { chatId: CHAT, text: `wait ${i}` });
        assert.equal(sent.status, 200);
      }
      waiting = await waitFor("three deliveries waiting for the receiver", async () => {
        const { body } = await a("GET", `/${PHONE_A}/webhooks/deliveries?status=pending`);
        const ids = (body.deliveries as { eventId: string }[]).map((d) => d.eventId);
        return ids.length >= 3 ? ids : null;
      });
      const busy = await migrate({ DATA_DIR: dataDir, DATABASE_URL: url });
      assert.equal(busy.code, 1, "the server still holds its database");
      assert.match(busy.stderr, /^The database \S+ is in use by another process: [^\n]+\n$/);
    } finally {
      assert.equal(await single.stop("SIGTERM"), 0);
    }
    const sqlite = new DatabaseSync(join(dataDir, "wa-gateway.db"), { readOnly: true });
    const before = {
      events: (sqlite.prepare("SELECT id FROM events ORDER BY seq").all() as { id: string }[])
        .map((row) => row.id),
      linked: sqlite.prepare("SELECT phone_number, linked_at FROM sessions ORDER BY phone_number")
        .all().map((row) => [row.phone_number, row.linked_at]),
      lanes: sqlite.prepare("SELECT id, lane FROM webhook_deliveries ORDER BY id").all()
        .map((row) => [Number(row.id), Number(row.lane)]),
    };
    sqlite.close();
    const adminKey = (await Deno.readTextFile(join(dataDir, "admin-api-key"))).trim();

    const moved = await migrate({ DATA_DIR: dataDir, DATABASE_URL: url });
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(
      moved.stdout,
      new RegExp(
        `^Copied 2 numbers, 1 webhooks, ${before.events.length} events, \\d+ webhook deliveries ` +
          `\\(${waiting.length} pending\\), 0 idempotency keys, 0 whatsapp-web.js logins and the ` +
          `generated admin key from ` +
          `${dataDir} to postgres://postgres@127\\.0\\.0\\.1:${pg.port}/\\w+\\n$`,
      ),
    );
    const again = await migrate({ DATA_DIR: dataDir, DATABASE_URL: url });
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /^The PostgreSQL database postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+ is not empty \(table sessions has rows\): migrate-to-postgres copies into an empty database only\n$/,
    );

    // The events, their order and the link times, as the database holds them.
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const events = await sql<{ id: string }[]>`SELECT id FROM events ORDER BY txid, seq`;
      assert.deepEqual(events.map((row) => row.id), before.events);
      const linked = await sql<{ phone_number: string; linked_at: string }[]>`
        SELECT phone_number, linked_at FROM sessions ORDER BY phone_number
      `;
      assert.deepEqual(
        linked.map((row) => [row.phone_number, Number(row.linked_at)]),
        before.linked,
      );
      const lanes = await sql<{ id: string; lane: number }[]>`
        SELECT id, lane FROM webhook_deliveries ORDER BY id
      `;
      assert.deepEqual(
        lanes.map((row) => [Number(row.id), row.lane]),
        before.lanes,
        "each delivery in its lane",
      );
      assert.ok(before.lanes.some(([, lane]) => lane !== 0), "lanes other than 0 were copied");
    } finally {
      await sql.end();
    }

    // A server on PostgreSQL, the receiver up now.
    receiver = startReceiver(undefined, hookPort);
    const cluster = await startServerProcess({ ...env, DATABASE_URL: url });
    try {
      const as = (key: string, method: string, path: string, body?: unknown) =>
        request(cluster.base, key, method, path, body);
      assert.equal((await as(adminKey, "GET", "/sessions")).status, 200, "the same admin key");
      assert.equal((await as(KEY_B, "GET", `/${PHONE_A}/state`)).status, 403, "A's number");
      assert.equal((await as(KEY_A, "GET", `/${PHONE_B}/state`)).status, 403, "B's number");
      const third = await as(KEY_A, "POST", "/4915550008203/start");
      assert.equal(third.status, 403, "A still owns its one number");
      const hooks = await as(KEY_A, "GET", `/${PHONE_A}/webhooks`);
      assert.deepEqual(hooks.body.webhooks.map((h: { url: string }) => h.url), [hookUrl]);
      await waitFor("the numbers back CONNECTED", async () => {
        const [x, y] = await Promise.all([
          as(KEY_A, "GET", `/${PHONE_A}/state`),
          as(KEY_B, "GET", `/${PHONE_B}/state`),
        ]);
        return x.body?.state === "CONNECTED" && y.body?.state === "CONNECTED";
      }, 30_000);
      await waitFor("the waiting deliveries at the receiver", () => {
        const arrived = new Set(receiver!.received.map((r) => r.json.id));
        return waiting.every((id) => arrived.has(id));
      }, 30_000);
    } finally {
      assert.equal(await cluster.stop("SIGTERM"), 0);
    }
  } finally {
    await receiver?.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
