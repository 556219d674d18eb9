/**
 * @module
 * The pipeline and dispatcher against real receivers on 127.0.0.1: order, HMAC, retries,
 * `Retry-After`, timeouts, dead letters and their replay.
 */
import assert from "node:assert/strict";
import { createLogger } from "../logger.ts";
import {
  type AddressPolicy,
  createAddressPolicy,
  type HostResolver,
} from "../ssrf_guard/address_policy.ts";
import { openSqliteStore } from "../store/sqlite/store.ts";
import { createDispatcher, WEBHOOK_REMOVED } from "./dispatcher.ts";
import { globalDestination, laneOf, type Outbox } from "./outbox.ts";
import { createEventPipeline, createUrlCheck, type EventPipeline } from "./pipeline.ts";
import { createWebhookDirectory } from "./webhook_directory.ts";
import { createWorkerSender, type WebhookSender } from "./webhook_sender.ts";
import { textMessageEvent } from "./test_events.ts";
import {
  delay,
  type Received,
  type Receiver,
  startReceiver,
  verifyHmac,
} from "./test_receivers.ts";

const SESSION = "4915550001234";
/** A number in another of 8 lanes than `SESSION`'s. */
const NEIGHBOUR = "4915550001235";

function setup(url: string | undefined, options: {
  secret?: string;
  maxAttempts?: number;
  timeoutMs?: number;
  retryBaseMs?: number;
  events?: string[];
  /** Checks per-number destinations as the server does, with this policy and resolver. */
  check?: { policy: AddressPolicy; resolver: HostResolver };
  /** Writes to the outbox before the pipeline starts (what a previous run left pending). */
  seed?: (outbox: Outbox) => Promise<unknown>;
  /** `WEBHOOK_LANES` (default 8). */
  lanes?: number;
  /** This node and its lease time (default: the dispatcher's own). */
  node?: { id: string; leaseTtlMs: number };
  /** Stands between the pipeline and dispatcher and the outbox (to count its calls, say). */
  wrap?: (outbox: Outbox) => Outbox;
  /** Where the POSTs are sent from (`WEBHOOK_SENDER`; default the main thread), or a sender. */
  sender?: "main" | "worker" | WebhookSender;
} = {}) {
  const store = openSqliteStore(":memory:");
  const { db } = store;
  const outbox = options.wrap ? options.wrap(store.outbox) : store.outbox;
  const log = createLogger("silent");
  const webhooks = createWebhookDirectory(outbox, {
    enabled: true,
    url,
    events: options.events ?? ["*"],
    secret: options.secret,
  });
  const dispatcher = createDispatcher({
    outbox,
    resolve: webhooks.resolve,
    log,
    maxAttempts: options.maxAttempts ?? 5,
    timeoutMs: options.timeoutMs ?? 2_000,
    concurrency: 4,
    retryBaseMs: options.retryBaseMs ?? 20,
    retryMaxMs: 5_000,
    checkUrl: options.check
      ? createUrlCheck(options.check.policy, { resolver: options.check.resolver })
      : undefined,
    node: options.node,
    sender: options.sender === "worker"
      ? createWorkerSender({ log })
      : typeof options.sender === "object"
      ? options.sender
      : undefined,
  });
  const pipeline = createEventPipeline({
    outbox,
    dispatcher,
    webhooks,
    log,
    version: "test",
    retentionHours: 1,
    policy: options.check?.policy ?? createAddressPolicy([]),
    heartbeatMs: 1_000,
    lanes: options.lanes ?? 8,
  });
  const started = (async () => {
    await options.seed?.(outbox);
    await pipeline.start();
  })();
  return {
    started,
    db,
    outbox,
    webhooks,
    pipeline,
    async close() {
      await started;
      await pipeline.close();
      await store.close();
    },
  };
}

function textMessage(pipeline: EventPipeline, body: string, session = SESSION): void {
  pipeline.acceptSessionEvent(textMessageEvent(session, body, false));
}

/** Waits until `SESSION`'s one delivery is recorded as delivered, and gives it. */
async function deliveredOne(outbox: Outbox, what: string) {
  await until(
    what,
    async () =>
      (await outbox.listDeliveries(SESSION, { status: "delivered", limit: 5 })).length === 1,
  );
  const [delivery] = await outbox.listDeliveries(SESSION, { limit: 5 });
  return delivery;
}

/** The bodies that arrived from one number, in the order they arrived. */
function bodiesOf(received: readonly Received[], session: string): unknown[] {
  return received.filter((r) => r.json.session === session).map((r) => r.json.payload.body);
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await delay(10);
  }
}

/**
 * A test that sends POSTs, run twice: with the POSTs sent from the main thread, and from the
 * sender's Worker (`WEBHOOK_SENDER=worker`), which must behave alike.
 */
function senderTest(name: string, test: (sender: "main" | "worker") => Promise<void>): void {
  Deno.test(name, () => test("main"));
  Deno.test(`${name} (POSTs from the sender Worker)`, () => test("worker"));
}

async function withReceiver(
  receiver: Receiver,
  work: (receiver: Receiver) => Promise<void>,
): Promise<void> {
  try {
    await work(receiver);
  } finally {
    await receiver.close();
  }
}

senderTest(
  "dispatcher delivers a destination's events in order, signed over the exact body",
  async (sender) => {
    await withReceiver(startReceiver(), async (receiver) => {
      const server = setup(receiver.url, { sender, secret: "s3cret" });
      try {
        for (let i = 0; i < 50; i++) textMessage(server.pipeline, `m${i}`);
        await until("50 deliveries", () => receiver.received.length === 50);
        assert.deepEqual(
          receiver.received.map((r) => r.json.payload.body),
          Array.from({ length: 50 }, (_, i) => `m${i}`),
        );
        for (const item of receiver.received) {
          assert.equal(item.headers.get("x-webhook-hmac-algorithm"), "sha512");
          assert.ok(await verifyHmac("s3cret", item.body, item.headers.get("x-webhook-hmac")!));
          assert.match(item.headers.get("x-webhook-request-id")!, /^req_/);
          assert.ok(
            Math.abs(Number(item.headers.get("x-webhook-timestamp")) - Date.now()) < 60_000,
          );
          assert.match(item.json.id, /^evt_[0-9a-z]{26}$/);
          assert.equal(item.json.event, "message");
          assert.equal(item.json.session, SESSION);
        }
        assert.equal(new Set(receiver.received.map((r) => r.json.id)).size, 50);
      } finally {
        await server.close();
      }
    });
  },
);

senderTest("dispatcher sends no HMAC headers when no secret is set", async (sender) => {
  await withReceiver(startReceiver(), async (receiver) => {
    const server = setup(receiver.url, { sender });
    try {
      textMessage(server.pipeline, "plain");
      await until("a delivery", () => receiver.received.length === 1);
      assert.equal(receiver.received[0].headers.get("x-webhook-hmac"), null);
      assert.equal(receiver.received[0].headers.get("x-webhook-hmac-algorithm"), null);
    } finally {
      await server.close();
    }
  });
});

Deno.test("dispatcher retries a receiver that fails the first 3 attempts and keeps the order", async () => {
  const receiver = startReceiver((attempt) =>
    attempt <= 3 ? new Response("down", { status: 503 }) : new Response("ok")
  );
  await withReceiver(receiver, async () => {
    const server = setup(receiver.url);
    try {
      for (let i = 0; i < 5; i++) textMessage(server.pipeline, `r${i}`);
      await until("5 deliveries", () => receiver.received.length === 5);
      assert.deepEqual(receiver.received.map((r) => r.json.payload.body), [
        "r0",
        "r1",
        "r2",
        "r3",
        "r4",
      ]);
      assert.equal(receiver.hits, 8);
      const delivered = await server.outbox.listDeliveries(SESSION, {
        status: "delivered",
        limit: 10,
      });
      assert.equal(delivered.find((d) => d.eventSeq === 1)?.attempts, 4);
    } finally {
      await server.close();
    }
  });
});

Deno.test("dispatcher retries after a 500 and delivers on the following 200", async () => {
  const receiver = startReceiver((attempt) =>
    attempt === 1 ? new Response("oops", { status: 500 }) : new Response("ok")
  );
  await withReceiver(receiver, async () => {
    const server = setup(receiver.url);
    try {
      textMessage(server.pipeline, "once");
      await until("a delivery", () => receiver.received.length === 1);
      assert.equal(receiver.hits, 2);
    } finally {
      await server.close();
    }
  });
});

senderTest("dispatcher honours Retry-After on a 429", async (sender) => {
  const receiver = startReceiver((attempt) =>
    attempt === 1
      ? new Response("slow down", { status: 429, headers: { "Retry-After": "1" } })
      : new Response("ok")
  );
  await withReceiver(receiver, async () => {
    const server = setup(receiver.url, { sender, retryBaseMs: 10 });
    try {
      const started = Date.now();
      textMessage(server.pipeline, "wait");
      await until("a delivery", () => receiver.received.length === 1);
      assert.ok(Date.now() - started >= 950, `retried after ${Date.now() - started} ms`);
    } finally {
      await server.close();
    }
  });
});

senderTest("dispatcher times out a slow receiver and retries it", async (sender) => {
  const receiver = startReceiver(async (attempt) => {
    if (attempt === 1) await delay(400);
    return new Response("ok");
  });
  await withReceiver(receiver, async () => {
    const server = setup(receiver.url, { sender, timeoutMs: 150 });
    try {
      textMessage(server.pipeline, "slow");
      await until("a second attempt", () => receiver.hits >= 2);
      const delivery = await deliveredOne(server.outbox, "a delivery");
      assert.equal(delivery.attempts, 2);
    } finally {
      await server.close();
    }
  });
});

Deno.test("dispatcher dead-letters a down receiver after the last attempt, and replay delivers it", async () => {
  const probe = startReceiver();
  const port = probe.port;
  await probe.close();
  const server = setup(`http://127.0.0.1:${port}/hook`, { maxAttempts: 3 });
  try {
    textMessage(server.pipeline, "lost?");
    await until(
      "the dead letter",
      async () =>
        (await server.pipeline.listDeliveries(SESSION, { status: "failed", limit: 5 })).length ===
          1,
    );
    const [dead] = await server.pipeline.listDeliveries(SESSION, { status: "failed", limit: 5 });
    assert.equal(dead.attempts, 3);
    assert.match(dead.lastError!, /Network error/);

    await withReceiver(startReceiver(undefined, port), async (receiver) => {
      const requeued = await server.pipeline.retryDelivery(SESSION, dead.id);
      assert.equal(requeued.status, "pending");
      await until("the replay", () => receiver.received.length === 1);
      assert.equal(receiver.received[0].json.id, dead.eventId);
      await until(
        "delivered state",
        async () =>
          (await server.pipeline.listDeliveries(SESSION, { status: "failed", limit: 5 })).length ===
            0,
      );
    });
  } finally {
    await server.close();
  }
});

Deno.test("dispatcher starts an attempt's clock once the sender Worker has loaded, not before", async () => {
  // A stand-in sender Worker that takes 400 ms to load (its thread busy), then answers 200 to all.
  const script = `const loadedAt = Date.now() + 400;
    while (Date.now() < loadedAt) {}
    self.onmessage = (event) => self.postMessage(event.data.filter((m) => "id" in m)
      .map((m) => ({ id: m.id, answer: { status: 200, retryAfter: null } })));
    self.postMessage("ready");`;
  const url = new URL(URL.createObjectURL(new Blob([script], { type: "text/javascript" })));
  const sender = createWorkerSender({ log: createLogger("silent"), url });
  const server = setup("http://stand-in.test/hook", { sender, timeoutMs: 150 });
  try {
    textMessage(server.pipeline, "sent once the sender is up");
    const delivery = await deliveredOne(server.outbox, "the delivery");
    assert.equal(delivery.attempts, 1, String(delivery.lastError));
  } finally {
    await server.close();
    URL.revokeObjectURL(url.href);
  }
});

senderTest("dispatcher does not retry a 4xx answer", async (sender) => {
  const receiver = startReceiver(() => new Response("no", { status: 422 }));
  await withReceiver(receiver, async () => {
    const server = setup(receiver.url, { sender });
    try {
      textMessage(server.pipeline, "bad");
      await until(
        "the dead letter",
        async () =>
          (await server.pipeline.listDeliveries(SESSION, { status: "failed", limit: 5 })).length ===
            1,
      );
      assert.equal(receiver.hits, 1);
      const [dead] = await server.pipeline.listDeliveries(SESSION, { status: "failed", limit: 5 });
      assert.equal(dead.lastStatus, 422);
    } finally {
      await server.close();
    }
  });
});

Deno.test("pipeline sends only the events a destination asked for", async () => {
  await withReceiver(startReceiver(), async (receiver) => {
    const server = setup(receiver.url, { events: ["session.status"] });
    try {
      textMessage(server.pipeline, "ignored");
      server.pipeline.acceptSessionEvent({
        session: SESSION,
        engine: "simulator",
        me: null,
        timestamp: Date.now(),
        data: {
          type: "session.status",
          status: "WORKING",
          reason: null,
          statuses: [{ status: "WORKING", timestamp: Date.now() }],
        },
      });
      await until("a delivery", () => receiver.received.length === 1);
      await delay(50);
      assert.equal(receiver.received.length, 1);
      assert.equal(receiver.received[0].json.event, "session.status");
      assert.equal(receiver.received[0].json.payload.status, "WORKING");
      // The stream still has all three (message, session.status, state.change).
      assert.deepEqual(
        (await server.pipeline.eventsAfter(SESSION, null, 10)).map((e) => e.event),
        ["message", "session.status", "state.change"],
      );
    } finally {
      await server.close();
    }
  });
});

/** A resolver for `rebind.test` that answers `first` once and `later` ever after. */
function rebindingResolver(first: string, later: string) {
  const lookups: string[] = [];
  const resolver: HostResolver = (hostname) => {
    lookups.push(hostname);
    const address = lookups.length === 1 ? first : later;
    return Promise.resolve([{ address, family: 4 }]);
  };
  return { resolver, lookups };
}

senderTest(
  "dispatcher sends a number's webhook to the address its check approved, with no second lookup",
  async (sender) => {
    await withReceiver(startReceiver(), async (receiver) => {
      // `rebind.test` exists only in this resolver, whose second answer is the metadata endpoint:
      // the delivery arriving proves the connection used the first, checked answer.
      const { resolver, lookups } = rebindingResolver("127.0.0.1", "169.254.169.254");
      const server = setup(undefined, {
        sender,
        check: { policy: createAddressPolicy(["127.0.0.1"]), resolver },
      });
      try {
        await server.outbox.replaceWebhooks(SESSION, [{
          url: `http://rebind.test:${receiver.port}/hook`,
          events: ["*"],
        }]);
        textMessage(server.pipeline, "pinned");
        await until("the delivery", () => receiver.hits === 1);
        const delivery = await deliveredOne(server.outbox, "the delivery to be recorded");
        assert.equal(delivery.status, "delivered", String(delivery.lastError));
        assert.equal(delivery.attempts, 1);
        assert.deepEqual(lookups, ["rebind.test"]);
        assert.equal(receiver.received.length, 1);
        assert.equal(receiver.received[0].json.payload.body, "pinned");
        assert.equal(receiver.received[0].headers.get("host"), `rebind.test:${receiver.port}`);
      } finally {
        await server.close();
      }
    });
  },
);

Deno.test("dispatcher dead-letters a number's webhook that resolves to a refused address without connecting", async () => {
  await withReceiver(startReceiver(), async (receiver) => {
    const { resolver } = rebindingResolver("127.0.0.1", "127.0.0.1");
    // Loopback is refused for numbers' webhooks; the operator's WEBHOOK_URL (the same receiver)
    // is trusted and still delivered.
    const server = setup(receiver.url, { check: { policy: createAddressPolicy([]), resolver } });
    try {
      await server.outbox.replaceWebhooks(SESSION, [{
        url: `http://rebind.test:${receiver.port}/number-hook`,
        events: ["*"],
      }]);
      textMessage(server.pipeline, "refused");
      await until(
        "the dead letter",
        async () =>
          (await server.pipeline.listDeliveries(SESSION, { status: "failed", limit: 5 })).length ===
            1,
      );
      await until("the global delivery", () => receiver.hits === 1);
      await delay(50);
      const [dead] = await server.pipeline.listDeliveries(SESSION, { status: "failed", limit: 5 });
      assert.equal(dead.url, `http://rebind.test:${receiver.port}/number-hook`);
      assert.equal(dead.attempts, 1);
      assert.equal(
        dead.lastError,
        "Not sent: the URL's host is not allowed (private and loopback hosts need " +
          "WEBHOOK_ALLOW_PRIVATE_HOSTS on the server)",
      );
      assert.equal(receiver.hits, 1);
      assert.equal(receiver.received[0].headers.get("host"), `127.0.0.1:${receiver.port}`);
    } finally {
      await server.close();
    }
  });
});

senderTest("dispatcher times out a slow pinned receiver and retries it", async (sender) => {
  const receiver = startReceiver(async (attempt) => {
    if (attempt === 1) await delay(400);
    return new Response("ok");
  });
  await withReceiver(receiver, async () => {
    const resolver: HostResolver = () => Promise.resolve([{ address: "127.0.0.1", family: 4 }]);
    const server = setup(undefined, {
      sender,
      timeoutMs: 150,
      check: { policy: createAddressPolicy(["127.0.0.1"]), resolver },
    });
    try {
      await server.outbox.replaceWebhooks(SESSION, [{
        url: `http://slow.test:${receiver.port}/hook`,
        events: ["*"],
      }]);
      textMessage(server.pipeline, "slow");
      const delivery = await deliveredOne(server.outbox, "a delivery");
      assert.equal(delivery.attempts, 2);
      assert.ok(receiver.hits >= 2);
    } finally {
      await server.close();
    }
  });
});

Deno.test("dispatcher retries a number's webhook whose host did not resolve this time", async () => {
  await withReceiver(startReceiver(), async (receiver) => {
    let lookups = 0;
    const resolver: HostResolver = (hostname) => {
      lookups++;
      if (lookups === 1) return Promise.reject(new Error(`getaddrinfo EAI_AGAIN ${hostname}`));
      return Promise.resolve([{ address: "127.0.0.1", family: 4 as const }]);
    };
    const server = setup(undefined, {
      check: { policy: createAddressPolicy(["127.0.0.1"]), resolver },
    });
    try {
      await server.outbox.replaceWebhooks(SESSION, [{
        url: `http://flaky-dns.test:${receiver.port}/hook`,
        events: ["*"],
      }]);
      textMessage(server.pipeline, "after a DNS hiccup");
      // The receiver counts the hit before the dispatcher has its answer: wait for the record.
      const delivery = await deliveredOne(server.outbox, "the delivery");
      assert.equal(receiver.hits, 1);
      assert.equal(delivery.attempts, 2);
      assert.equal(receiver.received[0].json.payload.body, "after a DNS hiccup");
    } finally {
      await server.close();
    }
  });
});

Deno.test("dispatcher never loses a wake-up that lands while a destination's loop is finishing", async () => {
  // An event accepted a few microtask hops after the previous delivery's answer (an inbound
  // webhook or a retry in the same turn) used to find the loop "active" just as it ended.
  for (let hops = 0; hops <= 20; hops++) {
    const store = openSqliteStore(":memory:");
    const { outbox } = store;
    const log = createLogger("silent");
    const posted: number[] = [];
    const late: { pipeline?: EventPipeline } = {};
    const envelope = (n: number) =>
      ({
        id: `evt_hops${hops}_${n}`,
        timestamp: Date.now(),
        event: "message",
        session: SESSION,
        payload: { n },
        engine: "WEBJS",
        environment: {},
      }) as unknown as Parameters<EventPipeline["accept"]>[0][number];
    const fakeFetch = (_url: string | URL | Request, init?: RequestInit) => {
      const n = JSON.parse(String(init!.body)).payload.n as number;
      posted.push(n);
      if (n === 1) {
        let later: Promise<unknown> = Promise.resolve();
        for (let i = 0; i < hops; i++) later = later.then(() => {});
        later.then(() => late.pipeline!.accept([envelope(2)]));
      }
      return Promise.resolve(new Response("ok"));
    };
    const webhooks = createWebhookDirectory(outbox, {
      enabled: true,
      url: "http://receiver.test/hook",
      events: ["*"],
    });
    const dispatcher = createDispatcher({
      outbox,
      resolve: webhooks.resolve,
      log,
      maxAttempts: 5,
      timeoutMs: 2_000,
      concurrency: 4,
      retryBaseMs: 20,
      retryMaxMs: 5_000,
      fetch: fakeFetch as typeof fetch,
    });
    const pipeline = late.pipeline = createEventPipeline({
      outbox,
      dispatcher,
      webhooks,
      log,
      version: "test",
      retentionHours: 1,
      policy: createAddressPolicy([]),
      heartbeatMs: 1_000,
    });
    await pipeline.start();
    try {
      await pipeline.accept([envelope(1)]);
      await until(`event 2 after ${hops} hops`, () => posted.length === 2);
      assert.deepEqual(posted, [1, 2]);
    } finally {
      await pipeline.close();
      await store.close();
    }
  }
});

Deno.test("dispatcher fails, unsent, what is pending for a WEBHOOK_URL the operator has since changed", async () => {
  await withReceiver(startReceiver(), async (receiver) => {
    // Accepted while WEBHOOK_URL was the receiver; the server starts again with another one.
    const server = setup("http://127.0.0.1:9/the-new-one", {
      seed: (outbox) =>
        outbox.append([{
          id: "evt_before_the_change",
          timestamp: Date.now(),
          event: "message",
          session: SESSION,
          payload: {},
          engine: "WEBJS",
          environment: {},
        }], { destinationsFor: () => [globalDestination(receiver.url)] }),
    });
    try {
      const [dead] = await until(
        "the delivery to fail",
        async () =>
          (await server.pipeline.listDeliveries(SESSION, { status: "failed", limit: 5 })).length ===
            1,
      ).then(() => server.pipeline.listDeliveries(SESSION, { limit: 5 }));
      assert.equal(dead.lastError, WEBHOOK_REMOVED);
      assert.equal(dead.attempts, 0);
      assert.equal(dead.url, receiver.url);
      await assert.rejects(
        server.pipeline.retryDelivery(SESSION, dead.id),
        /cannot be retried: its webhook was removed/,
      );
      assert.equal(receiver.hits, 0);
    } finally {
      await server.close();
    }
  });
});

senderTest(
  "dispatcher leaves out the headers a webhook saved before the header rules may not send",
  async (sender) => {
    await withReceiver(startReceiver(), async (receiver) => {
      const server = setup(undefined, { sender });
      try {
        // Written straight to the table, as an older version accepted them.
        await server.webhooks.replaceWebhooks(SESSION, [{
          url: receiver.url,
          events: ["*"],
          headers: {
            "X-Kept": "yes",
            "X-Split": "a\r\nX-Injected: 1",
            "Transfer-Encoding": "chunked",
            "X-Webhook-Hmac": "forged",
          },
        }]);
        textMessage(server.pipeline, "filtered");
        await until("the delivery", () => receiver.received.length === 1);
        const { headers } = receiver.received[0];
        assert.equal(headers.get("x-kept"), "yes");
        assert.equal(headers.get("x-split"), null);
        assert.equal(headers.get("x-injected"), null);
        assert.equal(headers.get("transfer-encoding"), null);
        assert.equal(headers.get("x-webhook-hmac"), null);
      } finally {
        await server.close();
      }
    });
  },
);

Deno.test("dispatcher sends two numbers' deliveries to one destination at once, each number's in order", async () => {
  assert.notEqual(laneOf(SESSION, 8), laneOf(NEIGHBOUR, 8), "the numbers are in different lanes");
  const arrived: Received[] = [];
  let neighbourArrived: () => void = () => {};
  const neighbour = new Promise<void>((resolve) => neighbourArrived = resolve);
  const receiver = startReceiver(async (_attempt, received) => {
    arrived.push(received);
    if (received.json.session === NEIGHBOUR) neighbourArrived();
    // The first number's first POST is held open until the other number's delivery is in.
    if (received.json.payload.body === "a0") await neighbour;
    return new Response("ok");
  });
  await withReceiver(receiver, async () => {
    const server = setup(receiver.url);
    try {
      for (let i = 0; i < 5; i++) textMessage(server.pipeline, `a${i}`);
      await until("the first number's first POST", () => arrived.length === 1);
      for (let i = 0; i < 5; i++) textMessage(server.pipeline, `b${i}`, NEIGHBOUR);
      await until("10 deliveries", () => receiver.received.length === 10);
      assert.equal(arrived[0].json.payload.body, "a0");
      assert.equal(
        arrived[1].json.payload.body,
        "b0",
        "the other number's delivery arrived while a0 was in flight",
      );
      assert.deepEqual(bodiesOf(arrived, SESSION), ["a0", "a1", "a2", "a3", "a4"]);
      assert.deepEqual(bodiesOf(arrived, NEIGHBOUR), ["b0", "b1", "b2", "b3", "b4"]);
      assert.equal(receiver.received[0].json.payload.body, "b0", "a0 was answered after b0");
    } finally {
      neighbourArrived(); // Never leaves a0 hanging, not even when the test failed.
      await server.close();
    }
  });
});

Deno.test("dispatcher holds back behind a retrying delivery only its own number's lane", async () => {
  const receiver = startReceiver((_attempt, received) =>
    received.json.session === SESSION
      ? new Response("busy", { status: 503, headers: { "Retry-After": "60" } })
      : new Response("ok")
  );
  await withReceiver(receiver, async () => {
    const server = setup(receiver.url);
    try {
      for (let i = 0; i < 3; i++) textMessage(server.pipeline, `a${i}`);
      await until("the first number's first attempt", () => receiver.hits === 1);
      for (let i = 0; i < 5; i++) textMessage(server.pipeline, `b${i}`, NEIGHBOUR);
      await until("the other number's 5 deliveries", () => receiver.received.length === 5);
      assert.deepEqual(bodiesOf(receiver.received, NEIGHBOUR), ["b0", "b1", "b2", "b3", "b4"]);
      const waiting = await server.outbox.listDeliveries(SESSION, { status: "pending", limit: 10 });
      assert.equal(waiting.length, 3, "the first number's deliveries all wait");
      assert.ok(
        waiting.every((d) => d.attempts === (d.eventSeq === 1 ? 1 : 0)),
        "only its first was tried: the ones behind it were held back",
      );
    } finally {
      await server.close();
    }
  });
});

Deno.test("dispatcher with WEBHOOK_LANES=1 keeps one destination's deliveries in strict order", async () => {
  const arrived: string[] = [];
  const receiver = startReceiver(async (attempt, received) => {
    arrived.push(String(received.json.payload.body));
    // Answers at uneven speeds, and fails the first attempt: lanes side by side would reorder.
    await delay((attempt * 7) % 13);
    return attempt === 1 ? new Response("down", { status: 503 }) : new Response("ok");
  });
  await withReceiver(receiver, async () => {
    const server = setup(receiver.url, { lanes: 1 });
    try {
      const sent: string[] = [];
      for (let i = 0; i < 4; i++) {
        for (const [session, name] of [[SESSION, "a"], [NEIGHBOUR, "b"]]) {
          textMessage(server.pipeline, `${name}${i}`, session);
          sent.push(`${name}${i}`);
        }
      }
      await until("8 deliveries", () => receiver.received.length === 8);
      assert.deepEqual(receiver.received.map((r) => r.json.payload.body), sent);
      assert.deepEqual(arrived, [sent[0], ...sent], "nothing was sent before a0's retry");
    } finally {
      await server.close();
    }
  });
});

Deno.test("dispatcher reads a destination's lanes again when woken while it was reading them", async () => {
  const store = openSqliteStore(":memory:");
  const url = "http://receiver.test/hook";
  const destination = globalDestination(url);
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  let reads = 0;
  // The first read finds nothing (it runs before the append) and answers only once released.
  const outbox: Outbox = {
    ...store.outbox,
    async pendingLanes(key) {
      const lanes = await store.outbox.pendingLanes(key);
      if (++reads === 1) await gate;
      return lanes;
    },
  };
  const posted: string[] = [];
  const dispatcher = createDispatcher({
    outbox,
    resolve: () => Promise.resolve({ url, secret: null, headers: null }),
    log: createLogger("silent"),
    maxAttempts: 5,
    timeoutMs: 2_000,
    concurrency: 4,
    retryBaseMs: 20,
    retryMaxMs: 5_000,
    fetch: ((_url: string | URL | Request, init?: RequestInit) => {
      posted.push(JSON.parse(String(init!.body)).id);
      return Promise.resolve(new Response("ok"));
    }) as typeof fetch,
  });
  try {
    dispatcher.wake([destination]);
    await until("the first read", () => reads === 1);
    const late = {
      id: "evt_late",
      timestamp: Date.now(),
      event: "message",
      session: SESSION,
      payload: {},
      engine: "WEBJS",
      environment: {},
    } as unknown as Parameters<Outbox["append"]>[0][number];
    await store.outbox.append([late], {
      destinationsFor: () => [destination],
      lanes: 8,
    });
    dispatcher.wake([destination]);
    release();
    await until("the delivery", () => posted.length === 1);
    assert.deepEqual(posted, ["evt_late"]);
    assert.equal(reads, 2);
  } finally {
    release();
    await dispatcher.close();
    await store.close();
  }
});

/** The outbox, counting the reads of deliveries (`nextDelivery`) into `reads`. */
function countingReads(reads: { count: number }) {
  return (outbox: Outbox): Outbox => ({
    ...outbox,
    nextDelivery(...args) {
      reads.count++;
      return outbox.nextDelivery(...args);
    },
  });
}

Deno.test("dispatcher drains a lane that holds more deliveries than one read takes, in order", async () => {
  await withReceiver(startReceiver(), async (receiver) => {
    // A lease this long has no sweep within the test: only the lane's own loop can drain it.
    const server = setup(receiver.url, { node: { id: "node-a", leaseTtlMs: 600_000 } });
    try {
      for (let i = 0; i < 40; i++) textMessage(server.pipeline, `d${i}`);
      await until("40 deliveries", () => receiver.received.length === 40);
      assert.deepEqual(
        bodiesOf(receiver.received, SESSION),
        Array.from({ length: 40 }, (_, i) => `d${i}`),
      );
      assert.equal(receiver.hits, 40, "each sent once");
      await until("every delivery marked", async () => await server.outbox.pendingCount() === 0);
    } finally {
      await server.close();
    }
  });
});

Deno.test("dispatcher marks what one read sent delivered, each with the status its receiver answered", async () => {
  const receiver = startReceiver((attempt) => new Response(null, { status: 200 + (attempt % 3) }));
  await withReceiver(receiver, async () => {
    const server = setup(receiver.url);
    try {
      for (let i = 0; i < 6; i++) textMessage(server.pipeline, `s${i}`);
      await until("6 deliveries", () => receiver.received.length === 6);
      await until("every delivery marked", async () => await server.outbox.pendingCount() === 0);
      const delivered = await server.outbox.listDeliveries(SESSION, {
        status: "delivered",
        limit: 10,
      });
      assert.deepEqual(
        delivered.map((d) => [d.eventSeq, d.lastStatus ?? 0, d.attempts]).sort((a, b) =>
          a[0] - b[0]
        ),
        Array.from({ length: 6 }, (_, i) => [i + 1, 200 + ((i + 1) % 3), 1]),
      );
    } finally {
      await server.close();
    }
  });
});

Deno.test("dispatcher reads again, renewing its lease, once half the lease time went on one read's deliveries", async () => {
  // Each answer takes 40 ms and half the lease time is 50 ms: a read's third delivery is not
  // sent under it.
  const receiver = startReceiver(async () => {
    await delay(40);
    return new Response("ok");
  });
  await withReceiver(receiver, async () => {
    const reads = { count: 0 };
    const server = setup(receiver.url, {
      node: { id: "node-a", leaseTtlMs: 100 },
      wrap: countingReads(reads),
    });
    try {
      await server.started;
      for (let i = 0; i < 6; i++) textMessage(server.pipeline, `l${i}`);
      await until("6 deliveries", () => receiver.received.length === 6);
      assert.deepEqual(
        bodiesOf(receiver.received, SESSION),
        Array.from({ length: 6 }, (_, i) => `l${i}`),
      );
      assert.ok(reads.count >= 3, `6 deliveries of 40 ms in ${reads.count} reads`);
    } finally {
      await server.close();
    }
  });
});

Deno.test("an event's own deliveries wake their lanes without a read of the destination's lanes", async () => {
  await withReceiver(startReceiver(), async (receiver) => {
    const laneReads = { count: 0 };
    const server = setup(receiver.url, {
      wrap: (outbox) => ({
        ...outbox,
        pendingLanes(destination) {
          laneReads.count++;
          return outbox.pendingLanes(destination);
        },
      }),
    });
    try {
      await server.started;
      // One at a time: from the second on, the destination is one this node serves already.
      for (let i = 0; i < 5; i++) {
        textMessage(server.pipeline, `o${i}`);
        await until(`delivery ${i + 1}`, () => receiver.received.length === i + 1);
      }
      assert.equal(laneReads.count, 0);
    } finally {
      await server.close();
    }
  });
});
