/**
 * @module
 * Ten whatsapp-web.js numbers on one node (issue 21, item 3). Part 1: a real server process
 * (`WA_ENGINE=wwebjs`) on one fake WhatsApp Web that serves ten accounts
 * (`tests/fake_whatsapp/fake_cloud_hub.ts`); the numbers are started and linked over the HTTP API
 * one after another, and after each is linked and idle the script sums the PSS
 * (`/proc/<pid>/smaps_rollup`, which shares common pages fairly among the processes that map them)
 * of the server process (its Workers are threads) and of every Chromium process tree: the total,
 * the marginal cost of each number, and where it goes (the server's growth, each kind of Chromium
 * process, anonymous against file-backed pages, and what no sharing can take away: a tree's
 * private pages). Part 2: Chromium's own knobs as A/B, the setups alternating in the same minute:
 * each setup links `browsers` sessions at once (the engine in this process, the same low-memory
 * flags plus the change), idles, and its Chromium trees are summed.
 * Run: `deno run -A bench/wwebjs_ten.ts [numbers=10] [abRounds=2] [abBrowsers=numbers]` (numbers
 * 0 skips part 1, abRounds 0 part 2; `TEN_SETUPS` and `TEN_SEED_CHATS` below). Prints Markdown.
 */
import { join } from "node:path";
import { createWwebjsEngine } from "../sessions/engines/wwebjs/engine.ts";
import { findChromium, lowMemoryArgs } from "../sessions/engines/wwebjs/chromium.ts";
import type { Engine } from "../sessions/engine.ts";
import { type FakeCloudHub, startFakeCloudHub } from "../tests/fake_whatsapp/fake_cloud_hub.ts";
import type { FakeCloudOptions } from "../tests/fake_whatsapp/fake_cloud.ts";
import { api, memoryOf, phone, sleep, startServer, waitConnected } from "./lib.ts";
import { chromiumGroupsUnder, groupMembers } from "../tests/processes.ts";

const IDLE_MS = 5_000;
const NUMBERS = Number(Deno.args[0] ?? 10);
const AB_ROUNDS = Number(Deno.args[1] ?? 2);
const AB_BROWSERS = Number(Deno.args[2] ?? (NUMBERS || 10));
/** `TEN_SETUPS=0,8`: only these setups of the A/B (by their place in {@link SETUPS}). */
const ONLY_SETUPS = Deno.env.get("TEN_SETUPS")?.split(",").map(Number);
/**
 * `TEN_SEED_CHATS=200`: each account's phone holds that many chats of 20 messages (the page gets
 * the 5 newest of each at link time), for a heavier page than the fake's empty account.
 */
const SEED_CHATS = Number(Deno.env.get("TEN_SEED_CHATS") ?? 0);

/** One account of the hub: its number and, with `TEN_SEED_CHATS`, its chats and their history. */
function account(number: string): FakeCloudOptions {
  const chats = Array.from({ length: SEED_CHATS }, (_, i) => ({
    id: `49170${String(i).padStart(7, "0")}@c.us`,
    name: `Contact ${i}`,
  }));
  return { me: `${number}@c.us`, chats, contacts: chats.map((c) => ({ ...c, isMyContact: true })) };
}

/** A hub serving `numbers`, their history seeded (see {@link SEED_CHATS}). */
async function hubFor(numbers: string[]): Promise<FakeCloudHub> {
  const hub = await startFakeCloudHub(numbers.map(account));
  for (const number of numbers) {
    const cloud = hub.account(number);
    for (const chat of cloud.chats.values()) {
      for (let m = 0; m < 20; m++) {
        cloud.seedMessage({
          chatId: chat.id,
          body: `Message ${m} of a chat with some text in it.`,
        });
      }
    }
  }
  return hub;
}

// --- /proc ---------------------------------------------------------------------------------------

interface ProcMemory {
  pid: number;
  kind: string;
  pssKb: number;
  anonKb: number;
  fileKb: number;
  shmemKb: number;
  /** Pages no other process maps: what sharing cannot take away. */
  privateKb: number;
}

function field(text: string, name: string): number {
  return Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
}

/** A Chromium process's kind from its command line: browser, renderer, zygote, a utility's… */
function kindOf(args: string[]): string {
  if (!/chrom/.test(args[0] ?? "")) return `launcher (${args[0]?.split("/").pop()})`;
  const type = args.find((a) => a.startsWith("--type="))?.slice("--type=".length);
  if (!type) return "browser";
  if (type === "utility") {
    const sub = args.find((a) => a.startsWith("--utility-sub-type="))?.split("=")[1] ?? "";
    return `utility (${sub.split(".")[0] || "?"})`;
  }
  return type;
}

function procMemory(pid: number): ProcMemory | null {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
    // Chromium rewrites its children's titles: their command line is then one space-separated
    // string.
    const args = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split(/[\0 ]/);
    return {
      pid,
      kind: kindOf(args),
      pssKb: field(text, "Pss"),
      anonKb: field(text, "Pss_Anon"),
      fileKb: field(text, "Pss_File"),
      shmemKb: field(text, "Pss_Shmem"),
      privateKb: field(text, "Private_Clean") + field(text, "Private_Dirty"),
    };
  } catch {
    return null; // Exited meanwhile.
  }
}

/**
 * The physical pages (4 KiB) the processes map, each counted once, from `/proc/<pid>/pagemap`
 * (page frame numbers: root only). It is what the processes' summed PSS would be were they alone
 * on the machine: PSS divides a shared page among every process that maps it, so other Chromium
 * and Deno processes on a shared machine (other people's tests) take part of the binaries' pages
 * and shrink ours. Only mappings with resident pages are read (Chromium and V8 reserve far more
 * address space than they touch).
 */
function uniqueKb(pids: number[]): number {
  const frames = new Set<number>();
  for (const pid of pids) {
    let smaps: string;
    let file: Deno.FsFile;
    try {
      smaps = Deno.readTextFileSync(`/proc/${pid}/smaps`);
      file = Deno.openSync(`/proc/${pid}/pagemap`);
    } catch {
      continue; // Exited meanwhile.
    }
    try {
      let start = 0;
      let end = 0;
      for (const line of smaps.split("\n")) {
        const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
        if (range) {
          start = parseInt(range[1], 16);
          end = parseInt(range[2], 16);
          continue;
        }
        const rss = /^Rss:\s+(\d+) kB/.exec(line);
        if (!rss || Number(rss[1]) === 0) continue;
        const pages = (end - start) / 4096;
        const buffer = new Uint8Array(pages * 8);
        file.seekSync((start / 4096) * 8, Deno.SeekMode.Start);
        for (let read = 0; read < buffer.length;) {
          const n = file.readSync(buffer.subarray(read));
          if (!n) break;
          read += n;
        }
        const view = new DataView(buffer.buffer);
        for (let i = 0; i < pages; i++) {
          const high = view.getUint32(i * 8 + 4, true);
          // Bit 63: present; bits 0-54: the frame number.
          if (high & 0x80000000) {
            frames.add((high & 0x7fffff) * 2 ** 32 + view.getUint32(i * 8, true));
          }
        }
      }
    } catch {
      // Exited meanwhile: what was read counts.
    } finally {
      file.close();
    }
  }
  return frames.size * 4;
}

/** Chromium processes on the machine outside `ours` (other people's browsers share our pages). */
function otherChromiums(ours: Set<number>): number {
  let count = 0;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name) || ours.has(Number(entry.name))) continue;
    try {
      if (/chrom/.test(Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split(/[\0 ]/)[0])) {
        count++;
      }
    } catch {
      // Exited meanwhile.
    }
  }
  return count;
}

function treeOf(browserPid: number): ProcMemory[] {
  return groupMembers(browserPid).map(procMemory).filter((m): m is ProcMemory => m !== null);
}

const sum = (list: ProcMemory[], key: keyof ProcMemory) =>
  list.reduce((total, m) => total + (m[key] as number), 0);
const mb = (kb: number) => (kb / 1024).toFixed(1);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function loadAverage(): string {
  return Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
}

// --- Part 1: through the server ------------------------------------------------------------------

interface Row {
  n: number;
  serverKb: number;
  chromiumKb: number;
  /** The server's own pages, each counted once (as if alone on the machine). */
  serverAloneKb: number;
  /** The server's and every tree's pages, each counted once. */
  aloneKb: number;
  /** Every tree's pages, each counted once. */
  treesAloneKb: number;
  processes: number;
  /** Chromium processes on the machine that are not ours (they share the binary's pages). */
  others: number;
  /** `POST /start` → CONNECTED (the scan made as soon as the QR showed). */
  connectedMs: number;
  trees: ProcMemory[][];
}

function snapshot(serverPid: number, trees: ProcMemory[][], n: number, ms: number): Row {
  const pids = trees.flat().map((m) => m.pid);
  return {
    n,
    serverKb: memoryOf(serverPid).pssKb,
    chromiumKb: trees.reduce((total, t) => total + sum(t, "pssKb"), 0),
    serverAloneKb: uniqueKb([serverPid]),
    aloneKb: uniqueKb([serverPid, ...pids]),
    treesAloneKb: uniqueKb(pids),
    processes: pids.length,
    others: otherChromiums(new Set(pids)),
    connectedMs: ms,
    trees,
  };
}

/**
 * The process group of the one Chromium of a number. A browser that a restart replaced may take a
 * moment to end (a loaded machine): up to 10 s are waited before two count as a leak.
 */
async function oneTreeUnder(dataDir: string, number: string): Promise<number> {
  const dir = join(dataDir, "sessions", number) + "/";
  for (let waited = 0;; waited += 250) {
    const groups = [...chromiumGroupsUnder(dir)];
    if (groups.length === 1) return groups[0];
    if (waited >= 10_000) throw new Error(`${groups.length} Chromium trees for ${number}`);
    await sleep(250);
  }
}

async function throughServer(hub: FakeCloudHub, phones: string[]): Promise<Row[]> {
  const dataDir = await Deno.makeTempDir({ prefix: "wwebjs_ten_" });
  const server = startServer({
    dataDir,
    env: {
      WA_ENGINE: "wwebjs",
      WWEBJS_WEB_VERSION: hub.webVersion,
      WWEBJS_WEB_CACHE_PATH: hub.webVersionCachePath,
    },
  });
  const rows: Row[] = [];
  try {
    await server.ready();
    // The routes used here, warmed first: their first calls' code and heap are the server's.
    for (let i = 0; i < 200; i++) await api(server.base, "GET", `/${phones[0]}/state`);
    await sleep(2_000);
    rows.push(snapshot(server.pid, [], 0, 0));
    for (const [i, number] of phones.entries()) {
      const t0 = performance.now();
      const started = await api(server.base, "POST", `/${number}/start`, {});
      if (started.status !== 200) throw new Error(`start answered ${started.status}`);
      // The state, not GET /qr: the first QR drawn loads `qrcode` into the main thread (~14 MB).
      let qr: string | null = null;
      while (!qr) {
        const state = await api(server.base, "GET", `/${number}/state`);
        if (state.body.status === "SCAN_QR_CODE") qr = hub.currentQr();
        if (performance.now() - t0 > 60_000) throw new Error(`No QR for ${number} within 60 s`);
        if (!qr) await sleep(10);
      }
      hub.scanQr(qr, number);
      await waitConnected(server.base, [number], 60_000);
      const connectedMs = performance.now() - t0;
      await sleep(IDLE_MS);
      const trees: ProcMemory[][] = [];
      for (const p of phones.slice(0, i + 1)) trees.push(treeOf(await oneTreeUnder(dataDir, p)));
      const row = snapshot(server.pid, trees, i + 1, connectedMs);
      rows.push(row);
      console.error(
        `  ${row.n} linked: server ${mb(row.serverKb)} MB, Chromium ${mb(row.chromiumKb)} MB ` +
          `(${row.processes} processes), alone ${mb(row.aloneKb)} MB, ${row.others} other ` +
          `Chromium processes, load ${loadAverage()}`,
      );
    }
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
  return rows;
}

function printServerPart(rows: Row[]): void {
  const base = rows[0];
  const total = (r: Row) => r.serverKb + r.chromiumKb;
  console.log(
    "| n linked | server PSS | Chromium PSS (all trees) | **total PSS** | marginal PSS | " +
      "total as if alone | **marginal as if alone** | per number as if alone (total − idle) ÷ n | " +
      "Chromium processes | others' Chromium processes | start → CONNECTED ms |",
  );
  console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const [i, r] of rows.entries()) {
    const first = i === 0;
    const cells = [
      r.n,
      mb(r.serverKb),
      mb(r.chromiumKb),
      `**${mb(total(r))}**`,
      first ? "–" : mb(total(r) - total(rows[i - 1])),
      mb(r.aloneKb),
      first ? "–" : `**${mb(r.aloneKb - rows[i - 1].aloneKb)}**`,
      first ? "–" : mb((r.aloneKb - base.aloneKb) / r.n),
      r.processes,
      r.others,
      first ? "–" : r.connectedMs.toFixed(0),
    ];
    console.log(`| ${cells.join(" | ")} |`);
  }
  console.log();
  console.log(
    "MB. PSS as the kernel gives it (its share of a page shared with others' processes on this " +
      'machine is theirs); "as if alone": the same processes\' pages each counted once ' +
      "(`/proc/<pid>/pagemap`), which is their summed PSS on a machine running nothing else.",
  );
  const last = rows[rows.length - 1];
  const n = last.n;
  const all = last.trees.flat();
  console.log();
  console.log(`Where the memory of a number goes with ${n} linked (totals ÷ ${n}, MB):`);
  console.log();
  console.log("| part | PSS | private (no sharing) | as if alone | anonymous PSS | file PSS |");
  console.log("|---|---:|---:|---:|---:|---:|");
  console.log(
    `| the server's growth (the number's Worker: whatsapp-web.js, puppeteer) | ` +
      `${mb((last.serverKb - base.serverKb) / n)} | | ` +
      `${mb((last.serverAloneKb - base.serverAloneKb) / n)} | | |`,
  );
  const kinds = [...new Set(all.map((m) => m.kind))].sort();
  for (const kind of kinds) {
    const of = all.filter((m) => m.kind === kind);
    console.log(
      `| Chromium: ${kind} (${of.length / n} per tree) | ${mb(sum(of, "pssKb") / n)} | ` +
        `${mb(sum(of, "privateKb") / n)} | | ${mb(sum(of, "anonKb") / n)} | ` +
        `${mb(sum(of, "fileKb") / n)} |`,
    );
  }
  const treesAloneKb = last.treesAloneKb;
  console.log(
    `| **a Chromium tree** | **${mb(sum(all, "pssKb") / n)}** | ${
      mb(sum(all, "privateKb") / n)
    } | ` +
      `${mb(treesAloneKb / n)} | ${mb(sum(all, "anonKb") / n)} | ${mb(sum(all, "fileKb") / n)} |`,
  );
  console.log(
    `| **a number** | **${mb((total(last) - total(base)) / n)}** | | ` +
      `**${mb((last.aloneKb - base.aloneKb) / n)}** | | |`,
  );
}

// --- Part 2: Chromium's knobs, A/B ---------------------------------------------------------------

interface Setup {
  name: string;
  /** Arguments added to the low-memory set. */
  extra?: string[];
  /** Replaces the low-memory set's `--js-flags` (only the last one counts). */
  jsFlags?: string;
  /** Arguments of the low-memory set left out. */
  without?: string[];
}

const SETUPS: Setup[] = [
  { name: "the engine's low-memory set (baseline)" },
  { name: "+ `--renderer-process-limit=1`", extra: ["--renderer-process-limit=1"] },
  { name: "+ `--enable-low-end-device-mode`", extra: ["--enable-low-end-device-mode"] },
  {
    name: "`--js-flags` + `--max-old-space-size=16`",
    jsFlags: "--optimize-for-size --max-semi-space-size=1 --max-old-space-size=16",
  },
  {
    name: "`--js-flags` + `--lite-mode`",
    jsFlags: "--optimize-for-size --max-semi-space-size=1 --lite-mode",
  },
  {
    name: "`--js-flags` + `--jitless`",
    jsFlags: "--optimize-for-size --max-semi-space-size=1 --jitless",
  },
  {
    name: "− `--disable-dev-shm-usage` (shared memory in /dev/shm)",
    without: ["--disable-dev-shm-usage"],
  },
  {
    name: "`--js-flags` + `--single-threaded` (no V8 helper threads)",
    jsFlags: "--optimize-for-size --max-semi-space-size=1 --single-threaded",
  },
  { name: "− `--no-zygote` (the two zygote processes back)", without: ["--no-zygote"] },
  { name: "+ `--single-process`", extra: ["--single-process"] },
];

function argsFor(setup: Setup): string[] {
  const binary = findChromium();
  const args = lowMemoryArgs(binary).filter((a) => !(setup.without ?? []).includes(a));
  const withJs = setup.jsFlags
    ? args.map((a) => a.startsWith("--js-flags=") ? `--js-flags=${setup.jsFlags}` : a)
    : args;
  return [...withJs, ...(setup.extra ?? [])];
}

interface AbSample {
  chromiumKb: number;
  /** The trees' pages, each counted once (see {@link uniqueKb}). */
  aloneKb: number;
  privateKb: number;
  processes: number;
}

/** `count` sessions of one setup linked at once in this process; their Chromium trees summed. */
async function measureSetup(setup: Setup, count: number): Promise<AbSample> {
  const phones = Array.from({ length: count }, (_, i) => phone(300 + i, "4915"));
  const hub = await hubFor(phones);
  const dirs: string[] = [];
  const engines: Engine[] = [];
  const pids: number[] = [];
  try {
    let linked = 0;
    await Promise.all(phones.map(async (number) => {
      const sessionDir = await Deno.makeTempDir({ prefix: "wwebjs_ten_ab_" });
      dirs.push(sessionDir);
      const engine = createWwebjsEngine({
        phoneNumber: number,
        sessionDir,
        qrMaxRetries: 0,
        simulatorScanMs: 0,
        webVersion: hub.webVersion,
        webVersionCachePath: hub.webVersionCachePath,
      }, { chromiumArgs: argsFor(setup) });
      engines.push(engine);
      await engine.start((event) => {
        if (event.type === "child_process") pids.push(event.pid);
        if (event.type === "qr") hub.scanQr(event.value, number);
        if (event.type === "status" && event.status === "WORKING") linked++;
      });
    }));
    const deadline = performance.now() + 120_000;
    while (linked < count) {
      if (performance.now() > deadline) throw new Error(`${setup.name}: only ${linked} linked`);
      await sleep(50);
    }
    await sleep(IDLE_MS);
    const all = pids.flatMap(treeOf);
    return {
      chromiumKb: sum(all, "pssKb"),
      aloneKb: uniqueKb(all.map((m) => m.pid)),
      privateKb: sum(all, "privateKb"),
      processes: all.length,
    };
  } finally {
    await Promise.all(engines.map((e) => e.stop().catch(() => {})));
    for (const pid of pids) {
      try {
        Deno.kill(-pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await hub.close(() => true);
    for (const dir of dirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function abPart(rounds: number, count: number): Promise<void> {
  const setups = SETUPS.filter((_, i) => !ONLY_SETUPS || ONLY_SETUPS.includes(i));
  const samples = new Map<Setup, AbSample[]>(setups.map((s) => [s, []]));
  const loads: string[] = [];
  for (let round = 0; round < rounds; round++) {
    // Each round in a rotated order, so no setup always follows the same one.
    const order = setups.map((_, i) => setups[(i + round) % setups.length]);
    for (const setup of order) {
      const sample = await measureSetup(setup, count);
      samples.get(setup)!.push(sample);
      loads.push(loadAverage().split(" ")[0]);
      console.error(
        `  round ${round + 1}, ${setup.name}: ${mb(sample.aloneKb / count)} MB per browser ` +
          `as if alone, PSS ${mb(sample.chromiumKb / count)}, ${sample.processes} processes`,
      );
    }
  }
  const per = (list: AbSample[], key: keyof AbSample) => median(list.map((s) => s[key])) / count;
  const baseline = per(samples.get(setups[0])!, "aloneKb");
  console.log(
    `| setup (${count} browsers at once, each linked, then idle) | per browser as if alone | ` +
      "vs baseline | rounds | PSS per browser | private per browser | processes per browser |",
  );
  console.log("|---|---:|---:|---|---:|---:|---:|");
  for (const setup of setups) {
    const list = samples.get(setup)!;
    const alone = per(list, "aloneKb");
    const delta = setup === setups[0]
      ? "–"
      : `${alone - baseline >= 0 ? "+" : ""}${mb(alone - baseline)}`;
    const cells = [
      setup.name,
      mb(alone),
      delta,
      list.map((s) => mb(s.aloneKb / count)).join(", "),
      mb(per(list, "chromiumKb")),
      mb(per(list, "privateKb")),
      per(list, "processes").toFixed(1),
    ];
    console.log(`| ${cells.join(" | ")} |`);
  }
  console.log();
  console.log(
    `MB, medians. Load average (1 min) after each measurement: ${loads.join(", ")}. The ` +
      "low-memory set is `lowMemoryArgs()` of `sessions/engines/wwebjs/chromium.ts`.",
  );
}

// --- main ----------------------------------------------------------------------------------------

if (import.meta.main) {
  if (NUMBERS > 0) {
    const phones = Array.from({ length: NUMBERS }, (_, i) => phone(200 + i, "4915"));
    console.log(
      `${NUMBERS} whatsapp-web.js numbers on one server (\`WA_ENGINE=wwebjs\`, ` +
        `${findChromium().path}${
          SEED_CHATS ? `, ${SEED_CHATS} chats per account` : ""
        }), started ` +
        `${new Date().toISOString()}, load average ${loadAverage()}, ` +
        `${navigator.hardwareConcurrency} cores. Linked one after another over the API; PSS ` +
        `measured ${IDLE_MS / 1000} s after each link:`,
    );
    console.log();
    const hub = await hubFor(phones);
    try {
      printServerPart(await throughServer(hub, phones));
    } finally {
      await hub.close(() => true);
    }
    console.log();
    console.log(`Load average at the end: ${loadAverage()}.`);
  }
  if (AB_ROUNDS > 0) {
    console.log();
    console.log(
      `Chromium's knobs, A/B (${AB_ROUNDS} rounds, setups alternating, medians; the engine in ` +
        `this process, so only Chromium's trees${
          SEED_CHATS ? `; ${SEED_CHATS} chats per account` : ""
        }), started ${new Date().toISOString()}:`,
    );
    console.log();
    await abPart(AB_ROUNDS, AB_BROWSERS);
  }
}
