/**
 * @module
 * How many simulator numbers one node carries (issue 21, item 1). Starts the server as a
 * subprocess, then:
 *
 * 1. starts `numbers` simulator numbers at once (`in-flight` start requests at a time) and times
 *    every answer and the moment all are `CONNECTED`, while a probe asks `/health` every 20 ms;
 * 2. lets them idle and reads the server's memory (PSS, `/proc/<pid>/smaps_rollup`; Workers are
 *    threads of it) against the same server with no number, and the CPU of its main thread and of
 *    all its threads over 20 s (`/proc/<pid>/task/<tid>/stat`);
 * 3. restarts the server (SIGTERM, then the same `DATA_DIR`) and times its first answer, the
 *    restore of every number to `CONNECTED`, and `/health` meanwhile.
 *
 * It counts the Workers restarted meanwhile (`wa_gateway_session_restarts_total`: a Worker that
 * missed its heartbeat on the loaded machine is one). With `--profile`, the idle main thread is
 * profiled for 20 s more, after its CPU was read (the profiler's own cost stays out of that).
 *
 * `deno run -A bench/capacity.ts [numbers=1000] [in-flight=64] [--profile]`
 * (`HEARTBEAT_INTERVAL_MS`, `HEARTBEAT_TIMEOUT_MS` and `WORKER_NICE` are passed to the server)
 */
import { startCpuProfile, summariseProfile, writeProfile } from "./cpu_profile.ts";
import {
  api,
  type Cpu,
  cpuOf,
  freePort,
  machine,
  memoryOf,
  metricSum,
  percentile,
  phone,
  type Server,
  sleep,
  startServer,
} from "./lib.ts";

const PROFILE = Deno.args.includes("--profile");
const [numbersArg, inFlightArg] = Deno.args.filter((arg) => !arg.startsWith("--"));
const NUMBERS = Number(numbersArg ?? 1000);
const IN_FLIGHT = Number(inFlightArg ?? 64);
// V8 keeps collecting in the background for tens of seconds after a thousand isolates started.
const IDLE_SETTLE_MS = 60_000;
const IDLE_CPU_MS = 20_000;
const DEADLINE_MS = 300_000;

const share = (ms: number, wallMs: number) => `${(ms / wallMs * 100).toFixed(0)} %`;

/** Asks `/health` every 20 ms until stopped; latencies in ms. */
function probeHealth(base: string) {
  const latencies: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const response = await fetch(`${base}/api/whatsapp/health`);
        await response.body?.cancel();
        latencies.push(performance.now() - started);
      } catch {
        // Not listening yet (a restart).
      }
      await sleep(20);
    }
  })();
  return {
    latencies,
    async stop() {
      running = false;
      await done;
      return latencies;
    },
  };
}

interface SessionRow {
  phoneNumber: string;
  state: string;
}

/** Polls `GET /sessions` every 500 ms until all `phones` are CONNECTED; ms since `since`. */
async function allConnected(server: Server, phones: Set<string>, since: number): Promise<number> {
  while (performance.now() - since < DEADLINE_MS) {
    const { status, body } = await api<{ sessions: SessionRow[] }>(server.base, "GET", "/sessions")
      .catch(() => ({ status: 0, body: { sessions: [] } }));
    if (status === 200) {
      const connected = body.sessions.filter((s) =>
        phones.has(s.phoneNumber) && s.state === "CONNECTED"
      ).length;
      if (connected === phones.size) return performance.now() - since;
    }
    await sleep(500);
  }
  throw new Error(`Not all ${phones.size} numbers were CONNECTED within ${DEADLINE_MS} ms`);
}

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`);

async function main(): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-capacity-" });
  const port = freePort();
  // The heartbeat's settings pass through, for A/B runs.
  const env: Record<string, string> = { LOG_LEVEL: "error", METRICS_ENABLED: "true" };
  for (const name of ["HEARTBEAT_INTERVAL_MS", "HEARTBEAT_TIMEOUT_MS", "WORKER_NICE"]) {
    const value = Deno.env.get(name);
    if (value) env[name] = value;
  }
  const phones = Array.from({ length: NUMBERS }, (_, i) => phone(i, "4917"));
  const wanted = new Set(phones);
  console.log(`${machine()}; ${NUMBERS} simulator numbers, ${IN_FLIGHT} starts in flight`);

  const inspectPort = freePort();
  let server = startServer({
    dataDir,
    port,
    env,
    ...(PROFILE ? { denoFlags: ["run", "-A", `--inspect=127.0.0.1:${inspectPort}`] } : {}),
  });
  await server.ready();
  await sleep(2_000);
  const empty = memoryOf(server.child.pid);

  // 1. All at once.
  let probe = probeHealth(server.base);
  const cpuAtStart = cpuOf(server.child.pid);
  const startedAt = performance.now();
  const answers: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < phones.length) {
      const number = phones[next++];
      const sent = performance.now();
      const { status, body } = await api(server.base, "POST", `/${number}/start`, {});
      if (status !== 200) throw new Error(`start ${number}: ${status} ${JSON.stringify(body)}`);
      answers.push(performance.now() - sent);
    }
  }));
  const allAnsweredMs = performance.now() - startedAt;
  const connectedMs = await allConnected(server, wanted, startedAt);
  const cpuAtConnected = cpuOf(server.child.pid);
  const startHealth = await probe.stop();
  const restartsStarting = await restartsOf(server);
  const spent = (key: keyof Cpu) => cpuAtConnected[key] - cpuAtStart[key];

  // 2. Idle.
  await sleep(IDLE_SETTLE_MS);
  const loaded = memoryOf(server.child.pid);
  const cpuBefore = cpuOf(server.child.pid);
  await sleep(IDLE_CPU_MS);
  const cpuAfter = cpuOf(server.child.pid);
  const idleMainPct = (cpuAfter.mainMs - cpuBefore.mainMs) / IDLE_CPU_MS * 100;
  const idleAllPct = (cpuAfter.allMs - cpuBefore.allMs) / IDLE_CPU_MS * 100;
  let idleProfile: string[] = [];
  if (PROFILE) {
    const profiling = await startCpuProfile(inspectPort, 1_000);
    await sleep(IDLE_CPU_MS);
    const profile = await profiling.stop();
    const file = await writeProfile(profile, "capacity-idle");
    idleProfile = ["```", ...summariseProfile(profile), "```", `CPU profile written to ${file}`];
  }
  const restartsIdle = await restartsOf(server) - restartsStarting;

  // 3. Restart on the same DATA_DIR.
  const stopCode = await server.stop("SIGTERM", 120_000);
  server = startServer({ dataDir, port, env });
  probe = probeHealth(server.base);
  const restartAt = server.startedAt;
  const firstAnswerMs = await server.ready(60_000);
  const restoredMs = await allConnected(server, wanted, restartAt);
  const restoreHealth = await probe.stop();
  const restartsRestoring = await restartsOf(server);
  await server.stop("SIGTERM", 120_000);
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});

  const perNumberMb = (loaded.pssKb - empty.pssKb) / 1024 / NUMBERS;
  const rows: [string, string][] = [
    [
      "every start answered",
      `${fmt(allAnsweredMs)} (p50 ${fmt(percentile(answers, 50))}, p99 ${
        fmt(percentile(answers, 99))
      })`,
    ],
    ["all CONNECTED", fmt(connectedMs)],
    [
      "CPU meanwhile (share of one core: main / V8's threads / Workers / all)",
      `${share(spent("mainMs"), connectedMs)} / ${share(spent("v8Ms"), connectedMs)} / ${
        share(spent("workersMs"), connectedMs)
      } / ${share(spent("allMs"), connectedMs)}; ${
        (spent("workersMs") / NUMBERS).toFixed(0)
      } ms of Worker CPU per number`,
    ],
    [
      "`/health` while starting",
      `p50 ${fmt(percentile(startHealth, 50))}, p99 ${fmt(percentile(startHealth, 99))}, max ${
        fmt(Math.max(...startHealth))
      } (${startHealth.length} probes)`,
    ],
    [
      "server PSS, no number → all idle",
      `${(empty.pssKb / 1024).toFixed(0)} → ${(loaded.pssKb / 1024).toFixed(0)} MB`,
    ],
    ["PSS per number", `${perNumberMb.toFixed(2)} MB`],
    ["Workers restarted while starting / idle", `${restartsStarting} / ${restartsIdle}`],
    ["idle CPU, main thread", `${idleMainPct.toFixed(1)} % of a core`],
    ["idle CPU, whole process", `${idleAllPct.toFixed(1)} % of a core`],
    ["SIGTERM exit code", String(stopCode)],
    ["restart: first `/health` answer", fmt(firstAnswerMs)],
    ["restart: all CONNECTED again", fmt(restoredMs)],
    [
      "`/health` while restoring",
      `p50 ${fmt(percentile(restoreHealth, 50))}, p99 ${fmt(percentile(restoreHealth, 99))}, max ${
        fmt(Math.max(...restoreHealth))
      } (${restoreHealth.length} probes)`,
    ],
    ["Workers restarted while restoring", String(restartsRestoring)],
  ];
  console.log("\n| measure | value |\n| --- | --- |");
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
  if (idleProfile.length > 0) console.log(["", "Idle main thread:", ...idleProfile].join("\n"));
}

/** Session Workers or Chromiums that died and were restarted (or failed) since the server began. */
function restartsOf(server: Server): Promise<number> {
  return metricSum(server.base, "wa_gateway_session_restarts_total");
}

await main();
Deno.exit(0);
