/**
 * @module
 * Section 7 of `deno task bench` (`BENCH_SECTIONS=metrics`): what `METRICS_ENABLED=true` costs.
 * Two servers side by side, one with metrics off and one with them on, each with a simulator
 * session; wrk on `GET /state` and `send-text` of each, interleaved per concurrency and run twice
 * in opposite orders (so a drift in the machine's load hits both alike): the ratio on ÷ off. Then
 * what one scrape costs (`GET /metrics`, wrk at one connection), and the main thread's CPU per
 * request of the real app in this process, off and on (wall-clock wrk figures swing with the
 * machine's other load; a thread's CPU time hardly does).
 */
import { startSession, startTestApp, type TestApp } from "../tests/_helpers.ts";
import {
  API,
  API_KEY,
  ensureWrk,
  phone,
  QUIET_CHAT,
  runWrk,
  type Server,
  startServer,
  startSessions,
  waitConnected,
  type WrkOptions,
  type WrkResult,
} from "./lib.ts";

const CONCURRENCY = [1, 16, 64];
const TOKEN = "bench-metrics-token-0123456789abcdef";
const SEND_BODY = JSON.stringify({ chatId: QUIET_CHAT, text: "Hello from the wa-gateway bench" });

type Print = (line?: string) => void;

const ms = (value: number) => value < 10 ? value.toFixed(2) : value.toFixed(0);

/** Nanoseconds the calling thread has run (`/proc/thread-self/schedstat`). */
function threadCpuNs(): number {
  return Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[0]);
}

/**
 * Main-thread CPU per request (µs) of the real app in this process (`startTestApp`, one simulator
 * session, `app.request()`: no sockets), metrics off and on, 7 rounds interleaved, medians. CPU
 * time of the thread, not wall time: the machine's other load hardly moves it.
 */
async function inProcessCost(): Promise<Record<string, { off: number; on: number }>> {
  const off = await startTestApp({});
  const on = await startTestApp({ METRICS_ENABLED: "true" });
  const session = phone(1);
  const send = { chatId: QUIET_CHAT, text: "Hello from the wa-gateway bench" };
  const run = async (app: TestApp, route: "state" | "send", n: number) => {
    const started = threadCpuNs();
    for (let i = 0; i < n; i++) {
      const response = route === "state"
        ? await app.request("GET", `/${session}/state`)
        : await app.request("POST", `/${session}/send-text`, { body: send });
      await response.arrayBuffer();
    }
    return (threadCpuNs() - started) / 1000 / n;
  };
  try {
    await startSession(off, session);
    await startSession(on, session);
    const rounds: Record<string, number[]> = {};
    const counts = { state: 8_000, send: 2_000 };
    for (const route of ["state", "send"] as const) {
      await run(off, route, counts[route] / 4); // Warm-up (JIT).
      await run(on, route, counts[route] / 4);
    }
    for (let round = 0; round < 7; round++) {
      for (const route of ["state", "send"] as const) {
        for (const [which, app] of [["off", off], ["on", on]] as const) {
          (rounds[`${route} ${which}`] ??= []).push(await run(app, route, counts[route]));
        }
      }
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[3];
    return Object.fromEntries(
      (["state", "send"] as const).map((
        route,
      ) => [route, { off: median(rounds[`${route} off`]), on: median(rounds[`${route} on`]) }]),
    );
  } finally {
    await off.close();
    await on.close();
  }
}

export async function metricsSection(print: Print, durationS: number): Promise<void> {
  const wrk = await ensureWrk();
  print("## 7. Metrics (`METRICS_ENABLED=true` ÷ off)");
  print();
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const off = startServer({ dataDir: dirs[0] });
  const on = startServer({
    dataDir: dirs[1],
    env: { METRICS_ENABLED: "true", METRICS_TOKEN: TOKEN },
  });
  const session = phone(1);
  try {
    for (const server of [off, on]) {
      await server.ready();
      await startSessions(server.base, [session]);
      await waitConnected(server.base, [session]);
    }
    const authed = { "X-Api-Key": API_KEY };
    type Target = Omit<WrkOptions, "connections" | "durationS">;
    const targets = (server: Server): Record<"state" | "send", Target> => ({
      state: { url: `${server.base}${API}/${session}/state`, headers: authed },
      send: {
        url: `${server.base}${API}/${session}/send-text`,
        method: "POST",
        body: SEND_BODY,
        headers: { "Content-Type": "application/json", ...authed },
      },
    });
    const runs = { off: targets(off), on: targets(on) };
    const results: Record<string, WrkResult[]> = {};
    for (const connections of CONCURRENCY) {
      for (const order of [["off", "on"], ["on", "off"]] as const) {
        for (const route of ["state", "send"] as const) {
          for (const which of order) {
            const options: WrkOptions = { ...runs[which][route], connections, durationS };
            await runWrk(wrk, { ...options, durationS: 1 }); // Warm-up.
            const result = await runWrk(wrk, { ...options, durationS });
            if (result.errors > 0) throw new Error(`${which} ${route}: ${result.errors} errors`);
            (results[`${which} ${route} ${connections}`] ??= []).push(result);
            console.error(
              `  metrics ${which} ${route} c=${connections}: ${result.rps.toFixed(0)} req/s`,
            );
          }
        }
      }
    }
    const mean = (key: string, pick: (r: WrkResult) => number) =>
      results[key].reduce((sum, r) => sum + pick(r), 0) / results[key].length;
    print(
      `wrk -t1, ${durationS} s per point after a 1 s warm-up, each point twice (off, on, then ` +
        "on, off) and averaged; both servers up the whole time, one simulator session each.",
    );
    print();
    print(
      "| target | " + CONCURRENCY.map((c) => `c=${c} req/s | p99 ms`).join(" | ") + " |",
    );
    print("|---|" + CONCURRENCY.map(() => "---:|---:").join("|") + "|");
    const label = { state: "GET /{phone}/state", send: "POST /{phone}/send-text" };
    for (const route of ["state", "send"] as const) {
      for (const which of ["off", "on"] as const) {
        const cells = CONCURRENCY.map((c) => {
          const key = `${which} ${route} ${c}`;
          return `${mean(key, (r) => r.rps).toFixed(0)} | ${ms(mean(key, (r) => r.p99Ms))}`;
        });
        print(`| ${label[route]}, metrics ${which} | ${cells.join(" | ")} |`);
      }
      const ratio = CONCURRENCY.map((c) =>
        (mean(`on ${route} ${c}`, (r) => r.rps) / mean(`off ${route} ${c}`, (r) => r.rps))
          .toFixed(3)
      );
      print(`| **${label[route]}: on ÷ off** | ${ratio.join(" | | ")} | |`);
    }
    print();

    const scrapeUrl = `${on.base}/metrics`;
    const body = await (await fetch(scrapeUrl, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    })).text();
    const scrape = await runWrk(wrk, {
      url: scrapeUrl,
      headers: { Authorization: `Bearer ${TOKEN}` },
      connections: 1,
      durationS,
    });
    const cpu = await inProcessCost();
    print(
      `| one scrape (\`GET /metrics\`, after the run above) | ${ms(scrape.p50Ms)} ms p50, ${
        ms(scrape.p99Ms)
      } ms p99, ${(body.length / 1024).toFixed(1)} KiB, ${
        body.split("\n").filter((l) => l && !l.startsWith("#")).length
      } series |`,
    );
    print("|---|---|");
    for (const route of ["state", "send"] as const) {
      const { off, on } = cpu[route];
      print(
        `| ${label[route]}, main-thread CPU in-process (real app, 7 rounds, medians) | ${
          off.toFixed(1)
        } µs off → ${on.toFixed(1)} µs on (${on >= off ? "+" : ""}${(on - off).toFixed(1)} µs) |`,
      );
    }
    print();
  } finally {
    await Promise.all([off.stop(), on.stop()]);
    for (const dir of dirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
