/**
 * @module
 * A claimed number must be the phone that was scanned, seen through HTTP on the simulator: a link
 * by another number's phone is FAILED with a reason that says which number scanned, is logged out,
 * and leaks nothing (no WORKING, no message on a webhook or the stream, calls 409); the right
 * phone then links. An account's claim whose phone never links is released after `CLAIM_TTL_MS`
 * (linked numbers and the admin's are kept), and the clock survives a server restart.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startReceiver } from "../events/test_receivers.ts";
import { openSqliteStore } from "../store/sqlite/store.ts";
import {
  startServerProcess,
  startTestApp,
  type TestApp,
  waitFor,
  waitForState,
} from "./_helpers.ts";

const NUMBER = "4915550001234";
const OTHER = "4915550009999";
const KEY_A = "account-a-key-0123456789abcdef";
const KEY_B = "account-b-key-0123456789abcdef";
const A = { headers: { "X-Api-Key": KEY_A } };
const B = { headers: { "X-Api-Key": KEY_B } };
const ACCOUNTS = { API_KEYS: `${KEY_A}=org_a,${KEY_B}=org_b` };
const MESSAGE_EVENTS = new Set(["message", "message.any", "message.ack"]);

/** The server as account A sees it. */
const asA = (server: TestApp): Pick<TestApp, "json"> => ({
  json: (method, path, options) => server.json(method, path, { ...options, ...A }),
});

interface StreamedEvent {
  event: string;
  payload: Record<string, unknown>;
}

/** Reads the number's event stream (its stored events first: `since=0`) until `last` matches one. */
async function streamUntil(
  server: TestApp,
  phoneNumber: string,
  last: (event: StreamedEvent) => boolean,
): Promise<StreamedEvent[]> {
  const response = await server.request("GET", `/${phoneNumber}/events?since=0`, A);
  assert.equal(response.status, 200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const seen: StreamedEvent[] = [];
  const deadline = setTimeout(() => reader.cancel(), 10_000);
  let buffer = "";
  try {
    while (!seen.some(last)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`The stream ended first; saw ${JSON.stringify(seen)}`);
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const data = buffer.slice(0, end).split("\n").find((line) => line.startsWith("data: "));
        buffer = buffer.slice(end + 2);
        if (data) seen.push(JSON.parse(data.slice(6)));
      }
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => {});
  }
  return seen;
}

Deno.test("a number linked by another number's phone is FAILED saying which, logged out, leaks nothing, and the right phone then links", async (t) => {
  const receiver = startReceiver();
  const server = await startTestApp({
    ...ACCOUNTS,
    SIMULATOR_SCAN_MS: "50",
    WEBHOOK_URL: receiver.url,
  });
  const reason = `Linked as ${OTHER}, not ${NUMBER}: scan with the phone of ${NUMBER}`;
  const isFailed = (e: { event: string; payload: Record<string, unknown> }) =>
    e.event === "session.status" && e.payload.status === "FAILED";
  try {
    await t.step(
      "the start with another phone answers 200, then the session is FAILED",
      async () => {
        const started = await server.json("POST", `/${NUMBER}/start`, {
          ...A,
          body: { engine: "simulator", simulator: { linkAs: OTHER } },
        });
        assert.equal(started.status, 200);
        const state = await waitFor("FAILED", async () => {
          const { body } = await server.json("GET", `/${NUMBER}/state`, A);
          return body.status === "FAILED" ? body : null;
        });
        assert.deepEqual(state, {
          state: "DISCONNECTED",
          status: "FAILED",
          reason,
          engine: "simulator",
          me: null,
          proxy: null,
          calls: null,
        });
      },
    );

    await t.step(
      "the engine logged out: the phone's link and the session's data are gone",
      async () => {
        await waitFor(
          "the session folder to be deleted",
          () => !existsSync(join(server.dataDir, "sessions", NUMBER)),
        );
      },
    );

    await t.step(
      "calls answer 409, and the number stays the claimant's, not to be restarted",
      async () => {
        for (
          const [method, path, body] of [
            ["POST", "send-text", { chatId: "15550000000@c.us", text: "hi" }],
            ["GET", "chats", undefined],
            ["GET", "contacts", undefined],
          ] as const
        ) {
          const answer = await server.json(method, `/${NUMBER}/${path}`, { ...A, body });
          assert.equal(answer.status, 409, `${method} ${path}`);
          assert.equal(answer.body.code, "CLIENT_NOT_READY");
        }
        const record = await server.store.sessions.get(NUMBER);
        assert.equal(record?.ownerAccountId, "org_a");
        assert.equal(record?.shouldRun, false);
        assert.equal(record?.linkedAt, null, "the number's own phone never linked");
        await server.manager.restore();
        assert.equal((await server.manager.info(NUMBER)).status, "FAILED");
      },
    );

    await t.step("no WORKING and no message reached the webhook or the stream", async () => {
      // One destination gets its deliveries in order: the FAILED came after anything before it.
      await waitFor("the FAILED delivery", () => receiver.received.some((r) => isFailed(r.json)));
      const delivered = receiver.received.map((r) => r.json);
      const streamed = await streamUntil(server, NUMBER, isFailed);
      for (const events of [delivered, streamed]) {
        assert.deepEqual(
          events.filter((e) => e.event === "session.status").map((e) => e.payload.status),
          ["STARTING", "SCAN_QR_CODE", "FAILED"],
        );
        assert.deepEqual(events.filter((e) => MESSAGE_EVENTS.has(e.event)), []);
        assert.equal(events.find(isFailed)!.payload.reason ?? reason, reason);
      }
    });

    await t.step("a start with the right phone links, and its messages flow", async () => {
      const started = await server.json("POST", `/${NUMBER}/start`, A);
      assert.equal(started.status, 200);
      const state = await waitForState(asA(server), NUMBER, "CONNECTED");
      assert.deepEqual(state.me, { id: `${NUMBER}@c.us`, pushName: `Simulator ${NUMBER}` });
      assert.equal(typeof (await server.store.sessions.get(NUMBER))?.linkedAt, "number");
      const sent = await server.json("POST", `/${NUMBER}/send-text`, {
        ...A,
        body: { chatId: "15550000000@c.us", text: "ping" },
      });
      assert.equal(sent.status, 200);
      await waitFor(
        "the echo on the webhook",
        () =>
          receiver.received.find((r) =>
            r.json.event === "message" && r.json.payload.body === "echo: ping"
          ),
      );
    });
  } finally {
    await server.close();
    await receiver.close();
  }
});

Deno.test("the simulator's linkAs is refused for another engine with 400 naming the field, and is in the OpenAPI document", async () => {
  const server = await startTestApp();
  try {
    const refused = await server.json("POST", `/${NUMBER}/start`, {
      body: { engine: "wwebjs", simulator: { linkAs: OTHER } },
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.code, "BAD_REQUEST");
    assert.match(String(refused.body.error), /"simulator": only the simulator engine takes it/);
    const malformed = await server.json("POST", `/${NUMBER}/start`, {
      body: { engine: "simulator", simulator: { linkAs: "12ab" } },
    });
    assert.equal(malformed.status, 400);
    assert.match(String(malformed.body.error), /simulator\.linkAs/);
    const doc = await (await server.request("GET", "/swagger/json")).json();
    const start = doc.components.schemas.StartSession;
    assert.ok(start.properties.simulator.properties.linkAs, "linkAs is documented");
  } finally {
    await server.close();
  }
});

Deno.test("an account's claim whose phone never links is released after CLAIM_TTL_MS; a linked number and the admin's are kept", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-claim-ttl-" });
  const LINKED = "4915550002001";
  const ADMINS = "4915550002002";
  const SQUATTED = "4915550002003";
  try {
    await t.step("account A's number links (its first link is recorded)", async () => {
      const first = await startTestApp({ ...ACCOUNTS, DATA_DIR: dataDir, SIMULATOR_SCAN_MS: "0" });
      try {
        assert.equal((await first.json("POST", `/${LINKED}/start`, A)).status, 200);
        await waitForState(asA(first), LINKED, "CONNECTED");
      } finally {
        await first.close();
      }
    });

    // No simulated scan from here on: the numbers started now never link.
    const server = await startTestApp({
      ...ACCOUNTS,
      DATA_DIR: dataDir,
      SIMULATOR_SCAN_MS: "600000",
      CLAIM_TTL_MS: "300",
      MAX_NUMBERS_PER_ACCOUNT: "2",
      WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
      WEBHOOK_MAX_ATTEMPTS: "1",
    });
    try {
      await t.step("the admin and account B start numbers that never link", async () => {
        await server.manager.restore();
        await waitForState(asA(server), LINKED, "CONNECTED");
        assert.equal((await server.json("POST", `/${ADMINS}/start`)).status, 200);
        assert.equal((await server.json("POST", `/${SQUATTED}/start`, B)).status, 200);
        const hook = await server.json("PUT", `/${SQUATTED}/webhooks`, {
          ...B,
          body: { webhooks: [{ url: "http://127.0.0.1:9/b-hook", events: ["*"] }] },
        });
        assert.equal(hook.status, 200);
      });

      await t.step("B's claim is released: stopped, its record and data gone", async () => {
        await waitFor(
          "the release",
          async () => await server.store.sessions.get(SQUATTED) === null,
          10_000,
        );
        assert.ok(!existsSync(join(dataDir, "sessions", SQUATTED)));
        assert.equal((await server.json("GET", `/${SQUATTED}/state`)).status, 404);
      });

      await t.step("the linked number and the admin's, claimed before it, are kept", async () => {
        // Claims are released oldest first: had these been due, they would have gone first.
        assert.equal((await server.json("GET", `/${LINKED}/state`, A)).body.status, "WORKING");
        assert.equal((await server.json("GET", `/${ADMINS}/state`)).body.status, "SCAN_QR_CODE");
        assert.equal((await server.store.sessions.get(ADMINS))?.ownerAccountId, null);
      });

      await t.step(
        "another account can start the freed number, and finds none of B's webhooks",
        async () => {
          assert.equal((await server.json("POST", `/${SQUATTED}/start`, A)).status, 200);
          assert.equal((await server.store.sessions.get(SQUATTED))?.ownerAccountId, "org_a");
          const hooks = await server.json("GET", `/${SQUATTED}/webhooks`, A);
          assert.deepEqual(hooks.body.webhooks, []);
        },
      );
    } finally {
      await server.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a claim's clock survives a server restart: released by its age, not by the restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-claim-restart-" });
  const KEPT = "4915550002004";
  const env = {
    ...ACCOUNTS,
    DATA_DIR: dataDir,
    SIMULATOR_SCAN_MS: "600000",
    MAX_NUMBERS_PER_ACCOUNT: "2",
  };
  const as = (server: { base: string }, key: string) => (method: string, path: string) =>
    fetch(`${server.base}${path}`, { method, headers: { "X-Api-Key": key } }).then(
      async (response) => ({ status: response.status, body: await response.json() }),
    );
  try {
    const first = await startServerProcess(env);
    try {
      assert.equal((await as(first, KEY_A)("POST", `/${NUMBER}/start`)).status, 200);
      assert.equal((await as(first, KEY_B)("POST", `/${KEPT}/start`)).status, 200);
    } finally {
      assert.equal(await first.stop("SIGTERM"), 0);
    }
    // An hour passes while the server is down, for A's claim (the default TTL is 10 minutes).
    const store = openSqliteStore(dataDir);
    store.db.prepare("UPDATE sessions SET created_at = created_at - 3600000 WHERE phone_number = ?")
      .run(NUMBER);
    await store.close();

    const second = await startServerProcess(env);
    try {
      const b = as(second, KEY_B);
      await waitFor(
        "B to be able to start A's expired claim",
        async () => {
          const { status } = await b("POST", `/${NUMBER}/start`);
          return status === 200;
        },
        15_000,
        200,
      );
      const kept = await b("GET", `/${KEPT}/state`);
      assert.equal(kept.status, 200, "B's own younger claim is kept");
      const taken = await as(second, KEY_A)("GET", `/${NUMBER}/state`);
      assert.equal(taken.status, 403, "the number is B's now");
    } finally {
      assert.equal(await second.stop("SIGTERM"), 0);
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
