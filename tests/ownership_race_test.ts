/**
 * @module
 * Ownership is checked where an action takes effect, not only when the request arrives: requests
 * whose bodies are held back while a number changes hands (a claim by another account, or the
 * admin's DELETE and a new claim) are refused with 403 when their bodies arrive, and change
 * nothing of the new owner's: webhooks, messages, profile. Real server, bodies trickled over TCP.
 */
import assert from "node:assert/strict";
import { ADMIN_KEY, startServerProcess, waitFor } from "./_helpers.ts";
import { openRawRequest, type RawRequest } from "./_raw_http.ts";

const NUMBER = "4915550008001";
const KEY_A = "account-a-key-0123456789abcdef";
const KEY_B = "account-b-key-0123456789abcdef";
const ENV = {
  API_KEYS: `${KEY_A}=org_a,${KEY_B}=org_b`,
  SIMULATOR_SCAN_MS: "0",
  WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
  BODY_TIMEOUT_MS: "60000",
};

// deno-lint-ignore no-explicit-any -- answers are read field by field in assertions
type Answer = { status: number; body: any };

/** A request whose body is sent but for its last byte, which `finish()` sends. */
async function heldRequest(
  port: number,
  method: string,
  path: string,
  key: string,
  body: unknown,
): Promise<{ request: RawRequest; finish(): Promise<Answer> }> {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  const request = await openRawRequest(port, method, `/api/whatsapp${path}`, {
    "X-Api-Key": key,
    "Content-Type": "application/json",
    "Content-Length": String(bytes.length),
  });
  await request.send(bytes.subarray(0, bytes.length - 1));
  return {
    request,
    async finish() {
      await request.send(bytes.subarray(bytes.length - 1));
      const response = await request.response();
      return { status: response.status, body: JSON.parse(response.body) };
    },
  };
}

async function as(
  base: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      "X-Api-Key": key,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

const connected = (base: string, key: string) =>
  waitFor("the session to be CONNECTED", async () => {
    const { body } = await as(base, key, "GET", `/${NUMBER}/state`);
    return body.state === "CONNECTED";
  });

Deno.test("an account's request for a number nobody started is 404 at once, before its body", async () => {
  const server = await startServerProcess(ENV);
  try {
    const request = await openRawRequest(
      server.port,
      "PUT",
      `/api/whatsapp/${NUMBER}/webhooks`,
      { "X-Api-Key": KEY_A, "Content-Type": "application/json", "Content-Length": "500" },
    );
    try {
      const response = await request.response(5_000);
      assert.equal(response.status, 404);
      assert.equal(JSON.parse(response.body).error, `Session "${NUMBER}" not found`);
    } finally {
      request.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("a start whose body arrives after another account claimed the number is 403", async () => {
  const server = await startServerProcess(ENV);
  try {
    const held = await heldRequest(server.port, "POST", `/${NUMBER}/start`, KEY_A, {
      engine: "simulator",
    });
    try {
      assert.equal((await as(server.base, KEY_A, "GET", "/sessions")).status, 200);
      assert.equal((await as(server.base, KEY_B, "POST", `/${NUMBER}/start`)).status, 200);
      await connected(server.base, KEY_B);
      const late = await held.finish();
      assert.equal(late.status, 403);
      assert.equal(late.body.error, `Session "${NUMBER}" belongs to another account`);
      const listA = await as(server.base, KEY_A, "GET", "/sessions");
      assert.deepEqual(listA.body.sessions, [], "A owns nothing");
      assert.equal(
        (await as(server.base, KEY_B, "GET", `/${NUMBER}/state`)).body.status,
        "WORKING",
      );
    } finally {
      held.request.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("requests held across the admin's DELETE and a new claim are 403 and change nothing of the new owner's", async () => {
  const received: string[] = [];
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    received.push(`${new URL(req.url).pathname} ${await req.text()}`);
    return new Response("ok");
  });
  const hook = (name: string) => `http://127.0.0.1:${receiver.addr.port}/${name}`;
  const server = await startServerProcess(ENV);
  const held: Awaited<ReturnType<typeof heldRequest>>[] = [];
  try {
    const started = await as(server.base, KEY_A, "POST", `/${NUMBER}/start`);
    assert.equal(started.status, 200, JSON.stringify(started.body));
    await connected(server.base, KEY_A);
    held.push(
      await heldRequest(server.port, "PUT", `/${NUMBER}/webhooks`, KEY_A, {
        webhooks: [{ url: hook("a"), events: ["*"] }],
      }),
      await heldRequest(server.port, "POST", `/${NUMBER}/send-text`, KEY_A, {
        chatId: "15550000001@c.us",
        text: "sent by the old owner",
      }),
      await heldRequest(server.port, "PUT", `/${NUMBER}/profile/name`, KEY_A, {
        name: "Old owner",
      }),
    );
    // A round trip on another connection: the server has taken in the held requests' headers
    // (their guards ran and let them through to wait for the rest of their bodies).
    assert.equal((await as(server.base, KEY_A, "GET", `/${NUMBER}/state`)).status, 200);

    const deleted = await fetch(`${server.base}/${NUMBER}`, {
      method: "DELETE",
      headers: { "X-Api-Key": ADMIN_KEY },
    });
    assert.equal(deleted.status, 200);
    await deleted.body?.cancel();
    assert.equal((await as(server.base, KEY_B, "POST", `/${NUMBER}/start`)).status, 200);
    await connected(server.base, KEY_B);
    const own = await as(server.base, KEY_B, "PUT", `/${NUMBER}/webhooks`, {
      webhooks: [{ url: hook("b"), events: ["message.any"] }],
    });
    assert.equal(own.status, 200);
    const profileBefore = (await as(server.base, KEY_B, "GET", `/${NUMBER}/profile`)).body;

    for (const request of held) {
      const late = await request.finish();
      assert.equal(late.status, 403, JSON.stringify(late.body));
      assert.equal(late.body.error, `Session "${NUMBER}" belongs to another account`);
    }

    const hooks = await as(server.base, KEY_B, "GET", `/${NUMBER}/webhooks`);
    assert.deepEqual(hooks.body.webhooks.map((h: { url: string }) => h.url), [hook("b")]);
    assert.deepEqual(
      (await as(server.base, KEY_B, "GET", `/${NUMBER}/profile`)).body,
      profileBefore,
    );
    const messages = await as(server.base, KEY_B, "GET", `/${NUMBER}/messages/15550000001@c.us`);
    assert.equal(messages.status, 200);
    assert.ok(
      !JSON.stringify(messages.body).includes("sent by the old owner"),
      "no message left the new owner's phone",
    );
    // The new owner's own send goes out and reaches its webhook: the receiver works.
    await as(server.base, KEY_B, "POST", `/${NUMBER}/send-text`, {
      chatId: "15550000001@c.us",
      text: "sent by the new owner",
    });
    await waitFor("the new owner's event", () => received.some((r) => r.includes("new owner")));
    assert.ok(!received.some((r) => r.startsWith("/a ")), "nothing reached the old owner's URL");
    assert.ok(!received.some((r) => r.includes("old owner")));
  } finally {
    for (const request of held) request.request.close();
    await server.stop();
    await receiver.shutdown();
  }
});
