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
 * `deno run -A bench/capacity.ts [numbers=1000] [in-flight=64]` (`HEARTBEAT_INTERVAL_MS` and
 * `HEARTBEAT_TIMEOUT_MS` are passed to the server)
 */
import {
  api,
  freePort,
  machine,
  memoryOf,
  percentile,
  phone,
  type Server,
  sleep,
  startServer,
} from "./lib.ts";

const NUMBERS = Number(Deno.args[0] ?? 1000);
const IN_FLIGHT = Number(Deno.args[1] ?? 64);
// V8 keeps collecting in the background for tens of seconds after a thousand isolates started.
const IDLE_SETTLE_MS = 60_000;
const IDLE_CPU_MS = 20_000;
const DEADLINE_MS = 300_000;
const TICKS_PER_S = 100; // USER_HZ

/** utime + stime of one thread, in ms. */
function threadCpuMs(pid: number, tid: number | string): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/task/${tid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 1000 / TICKS_PER_S;
  } catch {
    return 0; // The thread ended meanwhile.
  }
}

interface Cpu {
  mainMs: number;
  /** V8's platform threads (background GC and compilation for every isolate). */
  v8Ms: number;
  /** The Worker threads (session Workers and spawners). */
  workersMs: number;
  allMs: number;
}

/** CPU ms of the main thread, of V8's threads, of the Workers and of the whole process. */
function cpuOf(pid: number): Cpu {
  const cpu: Cpu = { mainMs: threadCpuMs(pid, pid), v8Ms: 0, workersMs: 0, allMs: 0 };
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    const ms = threadCpuMs(pid, entry.name);
    cpu.allMs += ms;
    let name = "";
    try {
      name = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/comm`);
    } catch {
      continue;
    }
    if (name.startsWith("V8 ")) cpu.v8Ms += ms;
    else if (name.startsWith("worker")) cpu.workersMs += ms;
  }
  return cpu;
}

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
  const env: Record<string, string> = { LOG_LEVEL: "error" };
  for (const name of ["HEARTBEAT_INTERVAL_MS", "HEARTBEAT_TIMEOUT_MS"]) {
    const value = Deno.env.get(name);
    if (value) env[name] = value;
  }
  const phones = Array.from({ length: NUMBERS }, (_, i) => phone(i, "4917"));
  const wanted = new Set(phones);
  console.log(`${machine()}; ${NUMBERS} simulator numbers, ${IN_FLIGHT} starts in flight`);

  let server = startServer({ dataDir, port, env });
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
  const spent = (key: keyof Cpu) => cpuAtConnected[key] - cpuAtStart[key];

  // 2. Idle.
  await sleep(IDLE_SETTLE_MS);
  const loaded = memoryOf(server.child.pid);
  const cpuBefore = cpuOf(server.child.pid);
  await sleep(IDLE_CPU_MS);
  const cpuAfter = cpuOf(server.child.pid);
  const idleMainPct = (cpuAfter.mainMs - cpuBefore.mainMs) / IDLE_CPU_MS * 100;
  const idleAllPct = (cpuAfter.allMs - cpuBefore.allMs) / IDLE_CPU_MS * 100;

  // 3. Restart on the same DATA_DIR.
  const stopCode = await server.stop("SIGTERM", 120_000);
  server = startServer({ dataDir, port, env });
  probe = probeHealth(server.base);
  const restartAt = server.startedAt;
  const firstAnswerMs = await server.ready(60_000);
  const restoredMs = await allConnected(server, wanted, restartAt);
  const restoreHealth = await probe.stop();
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
  ];
  console.log("\n| measure | value |\n| --- | --- |");
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
}

await main();
Deno.exit(0);
