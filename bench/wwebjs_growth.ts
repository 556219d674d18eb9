/**
 * @module
 * Where a linked whatsapp-web.js session's Chromium grows while messages arrive (issue #21,
 * item 4's follow-up). One session on the fake WhatsApp Web (`withLinkedServer`), `rate` messages
 * a second delivered to it and a send through the API every 10 messages, for `seconds`; every
 * `every` seconds it prints the private memory (`Private_Clean + Private_Dirty`: not shared with
 * other Chromiums, so other browsers on the machine do not move it, as they move PSS) of each of
 * the browser's processes by type, and the page's JS heap and DOM counts (`Performance.getMetrics`
 * through the browser's own DevTools endpoint, read-only beside puppeteer); at the end it forces a
 * GC in the page and prints them again: what is retained, not only not yet collected.
 *
 * `deno run -A bench/wwebjs_growth.ts [rate=1] [seconds=600] [every=60]`
 */
import { withLinkedServer } from "../tests/fake_whatsapp/http_harness.ts";
import { ALICE } from "../tests/fake_whatsapp/cast.ts";
import { browsersOn, processes } from "../tests/processes.ts";

const RATE = Number(Deno.args[0] ?? 1);
const SECONDS = Number(Deno.args[1] ?? 600);
const EVERY = Number(Deno.args[2] ?? 60);

/** Private memory of a process, in kB (0 once it is gone). */
function privateKb(pid: number): number {
  try {
    const rollup = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(rollup)![1]);
    return field("Private_Clean") + field("Private_Dirty");
  } catch {
    return 0;
  }
}

interface PageDevTools {
  metrics(): Promise<Record<string, number>>;
  collectGarbage(): Promise<void>;
  close(): void;
}

/** The WhatsApp page of the browser whose DevTools listen on `port`. */
async function pageDevTools(port: number): Promise<PageDevTools> {
  const version = await (await fetch(`http://127.0.0.1:${port}/json/version`)).json();
  const socket = new WebSocket(version.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let nextId = 1;
  const pending = new Map<number, (result: Record<string, unknown>) => void>();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (!message.id) return;
    pending.get(message.id)?.(message.result ?? message.error);
    pending.delete(message.id);
  };
  const send = (method: string, params = {}, sessionId?: string) => {
    const id = nextId++;
    socket.send(JSON.stringify({ id, method, params, sessionId }));
    return new Promise<Record<string, unknown>>((resolve) => pending.set(id, resolve));
  };
  const { targetInfos } = await send("Target.getTargets") as {
    targetInfos: { type: string; url: string; targetId: string }[];
  };
  const page = targetInfos.find((t) => t.type === "page" && t.url.startsWith("http"));
  if (!page) throw new Error("No WhatsApp page in the browser");
  const { sessionId } = await send("Target.attachToTarget", {
    targetId: page.targetId,
    flatten: true,
  }) as { sessionId: string };
  await send("Performance.enable", {}, sessionId);
  return {
    async metrics() {
      const { metrics } = await send("Performance.getMetrics", {}, sessionId) as {
        metrics: { name: string; value: number }[];
      };
      return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
    },
    async collectGarbage() {
      await send("HeapProfiler.collectGarbage", {}, sessionId);
    },
    close: () => socket.close(),
  };
}

await withLinkedServer({ contacts: [{ id: ALICE, name: "Alice" }] }, async ({ server, cloud }) => {
  const browser = browsersOn(server.dataDir)[0];
  const browserProc = processes().find((p) => p.pid === browser)!;
  const profile = browserProc.args.find((a) => a.startsWith("--user-data-dir="))!.split("=")[1];
  const port = Number(Deno.readTextFileSync(`${profile}/DevToolsActivePort`).split("\n")[0]);
  const page = await pageDevTools(port);
  const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
  const sample = async (label: string, messages: number) => {
    const byType = new Map<string, number>();
    for (const p of processes().filter((p) => p.group === browserProc.group)) {
      const type = p.args.join(" ").match(/--type=(\S+)/)?.[1] ??
        (p.pid === browser ? "browser" : p.args[0].split("/").pop()!);
      byType.set(type, (byType.get(type) ?? 0) + privateKb(p.pid));
    }
    const m = await page.metrics();
    console.log(
      `| ${label} | ${messages} | ${[...byType].map(([t, kb]) => `${t} ${mb(kb)}`).join(", ")} | ${
        mb(m.JSHeapUsedSize / 1024)
      } | ${m.Nodes} |`,
    );
  };
  console.log(`${RATE} message(s) a second for ${SECONDS} s, a send every 10 messages`);
  console.log("| at | messages | private memory by process | page JS heap used | DOM nodes |");
  console.log("|---|---:|---|---:|---:|");
  await sample("0 s", 0);
  const began = Date.now();
  let delivered = 0;
  while (Date.now() - began < SECONDS * 1000) {
    for (let i = 0; i < RATE; i++, delivered++) {
      if (delivered % 10 === 0) {
        await server.json("POST", `/${cloud.me.split("@")[0]}/send-text`, {
          body: { chatId: ALICE, text: `send ${delivered}` },
        });
      }
      cloud.deliverIncoming({ from: ALICE, body: `message ${delivered} ${"x".repeat(50)}` });
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const at = Math.round((Date.now() - began) / 1000);
    if (at % EVERY === 0) await sample(`${at} s`, delivered);
  }
  await page.collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await sample("after a forced GC", delivered);
  page.close();
});
