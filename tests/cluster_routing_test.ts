/**
 * @module
 * Routing between the nodes of a cluster, through real servers on 127.0.0.1 sharing a real
 * PostgreSQL: two session nodes (`main.ts` processes), an edge started with exactly
 * `--allow-net --allow-env --allow-read`, and, where the test must see what an owner receives and
 * when, an owner played by an in-process server. A request for a number goes to the node that owns
 * it, body and answer streamed; hop headers count only when signed; loops stop; a dead owner is a
 * bounded answer that names no address; auth is checked where the request arrives and again where
 * it is served; `X-Served-By` names the node that served.
 *
 * The two session nodes hold their numbers' leases themselves (a pinned start); owners that are not
 * real nodes (the in-process one, a loop, dead ones) are written into the tables (`own`), with
 * numbers that should not run, so no real node takes or releases them.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { createHopSigner } from "../cluster/signing.ts";
import {
  ADMIN_KEY,
  AUTH_ENCRYPTION_KEY,
  freePort,
  type ServerProcess,
  startServerProcess,
  waitFor,
} from "./_helpers.ts";
import { startPostgres } from "./_postgres.ts";
import { openRawRequest } from "./_raw_http.ts";

const SECRET = "cluster-secret-0123456789abcdef";
const KEY_A = "account-a-key-0123456789abcdef";
/** Known to node 2 only: node 1 must refuse it when it serves a request node 2 let through. */
const KEY_X = "account-x-key-0123456789abcdef";
const CALL_TIMEOUT_MS = 2_000;

const P1 = "4915550008001"; // runs on node 1
const P2 = "4915550008002"; // runs on node 2
const P_FAKE = "4915550008003"; // owned by the in-process owner
const P_LOOP = "4915550008004"; // owned by a node whose URL is node 1's own
const P_X = "4915550008005"; // account x's, owned by node 1
const P_REFUSED = "4915550008006";
const P_RESET = "4915550008007";
const P_FROZEN = "4915550008008";

type Sql = postgres.Sql<Record<string, unknown>>;

/** Registers a node as alive (for ten minutes of the database's clock) at `url`. */
async function registerNode(sql: Sql, id: string, url: string, role = "worker") {
  await sql`
    INSERT INTO nodes (id, url, role, capacity, sessions, started_at, heartbeat_at, live_until)
    VALUES (${id}, ${url}, ${role}, 50, 0, wa_now_ms(), wa_now_ms(), wa_now_ms() + 600000)
    ON CONFLICT (id) DO UPDATE SET url = excluded.url, live_until = excluded.live_until
  `;
}

/** Gives `phone` (created if missing) a live lease held by `nodeId`. */
async function own(sql: Sql, phone: string, nodeId: string, ownerAccountId: string | null = null) {
  await sql`
    INSERT INTO sessions (phone_number, engine, should_run, owner_account_id, created_at,
      updated_at)
    VALUES (${phone}, 'simulator', false, ${ownerAccountId}, wa_now_ms(), wa_now_ms())
    ON CONFLICT (phone_number) DO NOTHING
  `;
  await sql`
    UPDATE sessions SET node_id = ${nodeId}, epoch = epoch + 1, lease_until = wa_now_ms() + 600000
    WHERE phone_number = ${phone}
  `;
}

/** Resolves with `promise`, or fails after `ms` saying what it waited for. */
function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => resolve = r);
  return { promise, resolve };
}

/** The edge, as an operator would run it: only network, environment and reading files. */
async function startEdge(env: Record<string, string>): Promise<ServerProcess> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      new URL("../main.ts", import.meta.url).pathname,
    ],
    env: { PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Collected for the failure message: an edge that needs more permissions says so on stderr.
  let stderr = "";
  const collecting = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (text) => void (stderr += text) }),
  ).catch(() => {});
  const base = `http://127.0.0.1:${port}/api/whatsapp`;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  try {
    await waitFor("the edge to answer", async () => {
      const exited = await Promise.race([child.status, Promise.resolve(null)]);
      if (exited) throw new Error(`the edge exited: ${stderr}`);
      return (await call("GET", "/health").catch(() => null))?.status === 200;
    }, 30_000);
  } catch (error) {
    child.kill("SIGKILL");
    await child.status;
    await collecting;
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return {
    child,
    port,
    base,
    call,
    async stop(signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
      const { code } = await child.status;
      await collecting;
      return code;
    },
  };
}

interface Received {
  hop: Awaited<ReturnType<ReturnType<typeof createHopSigner>["verify"]>>;
  apiKey: string | null;
  path: string;
}

Deno.test("requests for a number are routed to the node that owns it", async (t) => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase();
  const ports = [freePort(), freePort()];
  const common = {
    DATABASE_URL: url,
    CLUSTER_SECRET: SECRET,
    AUTH_ENCRYPTION_KEY,
    ENGINE_CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS),
    // The nodes' numbers have nowhere real to go when the test stops them (the other nodes here
    // are played): a short drain.
    DRAIN_TIMEOUT_MS: "3000",
  };
  const node1 = await startServerProcess({
    ...common,
    NODE_ID: "node-1",
    NODE_URL: `http://127.0.0.1:${ports[0]}`,
    API_KEYS: `${KEY_A}=acct-a`,
  }, { port: ports[0] });
  const node2 = await startServerProcess({
    ...common,
    NODE_ID: "node-2",
    NODE_URL: `http://127.0.0.1:${ports[1]}`,
    API_KEYS: `${KEY_A}=acct-a,${KEY_X}=acct-x`,
  }, { port: ports[1] });
  const sql = postgres(url, { max: 2, onnotice: () => {} }) as unknown as Sql;

  // The owner the tests watch: what it received, and when.
  const received: Received[] = [];
  const ownerVerifier = createHopSigner(SECRET, "fake-owner");
  let onRequest: (request: Request) => Promise<Response> = () =>
    Promise.resolve(Response.json({ fake: true }));
  const fakePort = freePort();
  const fake = Deno.serve({ hostname: "127.0.0.1", port: fakePort, onListen() {} }, async (req) => {
    received.push({
      hop: await ownerVerifier.verify(req),
      apiKey: req.headers.get("x-api-key"),
      path: new URL(req.url).pathname,
    });
    return await onRequest(req);
  });

  // Owners that cannot answer: nothing listening, a connection closed at once, one never answered.
  const refusedPort = freePort();
  const resetter = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const resetting = (async () => {
    for await (const conn of resetter) conn.close();
  })().catch(() => {});
  const freezer = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const frozen: Deno.Conn[] = [];
  const freezing = (async () => {
    for await (const conn of freezer) frozen.push(conn);
  })().catch(() => {});

  try {
    await registerNode(sql, "fake-owner", `http://127.0.0.1:${fakePort}`);
    await registerNode(sql, "ghost", node1.base.replace("/api/whatsapp", ""));
    await registerNode(sql, "refusing", `http://127.0.0.1:${refusedPort}`);
    await registerNode(
      sql,
      "resetting",
      `http://127.0.0.1:${(resetter.addr as Deno.NetAddr).port}`,
    );
    await registerNode(sql, "frozen", `http://127.0.0.1:${(freezer.addr as Deno.NetAddr).port}`);

    // Each number started on its node, pinned there by the admin (the node takes its lease).
    for (const [node, phone, id] of [[node1, P1, "node-1"], [node2, P2, "node-2"]] as const) {
      assert.equal((await node.call("POST", `/${phone}/start`, { node: id })).status, 200);
      await waitFor(
        `${phone} to be CONNECTED`,
        async () => (await node.call("GET", `/${phone}/state`)).body?.state === "CONNECTED",
      );
    }
    // Account x's number, run by node 1.
    assert.equal((await node1.call("POST", `/${P_X}/start`, { node: "node-1" })).status, 200);
    await sql`UPDATE sessions SET owner_account_id = 'acct-x' WHERE phone_number = ${P_X}`;
    await own(sql, P_FAKE, "fake-owner");
    await own(sql, P_LOOP, "ghost");
    await own(sql, P_REFUSED, "refusing");
    await own(sql, P_RESET, "resetting");
    await own(sql, P_FROZEN, "frozen");

    await t.step("a number's request at either node is served by its owner", async () => {
      for (const node of [node1, node2]) {
        const response = await fetch(`${node.base}/${P1}/state`, {
          headers: { "X-Api-Key": ADMIN_KEY },
        });
        assert.equal(response.status, 200);
        assert.equal(response.headers.get("X-Served-By"), "node-1");
        assert.equal((await response.json()).state, "CONNECTED");
      }
      const send = await fetch(`${node1.base}/${P2}/send-text`, {
        method: "POST",
        headers: { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json" },
        body: JSON.stringify({ chatId: "15550000001@c.us", text: "through node 1" }),
      });
      assert.equal(send.status, 200, await send.clone().text());
      assert.equal(send.headers.get("X-Served-By"), "node-2");
      assert.ok((await send.json()).messageId);
    });

    await t.step(
      "a forwarded body read to its end leaves the client's connection open",
      async () => {
        const body = JSON.stringify({ chatId: "15550000001@c.us", text: "kept alive" });
        const raw = await openRawRequest(node1.port, "POST", `/api/whatsapp/${P2}/send-text`, {
          "X-Api-Key": ADMIN_KEY,
          "Content-Type": "application/json",
          "Content-Length": String(body.length),
        });
        try {
          await raw.send(body);
          const response = await raw.response(10_000);
          assert.equal(response.status, 200, response.body);
          assert.equal(response.headers.get("x-served-by"), "node-2");
          assert.notEqual(response.headers.get("connection"), "close");
        } finally {
          raw.close();
        }
      },
    );

    await t.step("every answer names the node that served it, errors included", async () => {
      const missing = await fetch(`${node2.base}/no-such-route`);
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get("X-Served-By"), "node-2");
      await missing.body?.cancel();
      const health = await fetch(`${node1.base}/health`);
      assert.equal(health.headers.get("X-Served-By"), "node-1");
      await health.body?.cancel();
    });

    await t.step(
      "the request body and the answer stream through, neither read whole first",
      async () => {
        const ownerGotFirstChunk = deferred();
        const clientGotFirstEvent = deferred();
        const bodySeen = deferred<string>();
        onRequest = async (req) => {
          const reader = req.body!.pipeThrough(new TextDecoderStream()).getReader();
          let text = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            text += value;
            ownerGotFirstChunk.resolve();
          }
          bodySeen.resolve(text);
          const encoder = new TextEncoder();
          return new Response(
            new ReadableStream({
              async start(controller) {
                controller.enqueue(encoder.encode("event: one\ndata: 1\n\n"));
                await within(clientGotFirstEvent.promise, "the client to get the first event");
                controller.enqueue(encoder.encode("event: two\ndata: 2\n\n"));
                controller.close();
              },
            }),
            { headers: { "Content-Type": "text/event-stream" } },
          );
        };
        const encoder = new TextEncoder();
        const body = new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(encoder.encode('{"chatId":"15550000001@c.us",'));
            // Only once the owner has the first half: a node that read the body first never sends it.
            await within(ownerGotFirstChunk.promise, "the owner to get the first half of the body");
            controller.enqueue(encoder.encode('"text":"streamed"}'));
            controller.close();
          },
        });
        const response = await within(
          fetch(`${node2.base}/${P_FAKE}/send-text`, {
            method: "POST",
            headers: { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json" },
            body,
            duplex: "half",
          } as RequestInit),
          "the answer's head",
        );
        assert.equal(response.status, 200);
        assert.equal(response.headers.get("content-type"), "text/event-stream");
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        let text = "";
        while (!text.includes("data: 1")) text += (await within(reader.read(), "event one")).value;
        clientGotFirstEvent.resolve();
        for (;;) {
          const { value, done } = await within(reader.read(), "the rest of the answer");
          if (done) break;
          text += value;
        }
        assert.match(text, /event: one\ndata: 1\n\nevent: two\ndata: 2\n\n/);
        assert.equal(await bodySeen.promise, '{"chatId":"15550000001@c.us","text":"streamed"}');
        const last = received.at(-1)!;
        assert.equal(last.path, `/api/whatsapp/${P_FAKE}/send-text`);
        assert.equal(last.apiKey, ADMIN_KEY, "the client's credential goes with it");
        assert.deepEqual(last.hop, { from: "node-2", hops: 1, clientIp: "127.0.0.1" });
      },
    );

    await t.step(
      "a client that leaves a stream through another node ends it at the owner",
      async () => {
        const ownerStreamEnded = deferred();
        onRequest = () =>
          Promise.resolve(
            new Response(
              new ReadableStream({
                start(controller) {
                  controller.enqueue(new TextEncoder().encode("event: hello\ndata: 1\n\n"));
                },
                cancel: () => ownerStreamEnded.resolve(),
              }),
              { headers: { "Content-Type": "text/event-stream" } },
            ),
          );
        const response = await fetch(`${node2.base}/${P_FAKE}/events`, {
          headers: { "X-Api-Key": ADMIN_KEY },
        });
        assert.equal(response.status, 200);
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        let text = "";
        while (!text.includes("data: 1")) {
          text += (await within(reader.read(), "the first event")).value;
        }
        await reader.cancel();
        await within(ownerStreamEnded.promise, "the owner's stream to be cancelled");
      },
    );

    onRequest = () => Promise.resolve(Response.json({ fake: true }));

    await t.step(
      "hop headers a client forges are ignored and replaced by signed ones",
      async () => {
        const forged = createHopSigner("not-the-cluster-secret-0123456789", "node-2");
        const headers = await forged.sign("GET", `/api/whatsapp/${P_FAKE}/state`, {
          hops: 3,
          clientIp: "203.0.113.9",
        });
        const response = await fetch(`${node1.base}/${P_FAKE}/state`, {
          headers: { ...headers, "X-Api-Key": ADMIN_KEY },
        });
        assert.equal(response.status, 200);
        assert.deepEqual(await response.json(), { fake: true });
        // Forwarded as the client's first hop, from the address node 1 saw, signed by node 1.
        assert.deepEqual(received.at(-1)!.hop, { from: "node-1", hops: 1, clientIp: "127.0.0.1" });
      },
    );

    await t.step("a stale signature counts for nothing, a fresh one for its hops", async () => {
      const path = `/api/whatsapp/${P_FAKE}/state`;
      const stale = createHopSigner(SECRET, "node-2", { now: () => Date.now() - 10 * 60_000 });
      const staleHeaders = await stale.sign("GET", path, { hops: 3, clientIp: null });
      const forwarded = await fetch(`${node1.base}/${P_FAKE}/state`, {
        headers: { ...staleHeaders, "X-Api-Key": ADMIN_KEY },
      });
      // The fake owner sets no X-Served-By: the node that forwarded names it.
      assert.equal(forwarded.headers.get("X-Served-By"), "fake-owner");
      assert.deepEqual(await forwarded.json(), { fake: true });

      // Signed with the cluster's secret at 3 hops: node 1 forwards it no further.
      const before = received.length;
      const fresh = createHopSigner(SECRET, "node-2");
      const freshHeaders = await fresh.sign("GET", path, { hops: 3, clientIp: null });
      const served = await fetch(`${node1.base}/${P_FAKE}/state`, {
        headers: { ...freshHeaders, "X-Api-Key": ADMIN_KEY },
      });
      assert.equal(served.headers.get("X-Served-By"), "node-1");
      assert.equal(received.length, before);
      await served.body?.cancel();
    });

    await t.step("a request that keeps coming back stops after a few hops", async () => {
      // `ghost` owns the number and its URL is node 1's: node 1 forwards to itself.
      const response = await within(
        fetch(`${node1.base}/${P_LOOP}/state`, { headers: { "X-Api-Key": ADMIN_KEY } }),
        "the looping request's answer",
      );
      assert.equal(response.headers.get("X-Served-By"), "node-1");
      assert.equal(response.status, 200);
      assert.equal((await response.json()).status, "STOPPED");
    });

    await t.step("a bad credential is refused where it arrives, nothing forwarded", async () => {
      const before = received.length;
      const response = await fetch(`${node2.base}/${P_FAKE}/send-text`, {
        method: "POST",
        headers: {
          "X-Api-Key": "wrong-key-0123456789abcdefghij",
          "Content-Type": "application/json",
        },
        body: JSON.stringify({ chatId: "15550000001@c.us", text: "no" }),
      });
      assert.equal(response.status, 401);
      assert.equal(response.headers.get("X-Served-By"), "node-2");
      await response.body?.cancel();
      const foreign = await fetch(`${node2.base}/${P_FAKE}/state`, {
        headers: { "X-Api-Key": KEY_A },
      });
      assert.equal(foreign.status, 403, "account a does not own the number");
      await foreign.body?.cancel();
      assert.equal(received.length, before);
    });

    await t.step("the owner authenticates a forwarded request again", async () => {
      // Node 2 knows account x's key and lets it through; node 1, the owner, does not know it.
      const response = await fetch(`${node2.base}/${P_X}/state`, {
        headers: { "X-Api-Key": KEY_X },
      });
      assert.equal(response.status, 401);
      assert.equal(response.headers.get("X-Served-By"), "node-1");
      await response.body?.cancel();
    });

    await t.step(
      "an owner that refuses or resets the connection is a 409, no address in it",
      async () => {
        for (const phone of [P_REFUSED, P_RESET]) {
          const response = await within(
            fetch(`${node2.base}/${phone}/state`, { headers: { "X-Api-Key": ADMIN_KEY } }),
            `the answer for ${phone}`,
          );
          const body = await response.json();
          assert.equal(response.status, 409, JSON.stringify(body));
          assert.equal(body.code, "CLIENT_NOT_READY");
          assert.equal(response.headers.get("X-Served-By"), "node-2");
          assert.doesNotMatch(body.error, /127\.0\.0\.1|http:|refusing|resetting/);
          assert.ok(!body.error.includes(String(refusedPort)));
          assert.ok(body.error.includes(phone));
        }
      },
    );

    await t.step("an owner that never answers is a 504 within the call timeout", async () => {
      const response = await within(
        fetch(`${node2.base}/${P_FROZEN}/send-text`, {
          method: "POST",
          headers: { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json" },
          body: JSON.stringify({ chatId: "15550000001@c.us", text: "into the void" }),
        }),
        "the frozen owner's answer",
        CALL_TIMEOUT_MS + 20_000,
      );
      const body = await response.json();
      assert.equal(response.status, 504, JSON.stringify(body));
      assert.equal(body.code, "TIMEOUT");
      assert.doesNotMatch(body.error, /127\.0\.0\.1|http:|frozen/);
    });

    await t.step("an inbound webhook is routed by the number in its body", async () => {
      const response = await fetch(`${node2.base}/webhook/message`, {
        method: "POST",
        headers: { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json" },
        body: JSON.stringify({
          event: "message",
          session: P1,
          payload: {
            id: "waha-msg-1",
            timestamp: 1764086400,
            from: "15550000001@c.us",
            fromMe: false,
          },
        }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal(response.headers.get("X-Served-By"), "node-1");
      assert.equal((await response.json()).success, true);
    });

    await t.step("a WAHA session.status is routed by the number in its body too", async () => {
      const response = await fetch(`${node2.base}/webhook/state-change`, {
        method: "POST",
        headers: { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json" },
        body: JSON.stringify({
          event: "session.status",
          session: P1,
          payload: { status: "WORKING" },
        }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal(response.headers.get("X-Served-By"), "node-1");
      assert.equal((await response.json()).success, true);
    });

    await t.step("a number's event stream is passed through from its owner", async () => {
      const response = await fetch(`${node1.base}/${P2}/events?since=0`, {
        headers: { "X-Api-Key": ADMIN_KEY },
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "text/event-stream");
      assert.equal(response.headers.get("X-Served-By"), "node-2");
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (!text.includes("through node 1")) {
        text += (await within(reader.read(), "the sent message's event")).value;
      }
      await reader.cancel();
    });

    await t.step("an edge with only net, env and read serves what needs no session", async () => {
      const edge = await startEdge({
        NODE_ROLE: "edge",
        NODE_ID: "edge-1",
        DATABASE_URL: url,
        CLUSTER_SECRET: SECRET,
        API_KEY: ADMIN_KEY,
        ENGINE_CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS),
      });
      try {
        const health = await fetch(`${edge.base}/health`);
        assert.equal(health.status, 200);
        assert.equal(health.headers.get("X-Served-By"), "edge-1");
        // Ready, and its own: the session counts it asks the nodes for are bounded (a frozen
        // node here), the list below waits for them.
        const healthBody = await health.json();
        assert.deepEqual([healthBody.ready, healthBody.node], [true, "edge-1"]);

        const list = await fetch(`${edge.base}/sessions`, { headers: { "X-Api-Key": ADMIN_KEY } });
        assert.equal(list.headers.get("X-Served-By"), "edge-1");
        const { sessions } = await list.json() as {
          sessions: { phoneNumber: string; status: string }[];
        };
        const statusOf = (phone: string) => sessions.find((s) => s.phoneNumber === phone)?.status;
        assert.equal(statusOf(P1), "WORKING");
        assert.equal(statusOf(P2), "WORKING");

        const swagger = await fetch(`${edge.base}/swagger`);
        assert.equal(swagger.status, 200);
        assert.match(await swagger.text(), /swagger/i);
        const spec = await fetch(`${edge.base}/swagger/json`);
        assert.equal(spec.status, 200);
        assert.ok((await spec.json()).paths);

        for (const [phone, owner] of [[P1, "node-1"], [P2, "node-2"]]) {
          const send = await fetch(`${edge.base}/${phone}/send-text`, {
            method: "POST",
            headers: { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json" },
            body: JSON.stringify({ chatId: "15550000001@c.us", text: "through the edge" }),
          });
          assert.equal(send.status, 200, await send.clone().text());
          assert.equal(send.headers.get("X-Served-By"), owner);
          await send.body?.cancel();
        }

        // The stream is the edge's own, read from the shared table: the send above is in it.
        const stream = await fetch(`${edge.base}/${P2}/events?since=0`, {
          headers: { "X-Api-Key": ADMIN_KEY },
        });
        assert.equal(stream.status, 200);
        assert.equal(stream.headers.get("X-Served-By"), "edge-1");
        const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
        let text = "";
        while (!text.includes("through the edge")) {
          text += (await within(reader.read(), "the edge's replayed event")).value;
        }
        await reader.cancel();

        const refused = await fetch(`${edge.base}/${P1}/state`, {
          headers: { "X-Api-Key": "wrong-key-0123456789abcdefghij" },
        });
        assert.equal(refused.status, 401);
        assert.equal(refused.headers.get("X-Served-By"), "edge-1");
        await refused.body?.cancel();
      } finally {
        assert.equal(await edge.stop(), 0);
      }
    });
  } finally {
    for (const conn of frozen) conn.close();
    resetter.close();
    freezer.close();
    await Promise.all([resetting, freezing]);
    await fake.shutdown();
    await sql.end({ timeout: 1 });
    await Promise.all([node1.stop(), node2.stop()]);
  }
});
