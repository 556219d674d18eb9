/**
 * @module
 * The testing kit (`mod.ts`) through HTTP, as a bot's test uses it: the gateway it starts answers on
 * loopback with its key and is gone after `await using`, its settings reach the server by their
 * variable names, and `nextMessageTo` hands out each message sent through the API once, in order,
 * and gives up after its timeout.
 */
import assert from "node:assert/strict";
import { startReceiver } from "./events/test_receivers.ts";
import { startGateway } from "./mod.ts";
import { waitFor } from "./tests/_helpers.ts";

const PHONE = "4915550006001";
const CAROL = "15550000003@c.us";

Deno.test("startGateway() answers on 127.0.0.1 with its key, and await using closes it and its DATA_DIR", async () => {
  let url: string, dataDir: string;
  {
    await using gateway = await startGateway();
    ({ url, dataDir } = gateway);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/api\/whatsapp$/);
    assert.ok(gateway.apiKey.length >= 24);
    const health = await gateway.request("GET", "/health");
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const anonymous = await fetch(`${url}/sessions`);
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
    assert.ok((await Deno.stat(dataDir)).isDirectory);
  }
  await assert.rejects(fetch(`${url}/health`), TypeError, "nothing listens any more");
  await assert.rejects(Deno.stat(dataDir), Deno.errors.NotFound);
});

Deno.test("startGateway() takes any setting by its variable name", async () => {
  const hooks = startReceiver();
  try {
    await using gateway = await startGateway({
      API_KEY: "kit-test-key-0123456789abcdef",
      WEBHOOK_URL: hooks.url,
    });
    assert.equal(gateway.apiKey, "kit-test-key-0123456789abcdef");
    await gateway.linkPhone(PHONE);
    await waitFor(
      "the session's WORKING at the operator's webhook",
      () =>
        hooks.received.find((r) =>
          r.json.event === "session.status" && r.json.payload.status === "WORKING"
        ),
      5_000,
    );
  } finally {
    await hooks.close();
  }
});

Deno.test("startGateway() refuses a bad setting naming the variable", async () => {
  await assert.rejects(
    startGateway({ ENGINE_CALL_TIMEOUT_MS: "soon" }),
    /^ConfigError: Invalid ENGINE_CALL_TIMEOUT_MS: /,
  );
});

Deno.test("nextMessageTo() returns each message the API sent to the chat once, oldest first, then times out", async () => {
  await using gateway = await startGateway();
  const phone = await gateway.linkPhone(PHONE);
  for (const text of ["first", "second"]) {
    const sent = await gateway.request("POST", `/${PHONE}/send-text`, { chatId: CAROL, text });
    assert.equal(sent.status, 200);
    await sent.body?.cancel();
  }
  // A contact's message in between is not the bot's.
  await phone.write({ chatId: CAROL, text: "not from the bot" });

  assert.equal((await phone.nextMessageTo(CAROL)).body, "first");
  assert.equal((await phone.nextMessageTo("+1 555 000 0003")).body, "second");
  await assert.rejects(
    phone.nextMessageTo(CAROL, { timeoutMs: 200 }),
    /^Error: Timed out after 200 ms waiting for a message to "15550000003@c.us" sent through the API$/,
  );
});

Deno.test("nextMessageTo() waits for a message sent after it was called", async () => {
  await using gateway = await startGateway();
  const phone = await gateway.linkPhone(PHONE);
  const next = phone.nextMessageTo(CAROL, { timeoutMs: 10_000 });
  const sent = await gateway.request("POST", `/${PHONE}/send-text`, {
    chatId: CAROL,
    text: "late",
  });
  await sent.body?.cancel();
  assert.equal((await next).body, "late");
});

Deno.test("simulate() drives the rest of the control API and rejects with the API's answer", async () => {
  const hooks = startReceiver();
  try {
    await using gateway = await startGateway({ WEBHOOK_URL: hooks.url });
    const phone = await gateway.linkPhone(PHONE);
    const messageId = await phone.write({ chatId: CAROL, text: "react to me" });
    await phone.simulate("reactions", { messageId, emoji: "👍" });
    await waitFor(
      "the reaction at the webhook",
      () => hooks.received.find((r) => r.json.event === "message.reaction"),
      5_000,
    );
    await assert.rejects(
      phone.simulate("acks", { messageId, ack: "read" }),
      /^Error: POST \/4915550006001\/simulator\/acks answered 400: Only the phone's own messages/,
    );
  } finally {
    await hooks.close();
  }
});
