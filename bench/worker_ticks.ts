/**
 * @module
 * Where a session Worker's time goes while its number starts (issue 21, item 1), from V8's own
 * sampler. The server runs with `--v8-flags=--prof` in a scratch folder, so that every isolate
 * (the main thread, the spawners, each session Worker) writes its samples, each with its JS
 * stack, to a log of its own; N simulator numbers are started (64 starts in flight) and, once all
 * are CONNECTED, the logs of the session Workers are read.
 *
 * `deno run -A bench/worker_ticks.ts [numbers=50]`
 *
 * V8 samples every millisecond of wall time, so a Worker waiting for its next message is sampled
 * too: those samples are left out (V8's idle and `Atomics.wait` states, and a stack that is only
 * the runtime's message loop). The rest is shared out by what its stack shows: the engine's
 * bundle, a script of Deno's runtime loaded lazily and what made it load (`setTimeout` and
 * Node's timers, `postMessage` and web streams), the runtime's own JS, or no JS frame at all (V8's
 * state then: the runtime's bootstrap, GC, parsing). The profiler slows everything down, so the
 * shares count, not the milliseconds.
 */
import { api, API_KEY, freePort, machine, phone, sleep } from "./lib.ts";

const NUMBERS = Number(Deno.args[0] ?? 50);
const IN_FLIGHT = 64;
/** V8's `StateTag`, in its order. */
const STATES = ["JS", "GC", "PARSER", "BYTECODE_COMPILER", "COMPILER", "OTHER", "EXTERNAL"];
const IDLE_STATES = new Set([7, 8]); // ATOMICS_WAIT, IDLE

interface Code {
  start: number;
  end: number;
  name: string;
}

/** The code objects of one isolate's log and its samples' addresses (pc first, then the stack). */
function readLog(text: string) {
  const codes: Code[] = [];
  const moved = new Map<number, number>();
  const samples: { state: number; addresses: number[] }[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(",");
    if (fields[0] === "code-creation" && fields[1] === "JS") {
      const start = parseInt(fields[4], 16);
      codes.push({ start, end: start + Number(fields[5]), name: fields[6] ?? "" });
    } else if (fields[0] === "code-move") {
      moved.set(parseInt(fields[1], 16), parseInt(fields[2], 16));
    } else if (fields[0] === "tick") {
      const addresses = [fields[1], ...fields.slice(6)].map((a) => parseInt(a, 16));
      samples.push({ state: Number(fields[5]), addresses });
    }
  }
  for (const code of codes) {
    const to = moved.get(code.start);
    if (to !== undefined) [code.start, code.end] = [to, to + code.end - code.start];
  }
  codes.sort((a, b) => a.start - b.start);
  return { codes, samples };
}

/** The JS functions of a sample's stack, innermost first. */
function jsFrames(codes: Code[], addresses: number[]): string[] {
  const frames: string[] = [];
  for (const address of addresses) {
    let low = 0;
    let high = codes.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (codes[middle].start <= address) low = middle + 1;
      else high = middle - 1;
    }
    const code = codes[high];
    if (code && address < code.end) frames.push(code.name);
  }
  return frames;
}

function category(state: number, frames: string[]): string | null {
  if (frames[0]?.startsWith("pollForMessages ")) return null; // waiting for a message
  const stack = frames.join(" < ");
  if (stack.includes("loadExtScript")) {
    if (/timers/.test(stack)) return "loading Deno's Node timers (the first `setTimeout`)";
    if (stack.includes("serializeJsMessageData")) {
      return "loading web streams (the first `postMessage`)";
    }
    return "loading another runtime script";
  }
  if (frames.length === 0) return `no JS frame: V8 state ${STATES[state] ?? state}`;
  if (stack.includes("blob:") || stack.includes("/sessions/")) return "the engine's code (bundle)";
  return "the runtime's own JS (its bootstrap, dispatching messages, timers)";
}

const folder = await Deno.makeTempDir({ prefix: "wa-gateway-ticks-" });
const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-ticks-data-" });
const port = freePort();
const root = new URL("..", import.meta.url).pathname;
const server = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", `--config=${root}deno.json`, "--v8-flags=--prof", `${root}main.ts`],
  cwd: folder,
  env: {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    WA_ENGINE: "simulator",
    SIMULATOR_SCAN_MS: "0",
    API_KEY,
    LOG_LEVEL: "error",
  },
  stdout: "null",
  stderr: "inherit",
}).spawn();
const base = `http://127.0.0.1:${port}`;
try {
  for (let tries = 0;; tries++) {
    try {
      await (await fetch(`${base}/api/whatsapp/health`)).body?.cancel();
      break;
    } catch (error) {
      if (tries > 600) throw error;
      await sleep(50);
    }
  }
  const phones = Array.from({ length: NUMBERS }, (_, i) => phone(i));
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < phones.length) await api(base, "POST", `/${phones[next++]}/start`, {});
  }));
  for (;;) {
    const { body } = await api<{ sessions: { state: string }[] }>(base, "GET", "/sessions");
    if (body.sessions.filter((s) => s.state === "CONNECTED").length >= NUMBERS) break;
    await sleep(500);
  }
  await sleep(1000);
} finally {
  // SIGKILL: a shutdown's samples (every session stopping) would be counted as a start's.
  server.kill("SIGKILL");
  await server.status;
}

const shares = new Map<string, number>();
let total = 0;
let workers = 0;
for await (const entry of Deno.readDir(folder)) {
  const text = await Deno.readTextFile(`${folder}/${entry.name}`);
  if (!text.includes("serveEngine")) continue; // the main thread's or a spawner's isolate
  workers++;
  const { codes, samples } = readLog(text);
  for (const { state, addresses } of samples) {
    if (IDLE_STATES.has(state)) continue;
    const name = category(state, jsFrames(codes, addresses));
    if (name === null) continue;
    shares.set(name, (shares.get(name) ?? 0) + 1);
    total++;
  }
}
await Deno.remove(folder, { recursive: true });
await Deno.remove(dataDir, { recursive: true });

console.log(`${machine()}; ${NUMBERS} simulator numbers started, ${IN_FLIGHT} in flight\n`);
console.log(
  `${workers} session Workers, ${(total / workers).toFixed(0)} samples each (1 ms apart)\n`,
);
console.log("| where a session Worker's samples are | share |\n| --- | ---: |");
for (const [name, count] of [...shares].sort((a, b) => b[1] - a[1])) {
  console.log(`| ${name} | ${(count / total * 100).toFixed(1)} % |`);
}
