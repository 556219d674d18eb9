/**
 * @module
 * Memory of one whatsapp-web.js session: starts the real engine on the fake WhatsApp Web, links
 * it, waits idle, and sums the PSS (`/proc/<pid>/smaps_rollup`) of Chromium's process group; also
 * the time from `start()` to the first QR. Runs each setup a few times and prints medians:
 * our low-memory flags (with image/font/media requests aborted) against puppeteer's default
 * arguments. Then the same session through the server (`WA_ENGINE=wwebjs`, started and linked over
 * the HTTP API): what the server process grows by (the session's Worker with whatsapp-web.js and
 * puppeteer loaded, and its bookkeeping) besides the Chromium tree.
 * Run: `deno run -A bench/wwebjs_memory.ts [runs]`.
 */
import { createWwebjsEngine, type WwebjsTuning } from "../sessions/engines/wwebjs/engine.ts";
import { findChromium, minimalArgs } from "../sessions/engines/wwebjs/chromium.ts";
import type { EngineEvent } from "../sessions/engine.ts";
import { startFakeCloud } from "../tests/fake_whatsapp/fake_cloud.ts";
import { api, memoryOf, sleep, startServer, waitConnected } from "./lib.ts";
import { browsersOn, groupMembers } from "../tests/processes.ts";

const IDLE_MS = 5_000;

interface Setup {
  name: string;
  chromePath?: string;
  tuning: WwebjsTuning;
}

interface Sample {
  pssMb: number;
  processes: number;
  qrMs: number;
  workingMs: number;
}

function pssKb(pid: number): number {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
    const match = text.match(/^Pss:\s+(\d+) kB/m);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

async function measure(setup: Setup): Promise<Sample> {
  const cloud = await startFakeCloud({});
  const sessionDir = await Deno.makeTempDir({ prefix: "wwebjs_memory_" });
  const events: EngineEvent[] = [];
  let pid = 0;
  const t0 = performance.now();
  let qrMs = 0;
  let workingMs = 0;
  const engine = createWwebjsEngine({
    phoneNumber: "4915550001",
    sessionDir,
    qrMaxRetries: 0,
    simulatorScanMs: 0,
    chromePath: setup.chromePath,
    webVersion: cloud.webVersion,
    webVersionCachePath: cloud.webVersionCachePath,
  }, setup.tuning);
  try {
    await engine.start((event) => {
      events.push(event);
      if (event.type === "child_process") pid = event.pid;
      if (event.type === "qr" && !qrMs) {
        qrMs = performance.now() - t0;
        cloud.scanQr(event.value);
      }
      if (event.type === "status" && event.status === "WORKING") workingMs = performance.now() - t0;
    });
    await cloud.waitFor(() => workingMs > 0, 30_000);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const members = groupMembers(pid);
    const total = members.reduce((sum, p) => sum + pssKb(p), 0);
    return { pssMb: total / 1024, processes: members.length, qrMs, workingMs };
  } finally {
    await engine.stop();
    try {
      Deno.kill(-pid, "SIGKILL");
    } catch {
      // Already gone.
    }
    await cloud.close();
    await Deno.remove(sessionDir, { recursive: true }).catch(() => {});
  }
}

interface ServerSample {
  /** PSS growth of the server process from before `start` to 5 s after link (its Worker). */
  serverMb: number;
  chromiumMb: number;
  /** `POST /start` sent → the session's state says SCAN_QR_CODE (Worker, modules, Chromium, page). */
  qrMs: number;
  /** `POST /start` sent → the session CONNECTED, the scan made as soon as the QR showed. */
  connectedMs: number;
}

/** One wwebjs session started and linked through the server's API, the way a user runs it. */
async function measureThroughServer(): Promise<ServerSample> {
  const cloud = await startFakeCloud({});
  const dataDir = await Deno.makeTempDir({ prefix: "wwebjs_memory_server_" });
  const server = startServer({
    dataDir,
    env: {
      WA_ENGINE: "wwebjs",
      WWEBJS_WEB_VERSION: cloud.webVersion,
      WWEBJS_WEB_CACHE_PATH: cloud.webVersionCachePath,
    },
  });
  const phoneNumber = cloud.me.split("@")[0];
  try {
    await server.ready();
    // The routes this measurement uses, warmed first: their first calls' code and heap are the
    // server's, not the session's.
    for (let i = 0; i < 200; i++) await api(server.base, "GET", `/${phoneNumber}/state`);
    await sleep(2_000);
    const before = memoryOf(server.child.pid).pssKb;
    const t0 = performance.now();
    const started = await api(server.base, "POST", `/${phoneNumber}/start`, {});
    if (started.status !== 200) throw new Error(`start answered ${started.status}`);
    // The state, not GET /qr: drawing the first QR loads `qrcode` into the main thread once
    // (~14 MB), which would count against this session.
    while (
      (await api(server.base, "GET", `/${phoneNumber}/state`)).body.status !== "SCAN_QR_CODE"
    ) {
      if (performance.now() - t0 > 30_000) throw new Error("No QR within 30 s");
      await sleep(5);
    }
    const qrMs = performance.now() - t0;
    cloud.scanQr(cloud.currentQr()!);
    await waitConnected(server.base, [phoneNumber], 30_000);
    const connectedMs = performance.now() - t0;
    await sleep(IDLE_MS);
    const after = memoryOf(server.child.pid).pssKb;
    const browser = browsersOn(dataDir)[0] ?? null;
    if (browser === null) throw new Error("No Chromium found for the session");
    const chromiumKb = groupMembers(browser).reduce((sum, p) => sum + pssKb(p), 0);
    return {
      serverMb: (after - before) / 1024,
      chromiumMb: chromiumKb / 1024,
      qrMs,
      connectedMs,
    };
  } finally {
    await server.stop();
    await cloud.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const runs = Number(Deno.args[0] ?? 3);
const binary = findChromium();
const setups: Setup[] = [
  { name: `low-memory flags + blocked images/fonts/media (${binary.path})`, tuning: {} },
  {
    name: `puppeteer default args (${binary.path})`,
    tuning: { chromiumArgs: minimalArgs(), blockResources: false },
  },
];
try {
  Deno.statSync("/usr/bin/chromium");
  if (binary.path !== "/usr/bin/chromium") {
    setups.push({
      name: "puppeteer default args (/usr/bin/chromium, new headless)",
      chromePath: "/usr/bin/chromium",
      tuning: { chromiumArgs: minimalArgs(), blockResources: false },
    });
  }
} catch {
  // No full Chromium to compare with.
}

console.log(
  `whatsapp-web.js session memory, ${runs} run(s) each (medians), PSS of Chromium's process group ` +
    `summed ${IDLE_MS / 1000} s after link:`,
);
console.log();
console.log("| setup | PSS MB | processes | start → QR ms | start → WORKING ms | runs (PSS MB) |");
console.log("|---|---:|---:|---:|---:|---|");
for (const setup of setups) {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await measure(setup));
  const cells = [
    median(samples.map((s) => s.pssMb)).toFixed(0),
    median(samples.map((s) => s.processes)),
    median(samples.map((s) => s.qrMs)).toFixed(0),
    median(samples.map((s) => s.workingMs)).toFixed(0),
    samples.map((s) => s.pssMb.toFixed(0)).join(", "),
  ];
  console.log(`| ${setup.name} | ${cells.join(" | ")} |`);
}

const throughServer: ServerSample[] = [];
for (let i = 0; i < runs; i++) throughServer.push(await measureThroughServer());
const serverMb = median(throughServer.map((s) => s.serverMb));
const chromiumMb = median(throughServer.map((s) => s.chromiumMb));
console.log();
console.log(
  `Through the server (\`WA_ENGINE=wwebjs\`, the low-memory setup, started and linked over the ` +
    `API): the server process grew by **${serverMb.toFixed(0)} MB** PSS (runs: ` +
    `${throughServer.map((s) => s.serverMb.toFixed(0)).join(", ")}; the session's Worker), its ` +
    `Chromium tree took **${chromiumMb.toFixed(0)} MB**: **${(serverMb + chromiumMb).toFixed(0)} ` +
    `MB for one idle session**. From \`POST /start\` to the QR (state \`SCAN_QR_CODE\`): ` +
    `${median(throughServer.map((s) => s.qrMs)).toFixed(0)} ms; to CONNECTED (scanned at once): ` +
    `${median(throughServer.map((s) => s.connectedMs)).toFixed(0)} ms.`,
);
