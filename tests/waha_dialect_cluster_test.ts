/**
 * @module
 * WAHA's chatting routes name their number in the body (`POST /api/sendText` with `session`), not
 * in the path: in a cluster, a node that does not own the number reads that field (after
 * authenticating, within the body limit) and forwards the request to the owner. Two real nodes on
 * a PostgreSQL of the test's own; the request goes to the one that does not run the number.
 */
import assert from "node:assert/strict";
import { WahaErrorBody } from "../waha/dialect.ts";
import { WAMessage } from "../waha/schemas.ts";
import { ADMIN_KEY, waitFor } from "./_helpers.ts";
import { type ClusterNode, killNode, startNode } from "./_cluster.ts";
import { startPostgres } from "./_postgres.ts";

const PHONE = "4915550003101";
const ALICE = "15550000001@c.us";

Deno.test("POST /api/sendText at a node that does not own the session is served by its owner", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase();
  const cloudDir = await Deno.makeTempDir({ prefix: "wa-gateway-cloud-" });
  const options = { databaseUrl: url, cloudDir, ttlMs: 5_000 };
  const nodes: ClusterNode[] = [];
  let failed = true;
  try {
    nodes.push(await startNode("node-1", options));
    nodes.push(await startNode("node-2", options));
    const [owner, other] = nodes;
    assert.equal((await owner.call("POST", `/${PHONE}/start`, { node: "node-1" })).status, 200);
    await waitFor(
      `${PHONE} to be connected on node-1`,
      async () => (await owner.call("GET", `/${PHONE}/state`)).body?.state === "CONNECTED",
    );

    const send = (node: ClusterNode, body: unknown) =>
      fetch(`http://127.0.0.1:${node.port}/api/sendText`, {
        method: "POST",
        headers: { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });

    const response = await send(other, { session: PHONE, chatId: ALICE, text: "via node-2" });
    const text = await response.text();
    assert.equal(response.status, 201, text);
    assert.equal(response.headers.get("X-Served-By"), "node-1", "the owner served it");
    const message = WAMessage.parse(JSON.parse(text));
    assert.equal(message.body, "via node-2");

    // It is in the owner's chat, read through the other node.
    const { status, body } = await other.call("GET", `/${PHONE}/messages/${ALICE}?limit=20`);
    assert.equal(status, 200);
    const messages = (body as { messages: { id: string; body: string }[] }).messages;
    assert.ok(messages.some((m) => m.id === message.id && m.body === "via node-2"));

    // No key: refused where it arrived, before its body is read or forwarded.
    const anonymous = await fetch(`http://127.0.0.1:${other.port}/api/sendText`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session: PHONE, chatId: ALICE, text: "no key" }),
    });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get("X-Served-By"), "node-2");
    WahaErrorBody.parse(await anonymous.json());

    // A session nobody runs: WAHA's 404, in its shape.
    const unknown = await send(other, { session: "4915550003199", chatId: ALICE, text: "?" });
    assert.equal(unknown.status, 404);
    WahaErrorBody.parse(await unknown.json());
    failed = false;
  } finally {
    if (failed) {
      for (const node of nodes) {
        console.error(`--- ${node.id} ---\n${node.log.slice(-60).join("\n")}`);
      }
    }
    await Promise.all(nodes.map(killNode));
    await Deno.remove(cloudDir, { recursive: true }).catch(() => {});
  }
});
