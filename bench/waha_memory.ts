/**
 * @module
 * What a waha-engine number costs on our side (issue 22: the README's "memory per number"): the
 * server as a subprocess (`main.ts`, `WA_ENGINE=waha`) in front of the fake WAHA of the tests
 * (`tests/fake_waha/server.ts`, in this process, so its own memory is not counted), `numbers`
 * numbers started and linked (the fake's phone scans each QR, WAHA posts `session.status` to our
 * inbound webhook), then idle. Prints the server's PSS with no number and with all linked, the PSS
 * per number, and the idle CPU of the main thread and of the whole process over 20 s (the engine
 * asks WAHA for the status every `WAHA_POLL_MS`, 2 s by default).
 *
 * `deno run -A bench/waha_memory.ts [numbers=100]`
 */
import { startFakeWaha } from "../tests/fake_waha/server.ts";
import {
  api,
  cpuOf,
  freePort,
  machine,
  memoryOf,
  phone,
  sleep,
  startServer,
  startSessions,
  waitConnected,
} from "./lib.ts";

const NUMBERS = Number(Deno.args[0] ?? 100);
const WAHA_API_KEY = "bench-waha-key-0123456789";
// V8 keeps collecting in the background for tens of seconds after the numbers started.
const SETTLE_MS = 60_000;
const IDLE_CPU_MS = 20_000;

const fake = startFakeWaha({ apiKey: WAHA_API_KEY });
const dataDir = await Deno.makeTempDir({ prefix: "wa-waha-memory-" });
const port = freePort();
const server = startServer({
  dataDir,
  port,
  env: {
    WA_ENGINE: "waha",
    WAHA_URL: fake.url,
    WAHA_API_KEY,
    WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: "error",
  },
});
try {
  console.log(`${machine()}; ${NUMBERS} waha numbers on the fake WAHA`);
  await server.ready(60_000);
  await sleep(2_000);
  const empty = memoryOf(server.child.pid);

  const phones = Array.from({ length: NUMBERS }, (_, i) => phone(i, "4916"));
  const startedAt = performance.now();
  await startSessions(server.base, phones);
  // The phone scans each QR once WAHA's session waits for it.
  await Promise.all(phones.map(async (number) => {
    while (fake.sessions.get(number)?.status !== "SCAN_QR_CODE") await sleep(50);
    await fake.scan(number);
  }));
  await waitConnected(server.base, phones, 120_000);
  const linkedMs = performance.now() - startedAt;

  await sleep(SETTLE_MS);
  const linked = memoryOf(server.child.pid);
  const before = cpuOf(server.child.pid);
  await sleep(IDLE_CPU_MS);
  const after = cpuOf(server.child.pid);
  const { status } = await api(server.base, "GET", `/${phones[0]}/state`);
  if (status !== 200) throw new Error(`GET /state answered ${status} after the idle time`);

  const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
  const pct = (ms: number) => `${(ms / IDLE_CPU_MS * 100).toFixed(1)} % of a core`;
  console.log(`
| measure | value |
| --- | --- |
| all linked (start → CONNECTED) | ${(linkedMs / 1000).toFixed(1)} s |
| server PSS, no number → all linked and idle | ${mb(empty.pssKb)} → ${mb(linked.pssKb)} |
| PSS per number | ${((linked.pssKb - empty.pssKb) / 1024 / NUMBERS).toFixed(2)} MB |
| idle CPU, main thread | ${pct(after.mainMs - before.mainMs)} |
| idle CPU, whole process | ${pct(after.allMs - before.allMs)} |
| calls to the fake WAHA | ${fake.requests.length} |`);
} finally {
  await server.stop("SIGTERM", 60_000);
  await fake.close();
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});
}
