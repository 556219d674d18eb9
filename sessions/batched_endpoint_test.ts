import assert from "node:assert/strict";
import * as Comlink from "comlink";
import {
  batchedChannel,
  type BatchedChannelOptions,
  type MessageTarget,
} from "./batched_endpoint.ts";

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

/** Two channels on the two ends of a MessageChannel; `received` is what the right one handed out. */
function pair(left: BatchedChannelOptions = {}, right: BatchedChannelOptions = {}) {
  const ports = new MessageChannel();
  const leftPort = countingPort(ports.port1);
  const rightPort = countingPort(ports.port2);
  const received: { lane: "comlink" | "event"; data: unknown }[] = [];
  const sender = batchedChannel(leftPort, left);
  const receiver = batchedChannel(rightPort, {
    ...right,
    onEvent: (data) => received.push({ lane: "event", data }),
  });
  ports.port1.start();
  ports.port2.start();
  receiver.endpoint.addEventListener(
    "message",
    ((event: MessageEvent) => {
      received.push({ lane: "comlink", data: event.data });
    }) as EventListener,
  );
  return {
    leftPort,
    rightPort,
    sender,
    receiver,
    received,
    close() {
      sender.close();
      receiver.close();
      ports.port1.close();
      ports.port2.close();
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), "timed out");
}

Deno.test("batchedChannel() sends the messages of one turn as one message, in order", async () => {
  const { leftPort, sender, received, close } = pair();
  sender.endpoint.postMessage({ n: 0 });
  sender.postEvent({ n: 1 });
  sender.endpoint.postMessage({ n: 2 });
  sender.postEvent({ n: 3 });
  assert.equal(leftPort.posts.length, 0, "nothing leaves before the tick");
  await until(() => received.length === 4);
  assert.deepEqual(received, [
    { lane: "comlink", data: { n: 0 } },
    { lane: "event", data: { n: 1 } },
    { lane: "comlink", data: { n: 2 } },
    { lane: "event", data: { n: 3 } },
  ]);
  assert.equal(leftPort.posts.length, 1);
  sender.endpoint.postMessage({ n: 4 });
  await until(() => received.length === 5);
  assert.equal(leftPort.posts.length, 2, "a later turn makes a new batch");
  close();
});

Deno.test("batchedChannel() never reads Comlink's messages: each input comes out of its own side", async () => {
  const { sender, received, close } = pair();
  // Shaped like each other's traffic: an answer-like event, event-like and odd Comlink messages.
  const events = [{ id: "1-2-3-4", type: "HANDLER", value: 1 }, null, [1, 2]];
  const messages = [{ engineEvent: { type: "qr" } }, "text", undefined, [0, "x"]];
  for (const event of events) sender.postEvent(event);
  for (const message of messages) sender.endpoint.postMessage(message);
  await until(() => received.length === events.length + messages.length);
  assert.deepEqual(received, [
    ...events.map((data) => ({ lane: "event", data })),
    ...messages.map((data) => ({ lane: "comlink", data })),
  ]);
  close();
});

Deno.test("batchedChannel() sends at once a call that sendAtOnce lets through, and batches the rest", async () => {
  let quiet = true;
  const { leftPort, sender, received, close } = pair({ sendAtOnce: () => quiet });
  sender.endpoint.postMessage("alone");
  assert.equal(leftPort.posts.length, 1, "a quiet port sends at once");
  quiet = false;
  sender.endpoint.postMessage("busy 1");
  sender.endpoint.postMessage("busy 2");
  assert.equal(leftPort.posts.length, 1, "a busy port waits for the tick");
  await until(() => received.length === 3);
  assert.deepEqual(received.map((r) => r.data), ["alone", "busy 1", "busy 2"]);
  assert.equal(leftPort.posts.length, 2);
  quiet = true;
  sender.endpoint.postMessage("quiet again");
  assert.equal(leftPort.posts.length, 3);
  await until(() => received.length === 4);
  close();
});

Deno.test("batchedChannel() drops an event that cannot be cloned and still sends the rest of its batch", async () => {
  const { sender, received, close } = pair();
  sender.postEvent({ n: 1 });
  sender.postEvent({ callback: () => {} }); // A function cannot be cloned.
  sender.endpoint.postMessage({ n: 2 });
  sender.postEvent({ n: 3 });
  await until(() => received.length === 3);
  assert.deepEqual(received, [
    { lane: "event", data: { n: 1 } },
    { lane: "comlink", data: { n: 2 } },
    { lane: "event", data: { n: 3 } },
  ]);
  close();
});

Deno.test("batchedChannel() sends a transfer after what was queued before it", async () => {
  const { sender, received, close } = pair();
  const buffer = new Uint8Array([1, 2, 3]).buffer;
  sender.postEvent("before");
  sender.endpoint.postMessage({ buffer }, [buffer]);
  sender.endpoint.postMessage("after");
  assert.equal(buffer.byteLength, 0, "the buffer was transferred");
  await until(() => received.length === 3);
  assert.equal(received[0].data, "before");
  const sent = received[1].data as { buffer: ArrayBuffer };
  assert.deepEqual([...new Uint8Array(sent.buffer)], [1, 2, 3]);
  assert.equal(received[2].data, "after");
  close();
});

Deno.test("batchedChannel() with answers sends an answer, and what was queued before it, once the microtasks have run", async () => {
  const { leftPort, sender, received, close } = pair({ answers: true });
  sender.postEvent({ event: 1 });
  sender.postEvent({ event: 2 });
  sender.endpoint.postMessage({ answer: 1 });
  sender.endpoint.postMessage({ answer: 2 });
  assert.equal(leftPort.posts.length, 0);
  await Promise.resolve();
  assert.equal(leftPort.posts.length, 1, "one message for the turn");
  await until(() => received.length === 4);
  assert.deepEqual(received.map((r) => r.data), [
    { event: 1 },
    { event: 2 },
    { answer: 1 },
    { answer: 2 },
  ]);
  close();
});

Deno.test("batchedChannel() with answers throws to the poster when an answer cannot be cloned, and sends nothing of it", async () => {
  const { leftPort, sender, received, close } = pair({ answers: true });
  sender.postEvent({ event: 1 });
  assert.throws(() => sender.endpoint.postMessage({ answer: () => {} }), DOMException);
  sender.endpoint.postMessage({ answer: 2 });
  await until(() => received.length === 2);
  assert.deepEqual(received.map((r) => r.data), [{ event: 1 }, { answer: 2 }]);
  assert.equal(leftPort.posts.length, 1);
  close();
});

interface Callee {
  double(n: number): number;
  echo(value: unknown): unknown;
  fail(): never;
  emitThenAnswer(n: number): Promise<number>;
  unclonable(): unknown;
}

/** Comlink on both sides, each through a channel, as the Worker and its supervisor use them. */
function comlinkPair() {
  const ports = new MessageChannel();
  const callerPort = countingPort(ports.port1);
  const calleePort = countingPort(ports.port2);
  const order: string[] = [];
  const caller = batchedChannel(callerPort, {
    sendAtOnce: () => false,
    onEvent: (event) => order.push(`event ${event}`),
  });
  const callee = batchedChannel(calleePort, { answers: true });
  ports.port1.start();
  ports.port2.start();
  const api: Callee = {
    double: (n) => n * 2,
    echo: (value) => value,
    fail: () => {
      throw new Error("no");
    },
    async emitThenAnswer(n) {
      callee.postEvent(`${n}a`);
      await Promise.resolve();
      callee.postEvent(`${n}b`);
      return n;
    },
    unclonable: () => ({ value: () => {} }),
  };
  Comlink.expose(api, callee.endpoint);
  return {
    remote: Comlink.wrap<Callee>(caller.endpoint),
    callerPort,
    calleePort,
    order,
    close() {
      caller.close();
      callee.close();
      ports.port1.close();
      ports.port2.close();
    },
  };
}

Deno.test("Comlink calls through channels on both sides answer each caller, with concurrent calls sharing a message", async () => {
  const { remote, callerPort, calleePort, close } = comlinkPair();
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
  close();
});

Deno.test("an event emitted before a call's answer reaches the caller before that answer", async () => {
  const { remote, order, close } = comlinkPair();
  await Promise.all([1, 2, 3].map((n) => remote.emitThenAnswer(n).then(() => order.push(`${n}`))));
  for (const n of [1, 2, 3]) {
    const answer = order.indexOf(`${n}`);
    assert.ok(answer > order.indexOf(`event ${n}a`), order.join(", "));
    assert.ok(answer > order.indexOf(`event ${n}b`), order.join(", "));
  }
  close();
});

Deno.test("a Comlink answer that cannot be cloned reaches its caller as Comlink's error, and the channel goes on", async () => {
  const { remote, close } = comlinkPair();
  const [unclonable, doubled] = await Promise.allSettled([remote.unclonable(), remote.double(4)]);
  assert.equal(unclonable.status, "rejected");
  assert.match(String(unclonable.reason), /Unserializable return value/);
  assert.deepEqual(doubled, { status: "fulfilled", value: 8 });
  close();
});

Deno.test("a Comlink call whose arguments cannot be cloned rejects at once, and the channel goes on", async () => {
  const { remote, close } = comlinkPair();
  const [unclonable, doubled] = await Promise.allSettled([
    remote.echo({ callback: () => {} }),
    remote.double(5),
  ]);
  assert.equal(unclonable.status, "rejected");
  assert.ok(unclonable.reason instanceof DOMException, String(unclonable.reason));
  assert.equal(unclonable.reason.name, "DataCloneError");
  assert.deepEqual(doubled, { status: "fulfilled", value: 10 });
  close();
});

Deno.test("Comlink messages that clone but are not plain data pass both ways", async () => {
  const { remote, close } = comlinkPair();
  const value = {
    when: new Date(0),
    bytes: new Uint8Array([1, 2]),
    tags: new Map([["a", 1]]),
    nested: [{ big: 1n, missing: undefined }],
    bare: Object.assign(Object.create(null), { a: 1 }),
  };
  assert.deepEqual(await remote.echo(value), structuredClone(value));
  close();
});
