/**
 * @module
 * The session lifecycle through HTTP on the simulator engine: start → QR → CONNECTED → stop →
 * DISCONNECTED, and the contract's answers for bad numbers, missing credentials, unknown sessions
 * and sessions that are not connected yet.
 */
import assert from "node:assert/strict";
import { startTestApp, waitForState } from "./_helpers.ts";
import { decodeQrDataUrl } from "./qr_decode.ts";

const PHONE = "4915550001001";

Deno.test("a simulator session goes start → QR → CONNECTED → stop → DISCONNECTED", async (t) => {
  const server = await startTestApp({ SIMULATOR_SCAN_MS: "700" });
  try {
    await t.step("start answers success and the session authenticates", async () => {
      const { status, body } = await server.json("POST", `/${PHONE}/start`);
      assert.equal(status, 200);
      assert.equal(body.success, true);
      assert.match(String(body.message), /starting/);
    });

    await t.step("the QR is a PNG data URL holding a WhatsApp link string", async () => {
      const { status, body } = await server.json<{ qrCode: string }>("GET", `/${PHONE}/qr`);
      assert.equal(status, 200);
      assert.match(decodeQrDataUrl(body.qrCode), /^2@sim[0-9A-F]+,/);
      const state = await server.json("GET", `/${PHONE}/state`);
      assert.equal(state.body.state, "AUTHENTICATING");
      assert.equal(state.body.status, "SCAN_QR_CODE");
    });

    await t.step("sending while it waits for its QR is 409 CLIENT_NOT_READY", async () => {
      const { status, body } = await server.json("POST", `/${PHONE}/send-text`, {
        body: { chatId: "15550000001@c.us", text: "too early" },
      });
      assert.equal(status, 409);
      assert.deepEqual(Object.keys(body).sort(), ["code", "error", "statusCode"]);
      assert.equal(body.code, "CLIENT_NOT_READY");
      assert.equal(body.statusCode, 409);
    });

    await t.step("after the scan the session is CONNECTED and can send", async () => {
      const state = await waitForState(server, PHONE, "CONNECTED");
      assert.equal(state.status, "WORKING");
      assert.deepEqual(state.me, { id: `${PHONE}@c.us`, pushName: `Simulator ${PHONE}` });
      const { status, body } = await server.json("POST", `/${PHONE}/send-text`, {
        body: { chatId: "15550000001", text: "hello" },
      });
      assert.equal(status, 200);
      assert.match(String(body.messageId), /^true_15550000001@c\.us_/);
      assert.equal(typeof body.timestamp, "number");
    });

    await t.step("a connected session has no QR and no pairing code: 409 saying so", async () => {
      const qr = await server.json("GET", `/${PHONE}/qr`);
      assert.equal(qr.status, 409);
      assert.equal(qr.body.error, `Session "${PHONE}" is already connected: no QR to scan`);
      const pairing = await server.json("POST", `/${PHONE}/pairing-code`);
      assert.equal(pairing.status, 409);
      assert.equal(
        pairing.body.error,
        `Session "${PHONE}" is already connected: no pairing code needed`,
      );
    });

    await t.step("starting it again is a success that says so", async () => {
      const { status, body } = await server.json("POST", `/${PHONE}/start`);
      assert.equal(status, 200);
      assert.match(String(body.message), /already started/);
    });

    await t.step("the session is listed with its status", async () => {
      const { body } = await server.json<{ sessions: Record<string, unknown>[] }>(
        "GET",
        "/sessions",
      );
      assert.deepEqual(body.sessions.map((s) => [s.phoneNumber, s.state]), [[PHONE, "CONNECTED"]]);
    });

    await t.step("stop disconnects it and later calls are 409", async () => {
      const { status, body } = await server.json("POST", `/${PHONE}/stop`);
      assert.equal(status, 200);
      assert.match(String(body.message), /stopped/);
      const state = await server.json("GET", `/${PHONE}/state`);
      assert.equal(state.body.state, "DISCONNECTED");
      assert.equal(state.body.status, "STOPPED");
      const send = await server.json("POST", `/${PHONE}/send-text`, {
        body: { chatId: "15550000001@c.us", text: "after stop" },
      });
      assert.equal(send.status, 409);
    });

    await t.step("a restart after stop comes back without a new scan", async () => {
      const { status } = await server.json("POST", `/${PHONE}/restart`);
      assert.equal(status, 200);
      await waitForState(server, PHONE, "CONNECTED", 3_000);
    });
  } finally {
    await server.close();
  }
});

Deno.test("every route refuses a malformed phone number with 400 naming the field", async () => {
  const server = await startTestApp();
  try {
    const doc = await (await server.request("GET", "/swagger/json")).json();
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      // The contract's routes; WAHA's dialect has its own suite (waha_dialect_*_test.ts).
      .filter(([path]) => path.startsWith("/api/whatsapp/") && path.includes("{phoneNumber}"))
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method, path })));
    assert.ok(routes.length >= 8, `found ${routes.length} routes with a phone number`);
    for (const bad of ["12ab", "123", "1234567890123456", "..%2F..%2Fetc"]) {
      for (const { method, path } of routes) {
        const url = path.replace("/api/whatsapp", "").replaceAll(
          /\{(\w+)\}/g,
          (_, name) => name === "phoneNumber" ? bad : name === "chatId" ? "15550000001@c.us" : "x",
        );
        const response = await server.request(method.toUpperCase(), url, { body: {} });
        const body = await response.json();
        assert.equal(response.status, 400, `${method} ${url}`);
        assert.equal(body.code, "BAD_REQUEST");
        assert.match(body.error, /phoneNumber/, `${method} ${url}`);
      }
    }
  } finally {
    await server.close();
  }
});

Deno.test("every route but health and the docs answers 401 without a key", async () => {
  const server = await startTestApp();
  try {
    const doc = await (await server.request("GET", "/swagger/json")).json();
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths as Record<string, object>)) {
      // The contract's routes; WAHA's dialect has its own suite (waha_dialect_*_test.ts).
      if (!path.startsWith("/api/whatsapp/")) continue;
      for (const method of Object.keys(ops)) {
        const url = path.replace("/api/whatsapp", "").replaceAll(
          /\{(\w+)\}/g,
          (_, name) => name === "phoneNumber" ? "4915550001001" : "15550000001@c.us",
        );
        const open = url === "/health";
        for (const headers of [{}, { "X-Api-Key": "wrong-key" }] as Record<string, string>[]) {
          const response = await server.request(method.toUpperCase(), url, {
            anonymous: true,
            headers,
            body: {},
          });
          const body = await response.json();
          if (open) {
            assert.equal(response.status, 200);
          } else {
            assert.equal(response.status, 401, `${method} ${url}`);
            assert.deepEqual(body, {
              error: body.error,
              code: "UNAUTHORIZED",
              statusCode: 401,
            });
            checked++;
          }
        }
      }
    }
    assert.ok(checked >= 16);
    const ui = await server.request("GET", "/swagger", { anonymous: true });
    assert.equal(ui.status, 200);
    await ui.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("an unknown session is 404 on state, qr, stop, restart and send-text", async () => {
  const server = await startTestApp();
  try {
    for (
      const [method, path] of [
        ["GET", "/4915550009999/state"],
        ["GET", "/4915550009999/qr"],
        ["POST", "/4915550009999/stop"],
        ["POST", "/4915550009999/restart"],
        ["POST", "/4915550009999/send-text"],
      ]
    ) {
      const { status, body } = await server.json(method, path, {
        body: { chatId: "15550000001@c.us", text: "x" },
      });
      assert.equal(status, 404, `${method} ${path}`);
      assert.equal(body.code, "NOT_FOUND");
      assert.match(String(body.error), /4915550009999/);
    }
  } finally {
    await server.close();
  }
});

Deno.test("validation errors name the body field; unknown routes and huge bodies follow the error shape", async () => {
  const server = await startTestApp({ BODY_MAX_BYTES: "1000" });
  try {
    await server.json("POST", `/${PHONE}/start`);
    await waitForState(server, PHONE, "CONNECTED");
    const missing = await server.json("POST", `/${PHONE}/send-text`, {
      body: { chatId: "15550000001@c.us" },
    });
    assert.equal(missing.status, 400);
    assert.match(String(missing.body.error), /body field "text"/);
    const badJid = await server.json("POST", `/${PHONE}/send-text`, {
      body: { chatId: "not a jid", text: "x" },
    });
    assert.equal(badJid.status, 400);
    assert.match(String(badJid.body.error), /chatId/);
    const notJson = await server.json("POST", `/${PHONE}/send-text`, { body: "{not json" });
    assert.equal(notJson.status, 400);
    const unknown = await server.json("GET", "/no/such/route");
    assert.deepEqual(unknown.body, {
      error: "No route for GET /api/whatsapp/no/such/route",
      code: "NOT_FOUND",
      statusCode: 404,
    });
    // BODY_MAX_BYTES bounds the routes that take media; the others take 1 MiB at most.
    const hugeMedia = await server.json("POST", `/${PHONE}/send-image`, {
      body: { chatId: "15550000001@c.us", imageUrl: "A".repeat(5000) },
    });
    assert.equal(hugeMedia.status, 413);
    assert.equal(hugeMedia.body.code, "PAYLOAD_TOO_LARGE");
    const text = await server.json("POST", `/${PHONE}/send-text`, {
      body: { chatId: "15550000001@c.us", text: "x".repeat(5000) },
    });
    assert.equal(text.status, 200, "a text is not held to the media limit");
  } finally {
    await server.close();
  }
});

Deno.test("a pairing code asked for right after start waits for the engine to load, then is issued", async () => {
  const server = await startTestApp({ SIMULATOR_SCAN_MS: "60000" });
  try {
    await server.json("POST", `/${PHONE}/start`);
    // The Worker is still importing its engine: the call waits for it instead of failing.
    const { status, body } = await server.json("POST", `/${PHONE}/pairing-code`);
    assert.equal(status, 200, JSON.stringify(body));
    assert.match(String(body.code), /^[A-Z0-9]{8}$/);
  } finally {
    await server.close();
  }
});

Deno.test("health is open and counts sessions by status", async () => {
  const server = await startTestApp();
  try {
    await server.json("POST", `/${PHONE}/start`);
    await waitForState(server, PHONE, "CONNECTED");
    const { status, body } = await server.json<Record<string, unknown>>("GET", "/health", {
      anonymous: true,
    });
    assert.equal(status, 200);
    assert.equal(body.status, "ok");
    assert.equal((body.sessions as Record<string, number>).WORKING, 1);
  } finally {
    await server.close();
  }
});
