import assert from "node:assert/strict";
import * as Comlink from "comlink";
import { batchedEndpoint, type MessageTarget } from "./batched_endpoint.ts";

/** A MessagePort that counts the `postMessage` calls that reach it (real cloning, real delivery). */
function countingPort(port: MessagePort): MessageTarget & { posts: unknown[][] } {
  const posts: unknown[][] = [];
  return {
    posts,
    postMessage(message, transfer) {
      port.postMessage(message, transfer);
      posts.push(message as unknown[]);
    },
    addEventListener: (type, listener) => port.addEventListener(type, listener),
    removeEventListener: (type, listener) => port.removeEventListener(type, listener),
  };
}

function pair(options: Parameters<typeof batchedEndpoint>[1] = {}) {
  const channel = new MessageChannel();
  const left = countingPort(channel.port1);
  const right = countingPort(channel.port2);
  const sender = batchedEndpoint(left, options);
  const receiver = batchedEndpoint(right);
  channel.port1.start();
  channel.port2.start();
  const received: unknown[] = [];
  receiver.addEventListener(
    "message",
    ((event: MessageEvent) => {
      received.push(event.data);
    }) as EventListener,
  );
  return {
    left,
    sender,
    received,
    close() {
      sender.close();
      receiver.close();
      channel.port1.close();
      channel.port2.close();
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), "timed out");
}

Deno.test("batchedEndpoint() sends the messages of one turn as one message, in order", async () => {
  const { left, sender, received, close } = pair();
  for (let i = 0; i < 5; i++) sender.postMessage({ n: i });
  assert.equal(left.posts.length, 0, "nothing leaves before the tick");
  await until(() => received.length === 5);
  assert.deepEqual(received, [0, 1, 2, 3, 4].map((n) => ({ n })));
  assert.equal(left.posts.length, 1);
  sender.postMessage({ n: 5 });
  await until(() => received.length === 6);
  assert.equal(left.posts.length, 2, "a later turn makes a new batch");
  close();
});

Deno.test("batchedEndpoint() sends at once what sendAtOnce lets through, and batches the rest", async () => {
  let quiet = true;
  const { left, sender, received, close } = pair({ sendAtOnce: () => quiet });
  sender.postMessage("alone");
  assert.deepEqual(left.posts, [["alone"]], "a quiet port sends at once");
  quiet = false;
  sender.postMessage("busy 1");
  sender.postMessage("busy 2");
  assert.equal(left.posts.length, 1, "a busy port waits for the tick");
  await until(() => received.length === 3);
  assert.deepEqual(received, ["alone", "busy 1", "busy 2"]);
  assert.deepEqual(left.posts, [["alone"], ["busy 1", "busy 2"]]);
  quiet = true;
  sender.postMessage("quiet again");
  assert.equal(left.posts.length, 3);
  await until(() => received.length === 4);
  close();
});

Deno.test("batchedEndpoint() replaces or drops a message that cannot be cloned, and still sends the others", async () => {
  const { sender, received, close } = pair({
    replaceUnclonable: (message) =>
      (message as { answer?: boolean }).answer ? { answer: true, failed: true } : null,
  });
  sender.postMessage({ n: 1 });
  sender.postMessage({ event: () => {} }); // A function cannot be cloned: dropped.
  sender.postMessage({ answer: true, value: () => {} }); // Replaced.
  sender.postMessage({ n: 2 });
  await until(() => received.length === 3);
  assert.deepEqual(received, [{ n: 1 }, { answer: true, failed: true }, { n: 2 }]);
  close();
});

Deno.test("batchedEndpoint() sends a transfer after what was queued before it", async () => {
  const { sender, received, close } = pair();
  const buffer = new Uint8Array([1, 2, 3]).buffer;
  sender.postMessage("before");
  sender.postMessage({ buffer }, [buffer]);
  sender.postMessage("after");
  assert.equal(buffer.byteLength, 0, "the buffer was transferred");
  await until(() => received.length === 3);
  assert.equal(received[0], "before");
  assert.deepEqual([...new Uint8Array((received[1] as { buffer: ArrayBuffer }).buffer)], [1, 2, 3]);
  assert.equal(received[2], "after");
  close();
});

Deno.test("Comlink calls through batched endpoints on both sides answer each caller, with concurrent calls sharing a message", async () => {
  const channel = new MessageChannel();
  const callerPort = countingPort(channel.port1);
  const calleePort = countingPort(channel.port2);
  const caller = batchedEndpoint(callerPort, { sendAtOnce: () => false });
  const callee = batchedEndpoint(calleePort);
  channel.port1.start();
  channel.port2.start();
  Comlink.expose({
    double: (n: number) => n * 2,
    fail: () => {
      throw new Error("no");
    },
  }, callee);
  const remote = Comlink.wrap<{ double(n: number): number; fail(): never }>(caller);
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => remote.double(i)));
  assert.deepEqual(answers, Array.from({ length: 10 }, (_, i) => i * 2));
  await assert.rejects(remote.fail(), /no/);
  assert.ok(
    callerPort.posts.length <= 3,
    `10 calls went out in ${callerPort.posts.length} messages`,
  );
  assert.ok(
    calleePort.posts.length <= 3,
    `10 answers came back in ${calleePort.posts.length} messages`,
  );
  caller.close();
  callee.close();
  channel.port1.close();
  channel.port2.close();
});

Deno.test("batchedEndpoint() sends an urgent message, with what was queued before it, once the microtasks have run", async () => {
  const { left, sender, received, close } = pair({
    isUrgent: (message) => (message as { answer?: boolean }).answer === true,
  });
  sender.postMessage({ event: 1 });
  sender.postMessage({ event: 2 });
  sender.postMessage({ answer: true, n: 1 });
  sender.postMessage({ answer: true, n: 2 });
  assert.equal(left.posts.length, 0);
  await Promise.resolve();
  assert.deepEqual(left.posts, [[{ event: 1 }, { event: 2 }, { answer: true, n: 1 }, {
    answer: true,
    n: 2,
  }]]);
  await until(() => received.length === 4);
  close();
});
