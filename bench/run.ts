/**
 * @module
 * `deno task bench`: the performance figures of wa-gateway, measured side by side in one run on
 * this machine, printed as Markdown and written to `bench/last_run.md`.
 *
 * 1. API hop cost (wrk, 1/16/64 connections): bare Hono GET and POST (the ceilings, in their own
 *    Deno process, with a hand-written state route beside them: the least `GET /state` must do),
 *    `GET /state`, `GET /profile` and `send-text` to a simulator session on the real server
 *    subprocess, with the ratios we steer by.
 * 2. Worker cost: resident memory with 0/10/50/200 simulator sessions, time to start 50, cold
 *    start to the first answer and to 50 restored sessions CONNECTED, and what the modules of a
 *    session's Worker cost (`bench/worker_memory.ts`).
 * 3. The real engine: the output of `bench/wwebjs_memory.ts`.
 * 4. Events: webhook deliveries per second and incoming-message-to-webhook latency, when webhooks
 *    work.
 * 5. Floors: what a Worker round trip and a durable event commit cost alone (`bench/floors.ts`).
 * 6. Cluster: the forwarded hop (non-owner ÷ owner), PostgreSQL ÷ SQLite for `send-text`, and the
 *    time from SIGKILL of a node to its numbers CONNECTED on the others (`bench/cluster.ts`).
 * 7. Metrics: `GET /state` and `send-text` with `METRICS_ENABLED=true` ÷ off, one scrape, and the
 *    counting middleware alone (`bench/metrics.ts`).
 * 8. Ten whatsapp-web.js numbers on one server: total PSS and the marginal cost of each number
 *    (`bench/wwebjs_ten.ts`, without its A/B of Chromium flags: run the script alone for that).
 *
 * `BENCH_DURATION_S` (default 5) sets the seconds per wrk point; `BENCH_SECTIONS` (default
 * `api,workers,wwebjs,events,floors,cluster,metrics,wwebjs10`) picks sections. `events-scale`, not
 * in the default set, runs `bench/events_scale.ts` (100 numbers, a message a second each, 30 s).
 */
import { clusterSection } from "./cluster.ts";
import { metricsSection } from "./metrics.ts";
import {
  api,
  API_KEY,
  ECHO_CONTACT,
  ensureWrk,
  formatMs,
  freePort,
  machine,
  memoryOf,
  percentile,
  phone,
  printWrkTable,
  QUIET_CHAT,
  runWrk,
  type Server,
  sleep,
  spawn,
  startServer,
  startSessions,
  waitConnected,
  type WrkResult,
} from "./lib.ts";

const DURATION_S = Number(Deno.env.get("BENCH_DURATION_S") ?? 5);
const SECTIONS = new Set(
  (Deno.env.get("BENCH_SECTIONS") ?? "api,workers,wwebjs,events,floors,cluster,metrics,wwebjs10")
    .split(",").map((s) => s.trim()),
);
const CONCURRENCY = [1, 16, 64];
const SEND_BODY = JSON.stringify({ chatId: QUIET_CHAT, text: "Hello from the wa-gateway bench" });
const JSON_HEADERS = { "Content-Type": "application/json" };

const out: string[] = [];
function print(line = ""): void {
  console.log(line);
  out.push(line);
}

const mb = (kb: number) => (kb / 1024).toFixed(1);
const ms = formatMs;

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "wa-gateway-bench-" });
}

async function withServer<T>(
  dataDir: string,
  work: (server: Server) => Promise<T>,
  env: Record<string, string> = {},
): Promise<T> {
  const server = startServer({ dataDir, env });
  try {
    await server.ready();
    return await work(server);
  } finally {
    await server.stop();
  }
}

// --- 1. API hop cost ---------------------------------------------------------------------------

async function apiHop(): Promise<void> {
  const wrk = await ensureWrk();
  const barePort = freePort();
  const bare = spawn(["run", "-A", "bench/bare_hono.ts"], { PORT: String(barePort) });
  const dataDir = await tempDir();
  const session = phone(1);
  try {
    await withServer(dataDir, async (server) => {
      await startSessions(server.base, [session]);
      await waitConnected(server.base, [session]);
      const bareBase = `http://127.0.0.1:${barePort}`;
      for (let i = 0; i < 200; i++) {
        if (await fetch(`${bareBase}/hello`).then((r) => r.text()).catch(() => null)) break;
        await sleep(25);
      }
      const authed = { "X-Api-Key": API_KEY };
      const targets = {
        a: { url: `${bareBase}/hello` },
        a2: {
          url: `${bareBase}/send-text`,
          method: "POST",
          body: SEND_BODY,
          headers: JSON_HEADERS,
        },
        a3: { url: `${bareBase}/${session}/state`, headers: authed },
        b: { url: `${server.base}/api/whatsapp/${session}/state`, headers: authed },
        d: { url: `${server.base}/api/whatsapp/${session}/profile`, headers: authed },
        c: {
          url: `${server.base}/api/whatsapp/${session}/send-text`,
          method: "POST",
          body: SEND_BODY,
          headers: { ...JSON_HEADERS, ...authed },
        },
      } as const;
      const results: Record<string, Record<number, WrkResult>> = Object.fromEntries(
        Object.keys(targets).map((name) => [name, {}]),
      );
      // Interleaved per concurrency, so drift in the machine's load hits all of them alike.
      for (const connections of CONCURRENCY) {
        for (const [name, target] of Object.entries(targets)) {
          const options = { ...target, connections } as Parameters<typeof runWrk>[1];
          await runWrk(wrk, { ...options, durationS: 1 }); // Warm-up (JIT, connection pools).
          const result = await runWrk(wrk, { ...options, durationS: DURATION_S });
          if (result.errors > 0) {
            throw new Error(`${name} at ${connections} connections: ${result.errors} errors`);
          }
          results[name][connections] = result;
          console.error(
            `  ${name} c=${connections}: ${result.rps.toFixed(0)} req/s, p50 ${
              ms(result.p50Ms)
            } ms, p99 ${ms(result.p99Ms)} ms`,
          );
        }
      }
      const label: Record<string, string> = {
        a: "(a) bare Hono GET /hello",
        a2: "(a') bare Hono POST send-text JSON",
        a3: "(a'') bare Hono GET state by hand: key check, same JSON, X-Request-Id",
        b: "(b) GET /{phone}/state",
        c: "(c) POST /{phone}/send-text (simulator)",
        d: "(d) GET /{phone}/profile (a Worker call, no event)",
      };
      print("## 1. API hop cost");
      print();
      print(`wrk -t1, ${DURATION_S} s per point after a 1 s warm-up, keep-alive, 127.0.0.1.`);
      print();
      printWrkTable(print, {
        concurrency: CONCURRENCY,
        labels: label,
        results,
        ratios: [
          ["**(b)/(a)** (target ≥ 0.6)", "b", "a"],
          ["**(c)/(a')** (target ≥ 0.5)", "c", "a2"],
          ["(d)/(a) (the Worker hop without an event)", "d", "a"],
          ["(a'')/(a): the least a state route does, by hand", "a3", "a"],
        ],
      });
      print();
    });
  } finally {
    bare.kill("SIGTERM");
    await bare.child.status;
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

// --- 2. Worker cost ----------------------------------------------------------------------------

async function settledMemory(pid: number): Promise<{ rssKb: number; pssKb: number }> {
  await sleep(2_000);
  const samples = [];
  for (let i = 0; i < 3; i++) {
    samples.push(memoryOf(pid));
    await sleep(300);
  }
  return {
    rssKb: percentile(samples.map((s) => s.rssKb), 50),
    pssKb: percentile(samples.map((s) => s.pssKb), 50),
  };
}

async function workers(): Promise<void> {
  print("## 2. Worker cost (simulator sessions)");
  print();
  const counts = [0, 10, 50, 200];
  const rows: string[] = [];
  const dirA = await tempDir();
  let coldFresh = 0;
  const server = startServer({ dataDir: dirA });
  try {
    coldFresh = await server.ready();
    const base = await settledMemory(server.pid);
    rows.push(`| 0 | ${mb(base.rssKb)} | ${mb(base.pssKb)} | – | – |`);
    let started = 0;
    for (const count of counts.slice(1)) {
      const phones = Array.from({ length: count - started }, (_, i) => phone(started + i));
      const t0 = performance.now();
      await startSessions(server.base, phones);
      await waitConnected(server.base, phones, 120_000);
      const took = performance.now() - t0;
      started = count;
      const mem = await settledMemory(server.pid);
      rows.push(
        `| ${count} | ${mb(mem.rssKb)} | ${mb(mem.pssKb)} | ${
          mb((mem.rssKb - base.rssKb) / count)
        } | ${(took / 1000).toFixed(2)} s for ${phones.length} |`,
      );
      console.error(`  ${count} sessions: RSS ${mb(mem.rssKb)} MB`);
    }
  } finally {
    await server.stop();
    await Deno.remove(dirA, { recursive: true }).catch(() => {});
  }
  print("| sessions | RSS MB | PSS MB | RSS per session MB | time to CONNECTED |");
  print("|---:|---:|---:|---:|---|");
  for (const row of rows) print(row);
  print();

  // Time to start 50 at once, then a cold start that restores them.
  const dirB = await tempDir();
  const fifty = Array.from({ length: 50 }, (_, i) => phone(i, "4916"));
  try {
    const start50 = await withServer(dirB, async (s) => {
      const t0 = performance.now();
      await startSessions(s.base, fifty, 50);
      await waitConnected(s.base, fifty, 120_000);
      return performance.now() - t0;
    });
    const restored = startServer({ dataDir: dirB });
    let firstAnswer = 0;
    let allConnected = 0;
    try {
      firstAnswer = await restored.ready();
      await waitConnected(restored.base, fifty, 120_000);
      allConnected = performance.now() - restored.startedAt;
    } finally {
      await restored.stop();
    }
    print("| figure | value |");
    print("|---|---:|");
    print(`| start 50 sessions at once → all CONNECTED | ${(start50 / 1000).toFixed(2)} s |`);
    print(`| cold start, no sessions: spawn → first answered request | ${ms(coldFresh)} ms |`);
    print(
      `| cold start with 50 to restore: spawn → first answered request | ${ms(firstAnswer)} ms |`,
    );
    print(`| cold start with 50 to restore: spawn → all 50 CONNECTED | ${ms(allConnected)} ms |`);
    print();
  } finally {
    await Deno.remove(dirB, { recursive: true }).catch(() => {});
  }
  print("Where a session Worker's memory goes (`bench/worker_memory.ts`):");
  print();
  await printScript("bench/worker_memory.ts", 180_000);
}

// --- 3. The real engine ------------------------------------------------------------------------

async function wwebjs(): Promise<void> {
  print("## 3. The real engine (wwebjs on the fake WhatsApp Web)");
  print();
  await printScript("bench/wwebjs_memory.ts", 240_000);
}

/** Runs another bench script in its own Deno process and prints its Markdown (or why it failed). */
async function printScript(script: string, timeoutMs: number, args: string[] = []): Promise<void> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const text = new TextDecoder().decode(result.stdout).trim();
  if (!result.success) {
    print(`\`${script}\` exited with ${result.code}:`);
    print("```");
    print(new TextDecoder().decode(result.stderr).trim().split("\n").slice(-20).join("\n"));
    print("```");
  }
  print(text);
  print();
}

// --- 8. Ten whatsapp-web.js numbers ------------------------------------------------------------

async function wwebjsTen(): Promise<void> {
  print("## 8. Ten whatsapp-web.js numbers on one server (`bench/wwebjs_ten.ts`)");
  print();
  await printScript("bench/wwebjs_ten.ts", 300_000, ["10", "0"]);
}

// --- 5. Floors ----------------------------------------------------------------------------------

async function floors(): Promise<void> {
  print("## 5. Floors under send-text (`bench/floors.ts`, one process, no HTTP)");
  print();
  await printScript("bench/floors.ts", 120_000);
}

// --- 4. Events ---------------------------------------------------------------------------------

interface Delivery {
  at: number;
  body: string;
}

async function events(): Promise<void> {
  print("## 4. Events (webhooks)");
  print();
  const deliveries: Delivery[] = [];
  const receiverPort = freePort();
  const receiver = Deno.serve({
    hostname: "127.0.0.1",
    port: receiverPort,
    onListen: () => {},
  }, async (request) => {
    deliveries.push({ at: performance.now(), body: await request.text() });
    return new Response(null, { status: 204 });
  });
  const dataDir = await tempDir();
  const session = phone(7);
  try {
    await withServer(dataDir, async (server) => {
      await startSessions(server.base, [session]);
      await waitConnected(server.base, [session]);
      const probe = `probe-${crypto.randomUUID()}`;
      await api(server.base, "POST", `/${session}/send-text`, {
        chatId: ECHO_CONTACT,
        text: probe,
      });
      const deadline = performance.now() + 3_000;
      while (performance.now() < deadline && !deliveries.some((d) => d.body.includes(probe))) {
        await sleep(20);
      }
      if (!deliveries.some((d) => d.body.includes(probe))) {
        print("Not available yet: with `WEBHOOK_URL` set, no delivery reached the receiver.");
        print();
        return;
      }

      // Latency: a text to the echo contact comes back as an incoming message 20 ms later (the
      // simulator's fixed delay, subtracted); the clock stops when its webhook arrives.
      const latencies: number[] = [];
      for (let i = 0; i < 200; i++) {
        const token = `lat-${i}-${crypto.randomUUID()}`;
        const sentAt = performance.now();
        await api(server.base, "POST", `/${session}/send-text`, {
          chatId: ECHO_CONTACT,
          text: token,
        });
        const echo = `echo: ${token}`;
        const until = performance.now() + 5_000;
        let found: Delivery | undefined;
        while (!found && performance.now() < until) {
          found = deliveries.find((d) => d.at >= sentAt && d.body.includes(echo));
          if (!found) await sleep(1);
        }
        if (found) latencies.push(found.at - sentAt - 20);
      }

      // Throughput: 2,000 sends at 16 in flight, each making a message.any and an ack.
      deliveries.length = 0;
      const total = 2_000;
      let next = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (next < total) {
          next++;
          await api(server.base, "POST", `/${session}/send-text`, {
            chatId: QUIET_CHAT,
            text: "throughput",
          });
        }
      }));
      let last = -1;
      while (deliveries.length !== last) {
        last = deliveries.length;
        await sleep(1_000);
      }
      const span = (deliveries.at(-1)?.at ?? t0) - t0;
      print("| figure | value |");
      print("|---|---:|");
      print(
        `| webhook deliveries per second (${deliveries.length} deliveries from ${total} sends) | ${
          (deliveries.length / (span / 1000)).toFixed(0)
        } |`,
      );
      print(
        `| incoming message → webhook, p50 / p99 (${latencies.length} of 200 arrived) | ${
          ms(percentile(latencies, 50))
        } / ${ms(percentile(latencies, 99))} ms |`,
      );
      print();
    }, {
      WEBHOOK_URL: `http://127.0.0.1:${receiverPort}/hook`,
      WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
    });
  } finally {
    await receiver.shutdown();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

// --- main --------------------------------------------------------------------------------------

if (import.meta.main) {
  const began = performance.now();
  print("# wa-gateway benchmark");
  print();
  print(`Run ${new Date().toISOString()} on ${machine()}.`);
  print();
  print("Command: `deno task bench`");
  print();
  if (SECTIONS.has("api")) await apiHop();
  if (SECTIONS.has("workers")) await workers();
  if (SECTIONS.has("wwebjs")) await wwebjs();
  if (SECTIONS.has("events")) await events();
  if (SECTIONS.has("floors")) await floors();
  if (SECTIONS.has("cluster")) await clusterSection(print, DURATION_S);
  if (SECTIONS.has("metrics")) await metricsSection(print, DURATION_S);
  if (SECTIONS.has("wwebjs10")) await wwebjsTen();
  // Not in the default run (~1.5 min with 100 numbers): `BENCH_SECTIONS=events-scale`.
  if (SECTIONS.has("events-scale")) {
    await printScript("bench/events_scale.ts", 900_000);
  }
  print(`Whole run: ${((performance.now() - began) / 1000).toFixed(0)} s.`);
  const file = new URL("./last_run.md", import.meta.url);
  await Deno.writeTextFile(file, out.join("\n") + "\n");
  // Formatted like the rest of the tree, so `deno fmt --check` stays clean after a run.
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", file.pathname] }).output();
}
