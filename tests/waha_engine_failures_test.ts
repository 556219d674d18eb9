/**
 * @module
 * The waha engine when WAHA fails: a WAHA answering 500 gives our 500 (its detail logged, not
 * shown), one that hangs gives 504 within `ENGINE_CALL_TIMEOUT_MS`, one that is down gives 409;
 * a session whose WAHA cannot be reached is restarted by the restart policy, then FAILED with
 * the reason. No answer names WAHA's address. A start body picks a WAHA server by name only.
 */
import assert from "node:assert/strict";
import { freePort, waitFor } from "./_helpers.ts";
import { linkWahaSession, startWahaGateway } from "./fake_waha/gateway.ts";
import { startFakeWaha } from "./fake_waha/server.ts";
import { WAHA_API_KEY } from "./fake_waha/gateway.ts";

const PHONE = "4915550022101";
const ALICE = "15550000001@c.us";

function assertNoAddress(body: unknown, url: string): void {
  const text = JSON.stringify(body);
  assert.ok(!text.includes(url) && !text.includes("127.0.0.1"), `${text} names an address`);
}

Deno.test("a WAHA answering 500, hanging, then down: 500, 504, 409", async (t) => {
  const gateway = await startWahaGateway();
  const { server, fake } = gateway;
  const sendText = () =>
    server.json("POST", `/${PHONE}/send-text`, { body: { chatId: ALICE, text: "Hi" } });
  try {
    await linkWahaSession(gateway, PHONE);

    await t.step("WAHA answers 500: our 500, naming nothing of WAHA", async () => {
      fake.failWith = 500;
      try {
        const answer = await sendText();
        assert.equal(answer.status, 500);
        assert.equal(answer.body.code, "INTERNAL_ERROR");
        assertNoAddress(answer.body, fake.url);
      } finally {
        fake.failWith = null;
      }
      assert.equal((await sendText()).status, 200, "answers again once WAHA does");
    });

    await t.step("WAHA hangs: 504, never a hang", async () => {
      fake.hang = true;
      try {
        const answer = await sendText();
        assert.equal(answer.status, 504);
        assert.equal(answer.body.code, "TIMEOUT");
        assertNoAddress(answer.body, fake.url);
      } finally {
        fake.hang = false;
      }
    });

    await t.step(
      "WAHA is down: 409, then FAILED with the reason once restarts give up",
      async () => {
        await fake.close();
        const answer = await sendText();
        // Down while the session still counts as WORKING: the engine cannot reach WAHA (409); or
        // the watch already reported it, and the session is not WORKING any more (409 too).
        assert.equal(answer.status, 409, JSON.stringify(answer.body));
        assert.equal(answer.body.code, "CLIENT_NOT_READY");
        assertNoAddress(answer.body, fake.url);
        const failed = await waitFor("the session to be FAILED", async () => {
          const { body } = await server.json("GET", `/${PHONE}/state`);
          return body.status === "FAILED" ? body : null;
        }, 30_000);
        assert.match(String(failed.reason), /WAHA/);
        assert.match(String(failed.reason), /crashed 2 times/);
        assertNoAddress(failed, fake.url);
      },
    );
  } finally {
    await gateway.close();
  }
});

Deno.test("a WAHA that is down at start: restarted, then FAILED with the reason", async () => {
  const down = `http://127.0.0.1:${freePort()}`;
  const gateway = await startWahaGateway({ WAHA_URL: down });
  try {
    const started = await gateway.server.json("POST", `/${PHONE}/start`);
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const failed = await waitFor("the session to be FAILED", async () => {
      const { body } = await gateway.server.json("GET", `/${PHONE}/state`);
      return body.status === "FAILED" ? body : null;
    }, 30_000);
    assert.match(String(failed.reason), /The WAHA session could not be started/);
    assert.match(String(failed.reason), /crashed 2 times/);
    assertNoAddress(failed, down);
    const send = await gateway.server.json("POST", `/${PHONE}/send-text`, {
      body: { chatId: ALICE, text: "Hi" },
    });
    assert.equal(send.status, 409);
  } finally {
    await gateway.close();
  }
});

Deno.test("a start picks a WAHA server of WAHA_URLS by name, never by URL", async () => {
  const second = startFakeWaha({ apiKey: WAHA_API_KEY });
  const gateway = await startWahaGateway({ WAHA_URLS: `second=${second.url}` });
  try {
    const unknown = await gateway.server.json("POST", `/${PHONE}/start`, {
      body: { wahaServer: "third" },
    });
    assert.equal(unknown.status, 400);
    const url = await gateway.server.json("POST", `/${PHONE}/start`, {
      body: { wahaServer: second.url },
    });
    assert.equal(url.status, 400);
    const simulator = await gateway.server.json("POST", `/${PHONE}/start`, {
      body: { engine: "simulator", wahaServer: "second" },
    });
    assert.equal(simulator.status, 400);
    const picked = await gateway.server.json("POST", `/${PHONE}/start`, {
      body: { wahaServer: "second" },
    });
    assert.equal(picked.status, 200, JSON.stringify(picked.body));
    await waitFor(
      "the second WAHA to wait for a scan",
      () => second.sessions.get(PHONE)?.status === "SCAN_QR_CODE",
    );
    assert.equal(gateway.fake.callsTo("/api/sessions", "POST").length, 0);
    await gateway.server.json("POST", `/${PHONE}/stop`);
  } finally {
    await gateway.close();
    await second.close();
  }
});
