/**
 * @module
 * Memory of one whatsapp-web.js session: starts the real engine on the fake WhatsApp Web, links
 * it, waits idle, and sums the PSS (`/proc/<pid>/smaps_rollup`) of Chromium's process group; also
 * the time from `start()` to the first QR. Runs each setup a few times and prints medians:
 * our low-memory flags (with image/font/media requests aborted) against puppeteer's default
 * arguments. Run: `deno run -A bench/wwebjs_memory.ts [runs]`.
 */
import { createWwebjsEngine, type WwebjsTuning } from "../sessions/wwebjs_engine.ts";
import { findChromium, minimalArgs } from "../sessions/chromium.ts";
import type { EngineEvent } from "../sessions/engine.ts";
import { startFakeCloud } from "../tests/fake_whatsapp/fake_cloud.ts";

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

/** The pids whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid) pids.push(Number(entry.name));
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
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
  `whatsapp-web.js session memory, ${runs} run(s) each, PSS summed ${IDLE_MS / 1000} s after link`,
);
for (const setup of setups) {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await measure(setup));
  console.log(
    `${setup.name}: PSS ${median(samples.map((s) => s.pssMb)).toFixed(0)} MB ` +
      `(runs: ${samples.map((s) => s.pssMb.toFixed(0)).join(", ")}), ` +
      `${median(samples.map((s) => s.processes))} processes, ` +
      `start→QR ${median(samples.map((s) => s.qrMs)).toFixed(0)} ms, ` +
      `start→WORKING ${median(samples.map((s) => s.workingMs)).toFixed(0)} ms`,
  );
}
