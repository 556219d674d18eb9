/**
 * @module
 * A cluster of real `main.ts` processes for the tests: nodes on one PostgreSQL database of the
 * test's own, each on its own loopback port, `DATA_DIR` and `NODE_ID`, with the simulator engine
 * and a shared `SIMULATOR_CLOUD_DIR` (so two devices online with one login are reported in
 * `conflicts.log`). A node can be signalled (SIGKILL, SIGSTOP, SIGCONT, SIGTERM); its log is kept
 * and shown when a test fails. Helpers find which node runs a number and wait, bounded, for
 * every number to be WORKING on exactly one node.
 */
import { ADMIN_KEY, AUTH_ENCRYPTION_KEY, freePort, waitFor } from "./_helpers.ts";

export const CLUSTER_SECRET = "cluster-secret-0123456789abcdef";

export interface ClusterNode {
  id: string;
  port: number;
  base: string;
  dataDir: string;
  child: Deno.ChildProcess;
  /** Its log lines so far (LOG_LEVEL info, without the request lines). */
  log: string[];
  /** A request with the admin key, bounded by `timeoutMs` (default 5 s). */
  call(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs?: number,
  ): Promise<{ status: number; body: Record<string, unknown> | null; servedBy: string | null }>;
  signal(signal: Deno.Signal): void;
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number>;
}

export interface ClusterOptions {
  databaseUrl: string;
  cloudDir: string;
  ttlMs: number;
  env?: Record<string, string>;
}

/**
 * Starts one node and waits until its `/health` answers 200. `at` restarts a node where it ran
 * (its port and `DATA_DIR`, which then belongs to the caller and is not removed when it exits).
 */
export async function startNode(
  id: string,
  options: ClusterOptions,
  at?: { port: number; dataDir: string },
): Promise<ClusterNode> {
  const port = at?.port ?? freePort();
  const dataDir = at?.dataDir ?? await Deno.makeTempDir({ prefix: `wa-gateway-${id}-` });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      WA_ENGINE: "simulator",
      SIMULATOR_SCAN_MS: "50",
      API_KEY: ADMIN_KEY,
      LOG_LEVEL: "info",
      NO_COLOR: "1",
      DATABASE_URL: options.databaseUrl,
      DATABASE_POOL_SIZE: "4",
      NODE_ID: id,
      NODE_URL: `http://127.0.0.1:${port}`,
      CLUSTER_SECRET,
      AUTH_ENCRYPTION_KEY,
      LEASE_TTL_MS: String(options.ttlMs),
      SIMULATOR_CLOUD_DIR: options.cloudDir,
      ...options.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  // Read all along: a full pipe would block the node.
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      for (const line of lines) if (!line.includes('"msg":"request"')) log.push(line);
    }
  };
  collect(child.stdout).catch(() => {});
  collect(child.stderr).catch(() => {});
  const exited = child.status.then(async (status) => {
    if (!at) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    return status.code;
  });
  const base = `http://127.0.0.1:${port}/api/whatsapp`;
  const node: ClusterNode = {
    id,
    port,
    base,
    dataDir,
    child,
    log,
    exited,
    async call(method, path, body, timeoutMs = 5_000) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined
          ? { "X-Api-Key": ADMIN_KEY }
          : { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: text ? JSON.parse(text) : null,
        servedBy: response.headers.get("x-served-by"),
      };
    },
    signal(signal) {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
    },
  };
  try {
    await waitFor(
      `node ${id} to answer`,
      async () =>
        (await node.call("GET", "/health", undefined, 1_000).catch(() => null))?.status ===
          200,
      30_000,
      50,
    );
  } catch (error) {
    node.signal("SIGKILL");
    await exited;
    throw new Error(`${(error as Error).message}\n${log.join("\n")}`);
  }
  return node;
}

/** Ends a node for good (SIGKILL after a SIGCONT, in case it was stopped). */
export async function killNode(node: ClusterNode): Promise<void> {
  node.signal("SIGCONT");
  node.signal("SIGKILL");
  await node.exited;
}

interface SessionRow {
  phoneNumber: string;
  state: string;
  node: string | null;
}

/** Which node runs each number, as `via` reads the leases. */
export async function ownersVia(via: ClusterNode): Promise<Map<string, string | null>> {
  const { status, body } = await via.call("GET", "/sessions");
  if (status !== 200) throw new Error(`GET /sessions answered ${status}`);
  const sessions = (body as { sessions: SessionRow[] }).sessions;
  return new Map(sessions.map((s) => [s.phoneNumber, s.node]));
}

/**
 * The numbers each node says it runs CONNECTED: its own answer to `/state`, not one it forwarded
 * to the number's owner (`X-Served-By` names the node that served it).
 */
export async function connectedOn(
  nodes: readonly ClusterNode[],
  numbers: readonly string[],
): Promise<Map<string, string[]>> {
  const seen = new Map<string, string[]>(numbers.map((n) => [n, []]));
  await Promise.all(nodes.map(async (node) => {
    for (const phoneNumber of numbers) {
      const { status, body, servedBy } = await node.call("GET", `/${phoneNumber}/state`);
      if (status === 200 && body?.state === "CONNECTED" && servedBy === node.id) {
        seen.get(phoneNumber)!.push(node.id);
      }
    }
  }));
  return seen;
}

/**
 * Waits (at most `timeoutMs`) until every number is CONNECTED on exactly one of `nodes` and the
 * leases name that node; fails at once if two nodes report one number CONNECTED. Answers where
 * each number runs.
 */
export async function waitAllWorking(
  nodes: readonly ClusterNode[],
  numbers: readonly string[],
  timeoutMs: number,
): Promise<Map<string, string>> {
  let doubled: string | null = null;
  const placement = await waitFor(
    `${numbers.length} numbers WORKING`,
    async () => {
      const connected = await connectedOn(nodes, numbers);
      for (const [phoneNumber, on] of connected) {
        if (on.length > 1) doubled = `${phoneNumber} is CONNECTED on ${on.join(" and ")}`;
      }
      if (doubled) return true;
      const owners = await ownersVia(nodes[0]);
      for (const phoneNumber of numbers) {
        const on = connected.get(phoneNumber)!;
        if (on.length !== 1 || owners.get(phoneNumber) !== on[0]) return false;
      }
      return new Map(numbers.map((n) => [n, connected.get(n)![0]]));
    },
    timeoutMs,
    100,
  );
  if (doubled) throw new Error(`Two owners: ${doubled}`);
  return placement as Map<string, string>;
}

/** What the shared simulator folder recorded as conflicts (two devices online, one login). */
export function conflicts(cloudDir: string): string[] {
  try {
    return Deno.readTextFileSync(`${cloudDir}/conflicts.log`).split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** Devices online now in the shared simulator folder (fresh presence files), by number. */
export function devicesOnline(cloudDir: string, staleMs = 1_000): string[] {
  const online: string[] = [];
  try {
    for (const number of Deno.readDirSync(cloudDir)) {
      if (!number.isDirectory) continue;
      for (const device of Deno.readDirSync(`${cloudDir}/${number.name}`)) {
        try {
          const seen = JSON.parse(
            Deno.readTextFileSync(`${cloudDir}/${number.name}/${device.name}`),
          );
          if (Date.now() - seen.at < staleMs) online.push(`${number.name} on ${seen.device}`);
        } catch {
          // Being written or removed.
        }
      }
    }
  } catch {
    // Nothing online yet.
  }
  return online;
}
