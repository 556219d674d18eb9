import assert from "node:assert/strict";
import { Hono } from "hono";
import { createErrorHandler } from "../errors.ts";
import { createLogger } from "../logger.ts";
import type { AppEnv } from "../middleware/principal.ts";
import { createForwarder, type ForwarderOptions } from "./forward.ts";
import { createHopSigner } from "./signing.ts";

const SECRET = "cluster-secret-0123456789abcdef";
const PHONE = "4915550009001";

/** A node's app with one number route behind the forwarder; counts what it served itself. */
function nodeApp(options: Partial<ForwarderOptions>) {
  const log = createLogger("silent");
  const forwarder = createForwarder({
    nodeId: "node-1",
    locate: () => Promise.resolve(null),
    hostsSessions: true,
    signer: createHopSigner(SECRET, "node-1"),
    timeoutMs: 1_000,
    bodyTimeoutMs: 1_000,
    log,
    ...options,
  });
  let servedHere = 0;
  const app = new Hono<AppEnv>();
  app.onError(createErrorHandler(log));
  app.use("*", forwarder.verifyHops);
  app.get("/api/whatsapp/:phoneNumber/state", forwarder.byPath, (c) => {
    servedHere++;
    return c.json({ here: true }, 200);
  });
  return { app, served: () => servedHere };
}

Deno.test("createForwarder() serves a number this node holds without asking who owns it", async () => {
  let asked = 0;
  const node = nodeApp({
    holds: (phone) => phone === PHONE,
    locate: () => {
      asked++;
      return Promise.resolve({ nodeId: "node-2", url: "http://127.0.0.1:9", epoch: 1 });
    },
  });
  const response = await node.app.request(`/api/whatsapp/${PHONE}/state`);
  assert.equal(response.status, 200);
  assert.equal(node.served(), 1);
  assert.equal(asked, 0);
});

Deno.test("createForwarder() on an edge answers 409 for a number no node can serve", async () => {
  const node = nodeApp({ hostsSessions: false, pickNode: () => Promise.resolve(null) });
  const response = await node.app.request(`/api/whatsapp/${PHONE}/state`);
  assert.equal(response.status, 409);
  assert.equal((await response.json()).code, "CLIENT_NOT_READY");
  assert.equal(node.served(), 0);
});

Deno.test("createForwarder() on an edge stops a request that was forwarded too often", async () => {
  let fetched = 0;
  const node = nodeApp({
    hostsSessions: false,
    locate: () => Promise.resolve({ nodeId: "node-2", url: "http://127.0.0.1:9", epoch: 1 }),
    fetch: () => {
      fetched++;
      return Promise.resolve(Response.json({ there: true }));
    },
  });
  const path = `/api/whatsapp/${PHONE}/state`;
  const once = await node.app.request(path);
  assert.deepEqual(await once.json(), { there: true }, "a client's request is forwarded");
  const headers = await createHopSigner(SECRET, "node-2").sign("GET", path, {
    hops: 3,
    clientIp: null,
  });
  const response = await node.app.request(path, { headers });
  assert.equal(response.status, 409);
  assert.equal(node.served(), 0);
  assert.equal(fetched, 1, "the one at its last hop is not");
});
