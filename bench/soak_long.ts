/**
 * @module
 * `deno task soak --long [--minutes N]`: does memory stay flat over time (issue #21, item 4)?
 * Bounded (20 minutes by default), loopback only, not in CI.
 *
 * One server process (`deno run -A main.ts`, the wwebjs engine) carries five whatsapp-web.js
 * numbers, each linked over the HTTP API (its QR read from `GET /qr`, scanned by its own phone) as
 * an account of its own on the fake WhatsApp Web (real headless Chromium per number), and twenty
 * simulator numbers. Every second a message arrives at every number (the fake cloud delivering to
 * the wwebjs numbers, `POST /simulator/messages` for the others), sends go out at a steady pace,
 * a session crashes every run/8 (`/simulate crash` on a simulator number, SIGKILL of a wwebjs
 * number's Chromium, in turn), and a sixth wwebjs number is started, linked with its saved login,
 * used and stopped 50 times over the run (2.5 per minute).
 *
 * Every 10 s it samples the PSS of the server process (`/proc/<pid>/smaps_rollup`; the session
 * Workers are its threads) and of every Chromium tree (each process found by the `HOME` the engine
 * gives its Chromium, grouped by process group: the browser and its children), and counts the
 * Chromium processes. It reports the least-squares slope of each after the warm-up (a quarter of
 * the run, at most 5 minutes; a tree that a crash replaced is fitted per tree with a common slope)
 * in MB per hour and per hour per session, against the target of 5 MB per hour per session, and the
 * Chromium processes before and after (target: equal). Exits non-zero when a target is missed.
 *
 * Options to take the load apart (a short run of 8–10 minutes gives a slope):
 * - `--only cycles`: only the sixth number's start/stop cycles (nothing else running); the server's
 *   PSS is read just before each start and fitted per cycle; `--cycles N` sets how many (the
 *   default is 2.5 a minute).
 * - `--only wwebjs`: only the five wwebjs numbers with their messages and sends (no crashes, no
 *   cycles).
 * - `--only simulators`: only the twenty simulator numbers with their messages and sends.
 * - `--v8-flags a,b`: V8 flags for the server (an A/B of V8's heap settings).
 * - `--trace-gc`: runs the server with `--v8-flags=--trace-gc` and reports each isolate's heap after
 *   its mark-compacts (every Worker is an isolate: `gc_trace.ts`), and writes every GC to a CSV.
 *
 * Every sample also records the server's threads and its anonymous and file-backed PSS.
 */
import { decodeQrDataUrl } from "../tests/qr_decode.ts";
import { type FakeCloudHub, startFakeCloudHub } from "../tests/fake_whatsapp/fake_cloud_hub.ts";
import { createGcTrace, type IsolateHeap } from "./gc_trace.ts";
import { api, freePort, memoryOf, phone, type Server, sleep, startServer } from "./lib.ts";

const SIMULATORS = 20;
const WWEBJS = 5;
const SAMPLE_MS = 10_000;
const MESSAGE_EVERY_MS = 1_000;
/** One send every this often, to the next number in turn (all 25). */
const SEND_EVERY_MS = 400;
const TARGET_MB_PER_HOUR_PER_SESSION = 5;
const SENDER = "4917700000001@c.us";
const METRICS_TOKEN = "soak-metrics-token-0123456789abcdef";

const PARTS = ["all", "cycles", "wwebjs", "simulators"] as const;
type Part = typeof PARTS[number];

interface Options {
  minutes: number;
  /** Which part of the load runs (`all`: the whole soak). */
  only: Part;
  traceGc: boolean;
  /** Start/stop cycles of the sixth number over the run (2.5 a minute by default). */
  cycles?: number;
  /** V8 flags for the server (`--v8-flags a,b`), beside `--trace-gc`'s. */
  v8Flags: string[];
}

function parseOptions(args: string[]): Options {
  const at = args.indexOf("--minutes");
  const minutes = at >= 0 ? Number(args[at + 1]) : 20;
  if (!(minutes >= 1)) {
    throw new Error(`--minutes takes a number of minutes ≥ 1, not "${args[at + 1]}"`);
  }
  const onlyAt = args.indexOf("--only");
  const only = (onlyAt >= 0 ? args[onlyAt + 1] : "all") as Part;
  if (!PARTS.includes(only)) {
    throw new Error(`--only takes one of ${PARTS.join(", ")}, not "${only}"`);
  }
  const cyclesAt = args.indexOf("--cycles");
  const cycles = cyclesAt >= 0 ? Number(args[cyclesAt + 1]) : undefined;
  if (cycles !== undefined && !(cycles >= 0)) {
    throw new Error(`--cycles takes a number of start/stop cycles, not "${args[cyclesAt + 1]}"`);
  }
  const v8At = args.indexOf("--v8-flags");
  const v8Flags = v8At >= 0 ? args[v8At + 1].split(",").filter(Boolean) : [];
  return { minutes, only, traceGc: args.includes("--trace-gc"), cycles, v8Flags };
}

/** The server's threads, and its PSS split into anonymous and file-backed memory (kB). */
function nativeOf(pid: number): { threads: number; anonKb: number; fileKb: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const rollup = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
  const field = (text: string, name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? NaN);
  return {
    threads: field(status, "Threads"),
    anonKb: field(rollup, "Pss_Anon"),
    fileKb: field(rollup, "Pss_File"),
  };
}

/** One Chromium process of a session, as /proc shows it. */
interface ChromiumProcess {
  pid: number;
  /** The session whose Chromium it is (from the HOME the engine gives it). */
  session: string;
  /** Its process group: the browser's pid (puppeteer starts each browser in a group of its own). */
  group: number;
  pssKb: number;
  /** The browser process itself (not a child, nor the shell script Debian starts it with). */
  browser: boolean;
}

/**
 * Finds the Chromium processes of the sessions under `dataDir`. A browser is known by the HOME the
 * engine gives it (its children rewrite their environment's memory for their process titles, so
 * only some show it); puppeteer starts each browser in a process group of its own, which all its
 * children stay in, even once orphaned: every group once seen is remembered, so a process left
 * behind by a killed or stopped browser is still counted.
 */
function chromiumFinder(dataDir: string): () => ChromiumProcess[] {
  const home = new RegExp(`(?:^|\\0)HOME=${dataDir}/sessions/(\\d+)/chromium-home(?:\\0|$)`);
  const groups = new Map<number, string>();
  return () => {
    const all: { pid: number; group: number; browser: boolean }[] = [];
    for (const entry of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      const pid = Number(entry.name);
      try {
        const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
        const group = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
        const args = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
        const browser = !/(^|\/)sh$/.test(args[0]) && !args.some((a) => a.startsWith("--type="));
        all.push({ pid, group, browser });
        if (groups.has(group)) continue;
        const session = home.exec(Deno.readTextFileSync(`/proc/${pid}/environ`))?.[1];
        if (session) groups.set(group, session);
      } catch {
        // Ended while we looked (or a kernel thread without an environment).
      }
    }
    const found: ChromiumProcess[] = [];
    for (const { pid, group, browser } of all) {
      const session = groups.get(group);
      if (!session) continue;
      try {
        const rollup = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
        const pssKb = Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
        found.push({ pid, session, group, pssKb, browser });
      } catch {
        // Ended meanwhile.
      }
    }
    return found;
  };
}

/** The V8 heap in use on the server's main thread (MB), from `GET /metrics`, or null. */
async function mainHeapMb(base: string): Promise<number | null> {
  try {
    const response = await fetch(`${base}/metrics`, {
      headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
    });
    const text = await response.text();
    const used = /^\w*nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1];
    return used === undefined ? null : Number(used) / 1024 / 1024;
  } catch {
    return null;
  }
}

interface Sample {
  /** Seconds since the load began. */
  t: number;
  serverKb: number;
  threads: number;
  anonKb: number;
  fileKb: number;
  /** The V8 heap in use on the server's main thread (MB). */
  mainHeapMb: number | null;
  /** Summed PSS per Chromium tree, by `<session>:<group>`. */
  trees: Map<string, number>;
  chromiumProcesses: number;
  /** Taken while the cycler started or stopped. */
  cycling: boolean;
}

/**
 * The least-squares slope (per second) of points in several series that share one slope and each
 * have an intercept of their own (a tree a crash replaced is a new series); null below 3 points.
 */
export function pooledSlope(series: { t: number; y: number }[][]): number | null {
  let sxy = 0;
  let sxx = 0;
  let n = 0;
  for (const points of series) {
    if (points.length < 2) continue;
    const mt = points.reduce((s, p) => s + p.t, 0) / points.length;
    const my = points.reduce((s, p) => s + p.y, 0) / points.length;
    for (const p of points) {
      sxy += (p.t - mt) * (p.y - my);
      sxx += (p.t - mt) ** 2;
    }
    n += points.length;
  }
  return n >= 3 && sxx > 0 ? sxy / sxx : null;
}

async function json(base: string, method: string, path: string, body?: unknown) {
  return await api<Record<string, unknown>>(base, method, path, body).catch(() => ({
    status: 0,
    body: {} as Record<string, unknown>,
  }));
}

async function waitStatus(base: string, number: string, status: string, timeoutMs = 60_000) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await json(base, "GET", `/${number}/state`)).body.status === status) return;
    await sleep(100);
  }
  throw new Error(`${number} was not ${status} within ${timeoutMs} ms`);
}

/** Starts a wwebjs number and links it by its QR over the API, unless its login is saved. */
async function startWwebjs(server: Server, hub: FakeCloudHub, number: string): Promise<void> {
  const started = await json(server.base, "POST", `/${number}/start`, {});
  if (started.status !== 200) throw new Error(`start ${number}: ${started.status}`);
  const deadline = performance.now() + 60_000;
  let state = { status: 0, body: {} as Record<string, unknown> };
  while (performance.now() < deadline) {
    state = await json(server.base, "GET", `/${number}/state`);
    if (state.body.status === "WORKING") return;
    if (state.body.status === "SCAN_QR_CODE") {
      const qr = await json(server.base, "GET", `/${number}/qr`);
      if (qr.status === 200) {
        try {
          hub.scanQr(decodeQrDataUrl(String(qr.body.qrCode)), number);
        } catch {
          // The QR rotated between the read and the scan: read it again.
        }
      }
    }
    await sleep(200);
  }
  throw new Error(`${number} did not link within 60 s: ${JSON.stringify(state.body)}`);
}

/**
 * The isolates as a table: those alive from before the fit until the end of the run, each with
 * its heap after mark-compact first → last and its slope, the lowest heap after any GC in the
 * fit's first and last minute (an isolate may run no mark-compact for many minutes), and a line
 * for those that came and went.
 */
function isolateTable(isolates: IsolateHeap[], fromS: number, runS: number): string[] {
  const lasting = isolates.filter((i) => i.firstT < fromS && i.lastT > runS - 60);
  const lowest = (points: { t: number; mb: number }[], from: number, to: number) => {
    const within = points.filter((p) => p.t >= from && p.t < to).map((p) => p.mb);
    return within.length ? Math.min(...within) : null;
  };
  const rows = lasting.map((i) => {
    const marks = i.marks.filter((m) => m.t >= fromS);
    const slope = pooledSlope([marks.map((m) => ({ t: m.t, y: m.mb }))]);
    return {
      i,
      first: marks[0]?.mb,
      last: marks.at(-1)?.mb,
      n: marks.length,
      perHour: slope === null ? null : slope * 3600,
      lowFirst: lowest(i.afters, fromS, fromS + 60),
      lowLast: lowest(i.afters, runS - 60, Infinity),
    };
  }).sort((a, b) => (b.lowLast ?? 0) - (a.lowLast ?? 0));
  const gone = isolates.filter((i) => !lasting.includes(i));
  const sum = rows.reduce((s, r) => s + (r.perHour ?? 0), 0);
  const mb = (v: number | null | undefined) => v === null || v === undefined ? "–" : v.toFixed(1);
  const lows = rows.reduce((s, r) => s + ((r.lowLast ?? 0) - (r.lowFirst ?? 0)), 0);
  return [
    `V8 isolates (\`--trace-gc\`): ${lasting.length} alive through the run, ${gone.length} others ` +
    `(largest committed heap among those: ${
      Math.max(0, ...gone.map((i) => i.lastCommittedMb)).toFixed(1)
    } MB); the lasting ones: summed mark-compact slope ${sum.toFixed(1)} MB/h, summed change of ` +
    `the lowest heap after a GC from the fit's first minute to the run's last ${
      lows.toFixed(1)
    } MB`,
    "",
    "| isolate | after mark-compact, MB first → last | mark-compacts | slope MB/h | lowest after a GC, MB first minute → last minute |",
    "|---|---:|---:|---:|---:|",
    ...rows.map((r) =>
      `| ${r.i.id} | ${mb(r.first)} → ${mb(r.last)} | ${r.n} | ${mb(r.perHour)} | ` +
      `${mb(r.lowFirst)} → ${mb(r.lowLast)} |`
    ),
  ];
}

export async function runLongSoak(args: string[]): Promise<number> {
  const options = parseOptions(args);
  const { minutes, only, traceGc } = options;
  const v8Flags = [...(traceGc ? ["--trace-gc"] : []), ...options.v8Flags];
  const runMs = minutes * 60_000;
  const warmupMs = Math.min(5 * 60_000, runMs / 4);
  const crashEveryMs = runMs / 8;
  const crashing = only === "all";
  const cycles = only === "all" || only === "cycles"
    ? options.cycles ?? Math.round(2.5 * minutes)
    : 0;
  const simulatorCount = only === "all" || only === "simulators" ? SIMULATORS : 0;
  const wwebjsCount = only === "all" || only === "wwebjs" ? WWEBJS : 0;
  const sims = Array.from({ length: simulatorCount }, (_, i) => phone(i, "4917"));
  const wwebjs = Array.from({ length: wwebjsCount }, (_, i) => phone(100 + i, "4916"));
  const cycler = phone(199, "4916");
  const everyone = [...wwebjs, ...sims];

  // One fake WhatsApp Web, an account of its own for every wwebjs number.
  const cloud = await startFakeCloudHub(
    [...wwebjs, cycler].map((n) => ({
      me: `${n}@c.us`,
      contacts: [{ id: SENDER, name: "Soak" }],
    })),
  );
  let events = 0;
  const receiverPort = freePort();
  const receiver = Deno.serve(
    { hostname: "127.0.0.1", port: receiverPort, onListen: () => {} },
    async (req) => {
      await req.arrayBuffer();
      events++;
      return new Response(null, { status: 204 });
    },
  );
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-soak-long-" });
  const chromiumProcesses = chromiumFinder(dataDir);
  const gc = createGcTrace();
  /** Seconds since the load began (0 until it does), the clock of the samples and the GC trace. */
  let now = () => 0;
  const server = startServer({
    dataDir,
    denoFlags: v8Flags.length ? ["run", "-A", `--v8-flags=${v8Flags.join(",")}`] : undefined,
    onLine: traceGc ? (line) => gc.onLine(line, now()) : undefined,
    env: {
      WA_ENGINE: "wwebjs",
      WWEBJS_WEB_VERSION: cloud.webVersion,
      WWEBJS_WEB_CACHE_PATH: cloud.webVersionCachePath,
      WEBHOOK_URL: `http://127.0.0.1:${receiverPort}/hook`,
      WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
      RESTART_BACKOFF_MIN_MS: "500",
      RESTART_BACKOFF_MAX_MS: "4000",
      // The machine is shared: a Worker slow to answer its 1 s heartbeat under someone else's
      // load would be restarted, and the crashes measured are the soak's own.
      HEARTBEAT_TIMEOUT_MS: "10000",
      METRICS_ENABLED: "true",
      METRICS_TOKEN,
    },
  });
  const counts = { delivered: 0, sent: 0, sendErrors: new Map<number, number>(), crashes: 0 };
  const samples: Sample[] = [];
  let running = true;
  const broken: string[] = [];
  const lines: string[] = [];
  const log = (line: string) => console.error(`soak --long: ${line}`);
  try {
    await server.ready();
    log(
      `server up (${only}); starting ${sims.length} simulator and ${wwebjs.length} wwebjs ` +
        `numbers${cycles > 0 ? " and the cycler" : ""}`,
    );
    for (const number of sims) {
      const r = await json(server.base, "POST", `/${number}/start`, { engine: "simulator" });
      if (r.status !== 200) throw new Error(`start ${number}: ${r.status}`);
    }
    for (const number of wwebjs) await startWwebjs(server, cloud, number);
    if (cycles > 0) {
      // The cycler links once by QR; every later start restores its saved login.
      await startWwebjs(server, cloud, cycler);
      await json(server.base, "POST", `/${cycler}/stop`);
      await waitStatus(server.base, cycler, "STOPPED");
    }
    for (const number of sims) await waitStatus(server.base, number, "WORKING");
    await sleep(2_000);
    const chromiumBefore = chromiumProcesses().length;
    log(`all linked; ${chromiumBefore} Chromium processes; load for ${minutes} min`);

    /** A task beside the sampling: its failure is reported, and ends nothing else. */
    const guard = (what: string, task: () => Promise<void>) =>
      task().catch((error) => {
        broken.push(`${what}: ${error instanceof Error ? error.message : error}`);
      });
    const began = performance.now();
    const elapsed = () => performance.now() - began;
    now = () => elapsed() / 1000;
    /** The server's PSS just before each start of the cycler (the previous one long stopped). */
    const beforeCycles: { cycle: number; t: number; kb: number }[] = [];
    const until = (ms: number) => sleep(Math.max(0, ms - elapsed()));
    let cyclerUp = false;
    /**
     * The cycler is starting or stopping: its Worker comes and goes, so the server's samples taken
     * meanwhile are left out of its fit (waiting for a gap instead starved the sampling when a
     * busy machine made the cycles take most of their slot).
     */
    let cycling = false;

    const messages = guard("messages", async () => {
      for (let i = 1; running; i++) {
        for (const number of cyclerUp ? [...wwebjs, cycler] : wwebjs) {
          cloud.account(number).deliverIncoming({ from: SENDER, body: `incoming ${i}` });
          counts.delivered++;
        }
        await Promise.all(sims.map(async (number) => {
          const r = await json(server.base, "POST", `/${number}/simulator/messages`, {
            chatId: SENDER,
            text: `incoming ${i}`,
          });
          if (r.status === 200) counts.delivered++;
        }));
        await until(i * MESSAGE_EVERY_MS);
      }
    });

    const sends = guard("sends", async () => {
      for (let i = 1; running && everyone.length > 0; i++) {
        const number = everyone[i % everyone.length];
        const r = await json(server.base, "POST", `/${number}/send-text`, {
          chatId: SENDER,
          text: `outgoing ${i}`,
        });
        if (r.status === 200) counts.sent++;
        else counts.sendErrors.set(r.status, (counts.sendErrors.get(r.status) ?? 0) + 1);
        await until(i * SEND_EVERY_MS);
      }
    });

    const crashes = guard("crashes", async () => {
      for (let i = 1; crashing && running && i < 8; i++) {
        await until(i * crashEveryMs);
        if (!running) break;
        if (i % 2 === 1) {
          const victim = sims[(i >> 1) % sims.length];
          await json(server.base, "POST", `/${victim}/send-text`, {
            chatId: SENDER,
            text: "/simulate crash",
          });
          log(`crashed simulator ${victim}`);
        } else {
          const victim = wwebjs[(i >> 1) % wwebjs.length];
          let browser: ChromiumProcess | undefined;
          for (let tries = 0; !browser && tries < 100; tries++) {
            browser = chromiumProcesses().find((p) => p.session === victim && p.browser);
            if (!browser) await sleep(100);
          }
          if (browser) Deno.kill(browser.pid, "SIGKILL");
          log(`killed the Chromium of ${victim} (${browser?.pid})`);
        }
        counts.crashes++;
      }
    });

    const cycled = (async () => {
      let done = 0;
      for (let i = 1; running && i <= cycles; i++) {
        await until((i - 0.5) * (runMs / cycles));
        if (!running) break;
        beforeCycles.push({ cycle: i, t: elapsed() / 1000, kb: memoryOf(server.pid).pssKb });
        cycling = true;
        try {
          await startWwebjs(server, cloud, cycler);
          cyclerUp = true;
          await json(server.base, "POST", `/${cycler}/send-text`, {
            chatId: SENDER,
            text: "cycle",
          });
          await sleep(1_000);
          cyclerUp = false;
          await json(server.base, "POST", `/${cycler}/stop`);
          await waitStatus(server.base, cycler, "STOPPED");
          done = i;
        } catch (error) {
          cyclerUp = false;
          broken.push(`start/stop cycle ${i}: ${error instanceof Error ? error.message : error}`);
          log(broken.at(-1)!);
          await json(server.base, "POST", `/${cycler}/stop`);
        } finally {
          cycling = false;
        }
        if (i % 10 === 0) log(`start/stop cycle ${i} of ${cycles}`);
      }
      return done;
    })();

    for (let i = 0; elapsed() < runMs; i++) {
      const chromium = chromiumProcesses();
      const trees = new Map<string, number>();
      for (const p of chromium) {
        if (p.session === cycler) continue;
        const key = `${p.session}:${p.group}`;
        trees.set(key, (trees.get(key) ?? 0) + p.pssKb);
      }
      samples.push({
        t: elapsed() / 1000,
        serverKb: memoryOf(server.pid).pssKb,
        ...nativeOf(server.pid),
        mainHeapMb: await mainHeapMb(server.base),
        trees,
        chromiumProcesses: chromium.length,
        cycling,
      });
      const last = samples[samples.length - 1];
      if (i % 6 === 0) {
        log(
          `${(last.t / 60).toFixed(1)} min: server ${(last.serverKb / 1024).toFixed(0)} MB ` +
            `(main-thread heap ${last.mainHeapMb?.toFixed(0)} MB), ` +
            `${last.threads} threads, anon ${(last.anonKb / 1024).toFixed(0)} MB, ` +
            `${last.chromiumProcesses} Chromium processes, load ${Deno.loadavg()[0].toFixed(1)}`,
        );
      }
      await until((i + 1) * SAMPLE_MS);
    }
    running = false;
    await Promise.all([messages, sends, crashes]);
    const cyclesDone = await cycled;

    // Everything back: the crashed sessions CONNECTED, the cycler stopped, then count again.
    for (const number of sims) await waitStatus(server.base, number, "WORKING");
    for (const number of wwebjs) await waitStatus(server.base, number, "WORKING");
    if (cycles > 0) await waitStatus(server.base, cycler, "STOPPED");
    await sleep(5_000);
    const chromiumAfter = chromiumProcesses().length;

    // Slopes after the warm-up.
    const fitted = samples.filter((s) => s.t * 1000 >= warmupMs);
    const perHour = (perSecond: number | null) => perSecond === null ? null : perSecond * 3600;
    const steady = fitted.filter((s) => !s.cycling);
    const serverSlope = perHour(
      pooledSlope([steady.map((s) => ({ t: s.t, y: s.serverKb / 1024 }))]),
    );
    const rows: string[] = [];
    const fmt = (v: number | null) => v === null ? "–" : v.toFixed(1);
    const sessionsInServer = Math.max(1, sims.length + wwebjs.length);
    const serverPerSession = serverSlope === null ? null : serverSlope / sessionsInServer;
    rows.push(
      `| server process (${sessionsInServer} session Workers and the cycler's) | ` +
        `${(samples[0].serverKb / 1024).toFixed(0)} → ${
          (samples[samples.length - 1].serverKb / 1024).toFixed(0)
        } | ${fmt(serverSlope)} | ${fmt(serverPerSession)} |`,
    );
    const heaped = steady.filter((s) => s.mainHeapMb !== null);
    const heapSlope = perHour(pooledSlope([heaped.map((s) => ({ t: s.t, y: s.mainHeapMb! }))]));
    rows.push(
      `| of which the main thread's V8 heap in use (\`/metrics\`) | ` +
        `${heaped[0]?.mainHeapMb?.toFixed(0)} → ${heaped.at(-1)?.mainHeapMb?.toFixed(0)} | ` +
        `${fmt(heapSlope)} | ${fmt(heapSlope === null ? null : heapSlope / sessionsInServer)} |`,
    );
    for (
      const [label, kb] of [
        ["anonymous (heaps, stacks, malloc)", (s: Sample) => s.anonKb],
        ["file-backed (the binary, libraries)", (s: Sample) => s.fileKb],
      ] as const
    ) {
      const slope = perHour(pooledSlope([steady.map((s) => ({ t: s.t, y: kb(s) / 1024 }))]));
      rows.push(
        `| of which ${label} | ${(kb(samples[0]) / 1024).toFixed(0)} → ${
          (kb(samples[samples.length - 1]) / 1024).toFixed(0)
        } | ${fmt(slope)} | ${fmt(slope === null ? null : slope / sessionsInServer)} |`,
      );
    }
    const fittedCycles = beforeCycles.filter((c) => c.t * 1000 >= warmupMs);
    const perCycleKb = pooledSlope([fittedCycles.map((c) => ({ t: c.cycle, y: c.kb }))]);
    if (beforeCycles.length > 0) {
      const cyclesPerHour = cycles / (runMs / 3_600_000);
      rows.push(
        `| server just before each start of the cycler (${beforeCycles.length} cycles; ` +
          `${perCycleKb === null ? "–" : (perCycleKb / 1024).toFixed(2)} MB per cycle) | ` +
          `${(beforeCycles[0].kb / 1024).toFixed(0)} → ${
            (beforeCycles[beforeCycles.length - 1].kb / 1024).toFixed(0)
          } | ${fmt(perCycleKb === null ? null : perCycleKb / 1024 * cyclesPerHour)} | – |`,
      );
    }
    const worst = [serverPerSession ?? 0];
    for (const number of wwebjs) {
      // A tree is fitted from a minute after it appears (a relaunched Chromium grows at first).
      const firstSeen = new Map<string, number>();
      for (const s of samples) {
        for (const key of s.trees.keys()) if (!firstSeen.has(key)) firstSeen.set(key, s.t);
      }
      const keys = [...firstSeen.keys()].filter((k) => k.startsWith(`${number}:`));
      const series = keys.map((key) =>
        fitted
          .filter((s) => s.trees.has(key) && s.t - firstSeen.get(key)! >= 60)
          .map((s) => ({ t: s.t, y: s.trees.get(key)! / 1024 }))
      );
      const slope = perHour(pooledSlope(series));
      worst.push(slope ?? 0);
      const firstMb = samples.find((s) => [...s.trees.keys()].some((k) => keys.includes(k)));
      const lastMb = samples.findLast((s) => [...s.trees.keys()].some((k) => keys.includes(k)));
      const mb = (s?: Sample) =>
        s
          ? ([...s.trees].filter(([k]) => k.startsWith(`${number}:`)).reduce(
            (a, [, v]) => a + v,
            0,
          ) /
            1024).toFixed(0)
          : "–";
      rows.push(
        `| Chromium of ${number} (${keys.length} tree${keys.length === 1 ? "" : "s"}) | ` +
          `${mb(firstMb)} → ${mb(lastMb)} | ${fmt(slope)} | ${fmt(slope)} |`,
      );
    }
    const loads = Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
    const flags = `${only === "all" ? "" : ` --only ${only}`}${traceGc ? " --trace-gc" : ""}${
      options.cycles === undefined ? "" : ` --cycles ${options.cycles}`
    }${options.v8Flags.length ? ` --v8-flags ${options.v8Flags.join(",")}` : ""}${
      Deno.env.get("MALLOC_ARENA_MAX")
        ? ` (MALLOC_ARENA_MAX=${Deno.env.get("MALLOC_ARENA_MAX")})`
        : ""
    }`;
    lines.push(
      `deno task soak --long --minutes ${minutes}${flags}: ${new Date().toISOString()}, ` +
        `${navigator.hardwareConcurrency} cores, load average at the end ${loads}`,
      `${sims.length} simulator + ${wwebjs.length} wwebjs numbers; ` +
        `threads ${samples[0].threads} → ${samples[samples.length - 1].threads}; ` +
        `${counts.delivered} messages arrived, ` +
        `${counts.sent} sends accepted (others: ${
          [...counts.sendErrors].map(([s, n]) => `${n}× ${s}`).join(", ") || "none"
        }), ${events} webhook deliveries, ${counts.crashes} crashes, ` +
        `${cyclesDone} start/stop cycles of ${cycler}; ${samples.length} samples every ` +
        `${SAMPLE_MS / 1000} s, fitted after ${(warmupMs / 60_000).toFixed(1)} min (the server's ` +
        `on the ${steady.length} taken while the cycler was not starting or stopping)`,
      "",
      "| PSS | MB first → last | slope MB/h | MB/h per session |",
      "|---|---:|---:|---:|",
      ...rows,
      "",
      `Chromium processes: ${chromiumBefore} before, ${chromiumAfter} after`,
    );
    if (traceGc) lines.push("", ...isolateTable(gc.isolates(), warmupMs / 1000, runMs / 1000));
    if (chromiumAfter !== chromiumBefore) {
      broken.push(`Chromium processes ${chromiumBefore} before, ${chromiumAfter} after`);
    }
    const over = Math.max(...worst);
    if (over >= TARGET_MB_PER_HOUR_PER_SESSION) {
      broken.push(
        `a slope of ${over.toFixed(1)} MB/h per session (target under ` +
          `${TARGET_MB_PER_HOUR_PER_SESSION})`,
      );
    }
    const csv = `${dataDir}.csv`;
    await Deno.writeTextFile(
      csv,
      samples.map((s) =>
        [
          s.t.toFixed(0),
          s.serverKb,
          s.mainHeapMb?.toFixed(1),
          s.chromiumProcesses,
          s.threads,
          s.anonKb,
          s.fileKb,
          ...[...s.trees].map(([k, v]) => `${k}=${v}`),
        ]
          .join(",")
      ).join("\n") + "\n",
    );
    lines.push(
      `samples (t, PSS kB, main heap MB, Chromium processes, threads, anon kB, file kB, trees): ${csv}`,
    );
    if (beforeCycles.length > 0) {
      const cyclesCsv = `${dataDir}.cycles.csv`;
      await Deno.writeTextFile(
        cyclesCsv,
        beforeCycles.map((c) => `${c.cycle},${c.t.toFixed(0)},${c.kb}`).join("\n") + "\n",
      );
      lines.push(`PSS just before each start (cycle, t, kB): ${cyclesCsv}`);
    }
    if (traceGc) {
      const gcCsv = `${dataDir}.isolates.csv`;
      await Deno.writeTextFile(
        gcCsv,
        gc.isolates().flatMap((i) =>
          i.afters.map((m) =>
            `${i.id},${m.t.toFixed(1)},${m.mb},${m.committedMb},${m.pooledMb},${
              m.markCompact ? "MC" : ""
            }`
          )
        )
          .join("\n") + "\n",
      );
      lines.push(
        `heaps after each GC (isolate, t, MB, committed MB, pooled MB, MC for a mark-compact): ${gcCsv}`,
      );
    }
  } catch (error) {
    broken.push(`the soak itself failed: ${error instanceof Error ? error.message : error}`);
    lines.push(server.tail());
  } finally {
    running = false;
    await server.stop().catch(() => {});
    await receiver.shutdown();
    await cloud.close(() => true).catch(() => {});
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
  console.log(lines.join("\n"));
  if (broken.length > 0) {
    console.log(`\nFAILED:\n${broken.map((b) => `- ${b}`).join("\n")}`);
    return 1;
  }
  console.log("\nok: both targets met");
  return 0;
}
