/**
 * @module
 * The event path at scale (issue #21, item 5): N simulator numbers, each receiving a message every
 * `everyMs` (default a second), all delivered to one webhook receiver, the operator's global
 * `WEBHOOK_URL`, served by this script on 127.0.0.1.
 *
 * `deno run -A bench/events_scale.ts [numbers] [seconds] [everyMs] [--settle=S] [--profile] [--gc] [--opt] [--v8-flags=…] [--env=NAME=value…]`
 *
 * Starts a real server process (`main.ts`, simulator engine, `METRICS_ENABLED=true`), starts the
 * numbers and waits until all are CONNECTED and the outbox is empty, then starts every number's
 * chatter (`POST /{phoneNumber}/simulator/chatter`: the contact writes by itself inside the
 * session's Worker, so the load costs one request per number, not one per message) for `seconds`,
 * all armed first to begin together (`startAt`), each number's messages a fraction of `everyMs`
 * after the one before's.
 * Each chatter text carries the millisecond it was made (`… at <ISO time>`); the receiver takes
 * the latency of every delivery (`message` and `message.any`) from it to its arrival. Every few
 * seconds it reads the outbox's size (`wa_gateway_outbox_pending_deliveries` from `/metrics`:
 * deliveries stored and not yet delivered) and the CPU of the server's threads (`/proc`). After
 * the run it waits for the outbox to drain and checks that every message made arrived.
 *
 * `--settle=S` lets the numbers idle S seconds between all CONNECTED and the first message, past
 * the window (~30 s after a Worker starts) in which V8's memory reducer shrinks every new Worker's
 * heap at once: the steady state alone.
 * After the run, the server's database says how many messages were stored (a session the server
 * restarted under load ends its chatter: fewer are made than asked for) and how many deliveries
 * went out more than once (a POST that outlived the webhook timeout is sent again).
 * Prints a Markdown table per sample and a summary table. `--profile` also records the main
 * thread's CPU profile (V8 inspector) during the run and prints where its time goes; `--gc` runs
 * the server with V8's `--trace-gc` and counts each sample's garbage collections (every isolate's),
 * `--opt` with `--trace-opt` and counts its optimized compiles; `--v8-flags=…` are passed on;
 * `--env=NAME=value` sets the server's configuration (an A/B of a setting).
 * The summary also splits the whole machine's CPU over the run (`/proc/stat`): the server's (every
 * thread), this script's (the receiver), and the rest, each per message: on a machine with no
 * CPU left, their sum per message is what bounds the rate.
 */
import { DatabaseSync } from "node:sqlite";
import {
  api,
  connectedCount,
  freePort,
  machine,
  metricSum,
  percentile,
  phone,
  processCpuMs,
  sleep,
  startServer,
  startSessions,
} from "./lib.ts";
import { startCpuProfile, summariseProfile, writeProfile } from "./cpu_profile.ts";

const CONTACT = "15550000001@c.us";
const SAMPLE_MS = 3_000;
const LABEL = "Load";
const MADE_AT = / at (\d{4}-\d\d-\d\dT[\d:.]+Z)"/;
/** The envelope's own `timestamp` (ms; the payload's has seconds). */
const ENVELOPE_AT = /"timestamp":(\d{13})\b/;

const args = Deno.args.filter((a) => !a.startsWith("--"));
const NUMBERS = Number(args[0] ?? 100);
const SECONDS = Number(args[1] ?? 30);
const EVERY_MS = Number(args[2] ?? 1_000);
const PROFILE = Deno.args.includes("--profile");
/** Seconds the numbers idle between all CONNECTED and the first message (`--settle=S`). */
const SETTLE_S = Number(Deno.args.find((a) => a.startsWith("--settle="))?.slice(9) ?? 0);
/** The server runs with V8's `--trace-gc`; each sample counts the collections in it. */
const TRACE_GC = Deno.args.includes("--gc");
/** The server runs with V8's `--trace-opt`; each sample counts the optimized compiles in it. */
const TRACE_OPT = Deno.args.includes("--opt");
/** More V8 flags for the server (`--v8-flags=--no-maglev`), for A/Bs of V8's own work. */
const V8_FLAGS = Deno.args.filter((a) => a.startsWith("--v8-flags=")).map((a) =>
  a.slice("--v8-flags=".length)
);
/** The server's environment beside the bench's own (`--env=WEBHOOK_LANES=4`). */
const EXTRA_ENV = Object.fromEntries(
  Deno.args.filter((a) => a.startsWith("--env=")).map((a) => {
    const [name, ...value] = a.slice("--env=".length).split("=");
    return [name, value.join("=")];
  }),
);
const v8Flags = [
  ...(TRACE_GC ? ["--trace-gc"] : []),
  ...(TRACE_OPT ? ["--trace-opt"] : []),
  ...V8_FLAGS,
];

interface Arrival {
  at: number;
  /** Made in the simulator → arrived at the receiver. */
  latencyMs: number;
  /** Made → the event reached the main thread (the envelope's `timestamp`). */
  toMainMs: number;
  /** The main thread → the dispatcher sent it (`X-Webhook-Timestamp`): storing and queueing. */
  queuedMs: number;
}

/** The webhook receiver: keeps, per delivery of a chatter message, its arrival and latency. */
function startReceiver() {
  const arrivals: Arrival[] = [];
  let other = 0;
  let messages = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    const body = await r.text();
    const at = Date.now();
    const made = MADE_AT.exec(body);
    if (made && body.includes(`"body":"${LABEL} `)) {
      const madeAt = Date.parse(made[1]);
      const envelopeAt = Number(ENVELOPE_AT.exec(body)?.[1]);
      const sentAt = Number(r.headers.get("x-webhook-timestamp"));
      arrivals.push({
        at,
        latencyMs: at - madeAt,
        toMainMs: envelopeAt - madeAt,
        queuedMs: sentAt - envelopeAt,
      });
      if (body.includes('"event":"message"')) messages++;
    } else {
      other++;
    }
    return new Response(null, { status: 204 });
  });
  const port = (server.addr as Deno.NetAddr).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    arrivals,
    messages: () => messages,
    other: () => other,
    close: () => server.shutdown(),
  };
}

/** The outbox's pending deliveries, from the Prometheus endpoint. */
function outboxSize(base: string): Promise<number> {
  return metricSum(base, "wa_gateway_outbox_pending_deliveries");
}

/**
 * CPU time (ms) of the main thread and of every other thread of the process (of which the Workers'
 * threads, `worker-N`, and V8's helper threads, `V8 DefaultWorker`: concurrent GC and compiling),
 * and how long the main thread waited, runnable, for a CPU (`schedstat`: the machine's other load
 * shows there).
 */
function cpuTicks(
  pid: number,
): { main: number; others: number; workers: number; v8: number; mainWaited: number } {
  const ticks = { main: 0, others: 0, workers: 0, v8: 0, mainWaited: 0 };
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const task = `/proc/${pid}/task/${entry.name}`;
      const [ran, waited] = Deno.readTextFileSync(`${task}/schedstat`).split(" ").map(Number);
      if (entry.name === String(pid)) {
        ticks.main += ran / 1e6;
        ticks.mainWaited += waited / 1e6;
        continue;
      }
      ticks.others += ran / 1e6;
      const name = Deno.readTextFileSync(`${task}/comm`);
      if (name.startsWith("worker-")) ticks.workers += ran / 1e6;
      else if (name.startsWith("V8 ")) ticks.v8 += ran / 1e6;
    } catch {
      // The thread ended.
    }
  }
  return ticks;
}

/** The whole machine's busy CPU time (ms, all cores: all but idle and iowait) and its cores. */
function machineCpuMs(): { busy: number; cores: number } {
  const lines = Deno.readTextFileSync("/proc/stat").split("\n");
  const [, ...ticks] = lines[0].trim().split(/\s+/).map(Number);
  const idle = ticks[3] + ticks[4];
  // user nice system idle iowait irq softirq steal (guest time is inside user already).
  const total = ticks.slice(0, 8).reduce((sum, t) => sum + t, 0);
  return {
    busy: (total - idle) * 10,
    cores: lines.filter((line) => /^cpu\d/.test(line)).length,
  };
}

/**
 * The garbage collections `--trace-gc` reports (every isolate's: the main thread's and each
 * Worker's), counted as they are printed: scavenges and minor mark-sweeps, full mark-compacts, and
 * the sum of their pauses.
 */
function gcCounter() {
  const totals = { minor: 0, major: 0, pauseMs: 0, optimized: 0 };
  const OPTIMIZED = /completed (optimizing|compiling)/;
  // `[pid:isolate]   1234 ms: Incremental Mark-Compact 67.0 (83.6) -> 20.7 (38.2) MB, …, 11.55 / 0.00 ms …`
  const LINE = /\d+ ms: ([A-Za-z -]+?) [\d.]+ \([\d.]+\) -> .*?, ([\d.]+) \/ [\d.]+ ms/;
  return {
    totals,
    onLine(line: string) {
      if (OPTIMIZED.test(line)) totals.optimized++;
      const match = LINE.exec(line);
      if (!match) return;
      if (/Scavenge|Minor/.test(match[1])) totals.minor++;
      else totals.major++;
      totals.pauseMs += Number(match[2]);
    },
  };
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Waits until every number is CONNECTED; gives up when none more came up for 90 s. */
async function waitConnectedOrStalled(base: string, phones: string[]): Promise<void> {
  let best = -1;
  let since = performance.now();
  while (true) {
    const up = await connectedCount(base, phones).catch(() => best);
    if (up === phones.length) return;
    if (up > best) {
      best = up;
      since = performance.now();
    } else if (performance.now() - since > 90_000) {
      const { body } = await api<{ sessions: { state: string }[] }>(base, "GET", "/sessions");
      const states: Record<string, number> = {};
      for (const { state } of body.sessions) states[state] = (states[state] ?? 0) + 1;
      throw new Error(
        `Only ${best} of ${phones.length} numbers CONNECTED, none more for 90 s: ${
          JSON.stringify(states)
        }`,
      );
    }
    await sleep(500);
  }
}

async function inParallel(items: string[], limit: number, work: (item: string) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

const ms = (value: number) => value < 10 ? value.toFixed(1) : value.toFixed(0);

if (import.meta.main) {
  const receiver = startReceiver();
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-events-scale-" });
  const inspectPort = freePort();
  const gc = gcCounter();
  /** Sessions the server restarted (a missed heartbeat under load, say): their chatters ended. */
  let restarts = 0;
  const server = startServer({
    dataDir,
    env: { WEBHOOK_URL: receiver.url, METRICS_ENABLED: "true", ...EXTRA_ENV },
    denoFlags: [
      "run",
      "-A",
      ...(PROFILE ? [`--inspect=127.0.0.1:${inspectPort}`] : []),
      ...(v8Flags.length > 0 ? [`--v8-flags=${v8Flags.join(",")}`] : []),
    ],
    onLine: (line) => {
      if (line.includes('"session crashed, restarting"')) restarts++;
      if (TRACE_GC || TRACE_OPT) gc.onLine(line);
    },
  });
  // Interrupted (Ctrl-C, a timeout's SIGTERM): the server and its numbers go too.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      server.kill("SIGKILL");
      Deno.removeSync(dataDir, { recursive: true });
      Deno.exit(130);
    });
  }
  const out: string[] = [];
  const print = (line = "") => {
    out.push(line);
    console.log(line);
  };
  try {
    await server.ready(60_000);
    const loadBefore = machine();
    const phones = Array.from({ length: NUMBERS }, (_, i) => phone(i + 1, "4918"));
    const startedAt = performance.now();
    await startSessions(server.base, phones);
    await waitConnectedOrStalled(server.base, phones);
    const upMs = performance.now() - startedAt;
    console.error(`${NUMBERS} numbers CONNECTED in ${(upMs / 1000).toFixed(1)} s`);
    await waitUntil(
      "the start's events to be delivered",
      async () => await outboxSize(server.base) === 0,
      120_000,
    );

    // `--settle=S`: the numbers idle for S s first, past the window in which V8's memory reducer
    // shrinks every new Worker's heap (~30 s after its start): the steady state alone.
    if (SETTLE_S > 0) {
      console.error(`settling for ${SETTLE_S} s`);
      await sleep(SETTLE_S * 1000);
    }
    // The idle cost of the numbers (heartbeats and the like), 3 s before any message.
    const idle0 = cpuTicks(server.pid);
    await sleep(3_000);
    const idle1 = cpuTicks(server.pid);
    const idle = {
      main: idle1.main - idle0.main,
      others: idle1.others - idle0.others,
      workers: idle1.workers - idle0.workers,
      v8: idle1.v8 - idle0.v8,
      mainWaited: idle1.mainWaited - idle0.mainWaited,
    };
    const profiler = PROFILE ? await startProfile(inspectPort) : null;
    const count = Math.floor((SECONDS * 1000) / EVERY_MS);
    // Every chatter is armed first and all begin together (`startAt`), their messages spread
    // evenly over each `EVERY_MS` (the i-th number's `i / N` of it later), as independent
    // contacts' would be: time to arm them all, at ~10 ms a request and 16 in flight, with room
    // to spare.
    const startAt = Date.now() + Math.max(3_000, NUMBERS * 25) + EVERY_MS;
    const phaseOf = new Map(phones.map((p, i) => [p, Math.floor(i * EVERY_MS / NUMBERS)]));
    const armStart = Date.now();
    await inParallel(phones, 16, async (number) => {
      const { status, body } = await api(server.base, "POST", `/${number}/simulator/chatter`, {
        chatId: CONTACT,
        everyMs: EVERY_MS,
        durationMs: SECONDS * 1000,
        text: LABEL,
        startAt: startAt + phaseOf.get(number)!,
      });
      if (status !== 200) {
        throw new Error(`chatter of ${number}: ${status} ${JSON.stringify(body)}`);
      }
    });
    const armedMs = Date.now() - armStart;
    // The ticks' origin: the first message comes `EVERY_MS` after it.
    const t0 = startAt - EVERY_MS;
    if (Date.now() < t0) await sleep(t0 - Date.now());
    // Arming took longer than planned: the later numbers started late.
    const chatterStartedMs = Math.max(0, armStart + armedMs - t0);
    const cpu0 = cpuTicks(server.pid);
    const whole0 = {
      machine: machineCpuMs(),
      server: processCpuMs(server.pid),
      bench: processCpuMs("self"),
    };

    // Samples until every chatter has made its last message.
    const samples: string[] = [];
    const sizes: number[] = [await outboxSize(server.base)];
    let lastAt = t0;
    let lastIndex = 0;
    let lastCpu = cpu0;
    let lastGc = { ...gc.totals };
    const end = t0 + chatterStartedMs + count * EVERY_MS;
    while (Date.now() < end) {
      await sleep(Math.min(SAMPLE_MS, Math.max(0, end - Date.now())));
      const now = Date.now();
      const size = await outboxSize(server.base);
      const cpu = cpuTicks(server.pid);
      const batch = receiver.arrivals.slice(lastIndex);
      const seconds = (now - lastAt) / 1000;
      const lat = batch.map((a) => a.latencyMs);
      samples.push(
        `| ${((now - t0) / 1000).toFixed(0)} | ${(batch.length / seconds).toFixed(0)} | ${
          ms(percentile(lat, 50))
        } | ${ms(percentile(lat, 99))} | ${size} | ${
          ((cpu.main - lastCpu.main) / seconds / 10).toFixed(0)
        } % | ${((cpu.mainWaited - lastCpu.mainWaited) / seconds / 10).toFixed(0)} % | ${
          ((cpu.others - lastCpu.others) / seconds / 10).toFixed(0)
        } % | ${((cpu.workers - lastCpu.workers) / seconds / 10).toFixed(0)} % | ${
          ((cpu.v8 - lastCpu.v8) / seconds / 10).toFixed(0)
        } % |${
          TRACE_GC
            ? ` ${gc.totals.minor - lastGc.minor} / ${gc.totals.major - lastGc.major} / ${
              ms(gc.totals.pauseMs - lastGc.pauseMs)
            } |`
            : ""
        }${TRACE_OPT ? ` ${gc.totals.optimized - lastGc.optimized} |` : ""}`,
      );
      lastGc = { ...gc.totals };
      console.error(samples.at(-1));
      sizes.push(size);
      lastAt = now;
      lastIndex = receiver.arrivals.length;
      lastCpu = cpu;
    }
    const runMs = Date.now() - t0;
    const cpuRun = cpuTicks(server.pid);
    const whole1 = {
      machine: machineCpuMs(),
      server: processCpuMs(server.pid),
      bench: processCpuMs("self"),
    };
    const profile = profiler ? await profiler.stop() : null;
    const expected = NUMBERS * count;
    const drainStart = Date.now();
    await waitUntil("the outbox to drain", async () => await outboxSize(server.base) === 0, 300_000)
      .catch((error) => console.error(String(error)));
    const drainMs = Date.now() - drainStart;
    await waitUntil(
      "every message to arrive",
      () => Promise.resolve(receiver.messages() >= expected),
      30_000,
    ).catch(() => {});
    const sizeEnd = await outboxSize(server.base);

    const all = receiver.arrivals.map((a) => a.latencyMs);
    // Steady state: after the chatters' start and the first sample, until the last message made.
    const steadyFrom = t0 + chatterStartedMs + SAMPLE_MS;
    const steady = receiver.arrivals.filter((a) => a.at >= steadyFrom && a.at <= t0 + runMs);
    const steadyS = (t0 + runMs - steadyFrom) / 1000;
    const lat = steady.map((a) => a.latencyMs);

    print(`## Event path at scale: ${NUMBERS} numbers, a message every ${EVERY_MS} ms each`);
    print();
    print(
      `\`deno run -A bench/events_scale.ts ${NUMBERS} ${SECONDS} ${EVERY_MS}${
        SETTLE_S > 0 ? ` --settle=${SETTLE_S}` : ""
      }${PROFILE ? " --profile" : ""}${TRACE_GC ? " --gc" : ""}${TRACE_OPT ? " --opt" : ""}${
        V8_FLAGS.map((f) => ` --v8-flags=${f}`).join("")
      }${Object.entries(EXTRA_ENV).map(([k, v]) => ` --env=${k}=${v}`).join("")}\`, ${
        new Date().toISOString()
      }, ${loadBefore}; load average after the run ${
        Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
      }.${PROFILE ? " With the inspector attached (profiling): slower than without." : ""}`,
    );
    print();
    print(
      `${NUMBERS} numbers CONNECTED in ${
        (upMs / 1000).toFixed(1)
      } s; the chatters were armed in ${armedMs} ms${
        chatterStartedMs > 0 ? ` (${chatterStartedMs} ms after the planned start)` : ""
      }, all to begin together, spread over each ${EVERY_MS} ms; ${count} messages each, two ` +
        "deliveries per message (`message`, `message.any`) to the one global webhook.",
    );
    print();
    print(
      "| t s | deliveries/s | p50 ms | p99 ms | outbox | main thread CPU | main thread " +
        "waiting for a CPU | other threads CPU | of which Workers | of which V8's threads |" +
        (TRACE_GC ? " GCs minor / full / pause ms |" : "") +
        (TRACE_OPT ? " optimized compiles |" : ""),
    );
    print(
      `|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|${TRACE_GC ? "---|" : ""}${
        TRACE_OPT ? "---:|" : ""
      }`,
    );
    print(
      `| idle, before | – | – | – | ${sizes[0]} | ${(idle.main / 30).toFixed(0)} % | ${
        (idle.mainWaited / 30).toFixed(0)
      } % | ${(idle.others / 30).toFixed(0)} % | ${(idle.workers / 30).toFixed(0)} % | ${
        (idle.v8 / 30).toFixed(0)
      } % |${TRACE_GC ? " – |" : ""}${TRACE_OPT ? " – |" : ""}`,
    );
    for (const row of samples) print(row);
    print();
    const mainCpu = (cpuRun.main - cpu0.main) / runMs * 100;
    const otherCpu = (cpuRun.others - cpu0.others) / runMs * 100;
    const mainWaited = (cpuRun.mainWaited - cpu0.mainWaited) / runMs * 100;
    print(
      "| N | deliveries/s (steady; offered) | p50 / p99 / max ms (steady) | p99 ms (all) | " +
        "outbox start / peak / end | drained after | arrived | main thread CPU / waiting for a " +
        "CPU / other threads CPU | main-thread CPU per message above idle |",
    );
    print("|---:|---:|---:|---:|---|---:|---:|---:|---:|");
    const cpu = `${mainCpu.toFixed(0)} % / ${mainWaited.toFixed(0)} % / ${otherCpu.toFixed(0)} %`;
    // What a message costs the main thread above the idle numbers' own work (heartbeats…): the
    // figure a fix of the event path moves, and one the machine's other load hardly does.
    const perMessageUs = ((cpuRun.main - cpu0.main) - idle.main / 3_000 * runMs) * 1000 / expected;
    print(
      `| ${NUMBERS} | ${(steady.length / steadyS).toFixed(0)}; ${
        (2 * NUMBERS * 1000 / EVERY_MS).toFixed(0)
      } | ${ms(percentile(lat, 50))} / ${ms(percentile(lat, 99))} / ${ms(Math.max(...lat))} | ${
        ms(percentile(all, 99))
      } | ${sizes[0]} / ${Math.max(...sizes)} / ${sizeEnd} | ${
        (drainMs / 1000).toFixed(1)
      } s | ${receiver.messages()} of ${expected} | ${cpu} | ${perMessageUs.toFixed(0)} µs |`,
    );
    print();
    // The whole machine over the run: what the server, this script and everything else used.
    const used = {
      machine: whole1.machine.busy - whole0.machine.busy,
      server: whole1.server - whole0.server,
      bench: whole1.bench - whole0.bench,
    };
    const share = (value: number) =>
      `${(value / runMs).toFixed(2)} cores, ${(value * 1000 / expected).toFixed(0)} µs a message`;
    print(
      `The whole machine over the run: ${share(used.machine)} busy of ${whole1.machine.cores} ` +
        `cores; the server (every thread) ${share(used.server)}; this script (the receiver and ` +
        `the samples) ${share(used.bench)}; everything else ` +
        `${share(Math.max(0, used.machine - used.server - used.bench))}.`,
    );
    print();
    const part = (values: number[]) =>
      `${ms(percentile(values, 50))} / ${ms(percentile(values, 99))} / ${ms(Math.max(...values))}`;
    print("Where the steady-state latency goes (p50 / p99 / max ms):");
    print();
    print(
      "| made → main thread | main thread → POST sent | POST sent → arrived | made → arrived |",
    );
    print("|---:|---:|---:|---:|");
    print(
      `| ${part(steady.map((a) => a.toMainMs))} | ${part(steady.map((a) => a.queuedMs))} | ${
        part(steady.map((a) => a.latencyMs - a.toMainMs - a.queuedMs))
      } | ${part(lat)} |`,
    );
    print();
    if (profile) {
      for (const line of profile) print(line);
      print();
    }
    if (receiver.messages() < expected) {
      console.error(`Lost: ${expected - receiver.messages()} messages never arrived`);
      Deno.exitCode = 1;
    }
  } catch (error) {
    console.error(String(error));
    console.error(server.tail());
    Deno.exitCode = 1;
  } finally {
    await server.stop();
    await receiver.close();
    // What the server stored and how often it sent it, once it is gone (it holds the database).
    try {
      print(storedFacts(`${dataDir}/wa-gateway.db`, restarts));
    } catch (error) {
      console.error(`Reading the server's database failed: ${error}`);
    }
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

/** Profiles the main thread until `stop()`, which gives the summary lines (in a code block). */
async function startProfile(port: number) {
  const profiling = await startCpuProfile(port, 200);
  return {
    async stop(): Promise<string[]> {
      const profile = await profiling.stop();
      const file = await writeProfile(profile, "events");
      return ["```", ...summariseProfile(profile), "```", "", `CPU profile written to ${file}`];
    },
  };
}

/**
 * What the server's database says after the run: the `message` events stored (a session restarted
 * under load stops its chatter, so fewer were made), and the deliveries by status and how many
 * went out more than once (a POST that outlived the webhook timeout is sent again).
 */
function storedFacts(path: string, restarts: number): string {
  const db = new DatabaseSync(path);
  try {
    const stored = db.prepare("SELECT count(*) AS n FROM events WHERE event = 'message'").get() as {
      n: number;
    };
    const byStatus = db.prepare(
      "SELECT status, count(*) AS n, sum(attempts > 1) AS again FROM webhook_deliveries GROUP BY status",
    ).all() as { status: string; n: number; again: number }[];
    const deliveries = byStatus.map((row) => `${row.n} ${row.status}`).join(", ");
    const again = byStatus.reduce((sum, row) => sum + Number(row.again), 0);
    return `Stored by the server: ${stored.n} \`message\` events; deliveries ${deliveries}, ` +
      `${again} of them attempted more than once; sessions restarted during the run: ${restarts}.`;
  } finally {
    db.close();
  }
}
