/**
 * @module
 * How far a simulator number's Worker lets its V8 heap fill before its first full collection, and
 * what is live after it (issue #21, item 4): the hours of a soak in minutes. `soak --long` shows
 * the simulator Workers' heaps growing for 45 minutes without a single mark-compact, which alone
 * cannot tell garbage waiting for a collection (a level) from data kept (a slope). This runs the
 * same Workers with their messages coming 50 times as fast.
 *
 * `deno run -A bench/worker_heap_fill.ts [numbers] [seconds] [everyMs]` (default 4, 150, 20)
 *
 * Starts a server (`main.ts`, simulator engine, `--v8-flags=--trace-gc`), starts the numbers, waits
 * 45 s (past V8's memory reducer, ~30 s after each Worker starts), then runs every number's chatter
 * (an incoming message every `everyMs`) for `seconds`, and 20 s more idle. Prints every
 * mark-compact of every Worker isolate: when, its heap before and after, and the messages each
 * number had received by then, and per Worker the live heap before the chatter and after it (the
 * last mark-compact's), per message.
 */
import { parseGcLine } from "./gc_trace.ts";
import { api, phone, sleep, startServer, startSessions, waitConnected } from "./lib.ts";

const [numbers, seconds, everyMs] = [4, 150, 20].map((fallback, i) =>
  Number(Deno.args[i] ?? fallback)
);
const IDLE_AFTER_MS = 20_000;

interface MarkCompact {
  address: string;
  /** ms since the isolate began (V8's clock in the line: the lines arrive in bursts). */
  isolateMs: number;
  kind: string;
  beforeMb: number;
  afterMb: number;
}

const compacts: MarkCompact[] = [];
let mainIsolate: string | null = null;
const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-heap-fill-" });
const server = startServer({
  dataDir,
  denoFlags: ["run", "-A", "--v8-flags=--trace-gc"],
  onLine(line) {
    const gc = parseGcLine(line);
    // The server's first GC, at boot before any Worker, is the main thread's.
    if (gc) mainIsolate ??= gc.address;
    if (!gc || !gc.kind.includes("Mark-Compact")) return;
    compacts.push({
      address: gc.address,
      isolateMs: gc.isolateMs,
      kind: gc.kind,
      beforeMb: gc.beforeMb,
      afterMb: gc.afterMb,
    });
  },
});
try {
  await server.ready(60_000);
  const phones = Array.from({ length: numbers }, (_, i) => phone(i + 1, "4917"));
  // The Workers' isolates begin within a second of this: their clocks count from here.
  const workersAt = performance.now();
  await startSessions(server.base, phones);
  await waitConnected(server.base, phones, 60_000);
  await sleep(45_000);
  const chatterMs = performance.now() - workersAt;
  for (const number of phones) {
    const { status } = await api(server.base, "POST", `/${number}/simulator/chatter`, {
      chatId: "15550000001@c.us",
      everyMs,
      durationMs: seconds * 1000,
    });
    if (status !== 200) throw new Error(`chatter of ${number}: ${status}`);
  }
  await sleep(seconds * 1000 + IDLE_AFTER_MS);
  const perNumber = seconds * 1000 / everyMs;
  /** The messages each number had received by a collection. */
  const madeBy = (c: MarkCompact) =>
    Math.min(perNumber, Math.max(0, Math.floor((c.isolateMs - chatterMs) / everyMs)));
  console.log(
    `\`deno run -A bench/worker_heap_fill.ts ${numbers} ${seconds} ${everyMs}\`, ${
      new Date().toISOString()
    }: ${numbers} numbers, a message every ${everyMs} ms each for ${seconds} s (${perNumber} each)\n`,
  );
  console.log(
    "| Worker isolate | s after the chatter began (±1) | messages by then | mark-compact | heap before → after MB |",
  );
  console.log("|---|---:|---:|---|---:|");
  const workers = [...new Set(compacts.map((c) => c.address))].filter((a) => a !== mainIsolate);
  for (const address of workers) {
    for (const c of compacts.filter((c) => c.address === address)) {
      console.log(
        `| ${address} | ${((c.isolateMs - chatterMs) / 1000).toFixed(1)} | ${
          madeBy(c)
        } | ${c.kind} | ${c.beforeMb.toFixed(1)} → ${c.afterMb.toFixed(1)} |`,
      );
    }
  }
  console.log(
    "\n| Worker isolate | live before the chatter MB | live at its last mark-compact MB | bytes kept a message by then |",
  );
  console.log("|---|---:|---:|---:|");
  for (const address of workers) {
    const own = compacts.filter((c) => c.address === address);
    const before = own.filter((c) => c.isolateMs < chatterMs).at(-1);
    const after = own.at(-1)!;
    if (!before || after === before) continue;
    console.log(
      `| ${address} | ${before.afterMb.toFixed(1)} | ${after.afterMb.toFixed(1)} | ${
        ((after.afterMb - before.afterMb) * 1024 * 1024 / madeBy(after)).toFixed(0)
      } |`,
    );
  }
} finally {
  await server.stop();
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});
}
