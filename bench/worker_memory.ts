/**
 * @module
 * Where a session Worker's memory goes: for each set of modules a session's Worker may load,
 * starts `WORKERS` Workers that import it and answer a ping, and prints the process's resident
 * memory growth per Worker. Each set runs in a fresh process, so nothing is shared between them.
 * Run: `deno run -A bench/worker_memory.ts` (~1 min); `deno run -A bench/worker_memory.ts <name>`
 * measures one set (by its name in `STEPS`) and prints its figure alone.
 */
import { ROOT } from "./lib.ts";

const WORKERS = 10;

const module = (path: string) => `import "${new URL(path, import.meta.url)}";`;

/** What each step's Workers import (every step on its own, not on top of the one before). */
const STEPS: Record<string, string> = {
  "nothing (an empty Deno Worker)": "",
  "a simulator session's modules (Comlink, our batched port, the simulator engine)":
    `import "comlink"; ${module("../sessions/batched_endpoint.ts")} ` +
    module("../sessions/engines/simulator/engine.ts"),
  "Deno's Node compatibility layer alone (`node:events`)": `import "node:events";`,
  "puppeteer": `import "puppeteer";`,
  "a wwebjs session's modules (Comlink, our port, the wwebjs engine with whatsapp-web.js and puppeteer)":
    `import "comlink"; ${module("../sessions/batched_endpoint.ts")} ` +
    module("../sessions/engines/wwebjs/engine.ts"),
};

function rssKb(): number {
  const text = Deno.readTextFileSync("/proc/self/smaps_rollup");
  return Number(/^Rss:\s+(\d+) kB/m.exec(text)![1]);
}

async function measureStep(imports: string): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "worker_memory_", dir: ROOT.pathname });
  const file = `${dir}/worker.ts`;
  Deno.writeTextFileSync(file, `${imports}\nself.onmessage = (e) => self.postMessage(e.data);\n`);
  try {
    await new Promise((r) => setTimeout(r, 1_000));
    const before = rssKb();
    const workers: Worker[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const worker = new Worker(new URL(`file://${file}`), { type: "module" });
      await new Promise<void>((resolve, reject) => {
        worker.onmessage = () => resolve();
        worker.onerror = (event) => reject(new Error(event.message));
        worker.postMessage("ping");
      });
      workers.push(worker);
    }
    await new Promise((r) => setTimeout(r, 2_000));
    const perWorker = (rssKb() - before) / WORKERS / 1024;
    for (const worker of workers) worker.terminate();
    return perWorker;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (Deno.args[0] !== undefined) {
  console.log((await measureStep(STEPS[Deno.args[0]])).toFixed(1));
} else {
  console.log(`RSS growth per Worker, ${WORKERS} Workers per set, each set in a fresh process:`);
  console.log();
  console.log("| what the Worker loads | MB per Worker |");
  console.log("|---|---:|");
  for (const name of Object.keys(STEPS)) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(import.meta.url).pathname, name],
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "null",
    });
    const { stdout, success } = await child.output();
    const figure = success ? new TextDecoder().decode(stdout).trim() : "failed";
    console.log(`| ${name} | ${figure} |`);
  }
}
