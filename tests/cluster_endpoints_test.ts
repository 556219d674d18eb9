/**
 * @module
 * The test 2, with real `main.ts` processes on one real PostgreSQL (all on 127.0.0.1):
 * three nodes, twelve simulator numbers started through one node spread over the three, and every
 * `GET` route of a number in the OpenAPI document answers the same through each node, served by
 * the node that runs the number (`X-Served-By`).
 */
import assert from "node:assert/strict";
import { type ClusterNode, killNode, startNode, waitAllWorking } from "./_cluster.ts";
import { startPostgres } from "./_postgres.ts";

const TTL = 3_000;
const numbers = Array.from({ length: 12 }, (_, i) => `4915550019${String(i + 1).padStart(2, "0")}`);
const API = "/api/whatsapp";

/** Values for a route's path parameters, from the simulator's seed. */
const KNOWN: Record<string, string> = {
  phone: "15550000001",
  chatId: "15550000001@c.us",
  contactId: "15550000001@c.us",
  groupId: "120363000000000001@g.us",
  labelId: "1",
  channelId: "120363000000000101@newsletter",
};

/** An answer as a client compares it: status, who served it, and the body's bytes. */
async function fetchVia(node: ClusterNode, path: string) {
  const response = await fetch(`${node.base}${path}`, {
    headers: { "X-Api-Key": "test-admin-key-0123456789abcdef" },
    signal: AbortSignal.timeout(10_000),
  });
  const body = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    servedBy: response.headers.get("x-served-by"),
    body: new TextDecoder().decode(body),
  };
}

Deno.test("three nodes: numbers started through one spread over all, and every GET route of a number answers the same through each node, served by its owner", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase();
  const cloudDir = await Deno.makeTempDir({ prefix: "wa-gateway-cloud-" });
  const options = { databaseUrl: url, cloudDir, ttlMs: TTL, env: { DRAIN_TIMEOUT_MS: "5000" } };
  const nodes: ClusterNode[] = [];
  try {
    for (const id of ["node-1", "node-2", "node-3"]) nodes.push(await startNode(id, options));
    for (const phoneNumber of numbers) {
      const started = await nodes[0].call("POST", `/${phoneNumber}/start`);
      assert.equal(started.status, 200, JSON.stringify(started.body));
    }
    const placement = await waitAllWorking(nodes, numbers, 30_000);
    const perNode = new Map<string, number>();
    for (const owner of placement.values()) perNode.set(owner, (perNode.get(owner) ?? 0) + 1);
    assert.deepEqual(
      [...perNode.keys()].sort(),
      ["node-1", "node-2", "node-3"],
      "every node runs some",
    );

    const spec = await nodes[1].call("GET", "/swagger/json");
    const routes = Object.entries(spec.body!.paths as Record<string, Record<string, unknown>>)
      .filter(([path, ops]) => ops.get && path.startsWith(`${API}/{phoneNumber}/`))
      // A stream never ends: the routing test reads one through another node.
      .map(([path]) => path.slice(API.length)).filter((path) => !path.endsWith("/events"));
    const tested = new Set<string>();
    for (const phoneNumber of numbers.slice(0, 4)) {
      const owner = placement.get(phoneNumber)!;
      const ownerNode = nodes.find((node) => node.id === owner)!;
      // A message of the number's, for the routes that name one.
      const messages = await fetchVia(ownerNode, `/${phoneNumber}/messages/${KNOWN.chatId}`);
      const messageId = (JSON.parse(messages.body).messages as { id: string }[])[0]?.id;
      const lids = JSON.parse((await fetchVia(ownerNode, `/${phoneNumber}/lids`)).body);
      const lid = (lids.lids ?? lids)[0]?.lid as string | undefined;
      const values: Record<string, string | undefined> = { ...KNOWN, phoneNumber, messageId, lid };
      for (const route of routes) {
        const names = [...route.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        const missing = names.filter((name) => values[name] === undefined);
        assert.deepEqual(missing, [], `${route}: a value for each parameter`);
        const path = route.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(values[name]!));
        const answers = await Promise.all(nodes.map((node) => fetchVia(node, path)));
        for (const [i, answer] of answers.entries()) {
          assert.equal(
            answer.servedBy,
            owner,
            `${path} through ${nodes[i].id}: served by ${owner}`,
          );
          assert.deepEqual(
            [answer.status, answer.body],
            [answers[0].status, answers[0].body],
            `${path} through ${nodes[i].id} answers as through ${nodes[0].id}`,
          );
        }
        tested.add(route);
      }
    }
    // Every one: the seed and the owner's own answers name every parameter.
    assert.deepEqual([...tested].sort(), [...routes].sort());
    assert.ok(routes.length >= 15, `the document lists ${routes.length} GET routes of a number`);
  } finally {
    await Promise.all(nodes.map(killNode));
    await Deno.remove(cloudDir, { recursive: true }).catch(() => {});
  }
});
