/**
 * @module
 * Isolation is the point of a Worker per session, so it is tested: a session whose Worker crashes
 * or exits fails only its own calls (at once, with 409), comes back on its own, and no other
 * session or request notices. A call that never returns answers 504 after the deadline.
 */
import assert from "node:assert/strict";
import { startTestApp, waitFor, waitForState } from "./_helpers.ts";

const CRASHER = "4915550002001";
const EXITER = "4915550002002";
const STEADY = "4915550002003";

Deno.test("a crashed and an exited session recover on their own while 50 sends on a third all succeed", async () => {
  const server = await startTestApp({ SIMULATOR_SCAN_MS: "0", ENGINE_CALL_TIMEOUT_MS: "20000" });
  try {
    for (const phone of [CRASHER, EXITER, STEADY]) {
      assert.equal((await server.json("POST", `/${phone}/start`)).status, 200);
    }
    for (const phone of [CRASHER, EXITER, STEADY]) await waitForState(server, phone, "CONNECTED");

    const send = (phone: string, text: string) =>
      server.json("POST", `/${phone}/send-text`, { body: { chatId: "15550000001@c.us", text } });

    // A call left pending inside the crasher: it must fail when the Worker dies, not hang.
    const hung = send(CRASHER, "/simulate hang");
    await new Promise((resolve) => setTimeout(resolve, 50));

    const started = Date.now();
    const crash = send(CRASHER, "/simulate crash").then((r) => ({
      ...r,
      ms: Date.now() - started,
    }));
    const exit = send(EXITER, "/simulate exit").then((r) => ({ ...r, ms: Date.now() - started }));
    const steady = Array.from({ length: 50 }, (_, i) => send(STEADY, `message ${i}`));

    const crashed = await crash;
    assert.equal(crashed.status, 409);
    assert.equal(crashed.body.code, "CLIENT_NOT_READY");
    assert.ok(crashed.ms < 2_000, `the crashed call failed after ${crashed.ms} ms`);
    const during = await server.json("GET", `/${CRASHER}/state`);
    assert.equal(during.body.state, "AUTHENTICATING");
    assert.match(String(during.body.reason), /crash/i);
    assert.equal((await send(CRASHER, "while down")).status, 409);
    assert.equal((await hung).status, 409, "the call pending in the crashed Worker fails too");

    const results = await Promise.all(steady);
    assert.deepEqual(results.map((r) => r.status), Array(50).fill(200));
    assert.equal(new Set(results.map((r) => r.body.messageId)).size, 50);

    const exited = await exit;
    assert.equal(exited.status, 409);
    // Found dead by its heartbeat (whose deadline stretches on a loaded machine), not left to the
    // call's own 20 s timeout.
    assert.ok(exited.ms < 12_000, `the exited call failed after ${exited.ms} ms`);

    await waitForState(server, CRASHER, "CONNECTED", 8_000);
    await waitForState(server, EXITER, "CONNECTED", 8_000);
    assert.equal((await server.json("GET", `/${STEADY}/state`)).body.state, "CONNECTED");
    assert.equal((await send(CRASHER, "back again")).status, 200);
    assert.equal((await send(EXITER, "back again")).status, 200);
  } finally {
    await server.close();
  }
});

Deno.test("a call that never returns answers 504 after ENGINE_CALL_TIMEOUT_MS and the session keeps working", async () => {
  const server = await startTestApp({ SIMULATOR_SCAN_MS: "0", ENGINE_CALL_TIMEOUT_MS: "400" });
  try {
    await server.json("POST", `/${STEADY}/start`);
    await waitForState(server, STEADY, "CONNECTED");
    const started = Date.now();
    const { status, body } = await server.json("POST", `/${STEADY}/send-text`, {
      body: { chatId: "15550000001@c.us", text: "/simulate hang" },
    });
    assert.equal(status, 504);
    assert.equal(body.code, "TIMEOUT");
    assert.ok(Date.now() - started >= 400);
    const after = await server.json("POST", `/${STEADY}/send-text`, {
      body: { chatId: "15550000001@c.us", text: "still here" },
    });
    assert.equal(after.status, 200);
  } finally {
    await server.close();
  }
});

Deno.test("a session that keeps timing out is treated as wedged and restarted", async () => {
  const server = await startTestApp({ SIMULATOR_SCAN_MS: "0", ENGINE_CALL_TIMEOUT_MS: "200" });
  try {
    await server.json("POST", `/${STEADY}/start`);
    await waitForState(server, STEADY, "CONNECTED");
    for (let i = 0; i < 3; i++) {
      const { status } = await server.json("POST", `/${STEADY}/send-text`, {
        body: { chatId: "15550000001@c.us", text: "/simulate hang" },
      });
      assert.equal(status, 504);
    }
    const state = await server.json("GET", `/${STEADY}/state`);
    assert.equal(state.body.status, "STARTING");
    assert.match(String(state.body.reason), /timed out/);
    await waitForState(server, STEADY, "CONNECTED", 5_000);
  } finally {
    await server.close();
  }
});

Deno.test("a session that crashes five times in ten minutes stays FAILED until started again", async () => {
  const server = await startTestApp({
    SIMULATOR_SCAN_MS: "0",
    RESTART_BACKOFF_MIN_MS: "20",
    RESTART_MAX_CRASHES: "3",
  });
  try {
    await server.json("POST", `/${CRASHER}/start`);
    for (let crash = 1; crash <= 3; crash++) {
      await waitForState(server, CRASHER, "CONNECTED");
      await server.json("POST", `/${CRASHER}/send-text`, {
        body: { chatId: "15550000001@c.us", text: "/simulate crash" },
      });
    }
    const failed = await waitFor("FAILED", async () => {
      const { body } = await server.json("GET", `/${CRASHER}/state`);
      return body.status === "FAILED" ? body : null;
    });
    assert.equal(failed.state, "DISCONNECTED");
    assert.match(String(failed.reason), /crashed 3 times/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await server.json("GET", `/${CRASHER}/state`)).body.status, "FAILED");
    assert.equal((await server.json("POST", `/${CRASHER}/start`)).status, 200);
    await waitForState(server, CRASHER, "CONNECTED");
  } finally {
    await server.close();
  }
});
