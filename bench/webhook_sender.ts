/**
 * @module
 * What one webhook POST costs each thread, by sender (`events/webhook_sender.ts`): `direct` (the
 * main thread signs and sends), `worker` (the sender's Worker does), and `hop` (a stand-in Worker
 * that answers 200 at once without sending: the cost of crossing to a Worker and back alone).
 * POSTs of ~700 bytes go to a receiver in a child process on 127.0.0.1 at a steady rate, all
 * allowed in flight at once; it reports the main thread's CPU (`/proc/thread-self/schedstat`) and
 * the whole process's (every thread) per POST.
 *
 * `deno run -A bench/webhook_sender.ts [--rate 2000] [--seconds 4] [--runs 2]`
 */
import { createLogger } from "../logger.ts";
import { freePort, processCpuMs } from "./lib.ts";
import {
  createDirectSender,
  createWorkerSender,
  type WebhookPost,
  type WebhookSender,
} from "../events/webhook_sender.ts";

function option(name: string, fallback: string): number {
  const at = Deno.args.indexOf(name);
  return Number(at >= 0 ? Deno.args[at + 1] : fallback);
}

function threadCpuUs(): number {
  return Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[0]) / 1000;
}

/** A Worker that answers every post 200 at once: only the crossing is left. */
const HOP_SCRIPT = `self.onmessage = (event) => self.postMessage(
  event.data.map((m) => ({ id: m.id, answer: { status: 200, retryAfter: null } })));`;

function senderFor(kind: string): WebhookSender {
  const log = createLogger("warn");
  if (kind === "direct") return createDirectSender();
  if (kind === "worker") return createWorkerSender({ log });
  const url = new URL(URL.createObjectURL(new Blob([HOP_SCRIPT], { type: "text/javascript" })));
  return createWorkerSender({ log, url });
}

/** Posts `rate` a second for `seconds`; the CPU per POST of this thread and of the process. */
async function measure(sender: WebhookSender, post: WebhookPost, rate: number, seconds: number) {
  const total = rate * seconds;
  const signal = new AbortController().signal;
  let made = 0;
  let answered = 0;
  const started = performance.now();
  const thread0 = threadCpuUs();
  const process0 = processCpuMs("self") * 1000;
  await new Promise<void>((resolve, reject) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - started) * rate / 1000));
      for (; made < due; made++) {
        sender.post(post, signal).then(() => ++answered === total && resolve(), reject);
      }
      if (made < total) setTimeout(tick, 0);
    };
    tick();
  });
  return {
    main: (threadCpuUs() - thread0) / total,
    process: (processCpuMs("self") * 1000 - process0) / total,
  };
}

if (import.meta.main) {
  const rate = option("--rate", "2000");
  const seconds = option("--seconds", "4");
  const runs = option("--runs", "2");
  const port = freePort();
  const receiver = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `Deno.serve({ hostname: "127.0.0.1", port: ${port}, onListen() {} }, async (request) => {
        await request.arrayBuffer();
        return new Response(null, { status: 200 });
      });`,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const post: WebhookPost = {
    url: `http://127.0.0.1:${port}/hook`,
    body: JSON.stringify({ event: "message", payload: { body: "x".repeat(600) } }),
    headers: [["Content-Type", "application/json"]],
    secret: null,
    addresses: null,
  };
  try {
    for (let tries = 0;; tries++) {
      try {
        await (await fetch(post.url, { method: "POST", body: "{}" })).body?.cancel();
        break;
      } catch (error) {
        if (tries > 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    console.log(
      `\`deno run -A bench/webhook_sender.ts ${Deno.args.join(" ")}\`, ${
        new Date().toISOString()
      }, load average ${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")}\n`,
    );
    console.log("| run | sender | µs of main-thread CPU per POST | µs of process CPU per POST |");
    console.log("|---:|---|---:|---:|");
    const kinds = ["direct", "worker", "hop"];
    const senders = new Map(kinds.map((kind) => [kind, senderFor(kind)]));
    for (const sender of senders.values()) await measure(sender, post, rate, 1); // Warm-up.
    for (let run = 1; run <= runs; run++) {
      for (const [kind, sender] of senders) {
        const result = await measure(sender, post, rate, seconds);
        console.log(
          `| ${run} | ${kind} | ${result.main.toFixed(0)} | ${result.process.toFixed(0)} |`,
        );
      }
    }
    for (const sender of senders.values()) sender.close();
  } finally {
    receiver.kill();
    await receiver.status;
  }
}
