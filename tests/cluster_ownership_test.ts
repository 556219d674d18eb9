/**
 * @module
 * Ownership of numbers in a cluster, with real `main.ts` processes on one real PostgreSQL (all on
 * 127.0.0.1, short leases): starts through one node spread over the nodes and `GET /cluster`
 * lists them; a pinned start runs where it was pinned; a node that joins takes new numbers and
 * steals none; a SIGKILLed node's numbers come back WORKING on the others; a SIGSTOPped node's
 * numbers move, and once it continues it serves and writes nothing for them; PostgreSQL stopped
 * past the TTL stops every session, which come back on the same nodes when it returns; SIGTERM
 * drains a node into the others and it exits 0. Throughout, no number is ever CONNECTED on two
 * nodes, and the simulators (which share a folder as WhatsApp's servers) report no conflict.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import {
  type ClusterNode,
  conflicts,
  connectedOn,
  devicesOnline,
  killNode,
  ownersVia,
  startNode,
  waitAllWorking,
} from "./_cluster.ts";
import { waitFor } from "./_helpers.ts";
import { startPostgres } from "./_postgres.ts";

const TTL = 3_000;
/** Take-over: the TTL, its margin (TTL/2), a heartbeat, and a start — bounded generously. */
const TAKEOVER_BOUND = TTL * 2 + 20_000;
const numbers = Array.from({ length: 9 }, (_, i) => `49155500180${i + 1}`);

/** How many numbers each node runs. */
function countBy(placement: Map<string, string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const node of placement.values()) counts.set(node, (counts.get(node) ?? 0) + 1);
  return counts;
}

/** The node running the most numbers among `nodes`. */
function busiest(placement: Map<string, string>, nodes: ClusterNode[]): ClusterNode {
  const counts = countBy(placement);
  return nodes.reduce((a, b) => (counts.get(b.id) ?? 0) > (counts.get(a.id) ?? 0) ? b : a);
}

Deno.test("numbers are owned by one node at a time, move when it dies, pauses, drains or loses the database", async (t) => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase();
  const cloudDir = await Deno.makeTempDir({ prefix: "wa-gateway-cloud-" });
  const options = { databaseUrl: url, cloudDir, ttlMs: TTL, env: { DRAIN_TIMEOUT_MS: "15000" } };
  const all: ClusterNode[] = [];
  const start = async (id: string) => {
    const node = await startNode(id, options);
    all.push(node);
    return node;
  };
  let live: ClusterNode[] = [];
  const inspect = postgres(url, { max: 1, onnotice: () => {} });
  let placement = new Map<string, string>();
  const running = [...numbers];

  let failed = false;
  const step = async (name: string, fn: () => Promise<void>) => {
    if (!await t.step(name, fn)) failed = true;
  };
  try {
    live = await Promise.all(["node-1", "node-2", "node-3"].map(start));
    const [first] = live;

    await step(
      "numbers started through one node spread over the nodes, and GET /cluster lists them",
      async () => {
        for (const phoneNumber of numbers) {
          const { status } = await first.call("POST", `/${phoneNumber}/start`);
          assert.equal(status, 200);
        }
        placement = await waitAllWorking(live, numbers, 30_000);
        for (const node of live) {
          assert.ok((countBy(placement).get(node.id) ?? 0) >= 2, `${node.id} runs its share`);
        }
        const { status, body } = await first.call("GET", "/cluster");
        assert.equal(status, 200);
        const listed = (body as { nodes: Record<string, unknown>[] }).nodes;
        assert.deepEqual(
          listed.map((n) => [n.id, n.url, n.role, n.capacity, n.live, n.draining]),
          live.map((n) => [n.id, `http://127.0.0.1:${n.port}`, "worker", 50, true, false]),
        );
        assert.equal(listed.reduce((sum, n) => sum + (n.sessions as number), 0), numbers.length);
        assert.ok(listed.every((n) => !Number.isNaN(Date.parse(n.lastHeartbeat as string))));
        const anonymous = await fetch(`${first.base}/cluster`);
        await anonymous.body?.cancel();
        assert.equal(anonymous.status, 401);
        const state = await live[1].call("GET", `/${numbers[0]}/state`);
        assert.equal(state.body?.node, placement.get(numbers[0]), "state names the node");
      },
    );

    await step("an admin's start pinned to a node runs there", async () => {
      const pinned = "4915550018100";
      const { status } = await first.call("POST", `/${pinned}/start`, { node: "node-3" });
      assert.equal(status, 200);
      running.push(pinned);
      placement = await waitAllWorking(live, running, 30_000);
      assert.equal(placement.get(pinned), "node-3");
      const unknown = await first.call("POST", "/4915550018101/start", { node: "node-9" });
      assert.equal(unknown.status, 400);
    });

    await step(
      "a stopped number's lease is released; started again, it runs once more",
      async () => {
        const phoneNumber = numbers[1];
        const owner = live.find((n) => n.id === placement.get(phoneNumber))!;
        assert.equal((await owner.call("POST", `/${phoneNumber}/stop`)).status, 200);
        const [row] = await inspect<{ node_id: string | null; should_run: boolean }[]>`
        SELECT node_id, should_run FROM sessions WHERE phone_number = ${phoneNumber}
      `;
        assert.deepEqual(row, { node_id: null, should_run: false });
        assert.equal((await ownersVia(first)).get(phoneNumber), null);
        assert.equal((await first.call("POST", `/${phoneNumber}/start`)).status, 200);
        placement = await waitAllWorking(live, running, 30_000);
      },
    );

    await step("a SIGKILLed node's numbers come back WORKING on the others", async () => {
      const victim = busiest(placement, live);
      const its = running.filter((n) => placement.get(n) === victim.id);
      victim.signal("SIGKILL");
      await victim.exited;
      live = live.filter((n) => n !== victim);
      placement = await waitAllWorking(live, running, TAKEOVER_BOUND);
      for (const phoneNumber of its) assert.notEqual(placement.get(phoneNumber), victim.id);
    });

    await step(
      "a node that joins steals no number, and takes the next ones started",
      async () => {
        const joined = await start("node-4");
        live.push(joined);
        // A few heartbeats and take-over rounds: it must still run none of the others' numbers.
        await new Promise((resolve) => setTimeout(resolve, TTL));
        const owners = await ownersVia(joined);
        assert.ok(![...owners.values()].includes("node-4"), "node-4 took nothing running");
        const fresh = ["4915550018201", "4915550018202"];
        for (const phoneNumber of fresh) {
          assert.equal((await live[0].call("POST", `/${phoneNumber}/start`)).status, 200);
        }
        running.push(...fresh);
        placement = await waitAllWorking(live, running, 30_000);
        for (const phoneNumber of fresh) assert.equal(placement.get(phoneNumber), "node-4");
      },
    );

    await step(
      "a node paused past the TTL serves and writes nothing for its moved numbers once it continues",
      async () => {
        const paused = busiest(placement, live);
        const its = running.filter((n) => placement.get(n) === paused.id);
        const others = live.filter((n) => n !== paused);
        paused.signal("SIGSTOP");
        try {
          placement = await waitAllWorking(others, running, TAKEOVER_BOUND);
        } finally {
          paused.signal("SIGCONT");
        }
        for (const phoneNumber of its) assert.notEqual(placement.get(phoneNumber), paused.id);
        const rows = () =>
          inspect<{ phone_number: string; node_id: string; epoch: number }[]>`
          SELECT phone_number, node_id, epoch FROM sessions
          WHERE phone_number = ANY(${its}::text[]) ORDER BY phone_number
        `;
        const events = async () =>
          (await inspect<{ n: number }[]>`
          SELECT count(*)::int AS n FROM events WHERE session = ANY(${its}::text[])
        `)[0].n;
        // What it answers once it continues: nothing of its own for the moved numbers; their
        // requests are served by their new owners (forwarded).
        for (const phoneNumber of its) {
          const owner = placement.get(phoneNumber);
          const state = await paused.call("GET", `/${phoneNumber}/state`, undefined, 10_000);
          assert.deepEqual(
            [state.status, state.servedBy, state.body?.node],
            [200, owner, owner],
            `${paused.id} does not serve ${phoneNumber}`,
          );
          const send = await paused.call("POST", `/${phoneNumber}/send-text`, {
            chatId: "15550000001@c.us",
            text: "through a node that was paused",
          });
          assert.deepEqual([send.status, send.servedBy], [200, owner], "the new owner sends it");
        }
        // The simulator acknowledges each send a moment after answering: the new owners' last
        // writes, counted before the window in which the paused node must write nothing.
        await waitFor("the sends' acks", async () =>
          (await inspect<{ n: number }[]>`
            SELECT count(*)::int AS n FROM events
            WHERE session = ANY(${its}::text[]) AND event = 'message.ack'
          `)[0].n >= its.length);
        const leasesBefore = await rows();
        const eventsBefore = await events();
        // Longer than a simulator takes to notice a pause and reconnect: a session still alive on
        // the paused node would be online next to the new owner's by now.
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        assert.deepEqual(conflicts(cloudDir), [], "no two devices were online with one login");
        assert.deepEqual(await rows(), leasesBefore, "the leases stay with the new owners");
        assert.equal(await events(), eventsBefore, "no event was written for the moved numbers");
        const connected = await connectedOn(live, its);
        for (const phoneNumber of its) {
          assert.deepEqual(connected.get(phoneNumber), [placement.get(phoneNumber)]);
        }
        const health = await paused.call("GET", "/health");
        assert.equal(health.status, 200, "it is ready again for what it still runs");
      },
    );

    await step(
      "PostgreSQL stopped past the TTL stops every session; back, each returns on its node",
      async () => {
        const before = placement;
        await pg.kill();
        const stoppedAt = Date.now();
        try {
          await waitFor(
            "every node not ready",
            async () => {
              const answers = await Promise.all(live.map((n) => n.call("GET", "/health")));
              return answers.every((a) =>
                a.status === 503 && a.body?.status === "store_unreachable"
              );
            },
            TTL * 3 + 5_000,
            100,
          );
          await waitFor(
            "every session stopped",
            () => devicesOnline(cloudDir).length === 0,
            TTL * 3,
          );
          // Past the TTL: now every lease has run out by any clock.
          const left = TTL * 1.5 - (Date.now() - stoppedAt);
          if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
          assert.deepEqual(devicesOnline(cloudDir), [], "nothing went back online meanwhile");
        } finally {
          await pg.restart();
        }
        // The driver may hold a statement for its connect timeout (10 s) while the server restarts.
        placement = await waitAllWorking(live, running, TTL * 3 + 45_000);
        assert.deepEqual(placement, before, "each number came back on its node, with its login");
      },
    );

    await step("SIGTERM drains a node into the others and it exits 0", async () => {
      const leaving = busiest(placement, live);
      const its = running.filter((n) => placement.get(n) === leaving.id);
      assert.ok(its.length > 0);
      leaving.signal("SIGTERM");
      assert.equal(await leaving.exited, 0);
      live = live.filter((n) => n !== leaving);
      placement = await waitAllWorking(live, running, 30_000);
      for (const phoneNumber of its) assert.notEqual(placement.get(phoneNumber), leaving.id);
      const { body } = await live[0].call("GET", "/cluster");
      const ids = (body as { nodes: { id: string }[] }).nodes.map((n) => n.id);
      assert.ok(!ids.includes(leaving.id), "a drained node leaves the list");
    });

    assert.deepEqual(conflicts(cloudDir), [], "no conflict in the whole run");
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    if (failed) {
      for (const node of all) {
        console.error(`--- ${node.id} ---\n${node.log.slice(-80).join("\n")}`);
      }
    }
    await Promise.all(all.map(killNode));
    await inspect.end({ timeout: 1 }).catch(() => {});
    await Deno.remove(cloudDir, { recursive: true }).catch(() => {});
  }
});
