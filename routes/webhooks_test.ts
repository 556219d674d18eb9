/**
 * @module
 * Webhooks and events through HTTP: per-number webhook configuration with the SSRF rules, the
 * deliveries list and replay, the SSE stream with `Last-Event-ID` resume, and the inbound WAHA
 * endpoints with WAHA's documented payloads.
 */
import assert from "node:assert/strict";
import { delay, type Receiver, startReceiver, verifyHmac } from "../events/test_receivers.ts";
import { sqliteDatabase } from "../store/sqlite/store.ts";
import { startTestApp, type TestApp, waitFor, waitForState } from "../tests/_helpers.ts";

const PHONE = "4915550001234";

/** WAHA's documented `message` event (with media), addressed to our session. */
function wahaMessageExample(session: string) {
  return {
    id: "evt_01aaaaaaaaaaaaaaaaaaaaaaaa",
    timestamp: 1634567890123,
    session,
    metadata: { "user.id": "123", "user.email": "email@example.com" },
    engine: "WEBJS",
    event: "message",
    payload: {
      id: "false_11111111111@c.us_AAAAAAAAAAAAAAAAAAAA",
      timestamp: 1666943582,
      from: "11111111111@c.us",
      fromMe: true,
      source: "api",
      to: "11111111111@c.us",
      participant: "string",
      body: "string",
      hasMedia: true,
      media: {
        url: "http://localhost:3000/api/files/false_11111111111@c.us_AAAAAAAAAAAAAAAAAAAA.oga",
        mimetype: "audio/jpeg",
        filename: "example.pdf",
        s3: { Bucket: "my-bucket", Key: "default/false_11111111111@c.us_AAAAAAAAAAAAAAAAAAAA.oga" },
        error: null,
      },
      ack: -1,
      ackName: "string",
      author: "string",
      location: { description: "string", latitude: "string", longitude: "string" },
      vCards: ["string"],
      _data: {},
      replyTo: {
        id: "AAAAAAAAAAAAAAAAAAAA",
        participant: "11111111111@c.us",
        body: "Hello!",
        _data: {},
      },
    },
    me: { id: "11111111111@c.us", pushName: "string" },
    environment: {
      version: "YYYY.MM.BUILD",
      engine: "WEBJS",
      tier: "PLUS",
      browser: "/usr/path/to/bin/google-chrome",
    },
  };
}

/** WAHA's documented `session.status` event. */
function wahaStatusExample(session: string) {
  return {
    id: "evt_01bbbbbbbbbbbbbbbbbbbbbbbb",
    timestamp: 1634567890123,
    event: "session.status",
    session,
    metadata: { "user.id": "123" },
    me: { id: "7911111@c.us", pushName: "~" },
    payload: {
      name: session,
      status: "WORKING",
      statuses: [
        { status: "STOPPED", timestamp: 1700000001000 },
        { status: "STARTING", timestamp: 1700000002000 },
        { status: "WORKING", timestamp: 1700000003000 },
      ],
    },
    engine: "WEBJS",
    environment: { version: "2023.10.12", engine: "WEBJS", tier: "CORE", browser: null },
  };
}

async function withServer(
  env: Record<string, string>,
  work: (server: TestApp, receiver: Receiver) => Promise<void>,
): Promise<void> {
  const receiver = startReceiver();
  const server = await startTestApp({
    WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
    WEBHOOK_RETRY_BASE_MS: "20",
    ...env,
  });
  try {
    await work(server, receiver);
  } finally {
    await server.close();
    await receiver.close();
  }
}

async function connectedSession(server: TestApp): Promise<void> {
  const { status } = await server.json("POST", `/${PHONE}/start`);
  assert.equal(status, 200);
  await waitForState(server, PHONE, "CONNECTED");
}

type SseMessage = { event?: string; id?: string; data: string };

/**
 * Reads SSE messages from a response until `count` arrived (or one that `until` accepts); then
 * cancels the stream.
 */
async function readSse(
  response: Response,
  count: number,
  timeoutMs = 10_000,
  until: (message: SseMessage) => boolean = () => false,
) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const messages: { event?: string; id?: string; data: string }[] = [];
  let buffer = "";
  const deadline = setTimeout(() => reader.cancel(), timeoutMs);
  try {
    while (messages.length < count && !messages.some(until)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const message: { event?: string; id?: string; data: string } = { data: "" };
        let hasData = false;
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) message.event = line.slice(7);
          else if (line.startsWith("id: ")) message.id = line.slice(4);
          else if (line.startsWith("data: ")) {
            message.data += (hasData ? "\n" : "") + line.slice(6);
            hasData = true;
          }
        }
        if (hasData) messages.push(message);
      }
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => {});
  }
  return messages;
}

Deno.test("PUT /:phoneNumber/webhooks saves a number's webhooks and GET shows them without the secret", async () => {
  await withServer({}, async (server, receiver) => {
    await connectedSession(server);
    const put = await server.json("PUT", `/${PHONE}/webhooks`, {
      body: {
        webhooks: [{
          url: receiver.url,
          events: ["message"],
          secret: "hush",
          headers: { Authorization: "Bearer x" },
        }],
      },
    });
    assert.equal(put.status, 200);
    const got = await server.json<{ webhooks: Record<string, unknown>[] }>(
      "GET",
      `/${PHONE}/webhooks`,
    );
    assert.deepEqual(got.body.webhooks, [{
      url: receiver.url,
      events: ["message"],
      hasSecret: true,
      headers: { Authorization: "Bearer x" },
    }]);
  });
});

Deno.test("PUT /:phoneNumber/webhooks refuses an event name nobody defines, listing the known ones, and takes WAHA's", async () => {
  await withServer({}, async (server, receiver) => {
    await connectedSession(server);
    const put = (events: string[]) =>
      server.json("PUT", `/${PHONE}/webhooks`, {
        body: { webhooks: [{ url: receiver.url, events }] },
      });
    const wrong = await put(["message", "messages"]);
    assert.equal(wrong.status, 400);
    const error = String(wrong.body.error);
    assert.match(error, /^Invalid body field "webhooks\.0\.events\.1": unknown event "messages": /);
    for (
      const name of ["session.status", "state.change", "message", "message.any", "message.ack"]
    ) {
      assert.ok(error.includes(name), `lists ${name}`);
    }
    assert.ok(error.includes('"*" for all') && error.includes("message.reaction"));
    assert.deepEqual((await server.json("GET", `/${PHONE}/webhooks`)).body, { webhooks: [] });

    // WAHA's names that are not sent yet keep a WAHA configuration working.
    const waha = await put(["message.revoked", "group.v2.join", "message"]);
    assert.equal(waha.status, 200, JSON.stringify(waha.body));
    assert.equal((await put(["*"])).status, 200);
  });
});

Deno.test("a number freed by the admin's DELETE loses its webhooks and events before anyone claims it again", async () => {
  await withServer({ SSE_HEARTBEAT_MS: "50" }, async (server, receiver) => {
    const t0 = Date.now();
    await connectedSession(server);
    await server.json("PUT", `/${PHONE}/webhooks`, {
      body: { webhooks: [{ url: receiver.url, events: ["*"] }] },
    });
    await server.json("POST", `/${PHONE}/send-text`, {
      body: { chatId: "15550000001@c.us", text: "the first owner's secret" },
    });
    assert.equal((await server.json("DELETE", `/${PHONE}`)).status, 200);
    await connectedSession(server);
    const got = await server.json<{ webhooks: unknown[] }>("GET", `/${PHONE}/webhooks`);
    assert.deepEqual(got.body.webhooks, []);
    const replay = await readSse(
      await server.request("GET", `/${PHONE}/events?since=${t0}`),
      20,
      500,
    );
    assert.ok(replay.length > 0, "the new session's own events are there");
    assert.ok(replay.every((m) => m.event !== "stream.gap"));
    assert.ok(
      replay.every((m) => !m.data.includes("the first owner's secret")),
      "nothing of the first owner's is replayed",
    );
  });
});

Deno.test("PUT /:phoneNumber/webhooks refuses private addresses unless WEBHOOK_ALLOW_PRIVATE_HOSTS opens them", async () => {
  await withServer({ WEBHOOK_ALLOW_PRIVATE_HOSTS: "" }, async (server) => {
    await server.manager.start(PHONE);
    for (
      const url of ["http://127.0.0.1:9/hook", "http://169.254.169.254/", "ftp://example.com/"]
    ) {
      const { status, body } = await server.json("PUT", `/${PHONE}/webhooks`, {
        body: { webhooks: [{ url, events: ["*"] }] },
      });
      assert.equal(status, 400, url);
      assert.equal(body.code, "BAD_REQUEST");
    }
    const reserved = await server.json("PUT", `/${PHONE}/webhooks`, {
      body: {
        webhooks: [{ url: "http://8.8.8.8/", events: ["*"], headers: { "X-Webhook-Hmac": "x" } }],
      },
    });
    assert.equal(reserved.status, 400);
    const unknown = await server.json("PUT", `/4915550009999/webhooks`, {
      body: { webhooks: [] },
    });
    assert.equal(unknown.status, 404);
  });
});

Deno.test("a number's webhook receives its simulator events signed with its secret", async () => {
  await withServer({}, async (server, receiver) => {
    await connectedSession(server);
    await server.json("PUT", `/${PHONE}/webhooks`, {
      body: { webhooks: [{ url: receiver.url, events: ["*"], secret: "per-number" }] },
    });
    const sent = await server.json("POST", `/${PHONE}/send-text`, {
      body: { chatId: "15550000000@c.us", text: "ping" },
    });
    assert.equal(sent.status, 200);
    await waitFor(
      "the echo",
      () =>
        receiver.received.some((r) =>
          r.json.event === "message" && r.json.payload.body === "echo: ping"
        ),
    );
    await waitFor("the ack", () => receiver.received.some((r) => r.json.event === "message.ack"));
    const events = new Set(receiver.received.map((r) => r.json.event));
    assert.ok(events.has("message.any"));
    for (const item of receiver.received) {
      assert.ok(await verifyHmac("per-number", item.body, item.headers.get("x-webhook-hmac")!));
    }
    const own = receiver.received.find((r) =>
      r.json.event === "message.any" && r.json.payload.fromMe === true
    )!;
    assert.equal(own.json.payload.id, (sent.body as { messageId: string }).messageId);
    assert.equal(own.json.payload.source, "api", "sent through the API");
    const echo = receiver.received.find((r) =>
      r.json.event === "message" && r.json.payload.body === "echo: ping"
    )!;
    assert.equal(echo.json.payload.source, "app", "written by a person");
    // The receiver has them; the outbox records each delivery once its answer is in.
    await waitFor("the deliveries to be recorded", async () => {
      const { body } = await server.json<{ deliveries: { status: string }[] }>(
        "GET",
        `/${PHONE}/webhooks/deliveries?status=delivered`,
      );
      return body.deliveries.length >= receiver.received.length;
    });
  });
});

Deno.test("GET /:phoneNumber/webhooks/deliveries?status=failed lists dead letters and POST retry delivers them", async () => {
  await withServer({ WEBHOOK_MAX_ATTEMPTS: "2" }, async (server) => {
    const probe = startReceiver();
    const port = probe.port;
    await probe.close();
    await server.manager.start(PHONE);
    await server.json("PUT", `/${PHONE}/webhooks`, {
      body: { webhooks: [{ url: `http://127.0.0.1:${port}/hook`, events: ["session.status"] }] },
    });
    await waitForState(server, PHONE, "CONNECTED");
    const failed = await waitFor("dead letters", async () => {
      const { body } = await server.json<{ deliveries: { id: number; eventId: string }[] }>(
        "GET",
        `/${PHONE}/webhooks/deliveries?status=failed`,
      );
      return body.deliveries.length > 0 ? body.deliveries : null;
    });
    const receiver = startReceiver(undefined, port);
    try {
      const retried = await server.json<{ delivery: { status: string } }>(
        "POST",
        `/${PHONE}/webhooks/deliveries/${failed[0].id}/retry`,
      );
      assert.equal(retried.status, 200);
      assert.equal(retried.body.delivery.status, "pending");
      await waitFor(
        "the replay",
        () => receiver.received.some((r) => r.json.id === failed[0].eventId),
      );
      const missing = await server.json("POST", `/${PHONE}/webhooks/deliveries/999999/retry`);
      assert.equal(missing.status, 404);
    } finally {
      await receiver.close();
    }
  });
});

Deno.test("GET /:phoneNumber/events?since replays, and a stream resumes after Last-Event-ID", async () => {
  await withServer({ SSE_HEARTBEAT_MS: "50" }, async (server) => {
    const t0 = Date.now();
    await connectedSession(server);
    const first = await server.request("GET", `/${PHONE}/events?since=${t0}`);
    assert.equal(first.status, 200);
    assert.match(first.headers.get("content-type")!, /text\/event-stream/);
    const all = await readSse(first, 4);
    assert.equal(all[0].event, "session.status");
    assert.equal(JSON.parse(all[0].data).id, all[0].id);

    const resumed = await server.request("GET", `/${PHONE}/events`, {
      headers: { "Last-Event-ID": all[1].id! },
    });
    const sendLater = delay(100).then(() =>
      server.json("POST", `/${PHONE}/send-text`, {
        body: { chatId: "15550000001@c.us", text: "live" },
      })
    );
    const next = await readSse(resumed, 3);
    await sendLater;
    assert.equal(next[0].id, all[2].id);
    assert.equal(next[1].id, all[3].id);
    const seen = await readSse(
      await server.request("GET", `/${PHONE}/events?lastEventId=${all[3].id}`),
      10,
      1_000,
    );
    assert.ok(
      seen.some((m) => m.event === "message.any" && JSON.parse(m.data).payload.body === "live"),
    );
    const ids = seen.map((m) => m.id);
    assert.equal(new Set(ids).size, ids.length);
  });
});

Deno.test("GET /:phoneNumber/events without a resume point starts with the live events", async () => {
  await withServer({ SSE_HEARTBEAT_MS: "50" }, async (server) => {
    await connectedSession(server);
    await server.json("POST", `/${PHONE}/send-text`, {
      body: { chatId: "15550000001@c.us", text: "before the stream" },
    });
    const stream = await server.request("GET", `/${PHONE}/events`);
    const sendLater = delay(100).then(() =>
      server.json("POST", `/${PHONE}/send-text`, {
        body: { chatId: "15550000001@c.us", text: "after it opened" },
      })
    );
    const later = (m: SseMessage) =>
      m.event === "message.any" && JSON.parse(m.data).payload.body === "after it opened";
    const seen = await readSse(stream, 100, 10_000, later);
    await sendLater;
    assert.ok(seen.some(later));
    // The first send's ack may come live; its message and the session's history do not.
    assert.deepEqual(
      seen.filter((m) => m.event !== "message.ack").map((m) => JSON.parse(m.data).payload.body),
      ["after it opened"],
    );
  });
});

Deno.test("GET /:phoneNumber/events with an unknown Last-Event-ID or a since before retention starts with one stream.gap, then the retained events", async () => {
  await withServer({ SSE_HEARTBEAT_MS: "50" }, async (server) => {
    await connectedSession(server);
    const stored = await readSse(
      await server.request("GET", `/${PHONE}/events?since=${Date.now() - 60_000}`),
      3,
    );
    assert.ok(stored.every((m) => m.id?.startsWith("evt_")), "no gap within the retention");
    for (
      const [request, said] of [
        [{ headers: { "Last-Event-ID": "evt_01neverstoredneverstored0" } }, /is unknown or older/],
        // Another id of the same shape (its last character changed, never to itself).
        [{
          headers: { "Last-Event-ID": stored[0].id!.replace(/.$/, (c) => c === "0" ? "1" : "0") },
        }, /is unknown/],
        [{ path: "?since=0" }, /since=0 is older than the retention \(72 h\)/],
      ] as const
    ) {
      const path = `/${PHONE}/events${"path" in request ? request.path : ""}`;
      const options = "headers" in request ? { headers: request.headers } : {};
      const [gap, ...rest] = await readSse(await server.request("GET", path, options), 4);
      assert.equal(gap.event, "stream.gap");
      assert.equal(gap.id, undefined, "the gap has no id: a reconnect still names the last event");
      const body = JSON.parse(gap.data);
      assert.equal(body.event, "stream.gap");
      assert.equal(body.session, PHONE);
      assert.match(body.payload.message, said);
      assert.deepEqual(rest.map((m) => m.id), stored.map((m) => m.id), "then what is retained");
    }
  });
});

Deno.test("GET /:phoneNumber/events ends with a retry: hint when the server closes its streams", async () => {
  await withServer({ SSE_HEARTBEAT_MS: "50" }, async (server) => {
    await connectedSession(server);
    const response = await server.request("GET", `/${PHONE}/events`);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = (await reader.read()).value ?? "";
    assert.match(text, /^: connected/, "the stream is open (and subscribed)");
    const deadline = setTimeout(() => reader.cancel(), 10_000);
    try {
      server.events.closeStreams();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        text += chunk.value;
      }
    } finally {
      clearTimeout(deadline);
    }
    assert.match(text, /\nretry: 1000\n\n$/, "the last thing sent is when to reconnect");
  });
});

Deno.test("POST /webhook/message and /webhook/state-change put WAHA's examples into the pipeline unchanged", async () => {
  await withServer({ SSE_HEARTBEAT_MS: "50" }, async (server, receiver) => {
    const t0 = Date.now();
    await server.manager.start(PHONE);
    await server.json("PUT", `/${PHONE}/webhooks`, {
      body: { webhooks: [{ url: receiver.url, events: ["message", "session.status"] }] },
    });
    const message = wahaMessageExample(PHONE);
    const status = wahaStatusExample(PHONE);
    const posted = await server.json("POST", "/webhook/message", { body: message });
    assert.equal(posted.status, 200);
    assert.deepEqual(posted.body.ids, [message.id]);
    const again = await server.json("POST", "/webhook/message", { body: message });
    assert.equal(again.body.duplicate, true);
    const state = await server.json<{ ids: string[] }>("POST", "/webhook/state-change", {
      body: status,
    });
    assert.equal(state.status, 200);
    assert.equal(state.body.ids.length, 2);

    await waitFor(
      "both inbound events",
      () =>
        receiver.received.filter((r) =>
          r.json.id.startsWith("evt_01a") || r.json.id.startsWith("evt_01b")
        ).length === 2,
    );
    const atHook = receiver.received.find((r) => r.json.id === message.id)!;
    assert.deepEqual(atHook.json, message);
    assert.deepEqual(receiver.received.find((r) => r.json.id === status.id)!.json, status);

    const streamed = await readSse(
      await server.request("GET", `/${PHONE}/events?since=${t0}`),
      50,
      1_000,
    );
    const fromStream = streamed.filter((m) => m.id === message.id || m.id === status.id);
    assert.deepEqual(fromStream.map((m) => JSON.parse(m.data)), [message, status]);
    const change = streamed.find((m) =>
      m.event === "state.change" && JSON.parse(m.data).timestamp === status.timestamp
    )!;
    assert.equal(JSON.parse(change.data).payload.state, "CONNECTED");
  });
});

Deno.test("POST /webhook/state-change stores session.status and its state.change together or not at all", async () => {
  await withServer({}, async (server, receiver) => {
    await connectedSession(server);
    await server.json("PUT", `/${PHONE}/webhooks`, {
      body: { webhooks: [{ url: receiver.url, events: ["*"] }] },
    });
    const db = sqliteDatabase(server.store);
    const status = wahaStatusExample(PHONE);
    // The inbound status and the state.change derived from it (which carries its timestamp).
    const stored = () =>
      (db.prepare(
        "SELECT event FROM events WHERE id = ? OR " +
          "(event = 'state.change' AND json_extract(body, '$.timestamp') = ?) ORDER BY seq",
      ).all(status.id, status.timestamp) as { event: string }[]).map((row) => row.event);
    // The state.change's delivery cannot be written: the session.status must not stay behind.
    db.exec(`
      CREATE TRIGGER refuse_state_change BEFORE INSERT ON webhook_deliveries
      WHEN (SELECT event FROM events WHERE seq = NEW.event_seq) = 'state.change'
      BEGIN SELECT RAISE(ABORT, 'disk full'); END
    `);
    const failed = await server.json("POST", "/webhook/state-change", { body: status });
    assert.equal(failed.status, 500);
    assert.deepEqual(stored(), []);

    db.exec("DROP TRIGGER refuse_state_change");
    const accepted = await server.json<{ ids: string[]; duplicate: boolean }>(
      "POST",
      "/webhook/state-change",
      { body: status },
    );
    assert.equal(accepted.status, 200);
    assert.equal(accepted.body.ids.length, 2);
    assert.equal(accepted.body.duplicate, false);
    assert.deepEqual(stored(), ["session.status", "state.change"]);
    const again = await server.json("POST", "/webhook/state-change", { body: status });
    assert.deepEqual(again.body, { success: true, ids: [], duplicate: true });
    assert.deepEqual(stored(), ["session.status", "state.change"]);
  });
});

Deno.test("POST /webhook/message refuses malformed events with 400 and unknown sessions with 404", async () => {
  await withServer({}, async (server) => {
    await server.manager.start(PHONE);
    const bad = wahaMessageExample(PHONE) as Record<string, unknown>;
    bad.payload = { ...(bad.payload as object), fromMe: "yes" };
    const malformed = await server.json("POST", "/webhook/message", { body: bad });
    assert.equal(malformed.status, 400);
    assert.match(String(malformed.body.error), /payload\.fromMe/);
    const wrongEvent = await server.json("POST", "/webhook/message", {
      body: { ...wahaMessageExample(PHONE), event: "session.status" },
    });
    assert.equal(wrongEvent.status, 400);
    const badStatus = await server.json("POST", "/webhook/state-change", {
      body: { ...wahaStatusExample(PHONE), payload: { status: "DANCING" } },
    });
    assert.equal(badStatus.status, 400);
    for (const session of ["4915550009999", "default"]) {
      const unknown = await server.json("POST", "/webhook/message", {
        body: wahaMessageExample(session),
      });
      assert.equal(unknown.status, 404, session);
      assert.equal(unknown.body.code, "NOT_FOUND");
    }
    const anonymous = await server.json("POST", "/webhook/message", {
      body: wahaMessageExample(PHONE),
      anonymous: true,
    });
    assert.equal(anonymous.status, 401);
  });
});
