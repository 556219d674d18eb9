/**
 * @module
 * `GET /metrics` through HTTP: off unless `METRICS_ENABLED` (404), then only for the admin key or
 * the scraper's `METRICS_TOKEN` (401 for anyone else, an account's key included), checked on the
 * real entry point over 127.0.0.1. Every metric the Grafana dashboard in `deploy/` queries is in
 * the scrape, and the counters, histograms and gauges move with traffic: a simulator number
 * started, a text sent, a webhook retried then delivered, an SSE stream opened and closed, a Worker
 * crashed and restarted. In a cluster (a PostgreSQL of the test's own) every node labels its
 * figures with its `NODE_ID` and counts the sessions it runs.
 */
import assert from "node:assert/strict";
import { startReceiver } from "../events/test_receivers.ts";
import {
  ADMIN_KEY,
  startServerProcess,
  startSession,
  startTestApp,
  type TestApp,
  waitFor,
} from "./_helpers.ts";
import { startPostgres } from "./_postgres.ts";

const TOKEN = "metrics-token-0123456789abcdef";
const ACCOUNT_KEY = "account-a-key-0123456789abcdef";
const PHONE = "4915550018001";
const CONTACT = "15550000001@c.us";

/** One sample of the text format: name, labels and value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[name] = value;
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels`. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) =>
      s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value)
    )
    .reduce((sum, s) => sum + s.value, 0);
}

/** The metric names the dashboard's queries use. */
async function dashboardMetrics(): Promise<string[]> {
  const path = new URL("../deploy/grafana/wa-gateway.json", import.meta.url);
  const dashboard = JSON.parse(await Deno.readTextFile(path));
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        if (key === "expr" && typeof value === "string") {
          for (const [name] of value.matchAll(/\bwa_gateway_\w+/g)) names.add(name);
        } else visit(value);
      }
    }
  };
  visit(dashboard);
  return [...names].sort();
}

Deno.test("GET /metrics is 404 unless METRICS_ENABLED is true", async () => {
  const server = await startTestApp();
  try {
    const response = await server.app.request("/metrics", { headers: { "X-Api-Key": ADMIN_KEY } });
    assert.equal(response.status, 404);
    await response.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("GET /metrics over HTTP answers the admin key and METRICS_TOKEN, and 401 to anyone else", async () => {
  const server = await startServerProcess({
    METRICS_ENABLED: "true",
    METRICS_TOKEN: TOKEN,
    API_KEYS: `${ACCOUNT_KEY}=account-a`,
  });
  const scrape = async (headers: Record<string, string>) => {
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`, { headers });
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      text: await response.text(),
    };
  };
  try {
    const anonymous = await scrape({});
    assert.equal(anonymous.status, 401);
    assert.equal(JSON.parse(anonymous.text).code, "UNAUTHORIZED");
    assert.equal((await scrape({ "X-Api-Key": ACCOUNT_KEY })).status, 401, "an account's key");
    assert.equal((await scrape({ Authorization: `Bearer ${ACCOUNT_KEY}` })).status, 401);
    assert.equal((await scrape({ Authorization: `Bearer ${TOKEN}x` })).status, 401, "a near miss");
    assert.equal((await scrape({ "X-Api-Key": TOKEN })).status, 401, "the token is a bearer");
    assert.equal(
      (await scrape({ "X-Api-Key": ADMIN_KEY, Authorization: `Bearer ${TOKEN}` })).status,
      401,
      "two credentials at once",
    );

    const accepted: Record<string, string>[] = [
      { Authorization: `Bearer ${TOKEN}` },
      { "X-Api-Key": ADMIN_KEY },
    ];
    for (const headers of accepted) {
      const answer = await scrape(headers);
      assert.equal(answer.status, 200, JSON.stringify(headers));
      assert.match(answer.type ?? "", /^text\/plain; version=0\.0\.4/);
      assert.match(answer.text, /^# TYPE wa_gateway_http_requests_total counter$/m);
      assert.match(answer.text, /^wa_gateway_process_cpu_seconds_total \d/m);
    }
    // A single node (SQLite) has no `node` label.
    assert.doesNotMatch((await scrape({ "X-Api-Key": ADMIN_KEY })).text, /node="/);
  } finally {
    await server.stop();
  }
});

Deno.test("every metric the Grafana dashboard queries is in /metrics, and counters, histograms and gauges move with traffic", async () => {
  // The first attempt is refused (a retry is counted), the second held until the test has seen
  // the delivery pending in the backlog.
  let release = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  const receiver = startReceiver(async (attempt) => {
    if (attempt === 1) return new Response("busy", { status: 503 });
    await held;
    return new Response("ok");
  });
  const server = await startTestApp({
    METRICS_ENABLED: "true",
    METRICS_TOKEN: TOKEN,
    WEBHOOK_URL: receiver.url,
    WEBHOOK_EVENTS: "message.any",
    WEBHOOK_RETRY_BASE_MS: "20",
    WEBHOOK_RETRY_MAX_MS: "50",
    RESTART_BACKOFF_MIN_MS: "50",
    RESTART_BACKOFF_MAX_MS: "100",
  });
  const scrape = async () => {
    const response = await server.app.request("/metrics", {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(response.status, 200);
    const text = await response.text();
    return { text, samples: parseSamples(text) };
  };
  const SEND_TEXT = { route: "/api/whatsapp/{phoneNumber}/send-text", method: "POST" };
  try {
    const before = (await scrape()).samples;
    assert.equal(valueOf(before, "wa_gateway_sessions", { status: "WORKING" }), 0);

    await startSession(server, PHONE);
    const sent = await server.json("POST", `/${PHONE}/send-text`, {
      body: { chatId: CONTACT, text: "counted" },
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    await waitFor("the second attempt to arrive", () => receiver.hits >= 2);
    const pending = (await scrape()).samples;
    assert.equal(valueOf(pending, "wa_gateway_outbox_pending_deliveries"), 1);
    assert.equal(valueOf(pending, "wa_gateway_webhook_deliveries_total", { result: "retry" }), 1);
    release();
    // Counted once the receiver's answer is in, and no longer pending once marked delivered.
    await waitFor("the delivery to be counted and marked delivered", async () => {
      const { samples } = await scrape();
      return valueOf(samples, "wa_gateway_webhook_deliveries_total", { result: "success" }) === 1 &&
        valueOf(samples, "wa_gateway_outbox_pending_deliveries") === 0;
    });
    assert.equal(receiver.received.length, 1);
    assert.equal((await server.json("GET", "/4915550018999/state")).status, 404);
    assert.equal((await server.request("GET", "/no/such/route")).status, 404);

    const after = (await scrape()).samples;
    const grew = (name: string, labels: Record<string, string>, by = 1) => {
      const delta = valueOf(after, name, labels) - valueOf(before, name, labels);
      assert.ok(delta >= by, `${name} ${JSON.stringify(labels)} grew by ${delta}, expected ${by}`);
    };
    grew("wa_gateway_http_requests_total", { ...SEND_TEXT, status: "200" });
    grew("wa_gateway_http_request_duration_seconds_count", { ...SEND_TEXT, status: "200" });
    grew("wa_gateway_http_request_duration_seconds_bucket", { ...SEND_TEXT, le: "+Inf" });
    grew("wa_gateway_http_requests_total", {
      route: "/api/whatsapp/{phoneNumber}/state",
      status: "404",
    });
    grew("wa_gateway_http_requests_total", { route: "unmatched", status: "404" });
    assert.ok(
      !after.some((s) => s.labels.route?.includes(PHONE)),
      "no route label carries a raw path",
    );
    grew("wa_gateway_engine_call_duration_seconds_count", { method: "sendText", outcome: "ok" });
    assert.ok(
      valueOf(after, "wa_gateway_engine_call_duration_seconds_sum", { method: "sendText" }) > 0,
    );
    grew("wa_gateway_events_total", { event: "message.any" });
    grew("wa_gateway_events_total", { event: "session.status" });
    grew("wa_gateway_webhook_deliveries_total", { result: "retry" });
    grew("wa_gateway_webhook_deliveries_total", { result: "success" });
    grew("wa_gateway_webhook_delivery_duration_seconds_count", { result: "success" });
    assert.equal(valueOf(after, "wa_gateway_webhook_deliveries_total", { result: "failed" }), 0);
    assert.equal(
      valueOf(after, "wa_gateway_sessions", { status: "WORKING", engine: "simulator" }),
      1,
    );
    assert.equal(valueOf(after, "wa_gateway_outbox_pending_deliveries"), 0);

    // An SSE stream counts while it is open, and no longer once the client leaves.
    const stream = await server.request("GET", `/${PHONE}/events`);
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    await reader.read(); // ": connected"
    const open = (await scrape()).samples;
    assert.equal(
      valueOf(open, "wa_gateway_sse_clients", { route: "/api/whatsapp/{phoneNumber}/events" }),
      1,
    );
    await reader.cancel();
    await waitFor(
      "the stream to be counted as closed",
      async () => valueOf((await scrape()).samples, "wa_gateway_sse_clients") === 0,
    );

    // A Worker that crashes is restarted, and counted with a reason from the fixed list.
    const crash = await server.json("POST", `/${PHONE}/send-text`, {
      body: { chatId: CONTACT, text: "/simulate crash" },
    });
    assert.notEqual(crash.status, 200);
    await waitFor(
      "the restart to be counted",
      async () =>
        valueOf((await scrape()).samples, "wa_gateway_session_restarts_total", {
          reason: "worker_crashed",
          outcome: "restarted",
        }) === 1,
    );

    const { text, samples } = await scrape();
    const missing = (await dashboardMetrics()).filter((name) => {
      const family = name.replace(/_(bucket|sum|count)$/, "");
      return !samples.some((s) => s.name === name) &&
        !new RegExp(`^# TYPE ${family} (counter|gauge|histogram)$`, "m").test(text);
    });
    assert.deepEqual(missing, [], "metrics the dashboard queries that /metrics lacks");
    assert.ok((await dashboardMetrics()).length >= 15, "the dashboard queries the metrics");
  } finally {
    release();
    await server.close();
    await receiver.close();
  }
});

Deno.test("in a cluster each node's /metrics carries its NODE_ID, and counts only the sessions it runs", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase();
  const node = (id: string) =>
    startTestApp({ DATABASE_URL: url, NODE_ID: id, METRICS_ENABLED: "true", METRICS_TOKEN: TOKEN });
  const scrape = async (server: TestApp) => {
    const response = await server.app.request("/metrics", {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(response.status, 200);
    return parseSamples(await response.text());
  };
  const first = await node("metrics-node-1");
  let second: TestApp | null = null;
  try {
    // Started before the second node exists, so it runs on the first.
    await startSession(first, PHONE);
    second = await node("metrics-node-2");
    const [one, two] = [await scrape(first), await scrape(second)];
    assert.deepEqual([...new Set(one.map((s) => s.labels.node))], ["metrics-node-1"]);
    assert.deepEqual([...new Set(two.map((s) => s.labels.node))], ["metrics-node-2"]);
    assert.equal(valueOf(one, "wa_gateway_sessions", { status: "WORKING" }), 1);
    assert.equal(valueOf(two, "wa_gateway_sessions", { status: "WORKING" }), 0);
    assert.equal(
      valueOf(two, "wa_gateway_sessions"),
      0,
      "the other node's numbers are not counted",
    );
    // The backlog is the shared outbox's (PostgreSQL's `pendingCount`).
    assert.ok(one.some((s) => s.name === "wa_gateway_outbox_pending_deliveries"));
  } finally {
    await second?.close();
    await first.close();
  }
});
