/**
 * @module
 * What the session Workers' heartbeat costs at scale, alone (issue #21, item 1's idle main thread):
 * `numbers` Workers that do nothing but wait on the pulse as a session Worker does
 * (`sessions/host_link.ts`: `Atomics.waitAsync`, then copy the pulse into its own counter), and a
 * main thread that checks every counter and pulses every `periodMs` as `sessions/heartbeat.ts`
 * does, or, for the A/B, checks without pulsing. Prints the main thread's CPU, the whole process's
 * CPU (`/proc/self/task/<tid>/stat`, `/proc/self/stat`) over 20 s, and how long one
 * `Atomics.notify` of every Worker holds the main thread.
 *
 * `deno run -A bench/heartbeat_notify.ts [numbers=1000] [periodMs=500] [pulse|none]`
 */
const NUMBERS = Number(Deno.args[0] ?? 1000);
const PERIOD_MS = Number(Deno.args[1] ?? 500);
const MODE = Deno.args[2] ?? "pulse";
const SETTLE_MS = 15_000;
const MEASURE_MS = 20_000;

const WORKER = `
self.onmessage = async (event) => {
  const pulse = new Int32Array(event.data.pulse);
  const beats = new Int32Array(event.data.beats);
  let seen = Atomics.load(pulse, 0);
  for (;;) {
    const wait = Atomics.waitAsync(pulse, 0, seen);
    if (wait.async) await wait.value;
    seen = Atomics.load(pulse, 0);
    Atomics.store(beats, 0, seen + 1);
  }
};`;

/** utime + stime in clock ticks (1/100 s) of a `/proc/.../stat` line. */
function ticks(path: string): number {
  const stat = Deno.readTextFileSync(path);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

const url = URL.createObjectURL(new Blob([WORKER], { type: "text/javascript" }));
const pulse = new Int32Array(new SharedArrayBuffer(4));
const beats: Int32Array[] = [];
const workers: Worker[] = [];
for (let i = 0; i < NUMBERS; i++) {
  const worker = new Worker(url, { type: "module" });
  const counter = new Int32Array(new SharedArrayBuffer(4));
  worker.postMessage({ pulse: pulse.buffer, beats: counter.buffer });
  beats.push(counter);
  workers.push(worker);
}
await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

let notifyMs = 0;
let pulses = 0;
const timer = setInterval(() => {
  // The check, as the main thread makes it (its result does not matter here).
  const now = Atomics.load(pulse, 0);
  for (const counter of beats) if (Atomics.load(counter, 0) < now) break;
  if (MODE !== "pulse") return;
  const began = performance.now();
  Atomics.add(pulse, 0, 1);
  Atomics.notify(pulse, 0);
  notifyMs += performance.now() - began;
  pulses++;
}, PERIOD_MS);
const main0 = ticks(`/proc/self/task/${Deno.pid}/stat`);
const all0 = ticks("/proc/self/stat");
await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
const main = ticks(`/proc/self/task/${Deno.pid}/stat`) - main0;
const all = ticks("/proc/self/stat") - all0;
clearInterval(timer);
const percent = (t: number) => `${(t / (MEASURE_MS / 1000)).toFixed(2)} %`;
console.log(
  `${NUMBERS} Workers, ${MODE === "pulse" ? `a pulse every ${PERIOD_MS} ms` : "no pulse"}: ` +
    `main thread ${percent(main)} of a core, whole process ${percent(all)}, ` +
    `one notify ${pulses ? (notifyMs / pulses).toFixed(2) : "–"} ms`,
);
for (const worker of workers) worker.terminate();
