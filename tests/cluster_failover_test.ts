/**
 * @module
 * Failover and rolling restarts under load (issue #16, tests 3 and 5), with three real `main.ts`
 * processes on one real PostgreSQL, the simulator engine, short leases, all on 127.0.0.1, and a
 * webhook receiver of the test's own as the global `WEBHOOK_URL`. Clients keep sending `send-text`
 * to twelve numbers through the nodes, each send with its own `Idempotency-Key`.
 *
 * - SIGKILL on the node owning the most numbers: they come back WORKING on the others; every send
 *   answered 200, before or after the kill, has its `message.any` at the receiver (duplicates
 *   allowed: a duplicate carries the same event id); a send retried with its key through another
 *   node after the failover gets the first answer and sends nothing again.
 * - A rolling restart (SIGTERM, each node in turn, started again with its id, port and data
 *   folder), the client acting as a load balancer that sends only to nodes whose `/health` says
 *   ready: no 5xx, no refused or reset connection, no lost event, every number WORKING at the end.
 *
 * Throughout, no number is CONNECTED on two nodes (`waitAllWorking` fails at once if one is) and
 * the simulators, which share a folder as WhatsApp's servers, report no conflict.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { startReceiver } from "../events/test_receivers.ts";
import {
  type ClusterNode,
  type ClusterOptions,
  conflicts,
  connectedOn,
  killNode,
  startNode,
  waitAllWorking,
} from "./_cluster.ts";
import { ADMIN_KEY, freePort, waitFor } from "./_helpers.ts";
import { startPostgres, type TestPostgres } from "./_postgres.ts";

const TTL = 3_000;
/** Take-over: the TTL and its margin (TTL/2) since the last renewal, a heartbeat, a start. */
const TAKEOVER_BOUND = TTL * 2 + 15_000;
/** Deliveries: a destination leased by a dead node is taken after the same TTL and margin. */
const DELIVERY_BOUND = TTL * 2 + 20_000;
const CHAT = "15550000001@c.us";
const IDS = ["node-1", "node-2", "node-3"];

/** One attempt of a send as the client saw it. */
interface Attempt {
  via: string;
  /** The HTTP status, or what happened instead of an answer. */
  status: number | "connection error" | "timeout";
  servedBy: string | null;
  replayed: boolean;
  body: Record<string, unknown> | null;
  error?: string;
}

/** One send (one `Idempotency-Key`), with its attempts. */
interface Send {
  phoneNumber: string;
  key: string;
  text: string;
  startedAt: number;
  attempts: Attempt[];
  /** The answer that ended it (the last attempt). */
  final: Attempt;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** POSTs `send-text` through `node` with `key`; a connection error is an outcome, not a throw. */
async function sendText(
  node: { id: string; base: string },
  phoneNumber: string,
  key: string,
  text: string,
): Promise<Attempt> {
  try {
    const response = await fetch(`${node.base}/${phoneNumber}/send-text`, {
      method: "POST",
      headers: {
        "X-Api-Key": ADMIN_KEY,
        "Content-Type": "application/json",
        "Idempotency-Key": key,
      },
      body: JSON.stringify({ chatId: CHAT, text }),
      signal: AbortSignal.timeout(15_000),
    });
    const raw = await response.text();
    let body: Record<string, unknown> | null = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = { raw };
    }
    return {
      via: node.id,
      status: response.status,
      servedBy: response.headers.get("x-served-by"),
      replayed: response.headers.get("idempotent-replayed") === "true",
      body,
    };
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    return {
      via: node.id,
      status: timedOut ? "timeout" : "connection error",
      servedBy: null,
      replayed: false,
      body: null,
      error: String(error),
    };
  }
}

function numbersFrom(prefix: string): string[] {
  return Array.from({ length: 12 }, (_, i) => `${prefix}${String(i + 1).padStart(2, "0")}`);
}

function countBy(placement: Map<string, string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const node of placement.values()) counts.set(node, (counts.get(node) ?? 0) + 1);
  return counts;
}

/** What the receiver got: each message id of a `message.any`, with the event ids it came in. */
function deliveredMessages(receiver: ReturnType<typeof startReceiver>): Map<string, Set<string>> {
  const byMessage = new Map<string, Set<string>>();
  for (const { json } of receiver.received) {
    if (json.event !== "message.any") continue;
    const messageId = json.payload.id as string;
    if (!byMessage.has(messageId)) byMessage.set(messageId, new Set());
    byMessage.get(messageId)!.add(json.id);
  }
  return byMessage;
}

/**
 * Waits (bounded) until every send answered 200 has its `message.any` at the receiver, then checks
 * that each message came as one event (a duplicate delivery has the same event id).
 */
async function assertEveryEventDelivered(
  receiver: ReturnType<typeof startReceiver>,
  sends: Send[],
  inspect?: postgres.Sql,
): Promise<void> {
  const answered = sends.filter((s) => s.final.status === 200);
  const missing = () => {
    const delivered = deliveredMessages(receiver);
    return answered.filter((s) => !delivered.has(s.final.body?.messageId as string));
  };
  await waitFor(
    "every 200 send's message.any at the receiver",
    () => missing().length === 0,
    DELIVERY_BOUND,
    100,
  ).catch(async (error) => {
    const lost = missing();
    // What the database holds of them: no event (never stored), or a delivery still pending.
    const stored = inspect
      ? await Promise.all(
        lost.slice(0, 3).map((send) =>
          inspect`
          SELECT e.id, e.event, d.status, d.attempts, d.last_error FROM events e
          LEFT JOIN webhook_deliveries d ON d.event_seq = e.seq
          WHERE e.session = ${send.phoneNumber}
            AND (e.body::jsonb -> 'payload' ->> 'id') = ${send.final.body?.messageId as string}
        `
        ),
      )
      : [];
    throw new Error(
      `${(error as Error).message}: ${lost.length} of ${answered.length} missing, e.g. ` +
        `${JSON.stringify(lost.slice(0, 3))}; stored: ${JSON.stringify(stored)}`,
    );
  });
  const delivered = deliveredMessages(receiver);
  for (const send of answered) {
    const messageId = send.final.body!.messageId as string;
    assert.equal(delivered.get(messageId)!.size, 1, `${messageId} is one event`);
  }
}

/** A database of its own on `pg`, three nodes on it, a receiver; cleaned up by `close`. */
async function cluster(pg: TestPostgres, env: Record<string, string> = {}) {
  const url = await pg.createDatabase();
  const cloudDir = await Deno.makeTempDir({ prefix: "wa-gateway-cloud-" });
  const receiver = startReceiver();
  const options: ClusterOptions = {
    databaseUrl: url,
    cloudDir,
    ttlMs: TTL,
    env: {
      WEBHOOK_URL: receiver.url,
      WEBHOOK_EVENTS: "message.any",
      WEBHOOK_RETRY_BASE_MS: "200",
      WEBHOOK_RETRY_MAX_MS: "1000",
      DRAIN_TIMEOUT_MS: "15000",
      ...env,
    },
  };
  const all: ClusterNode[] = [];
  const dirs: string[] = [];
  const inspect = postgres(url, { max: 1, onnotice: () => {} });
  return {
    options,
    cloudDir,
    receiver,
    inspect,
    all,
    async start(id: string, at?: { port: number; dataDir: string }) {
      const node = await startNode(id, options, at);
      all.push(node);
      return node;
    },
    async dataDir(id: string) {
      const dir = await Deno.makeTempDir({ prefix: `wa-gateway-${id}-` });
      dirs.push(dir);
      return dir;
    },
    async close(failed: boolean) {
      if (failed) {
        for (const node of all) {
          console.error(`--- ${node.id} ---\n${node.log.slice(-60).join("\n")}`);
        }
      }
      await Promise.all(all.map(killNode));
      await inspect.end({ timeout: 1 }).catch(() => {});
      await receiver.close();
      for (const dir of [cloudDir, ...dirs]) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  };
}

Deno.test("a cluster under load loses no answered send when a node dies or all restart in turn", async (t) => {
  await using pg = await startPostgres();

  await t.step(
    "test 3: a SIGKILLed node's numbers come back WORKING, every 200 send's event is delivered, and a retried key sends nothing twice",
    async () => {
      const c = await cluster(pg);
      let failed = true;
      try {
        const numbers = numbersFrom("49155500190");
        let nodes = await Promise.all(IDS.map((id) => c.start(id)));
        for (const phoneNumber of numbers) {
          assert.equal((await nodes[0].call("POST", `/${phoneNumber}/start`)).status, 200);
        }
        let placement = await waitAllWorking(nodes, numbers, 30_000);
        const counts = countBy(placement);
        const victim = nodes.reduce((a, b) =>
          (counts.get(b.id) ?? 0) > (counts.get(a.id) ?? 0) ? b : a
        );
        const moved = numbers.filter((n) => placement.get(n) === victim.id);
        assert.ok(moved.length >= 2, `the numbers spread: ${JSON.stringify([...counts])}`);

        // Clients: round-robin over the nodes they send to (the survivors once one died), one
        // key per send; a send that got no answer (its node died) is not retried here.
        const sends: Send[] = [];
        let targets = nodes;
        let stop = false;
        let next = 0;
        const client = async () => {
          while (!stop) {
            const n = next++;
            const phoneNumber = numbers[n % numbers.length];
            const via = targets[n % targets.length];
            const key = `failover-${n}`;
            const text = `failover message ${n}`;
            const startedAt = Date.now();
            const attempt = await sendText(via, phoneNumber, key, text);
            sends.push({ phoneNumber, key, text, startedAt, attempts: [attempt], final: attempt });
            await delay(10);
          }
        };
        const clients = [client(), client(), client()];
        const ok = (s: Send) => s.final.status === 200;
        try {
          await waitFor(
            "sends answered before the kill, some served by the victim",
            () =>
              sends.filter(ok).length >= 36 &&
              sends.some((s) => ok(s) && s.final.servedBy === victim.id),
            20_000,
          );
          const killedAt = Date.now();
          victim.signal("SIGKILL");
          targets = nodes.filter((n) => n !== victim);
          await victim.exited;
          nodes = targets;
          placement = await waitAllWorking(nodes, numbers, TAKEOVER_BOUND);
          for (const phoneNumber of moved) assert.notEqual(placement.get(phoneNumber), victim.id);
          await waitFor(
            "a send answered 200 after the kill for each moved number",
            () =>
              moved.every((phoneNumber) =>
                sends.some((s) => ok(s) && s.phoneNumber === phoneNumber && s.startedAt > killedAt)
              ),
            15_000,
          );
        } finally {
          stop = true;
          await Promise.all(clients);
        }

        // A send the victim answered, retried with its key through a survivor that does not own
        // the number now: the first answer again, and nothing sent again.
        const first = sends.find((s) => ok(s) && s.final.servedBy === victim.id)!;
        const through = nodes.find((n) => n.id !== placement.get(first.phoneNumber))!;
        const retried = await sendText(through, first.phoneNumber, first.key, first.text);
        assert.deepEqual(
          [retried.status, retried.replayed, retried.body],
          [200, true, first.final.body],
          "the first answer, replayed",
        );
        const [{ n: stored }] = await c.inspect<{ n: number }[]>`
          SELECT count(*)::int AS n FROM events
          WHERE session = ${first.phoneNumber} AND event = 'message.any'
            AND (body::jsonb -> 'payload' ->> 'body') = ${first.text}
        `;
        assert.equal(stored, 1, "one message.any for the retried send: it was not sent again");

        await assertEveryEventDelivered(c.receiver, sends, c.inspect);
        const texts = new Set(
          c.receiver.received.filter((r) =>
            r.json.event === "message.any" && r.json.payload.body === first.text
          ).map((r) => r.json.payload.id),
        );
        assert.equal(texts.size, 1, "the receiver got one message for the retried send");

        const connected = await connectedOn(nodes, numbers);
        for (const phoneNumber of numbers) {
          assert.deepEqual(connected.get(phoneNumber), [placement.get(phoneNumber)]);
        }
        assert.deepEqual(conflicts(c.cloudDir), [], "no two devices were online with one login");
        failed = false;
      } finally {
        await c.close(failed);
      }
    },
  );

  await t.step(
    "test 5: a rolling restart behind a health-checking balancer answers no 5xx, drops no connection and loses no event",
    async () => {
      const c = await cluster(pg);
      let failed = true;
      try {
        const numbers = numbersFrom("49155500191");
        const at = new Map<string, { port: number; dataDir: string }>();
        for (const id of IDS) at.set(id, { port: freePort(), dataDir: await c.dataDir(id) });
        const nodes = new Map<string, ClusterNode>();
        for (const node of await Promise.all(IDS.map((id) => c.start(id, at.get(id))))) {
          nodes.set(node.id, node);
        }
        for (const phoneNumber of numbers) {
          assert.equal(
            (await nodes.get("node-1")!.call("POST", `/${phoneNumber}/start`)).status,
            200,
          );
        }
        let placement = await waitAllWorking([...nodes.values()], numbers, 30_000);

        // The balancer: a node takes traffic while its last /health answered 200. No retry on a
        // refused or reset connection: none may happen. A node that gets SIGTERM answers 503 on
        // /health at once and stays up, serving, until the others took its numbers (each node
        // here has some to hand over), far longer than the balancer's 50 ms between checks.
        const base = (id: string) => `http://127.0.0.1:${at.get(id)!.port}/api/whatsapp`;
        const ready = new Set<string>();
        let stop = false;
        const checking = (async () => {
          while (!stop) {
            await Promise.all(IDS.map(async (id) => {
              const answer = await fetch(`${base(id)}/health`, {
                signal: AbortSignal.timeout(1_000),
              }).then(async (r) => (await r.body?.cancel(), r.status)).catch(() => 0);
              if (answer === 200) ready.add(id);
              else ready.delete(id);
            }));
            await delay(50);
          }
        })();

        const sends: Send[] = [];
        let next = 0;
        const client = async () => {
          while (!stop) {
            const n = next++;
            const phoneNumber = numbers[n % numbers.length];
            const key = `rolling-${n}`;
            const text = `rolling message ${n}`;
            const send: Send = {
              phoneNumber,
              key,
              text,
              startedAt: Date.now(),
              attempts: [],
              final: undefined as unknown as Attempt,
            };
            // A number between two owners answers 409: tried again with its key, as a client
            // would, through the next ready node, for up to 20 s.
            const giveUpAt = Date.now() + 20_000;
            for (let tries = 0; Date.now() < giveUpAt; tries++) {
              const choice = [...ready];
              if (choice.length === 0) {
                await delay(20);
                continue;
              }
              const id = choice[(n + tries) % choice.length];
              const attempt = await sendText({ id, base: base(id) }, phoneNumber, key, text);
              send.attempts.push(attempt);
              send.final = attempt;
              if (attempt.status !== 409) break;
              await delay(50);
            }
            if (send.final) sends.push(send);
            await delay(10);
          }
        };
        const clients = [client(), client(), client()];
        const ok = (s: Send) => s.final.status === 200;
        const answeredSince = (since: number) => sends.filter((s) => ok(s) && s.startedAt > since);
        try {
          await waitFor("sends answered under load", () => answeredSince(0).length >= 24, 20_000);
          for (const id of IDS) {
            await waitFor("every node ready", () => ready.size === IDS.length, 30_000);
            const leaving = nodes.get(id)!;
            const its = numbers.filter((n) => placement.get(n) === id);
            assert.ok(its.length > 0, `${id} has sessions to hand over`);
            const stoppedAt = Date.now();
            leaving.signal("SIGTERM");
            assert.equal(await leaving.exited, 0, `${id} drained and exited 0`);
            const others = [...nodes.values()].filter((n) => n !== leaving);
            placement = await waitAllWorking(others, numbers, 30_000);
            for (const phoneNumber of its) assert.notEqual(placement.get(phoneNumber), id);
            nodes.set(id, await c.start(id, at.get(id)));
            await waitFor(
              "sends answered after the restart",
              () => answeredSince(stoppedAt).length >= 12,
              20_000,
            );
          }
          await waitFor("every node ready", () => ready.size === IDS.length, 30_000);
        } finally {
          stop = true;
          await Promise.all(clients);
          await checking;
        }

        const attempts = sends.flatMap((s) => s.attempts);
        assert.deepEqual(
          attempts.filter((a) => typeof a.status !== "number" || a.status >= 500),
          [],
          "no 5xx, no refused or reset connection, no timeout",
        );
        await assertEveryEventDelivered(c.receiver, sends, c.inspect);
        placement = await waitAllWorking([...nodes.values()], numbers, 30_000);
        assert.deepEqual(conflicts(c.cloudDir), [], "no two devices were online with one login");
        failed = false;
      } finally {
        await c.close(failed);
      }
    },
  );
});
