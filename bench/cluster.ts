/**
 * @module
 * Section 6 of `deno task bench` (`BENCH_SECTIONS=cluster`): what the cluster costs. A real
 * PostgreSQL of the bench's own (`tests/_postgres.ts`), simulator nodes started as processes the
 * way production starts them, and:
 *
 * - wrk on `GET /state` and `send-text` for one number through its owner and through a node that
 *   does not own it (the forwarded hop), and `send-text` on a single node on SQLite, all
 *   interleaved per concurrency in the same minute (the ratios: non-owner ÷ owner, PostgreSQL ÷
 *   SQLite);
 * - failover: SIGKILL of a node owning N numbers, and the time until every one of them is
 *   CONNECTED (WORKING) again on the survivors, at `LEASE_TTL_MS` 15000 (the default) and 3000.
 */
import { startPostgres, type TestPostgres } from "../tests/_postgres.ts";
import {
  API,
  API_KEY,
  ensureWrk,
  formatMs,
  freePort,
  phone,
  printWrkTable,
  QUIET_CHAT,
  runWrk,
  type Server,
  sleep,
  startServer,
  type WrkOptions,
  type WrkResult,
} from "./lib.ts";

const CLUSTER_SECRET = "bench-cluster-secret-0123456789abcdef";
const CONCURRENCY = [1, 16, 64];
const SEND_BODY = JSON.stringify({ chatId: QUIET_CHAT, text: "Hello from the wa-gateway bench" });
/** Numbers the killed node owns in the failover measurement. */
const FAILOVER_NUMBERS = 4;
const FAILOVER_TTLS = [15_000, 3_000];
const FAILOVER_RUNS = Number(Deno.env.get("BENCH_FAILOVER_RUNS") ?? 2);

type Print = (line?: string) => void;

const ms = formatMs;
const load = () => Deno.loadavg().map((l) => l.toFixed(2)).join(" ");

interface Node extends Server {
  id: string;
  dataDir: string;
}

async function startNode(
  id: string,
  databaseUrl: string,
  cloudDir: string,
  env: Record<string, string> = {},
): Promise<Node> {
  const port = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: `wa-gateway-bench-${id}-` });
  const server = startServer({
    dataDir,
    port,
    env: {
      DATABASE_URL: databaseUrl,
      NODE_ID: id,
      NODE_URL: `http://127.0.0.1:${port}`,
      CLUSTER_SECRET,
      AUTH_ENCRYPTION_KEY: "YmVuY2gtYXV0aC1rZXktMDEyMzQ1Njc4OWFiY2RlZjA=",
      SIMULATOR_CLOUD_DIR: cloudDir,
      ...env,
    },
  });
  await server.ready();
  return { ...server, id, dataDir };
}

async function stopNode(node: Node, signal: Deno.Signal = "SIGTERM"): Promise<void> {
  await node.stop(signal).catch(() => {});
  await Deno.remove(node.dataDir, { recursive: true }).catch(() => {});
}

/** A number's `/state` through `node`: its state and the node that served it (`X-Served-By`). */
async function stateVia(
  node: Server,
  number: string,
): Promise<{ state: string | null; servedBy: string | null }> {
  try {
    const response = await fetch(`${node.base}${API}/${number}/state`, {
      headers: { "X-Api-Key": API_KEY },
      signal: AbortSignal.timeout(2_000),
    });
    const body = await response.json().catch(() => null);
    return {
      state: response.ok ? body?.state ?? null : null,
      servedBy: response.headers.get("x-served-by"),
    };
  } catch {
    return { state: null, servedBy: null };
  }
}

async function startPinned(via: Server, number: string, nodeId?: string): Promise<void> {
  const response = await fetch(`${via.base}${API}/${number}/start`, {
    method: "POST",
    headers: { "X-Api-Key": API_KEY, "Content-Type": "application/json" },
    body: JSON.stringify(nodeId ? { node: nodeId } : {}),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`start ${number}: ${response.status} ${text}`);
}

async function waitServedBy(
  via: Server,
  number: string,
  owner: string | null,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const { state, servedBy } = await stateVia(via, number);
    if (state === "CONNECTED" && (owner === null || servedBy === owner)) return;
    await sleep(20);
  }
  throw new Error(`${number} was not CONNECTED on ${owner ?? "its node"} within ${timeoutMs} ms`);
}

// --- the extra hop and PostgreSQL ---------------------------------------------------------------

async function hops(print: Print, pg: TestPostgres, durationS: number): Promise<void> {
  const wrk = await ensureWrk();
  const databaseUrl = await pg.createDatabase("bench_hop");
  const cloudDir = await Deno.makeTempDir({ prefix: "wa-gateway-bench-cloud-" });
  const sqliteDir = await Deno.makeTempDir({ prefix: "wa-gateway-bench-sqlite-" });
  const nodes: Node[] = [];
  const sqlite = startServer({ dataDir: sqliteDir });
  const number = phone(61);
  const sqliteNumber = phone(62);
  try {
    nodes.push(await startNode("bench-a", databaseUrl, cloudDir));
    nodes.push(await startNode("bench-b", databaseUrl, cloudDir));
    await sqlite.ready();
    const [owner, other] = nodes;
    await startPinned(owner, number, owner.id);
    await startPinned(sqlite, sqliteNumber);
    await waitServedBy(owner, number, owner.id);
    await waitServedBy(other, number, owner.id); // Forwarded: the owner served it.
    await waitServedBy(sqlite, sqliteNumber, null);

    const authed = { "X-Api-Key": API_KEY };
    const send = { method: "POST" as const, body: SEND_BODY };
    const targets: Record<string, Omit<WrkOptions, "connections" | "durationS">> = {
      so: { url: `${owner.base}${API}/${number}/state`, headers: authed },
      sn: { url: `${other.base}${API}/${number}/state`, headers: authed },
      po: {
        url: `${owner.base}${API}/${number}/send-text`,
        ...send,
        headers: { ...authed, "Content-Type": "application/json" },
      },
      pn: {
        url: `${other.base}${API}/${number}/send-text`,
        ...send,
        headers: { ...authed, "Content-Type": "application/json" },
      },
      ls: {
        url: `${sqlite.base}${API}/${sqliteNumber}/send-text`,
        ...send,
        headers: { ...authed, "Content-Type": "application/json" },
      },
    };
    const label: Record<string, string> = {
      so: "(e) GET /{phone}/state through the owner (PostgreSQL)",
      sn: "(f) GET /{phone}/state through a non-owner (forwarded)",
      po: "(g) POST send-text through the owner (PostgreSQL)",
      pn: "(h) POST send-text through a non-owner (forwarded)",
      ls: "(i) POST send-text on a single node on SQLite",
    };
    const results: Record<string, Record<number, WrkResult>> = Object.fromEntries(
      Object.keys(targets).map((name) => [name, {}]),
    );
    const loads: string[] = [];
    const began = new Date();
    for (const connections of CONCURRENCY) {
      loads.push(load());
      for (const [name, target] of Object.entries(targets)) {
        const options = { ...target, connections };
        await runWrk(wrk, { ...options, durationS: 1 }); // Warm-up.
        const result = await runWrk(wrk, { ...options, durationS });
        if (result.errors > 0) {
          throw new Error(`${name} at ${connections} connections: ${result.errors} errors`);
        }
        results[name][connections] = result;
        console.error(
          `  ${name} c=${connections}: ${result.rps.toFixed(0)} req/s, p50 ${
            ms(result.p50Ms)
          } ms, p99 ${ms(result.p99Ms)} ms`,
        );
      }
    }
    print("### The forwarded hop and PostgreSQL (wrk)");
    print();
    print(
      `Two nodes on one PostgreSQL (the number pinned to the first) and one node on SQLite, all ` +
        `running; wrk -t1, ${durationS} s per point after a 1 s warm-up, the five targets ` +
        `interleaved per concurrency (${began.toISOString().slice(11, 16)}–${
          new Date().toISOString().slice(11, 16)
        } UTC). Load average (1/5/15 min) before each concurrency: ${loads.join("; ")}.`,
    );
    print();
    printWrkTable(print, {
      concurrency: CONCURRENCY,
      labels: label,
      results,
      ratios: [
        ["**(f)/(e)** state, non-owner ÷ owner", "sn", "so"],
        ["**(h)/(g)** send-text, non-owner ÷ owner", "pn", "po"],
        ["**(g)/(i)** send-text, PostgreSQL ÷ SQLite", "po", "ls"],
      ],
    });
    print();
  } finally {
    for (const node of nodes) await stopNode(node);
    await sqlite.stop().catch(() => {});
    await Deno.remove(sqliteDir, { recursive: true }).catch(() => {});
    await Deno.remove(cloudDir, { recursive: true }).catch(() => {});
  }
}

// --- failover -----------------------------------------------------------------------------------

interface Failover {
  ttlMs: number;
  firstMs: number;
  allMs: number;
  load: string;
}

/** Three nodes; N numbers on the third; SIGKILL it; ms until all N are CONNECTED elsewhere. */
async function failoverOnce(pg: TestPostgres, ttlMs: number, run: number): Promise<Failover> {
  const databaseUrl = await pg.createDatabase(`bench_failover_${ttlMs}_${run}`);
  const cloudDir = await Deno.makeTempDir({ prefix: "wa-gateway-bench-cloud-" });
  const env = { LEASE_TTL_MS: String(ttlMs) };
  const nodes: Node[] = [];
  const numbers = Array.from({ length: FAILOVER_NUMBERS }, (_, i) => phone(i, `4917${run}`));
  try {
    for (const id of ["bench-a", "bench-b", "bench-c"]) {
      nodes.push(await startNode(id, databaseUrl, cloudDir, env));
    }
    const [survivor, , victim] = nodes;
    for (const number of numbers) await startPinned(survivor, number, victim.id);
    for (const number of numbers) await waitServedBy(victim, number, victim.id);
    // A few renewals in steady state, so the kill lands at a random point of a heartbeat period.
    await sleep(ttlMs / 3 + Math.random() * (ttlMs / 3));
    const loadAtKill = load();
    victim.kill("SIGKILL");
    const killedAt = performance.now();
    const back = new Map<string, number>();
    const deadline = killedAt + 3 * ttlMs + 30_000;
    while (back.size < numbers.length && performance.now() < deadline) {
      await Promise.all(
        numbers.filter((n) => !back.has(n)).map(async (number) => {
          const { state, servedBy } = await stateVia(survivor, number);
          if (state === "CONNECTED" && servedBy && servedBy !== victim.id) {
            back.set(number, performance.now() - killedAt);
          }
        }),
      );
      if (back.size < numbers.length) await sleep(20);
    }
    if (back.size < numbers.length) {
      throw new Error(`only ${back.size} of ${numbers.length} numbers came back (TTL ${ttlMs})`);
    }
    const times = [...back.values()];
    return {
      ttlMs,
      firstMs: Math.min(...times),
      allMs: Math.max(...times),
      load: loadAtKill,
    };
  } finally {
    for (const node of nodes) await stopNode(node, "SIGKILL");
    await Deno.remove(cloudDir, { recursive: true }).catch(() => {});
  }
}

async function failover(print: Print, pg: TestPostgres): Promise<void> {
  const rows: Failover[] = [];
  for (let run = 0; run < FAILOVER_RUNS; run++) {
    for (const ttlMs of FAILOVER_TTLS) {
      const result = await failoverOnce(pg, ttlMs, run);
      console.error(
        `  failover TTL ${ttlMs}: first ${ms(result.firstMs)} ms, all ${ms(result.allMs)} ms`,
      );
      rows.push(result);
    }
  }
  print(`### Failover: SIGKILL of a node owning ${FAILOVER_NUMBERS} numbers`);
  print();
  print(
    "Three nodes on one PostgreSQL; the numbers pinned to the third, killed at a random point " +
      "of its heartbeat period; the clock stops when `GET /state` through a survivor answers " +
      "CONNECTED served by a survivor (polled every 20 ms). The floor: TTL (the lease runs out) " +
      "+ TTL/2 (the margin before another node takes it) ± TTL/3 (the heartbeat period: when the " +
      "last renewal was, when a survivor's next pass looks) + the start of a restored session.",
  );
  print();
  print(
    "| LEASE_TTL_MS | expected before the start (1.5 × TTL ± TTL/3) | first back ms | all back ms | load at the kill |",
  );
  print("|---:|---|---:|---:|---|");
  for (const r of rows) {
    const floor = `${((1.5 * r.ttlMs - r.ttlMs / 3) / 1000).toFixed(1)}–${
      ((1.5 * r.ttlMs + r.ttlMs / 3) / 1000).toFixed(1)
    } s`;
    print(`| ${r.ttlMs} | ${floor} | ${ms(r.firstMs)} | ${ms(r.allMs)} | ${r.load} |`);
  }
  print();
}

/** The whole section: PostgreSQL started and stopped here. */
export async function clusterSection(print: Print, durationS: number): Promise<void> {
  print("## 6. Cluster (nodes on one PostgreSQL)");
  print();
  let pg: TestPostgres;
  try {
    pg = await startPostgres();
  } catch (error) {
    // In the default list: the rest of the run is kept, and the reason printed.
    print(`Not run: ${(error as Error).message}`);
    print();
    return;
  }
  try {
    await hops(print, pg, durationS);
    await failover(print, pg);
  } finally {
    await pg.stop();
  }
}
