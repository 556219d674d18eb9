/**
 * @module
 * What the event path costs the main thread per message, without Workers or HTTP in front of it
 * (issue 21, item 5): the real pipeline, dispatcher and SQLite outbox (a file database in a
 * temporary folder, as the server runs it) in this process, fed a steady stream of incoming
 * messages as a simulator session hands them over (`message` and `message.any`, spread evenly, one
 * or two per turn of the event loop), and the global webhook pointed at a receiver in a child
 * process on 127.0.0.1. It measures this thread's CPU (`/proc/thread-self/schedstat`) from the first
 * message until the last delivery arrived, divided by the messages.
 *
 * `deno run -A bench/event_path.ts [--rate 500] [--seconds 6] [--deliveries 2] [--fake-posts]
 *   [--runs 3] [--calls] [--senders direct,worker] [--root <folder>…]`
 *
 * Each code is run once for a second first, not counted (compiling, warming `fetch`).
 * `--deliveries 0|1|2`: how many of each message's two events the webhook wants (`session.status`
 * only, `message`, every event): the difference between them is what a delivery costs.
 * `--fake-posts` answers every POST at once without a network (what `fetch` costs is the
 * difference). `--calls` counts the outbox's calls per message. Each `--root` is a checkout of the
 * code to measure (default this one): with two, the runs alternate between them, for an A/B in the
 * same minutes (`git worktree add --detach /tmp/base <commit>` and `deno install` there first).
 * `--senders direct,worker` runs each code with each sender of the POSTs (`webhook_sender.ts`: on
 * the main thread, or from a Worker of their own; without it, what the code does by default). Every
 * run also reports the whole process's CPU per message (every thread: a Worker's included).
 */
import { freePort, processCpuMs } from "./lib.ts";

function option(name: string, fallback: string): string {
  const at = Deno.args.indexOf(name);
  return at >= 0 ? Deno.args[at + 1] : fallback;
}

/** The receiver's mode: counts the POSTs, answers a GET with the count. */
if (Deno.args[0] === "--receiver") {
  let received = 0;
  Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.args[1]), onListen() {} }, async (req) => {
    if (req.method === "GET") return new Response(String(received));
    await req.arrayBuffer();
    received++;
    return new Response(null, { status: 200 });
  });
} else {
  await main();
}

interface RunResult {
  root: string;
  usPerMessage: number;
  /** Every thread of this process (a sender Worker included). */
  processUsPerMessage: number;
  wallS: number;
  calls: Record<string, number> | null;
}

/** This thread's CPU time so far, in µs. */
function threadCpuUs(): number {
  return Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[0]) / 1000;
}

async function run(root: string, sender: string, options: {
  rate: number;
  seconds: number;
  deliveries: number;
  fakePosts: boolean;
  countCalls: boolean;
  receiverUrl: string;
}): Promise<RunResult> {
  const base = new URL(root.endsWith("/") ? root : `${root}/`, `file://${Deno.cwd()}/`);
  const { openSqliteStore } = await import(new URL("store/sqlite/store.ts", base).href);
  const { openEventPipeline } = await import(new URL("events/pipeline.ts", base).href);
  const { textMessageEvent } = await import(new URL("events/test_events.ts", base).href);
  const { createLogger } = await import(new URL("logger.ts", base).href);
  const senders = sender === "default"
    ? null
    : await import(new URL("events/webhook_sender.ts", base).href);
  if (sender === "worker" && options.fakePosts) {
    throw new Error("--fake-posts fakes the main thread's fetch: not the worker sender's");
  }

  let posted = 0;
  const realFetch = globalThis.fetch;
  if (options.fakePosts) {
    globalThis.fetch = (() => {
      posted++;
      return Promise.resolve(new Response(null, { status: 200 }));
    }) as typeof fetch;
  }
  const received = async () =>
    options.fakePosts ? posted : Number(await (await realFetch(options.receiverUrl)).text());

  const dir = await Deno.makeTempDir({ prefix: "wa-gateway-event-path-" });
  const store = openSqliteStore(dir);
  const calls: Record<string, number> = {};
  const outbox = options.countCalls
    ? new Proxy(store.outbox, {
      get(target, name) {
        const value = Reflect.get(target, name);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          calls[String(name)] = (calls[String(name)] ?? 0) + 1;
          return value.apply(target, args);
        };
      },
    })
    : store.outbox;
  const events = [["session.status"], ["message"], ["*"]][options.deliveries];
  const pipeline = openEventPipeline(outbox, {
    enabled: true,
    url: `${options.receiverUrl}hook`,
    events,
    allowPrivateHosts: [],
    maxAttempts: 8,
    timeoutMs: 10_000,
    concurrency: 4,
    lanes: 8,
    retryBaseMs: 1_000,
    retryMaxMs: 300_000,
    retentionHours: 24,
    sseHeartbeatMs: 15_000,
  }, {
    log: createLogger("warn"),
    version: "bench",
    sender: sender === "direct"
      ? senders.createDirectSender()
      : sender === "worker"
      ? senders.createWorkerSender({ log: createLogger("warn") })
      : undefined,
  });
  await pipeline.start();
  const sessions = Array.from({ length: 200 }, (_, i) => `4916${String(i).padStart(8, "0")}`);
  const before = await received();
  const total = options.rate * options.seconds;
  const cpuStart = threadCpuUs();
  const processStart = processCpuMs("self") * 1000;
  const wallStart = performance.now();
  let made = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.floor((performance.now() - wallStart) * options.rate / 1000);
      while (made < Math.min(due, total)) {
        const session = sessions[made % sessions.length];
        const body = `m${made} ${"x".repeat(40)}`;
        pipeline.acceptSessionEvent(textMessageEvent(session, body, false));
        pipeline.acceptSessionEvent(textMessageEvent(session, body, true));
        made++;
      }
      if (made >= total) resolve();
      else setTimeout(tick, 0);
    };
    tick();
  });
  const expected = before + total * options.deliveries;
  await pipeline.flush(true);
  while (await received() < expected) await new Promise((r) => setTimeout(r, 10));
  const usPerMessage = (threadCpuUs() - cpuStart) / total;
  const processUsPerMessage = (processCpuMs("self") * 1000 - processStart) / total;
  const wallS = (performance.now() - wallStart) / 1000;
  await pipeline.close();
  await store.close();
  globalThis.fetch = realFetch;
  await Deno.remove(dir, { recursive: true });
  const perMessage = options.countCalls
    ? Object.fromEntries(Object.entries(calls).map(([name, n]) => [name, n / total]))
    : null;
  return { root, usPerMessage, processUsPerMessage, wallS, calls: perMessage };
}

async function main(): Promise<void> {
  const roots = Deno.args.flatMap((arg, i) => Deno.args[i - 1] === "--root" ? [arg] : []);
  if (roots.length === 0) roots.push(new URL("../", import.meta.url).pathname);
  const senders = option("--senders", "default").split(",");
  const variants = roots.flatMap((root) => senders.map((sender) => ({ root, sender })));
  const options = {
    rate: Number(option("--rate", "500")),
    seconds: Number(option("--seconds", "6")),
    deliveries: Number(option("--deliveries", "2")),
    fakePosts: Deno.args.includes("--fake-posts"),
    countCalls: Deno.args.includes("--calls"),
    receiverUrl: "",
  };
  if (![0, 1, 2].includes(options.deliveries)) throw new Error("--deliveries takes 0, 1 or 2");
  const runs = Number(option("--runs", "3"));
  const port = freePort();
  const receiver = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--receiver", String(port)],
    stdin: "null",
    stdout: "null",
  }).spawn();
  options.receiverUrl = `http://127.0.0.1:${port}/`;
  try {
    for (let tries = 0;; tries++) {
      try {
        await (await fetch(options.receiverUrl)).text();
        break;
      } catch (error) {
        if (tries > 100) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    console.log(
      `## Event path, main thread: ${options.rate} messages a second for ${options.seconds} s, ` +
        `${options.deliveries} deliveries each${options.fakePosts ? ", POSTs faked" : ""}\n`,
    );
    console.log(
      `\`deno run -A bench/event_path.ts ${Deno.args.join(" ")}\`, ${new Date().toISOString()}, ` +
        `load average ${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")}\n`,
    );
    console.log(
      "| run | code | sender | µs of main-thread CPU per message | µs of process CPU per message | wall s | outbox calls per message |",
    );
    console.log("|---:|---|---|---:|---:|---:|---|");
    // Each code's first run compiles it, and the first of all warms `fetch`: not counted.
    for (const { root, sender } of variants) await run(root, sender, { ...options, seconds: 1 });
    for (let i = 1; i <= runs; i++) {
      for (const { root, sender } of variants) {
        const result = await run(root, sender, options);
        const calls = result.calls
          ? Object.entries(result.calls).filter(([, n]) => n >= 0.01)
            .map(([name, n]) => `${name} ${n.toFixed(2)}`).join(", ")
          : "";
        console.log(
          `| ${i} | ${root} | ${sender} | ${result.usPerMessage.toFixed(0)} | ${
            result.processUsPerMessage.toFixed(0)
          } | ${result.wallS.toFixed(1)} | ${calls} |`,
        );
      }
    }
  } finally {
    receiver.kill();
    await receiver.status;
  }
}
