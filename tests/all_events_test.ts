/**
 * @module
 * `GET /events`: every number the caller may see, in one stream, through HTTP. Two accounts never
 * see each other's events; a number claimed after the stream opened joins it and one that changes
 * hands leaves it; the admin sees every number; the stream resumes after `Last-Event-ID` across
 * numbers, and an id of a number the caller may not see is a gap, as an unknown one.
 */
import assert from "node:assert/strict";
import { delay } from "../events/test_receivers.ts";
import { startTestApp, type TestApp, waitForState } from "./_helpers.ts";
import { type SseMessage, sseReader } from "./_sse.ts";

const KEY_A = "account-a-key-0123456789abcdef";
const KEY_B = "account-b-key-0123456789abcdef";
const A1 = "4915550006001";
const A2 = "4915550006002";
const B1 = "4915550006101";
const as = (key: string) => ({ headers: { "X-Api-Key": key } });

const envelopeOf = (message: SseMessage) => JSON.parse(message.data);
/** The message whose payload's body is `text` (a `message.any` of a send). */
const sent = (text: string) => (message: SseMessage) =>
  message.event === "message.any" && envelopeOf(message).payload.body === text;

async function withAccounts(work: (server: TestApp) => Promise<void>) {
  const server = await startTestApp({
    API_KEYS: `${KEY_A}=org_a,${KEY_B}=org_b`,
    MAX_NUMBERS_PER_ACCOUNT: "3",
    SSE_HEARTBEAT_MS: "50",
  });
  try {
    await work(server);
  } finally {
    await server.close();
  }
}

async function startAs(server: TestApp, key: string, phoneNumber: string) {
  assert.equal((await server.json("POST", `/${phoneNumber}/start`, as(key))).status, 200);
  await waitForState(server, phoneNumber, "CONNECTED");
}

async function sendText(server: TestApp, key: string, phoneNumber: string, text: string) {
  const { status } = await server.json("POST", `/${phoneNumber}/send-text`, {
    ...as(key),
    body: { chatId: "15550000001@c.us", text },
  });
  assert.equal(status, 200);
}

Deno.test("GET /events streams every number an account owns and nothing of another account's", async () => {
  await withAccounts(async (server) => {
    const t0 = Date.now();
    await startAs(server, KEY_A, A1);
    await startAs(server, KEY_A, A2);
    await startAs(server, KEY_B, B1);
    const streamA = sseReader(await server.request("GET", `/events?since=${t0}`, as(KEY_A)));
    const admin = sseReader(await server.request("GET", `/events?since=${t0}`));
    try {
      await sendText(server, KEY_B, B1, "from b1");
      await sendText(server, KEY_A, A2, "from a2");
      await sendText(server, KEY_A, A1, "from a1");
      const seen = await streamA.until(sent("from a1"));
      assert.ok(seen.some(sent("from a2")), "both of its numbers, in one stream");
      const sessions = new Set(seen.map((m) => envelopeOf(m).session));
      assert.deepEqual([...sessions].sort(), [A1, A2], "none of account B's");
      assert.ok(seen.every((m) => m.id === envelopeOf(m).id));
      assert.ok(seen.some((m) => m.event === "session.status"), "the replay since t0 came first");

      const all = await admin.until(sent("from a1"));
      assert.ok(all.some(sent("from b1")), "the admin sees every number");
      assert.deepEqual(new Set(all.map((m) => envelopeOf(m).session)), new Set([A1, A2, B1]));
    } finally {
      await streamA.close();
      await admin.close();
    }
    const streamB = sseReader(await server.request("GET", `/events?since=${t0}`, as(KEY_B)));
    try {
      const seen = await streamB.until(sent("from b1"));
      assert.deepEqual(new Set(seen.map((m) => envelopeOf(m).session)), new Set([B1]));
    } finally {
      await streamB.close();
    }
  });
});

Deno.test("GET /events takes in a number the account claims after it opened, and lets go of one that changes hands", async () => {
  await withAccounts(async (server) => {
    await startAs(server, KEY_A, A1);
    const streamA = sseReader(await server.request("GET", "/events", as(KEY_A)));
    try {
      await startAs(server, KEY_A, A2);
      await sendText(server, KEY_A, A2, "claimed later");
      await streamA.until(sent("claimed later"));

      // A2 changes hands: the admin frees it, account B claims it and writes from it.
      assert.equal((await server.json("DELETE", `/${A2}`)).status, 200);
      await startAs(server, KEY_B, A2);
      await sendText(server, KEY_B, A2, "b's now");
      await sendText(server, KEY_A, A1, "a1 after");
      const seen = await streamA.until(sent("a1 after"));
      assert.ok(!seen.some(sent("b's now")), "nothing of the number once another owns it");
      const ids = seen.map((m) => m.id);
      assert.equal(new Set(ids).size, ids.length, "each event once");
    } finally {
      await streamA.close();
    }
  });
});

Deno.test("GET /events resumes after a Last-Event-ID of any of its numbers, and treats another account's id as a gap", async () => {
  await withAccounts(async (server) => {
    const t0 = Date.now();
    await startAs(server, KEY_A, A1);
    await startAs(server, KEY_A, A2);
    await startAs(server, KEY_B, B1);
    await sendText(server, KEY_A, A1, "one");
    await sendText(server, KEY_B, B1, "b");
    await sendText(server, KEY_A, A2, "two");
    await sendText(server, KEY_A, A1, "three");
    const first = sseReader(await server.request("GET", `/events?since=${t0}`, as(KEY_A)));
    const all = await first.until(sent("three")).finally(() => first.close());
    const one = all.findIndex(sent("one"));

    const resumed = sseReader(
      await server.request("GET", "/events", {
        headers: { ...as(KEY_A).headers, "Last-Event-ID": all[one].id! },
      }),
    );
    const later = delay(100).then(() => sendText(server, KEY_A, A2, "live"));
    try {
      const next = await resumed.until(sent("live"));
      await later;
      const upTo = next.findIndex(sent("three")) + 1;
      assert.deepEqual(
        next.slice(0, upTo).map((m) => m.id),
        all.slice(one + 1, all.findIndex(sent("three")) + 1).map((m) => m.id),
        "every later event of its numbers, in order, once",
      );
    } finally {
      await resumed.close();
    }

    const bAll = sseReader(await server.request("GET", `/events?since=${t0}`, as(KEY_B)));
    const bMessages = await bAll.until(sent("b")).finally(() => bAll.close());
    const foreign = bMessages.find(sent("b"))!.id!;
    const gapped = sseReader(
      await server.request("GET", `/events?lastEventId=${foreign}`, as(KEY_A)),
    );
    try {
      const [gap, ...rest] = await gapped.until(sent("three"));
      assert.equal(gap.event, "stream.gap");
      assert.match(envelopeOf(gap).payload.message, /is unknown or older/);
      assert.equal(gap.id, undefined);
      assert.ok(!rest.some(sent("b")), "then what is retained of its own numbers only");
      assert.ok(rest.some(sent("one")));
    } finally {
      await gapped.close();
    }
  });
});

Deno.test("GET /events ends with a retry: hint when the server closes its streams", async () => {
  await withAccounts(async (server) => {
    const response = await server.request("GET", "/events", as(KEY_A));
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = (await reader.read()).value ?? "";
    assert.match(text, /^: connected/);
    const deadline = setTimeout(() => reader.cancel(), 10_000);
    try {
      server.events.closeStreams();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        text += chunk.value;
      }
    } finally {
      clearTimeout(deadline);
    }
    assert.match(text, /\nretry: 1000\n\n$/);
    const anonymous = await server.request("GET", "/events", { anonymous: true });
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
  });
});
