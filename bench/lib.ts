/**
 * @module
 * Shared pieces of the benchmark and the soak: the server started as a subprocess exactly like
 * production (`deno run -A main.ts` with environment variables), a free loopback port, the `wrk`
 * load generator (installed from Debian when missing and running as root), the memory of a process
 * read from `/proc`, and small statistics helpers. All traffic goes to 127.0.0.1.
 */

export const ROOT = new URL("../", import.meta.url);
export const API_KEY = "bench-admin-key-0123456789abcdef";
export const API = "/api/whatsapp";
/** The simulator's contact that answers every text. */
export const ECHO_CONTACT = "15550000000@c.us";
/** A chat that does not answer, so a send costs exactly one message and its ack. */
export const QUIET_CHAT = "15551234567@c.us";

/** A test phone number; the index keeps numbers of one run distinct. */
export function phone(index: number, prefix = "4915"): string {
  return `${prefix}${String(index).padStart(8, "0")}`;
}

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A child process whose output is drained (so it never blocks) and kept for diagnostics. */
export interface Proc {
  readonly pid: number;
  readonly child: Deno.ChildProcess;
  readonly startedAt: number;
  /** The last lines of stdout and stderr. */
  tail(): string;
  kill(signal?: Deno.Signal): void;
}

function drain(
  stream: ReadableStream<Uint8Array>,
  lines: string[],
  onLine?: (line: string) => void,
): void {
  stream.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write(chunk) {
        for (const line of chunk.split("\n")) {
          if (!line) continue;
          lines.push(line);
          onLine?.(line);
        }
        if (lines.length > 200) lines.splice(0, lines.length - 200);
      },
    }),
  ).catch(() => {});
}

export function spawn(
  args: string[],
  env: Record<string, string> = {},
  onLine?: (line: string) => void,
): Proc {
  const startedAt = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  drain(child.stdout, lines, onLine);
  drain(child.stderr, lines, onLine);
  return {
    pid: child.pid,
    child,
    startedAt,
    tail: () => lines.slice(-30).join("\n"),
    kill(signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
    },
  };
}

export interface ServerOptions {
  dataDir: string;
  port?: number;
  env?: Record<string, string>;
  /** Flags for `deno run` before `main.ts` (e.g. `--inspect=...`). */
  denoFlags?: string[];
  /** Called with each line the server prints, as it arrives (`--trace-gc`'s, say). */
  onLine?: (line: string) => void;
}

export interface Server extends Proc {
  readonly port: number;
  readonly base: string;
  /** Resolves once `/health` answers; the value is ms since spawn. */
  ready(timeoutMs?: number): Promise<number>;
  /** SIGTERM (or the given signal), then waits for the exit; returns the exit code. */
  stop(signal?: Deno.Signal, timeoutMs?: number): Promise<number>;
}

export function startServer(options: ServerOptions): Server {
  const port = options.port ?? freePort();
  const proc = spawn([...(options.denoFlags ?? ["run", "-A"]), "main.ts"], {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: options.dataDir,
    WA_ENGINE: "simulator",
    SIMULATOR_SCAN_MS: "0",
    API_KEY,
    LOG_LEVEL: "warn",
    ...options.env,
  }, options.onLine);
  const base = `http://127.0.0.1:${port}`;
  return {
    ...proc,
    port,
    base,
    async ready(timeoutMs = 30_000) {
      const deadline = performance.now() + timeoutMs;
      while (performance.now() < deadline) {
        try {
          const response = await fetch(`${base}${API}/health`);
          await response.body?.cancel();
          if (response.ok) return performance.now() - proc.startedAt;
        } catch {
          // Not listening yet.
        }
        await sleep(5);
      }
      throw new Error(`The server did not answer within ${timeoutMs} ms:\n${proc.tail()}`);
    },
    async stop(signal = "SIGTERM", timeoutMs = 20_000) {
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      const status = await proc.child.status;
      clearTimeout(timer);
      return status.code;
    },
  };
}

/** One request with the admin key; the JSON body (or null) with the status. */
export async function api<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${base}${API}${path}`, {
    method,
    headers: {
      "X-Api-Key": API_KEY,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: response.status, body: parsed as T };
}

interface SessionRow {
  phoneNumber: string;
  state: string;
}

/** How many of `phones` are CONNECTED, from one `GET /sessions`. */
export async function connectedCount(base: string, phones: string[]): Promise<number> {
  const { status, body } = await api<{ sessions: SessionRow[] }>(base, "GET", "/sessions");
  if (status !== 200) return 0;
  const wanted = new Set(phones);
  return body.sessions.filter((s) => wanted.has(s.phoneNumber) && s.state === "CONNECTED").length;
}

/** Polls until every one of `phones` is CONNECTED; returns the ms it took or throws. */
export async function waitConnected(
  base: string,
  phones: string[],
  timeoutMs = 60_000,
): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    try {
      if (await connectedCount(base, phones) === phones.length) {
        return performance.now() - started;
      }
    } catch {
      // The server may be restarting.
    }
    await sleep(20);
  }
  throw new Error(`Not all ${phones.length} sessions were CONNECTED within ${timeoutMs} ms`);
}

/** Starts the sessions with `limit` requests in flight at a time. */
export async function startSessions(base: string, phones: string[], limit = 16): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < phones.length) {
      const number = phones[next++];
      const { status, body } = await api(base, "POST", `/${number}/start`, {});
      if (status !== 200) {
        throw new Error(`Starting "${number}" answered ${status}: ${JSON.stringify(body)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, phones.length) }, run));
}

export interface Memory {
  rssKb: number;
  pssKb: number;
}

/** The sum of every series of the Prometheus metric `name` on `/metrics` (`METRICS_ENABLED`). */
export async function metricSum(base: string, name: string): Promise<number> {
  const response = await fetch(`${base}/metrics`, { headers: { "X-Api-Key": API_KEY } });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  const series = [...body.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))];
  if (series.length === 0) throw new Error(`GET /metrics has no ${name}`);
  return series.reduce((sum, match) => sum + Number(match[1]), 0);
}

/** Resident (RSS) and proportional (PSS) memory of a process; Workers are threads, so included. */
export function memoryOf(pid: number): Memory {
  const text = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1]);
  return { rssKb: field("Rss"), pssKb: field("Pss") };
}

const TICKS_PER_S = 100; // USER_HZ

/** utime + stime of one thread, in ms. */
function threadCpuMs(pid: number, tid: number | string): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/task/${tid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 1000 / TICKS_PER_S;
  } catch {
    return 0; // The thread ended meanwhile.
  }
}

export interface Cpu {
  mainMs: number;
  /** V8's platform threads (background GC and compilation for every isolate). */
  v8Ms: number;
  /** The Worker threads (session Workers and spawners). */
  workersMs: number;
  allMs: number;
}

/** CPU ms of the main thread, of V8's threads, of the Workers and of the whole process. */
export function cpuOf(pid: number): Cpu {
  const cpu: Cpu = { mainMs: threadCpuMs(pid, pid), v8Ms: 0, workersMs: 0, allMs: 0 };
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    const ms = threadCpuMs(pid, entry.name);
    cpu.allMs += ms;
    let name = "";
    try {
      name = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/comm`);
    } catch {
      continue;
    }
    if (name.startsWith("V8 ")) cpu.v8Ms += ms;
    else if (name.startsWith("worker")) cpu.workersMs += ms;
  }
  return cpu;
}

/**
 * CPU ms of a whole process, every thread, exited ones included (`/proc/<pid>/stat`: utime +
 * stime, in ticks of 10 ms).
 */
export function processCpuMs(pid: number | "self"): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, at)];
}

// --- wrk ---------------------------------------------------------------------------------------

/** Finds `wrk`; installs the Debian package when missing and running as root, else explains. */
export async function ensureWrk(): Promise<string> {
  const which = async () => {
    const out = await new Deno.Command("sh", { args: ["-c", "command -v wrk"], stdout: "piped" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  };
  const found = await which();
  if (found) return found;
  if (Deno.uid() !== 0) {
    throw new Error(
      "The load generator wrk is missing: install it with `sudo apt-get install -y wrk`",
    );
  }
  console.error("wrk is missing: installing it with apt-get (Debian package wrk)");
  const install = async () =>
    (await new Deno.Command("apt-get", {
      args: ["install", "-y", "wrk"],
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdout: "null",
      stderr: "inherit",
    }).output()).success;
  if (!(await install())) {
    await new Deno.Command("apt-get", { args: ["update"], stdout: "null" }).output();
    if (!(await install())) throw new Error("Could not install wrk with apt-get");
  }
  const installed = await which();
  if (!installed) throw new Error("wrk is still missing after apt-get install");
  return installed;
}

export interface WrkOptions {
  url: string;
  connections: number;
  durationS: number;
  method?: "GET" | "POST";
  body?: string;
  headers?: Record<string, string>;
}

export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Responses with a status ≥ 400 plus socket errors: a point with any is not a measurement. */
  errors: number;
}

const luaString = (value: string) => `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;

/** One wrk run on one thread (the machine has 2 cores: one for wrk, one for the server). */
export async function runWrk(wrk: string, options: WrkOptions): Promise<WrkResult> {
  const lines = [`wrk.method = ${luaString(options.method ?? "GET")}`];
  if (options.body !== undefined) lines.push(`wrk.body = ${luaString(options.body)}`);
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    lines.push(`wrk.headers[${luaString(name)}] = ${luaString(value)}`);
  }
  lines.push(
    "done = function(summary, latency, requests)",
    "  local e = summary.errors",
    '  io.write(string.format("WRK_JSON {\\"requests\\":%d,\\"duration\\":%d,\\"p50\\":%d,' +
      '\\"p99\\":%d,\\"errors\\":%d}\\n", summary.requests, summary.duration,' +
      " latency:percentile(50), latency:percentile(99)," +
      " e.status + e.connect + e.read + e.write + e.timeout))",
    "end",
  );
  const script = await Deno.makeTempFile({ suffix: ".lua" });
  await Deno.writeTextFile(script, lines.join("\n") + "\n");
  try {
    const out = await new Deno.Command(wrk, {
      args: [
        "-t1",
        `-c${options.connections}`,
        `-d${options.durationS}s`,
        "--timeout",
        "10s",
        "-s",
        script,
        options.url,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const json = /WRK_JSON (\{.*\})/.exec(text)?.[1];
    if (!json) {
      throw new Error(`wrk gave no result:\n${text}${new TextDecoder().decode(out.stderr)}`);
    }
    const r = JSON.parse(json);
    return {
      rps: r.requests / (r.duration / 1e6),
      p50Ms: r.p50 / 1000,
      p99Ms: r.p99 / 1000,
      requests: r.requests,
      errors: r.errors,
    };
  } finally {
    await Deno.remove(script).catch(() => {});
  }
}

/** A machine description for the README: CPU model, cores, memory, kernel, Deno. */
export function machine(): string {
  const cpu = /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ??
    "unknown CPU";
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/meminfo"))?.[1]);
  const load = Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
  return `${cpu}, ${navigator.hardwareConcurrency} cores, ${
    Math.round(memKb / 1024 / 1024)
  } GB RAM, Linux ${Deno.osRelease()}, Deno ${Deno.version.deno}, load average before the run ${load}`;
}

/** A time in ms as the tables print it: two decimals below 10, none above. */
export const formatMs = (value: number) => value < 10 ? value.toFixed(2) : value.toFixed(0);

/**
 * The wrk table: one row per target (req/s, p50, p99 per concurrency), then one row per ratio
 * (`[label, numerator, denominator]`, of requests per second) and the line saying so.
 */
export function printWrkTable(
  print: (line?: string) => void,
  table: {
    concurrency: readonly number[];
    labels: Record<string, string>;
    results: Record<string, Record<number, WrkResult>>;
    ratios: [label: string, x: string, y: string][];
  },
): void {
  const { concurrency, labels, results } = table;
  print(
    "| target | " + concurrency.map((c) => `c=${c} req/s | p50 ms | p99 ms`).join(" | ") + " |",
  );
  print("|---|" + concurrency.map(() => "---:|---:|---:").join("|") + "|");
  for (const name of Object.keys(labels)) {
    const cells = concurrency.map((c) => {
      const r = results[name][c];
      return `${r.rps.toFixed(0)} | ${formatMs(r.p50Ms)} | ${formatMs(r.p99Ms)}`;
    });
    print(`| ${labels[name]} | ${cells.join(" | ")} |`);
  }
  for (const [label, x, y] of table.ratios) {
    const cells = concurrency.map((c) => (results[x][c].rps / results[y][c].rps).toFixed(2));
    print(`| ${label} | ${cells.join(" | ")} |`);
  }
  print();
  print(`Ratios are of requests per second, one per concurrency (${concurrency.join(" | ")}).`);
}
