/**
 * @module
 * What a Worker's first use of a runtime API costs it (issue 21, item 1): for each kind, 100
 * Workers made at once whose script does only that, and the CPU this process used per Worker (read
 * from `/proc/self/stat`, over the 5 s they get to boot and settle). An empty Worker is the floor;
 * the others show what Deno loads behind a global (in Deno 2.9 `setTimeout` is Node's, and its
 * first call loads the Node layer's timers and what they import).
 *
 * `deno run -A bench/worker_boot.ts [workers=100] [rounds=2]`
 */
import { machine, sleep } from "./lib.ts";

const WORKERS = Number(Deno.args[0] ?? 100);
const ROUNDS = Number(Deno.args[1] ?? 2);

const KINDS: Record<string, string> = {
  "empty": "",
  "one `setTimeout`": "setTimeout(() => {}, 1);",
  "one `Atomics.waitAsync` with a timeout":
    "Atomics.waitAsync(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1).value.then(() => {});",
  "one `AbortSignal.timeout`": "AbortSignal.timeout(1).addEventListener('abort', () => {});",
  "one `postMessage` on a `MessageChannel`": "new MessageChannel().port1.postMessage({ a: 1 });",
};

/**
 * This process's CPU time so far, in ms: its total (`/proc/self/stat`), which keeps the CPU of
 * threads that have ended, unlike `cpuOf`'s sum over the threads alive now.
 */
function cpuMs(): number {
  const fields = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function costPerWorker(body: string): Promise<number> {
  const url = URL.createObjectURL(
    new Blob([`${body}\nself.onmessage = () => {};`], { type: "text/javascript" }),
  );
  await sleep(500);
  const before = cpuMs();
  const workers = Array.from({ length: WORKERS }, () => new Worker(url, { type: "module" }));
  await sleep(5_000);
  const used = cpuMs() - before;
  for (const worker of workers) worker.terminate();
  URL.revokeObjectURL(url);
  return used / WORKERS;
}

console.log(`${machine()}; ${WORKERS} Workers at once per figure\n`);
console.log(
  `| a Worker that does | ${
    Array.from({ length: ROUNDS }, (_, i) => `round ${i + 1}`).join(" | ")
  } |\n| --- |${" ---: |".repeat(ROUNDS)}`,
);
const figures = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [kind, body] of Object.entries(KINDS)) {
    figures.set(kind, [...(figures.get(kind) ?? []), await costPerWorker(body)]);
  }
}
for (const [kind, values] of figures) {
  console.log(`| ${kind} | ${values.map((v) => `${v.toFixed(1)} ms`).join(" | ")} |`);
}
