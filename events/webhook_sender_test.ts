/**
 * @module
 * The sender Worker (`createWorkerSender`) against real receivers on 127.0.0.1: what it answers,
 * how an abort reaches the POST in the Worker, and that a failed Worker costs only the posts in
 * flight. (The dispatcher's own tests run their POST cases through it too.)
 */
import assert from "node:assert/strict";
import { createLogger } from "../logger.ts";
import { delay, startReceiver, verifyHmac } from "./test_receivers.ts";
import { createWorkerSender, type WebhookPost } from "./webhook_sender.ts";

const log = createLogger("silent");

function postTo(url: string, body: string, extra: Partial<WebhookPost> = {}): WebhookPost {
  return {
    url,
    body,
    headers: [["Content-Type", "application/json"], ["X-Webhook-Request-Id", "req_1_1"]],
    secret: null,
    addresses: null,
    ...extra,
  };
}

Deno.test("the sender Worker posts the body signed and answers with the status and Retry-After", async () => {
  const receiver = startReceiver((attempt) =>
    attempt === 1
      ? new Response("ok", { status: 202 })
      : new Response("later", { status: 429, headers: { "Retry-After": "7" } })
  );
  const sender = createWorkerSender({ log });
  try {
    const body = JSON.stringify({ event: "message", payload: { body: "hé" } });
    const signal = new AbortController().signal;
    const first = await sender.post(postTo(receiver.url, body, { secret: "s3cret" }), signal);
    assert.deepEqual(first, { status: 202, retryAfter: null });
    const [arrived] = receiver.received;
    assert.equal(arrived.body, body);
    assert.equal(arrived.headers.get("content-type"), "application/json");
    assert.equal(arrived.headers.get("x-webhook-request-id"), "req_1_1");
    assert.equal(arrived.headers.get("x-webhook-hmac-algorithm"), "sha512");
    assert.ok(await verifyHmac("s3cret", body, arrived.headers.get("x-webhook-hmac")!));
    const second = await sender.post(postTo(receiver.url, body), signal);
    assert.deepEqual(second, { status: 429, retryAfter: "7" });
  } finally {
    sender.close();
    await receiver.close();
  }
});

Deno.test("the sender Worker sends the posts of one turn together and answers each its own", async () => {
  let inFlight = 0;
  let most = 0;
  const receiver = startReceiver(async (_attempt, received) => {
    most = Math.max(most, ++inFlight);
    await delay(30);
    inFlight--;
    return new Response(null, { status: 200 + Number(received.json.id) });
  });
  const sender = createWorkerSender({ log });
  try {
    const signal = new AbortController().signal;
    const answers = await Promise.all(
      Array.from(
        { length: 5 },
        (_, i) => sender.post(postTo(receiver.url, JSON.stringify({ id: String(i) })), signal),
      ),
    );
    assert.deepEqual(answers.map((a) => a.status), [200, 201, 202, 203, 204]);
    assert.ok(most > 1, `the posts went one at a time (${most} at most in flight)`);
  } finally {
    sender.close();
    await receiver.close();
  }
});

Deno.test("the sender Worker rejects a post to a closed port with the network error", async () => {
  const receiver = startReceiver();
  const url = receiver.url;
  await receiver.close();
  const sender = createWorkerSender({ log });
  try {
    const error = await sender.post(postTo(url, "{}"), new AbortController().signal).then(
      () => null,
      (error: Error) => error,
    );
    assert.ok(error instanceof Error, "the post to a closed port did not fail");
    assert.equal(error.name, "TypeError");
    assert.match(error.message, /fetch failed|error sending request/);
  } finally {
    sender.close();
  }
});

Deno.test("an aborted post rejects at once with the signal's reason and its request is cut off in the Worker", async () => {
  let closedByClient = false;
  const arrived = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    arrived.resolve();
    // Answers only once the client is gone (then nobody reads it).
    return new Promise<Response>((resolve) =>
      request.signal.addEventListener("abort", () => {
        closedByClient = true;
        resolve(new Response(null));
      })
    );
  });
  const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}/hook`;
  const sender = createWorkerSender({ log });
  try {
    const controller = new AbortController();
    const posting = sender.post(postTo(url, "{}"), controller.signal);
    await arrived.promise;
    const reason = new Error("time is up");
    controller.abort(reason);
    await assert.rejects(posting, (error) => error === reason);
    const deadline = Date.now() + 5_000;
    while (!closedByClient && Date.now() < deadline) await delay(10);
    assert.ok(closedByClient, "the Worker kept the request open after its abort");
  } finally {
    sender.close();
    await server.shutdown().catch(() => {});
  }
});

Deno.test("a sender Worker that fails fails the posts in flight, and the next post gets a new Worker", async () => {
  // A stand-in for a Worker that dies: it throws for a post to a URL naming "crash", and answers
  // 200 to any other.
  const script = `self.onmessage = (event) => {
    if (event.data.some((m) => m.request?.url.includes("crash"))) throw new Error("boom");
    self.postMessage(event.data.map((m) => ({ id: m.id, answer: { status: 200, retryAfter: null } })));
  };`;
  const url = new URL(URL.createObjectURL(new Blob([script], { type: "text/javascript" })));
  const errors: string[] = [];
  const sender = createWorkerSender({
    log: { ...log, error: (message: string) => errors.push(message) },
    url,
  });
  try {
    const signal = new AbortController().signal;
    assert.equal((await sender.post(postTo("http://one.test/", "{}"), signal)).status, 200);
    await assert.rejects(
      sender.post(postTo("http://crash.test/", "{}"), signal),
      /The webhook sender stopped/,
    );
    assert.equal(errors.length, 1);
    assert.equal((await sender.post(postTo("http://two.test/", "{}"), signal)).status, 200);
  } finally {
    sender.close();
    URL.revokeObjectURL(url.href);
  }
});

Deno.test("closing the sender rejects the posts in flight and any later post", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) =>
    // Answers only once the client is gone (then nobody reads it).
    new Promise<Response>((resolve) =>
      request.signal.addEventListener("abort", () => resolve(new Response(null)))
    ));
  const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}/hook`;
  const sender = createWorkerSender({ log });
  try {
    const posting = sender.post(postTo(url, "{}"), new AbortController().signal);
    await delay(50);
    sender.close();
    await assert.rejects(posting, /closed/);
    await assert.rejects(sender.post(postTo(url, "{}"), new AbortController().signal), /closed/);
  } finally {
    await server.shutdown().catch(() => {});
  }
});
