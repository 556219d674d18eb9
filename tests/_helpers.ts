/**
 * @module
 * Shared helpers for the HTTP suites: a server composed exactly like `main.ts` on a temporary
 * data folder, authenticated requests, and polling for a session's state; and, where a test is
 * about HTTP alone, one route group on the app's shell (`createTestApp`) with guards that let
 * everyone in and a session manager that answers only what the test gives it.
 */
import type { Received, Receiver } from "../events/test_receivers.ts";
import type { Env, Hono, MiddlewareHandler, Schema } from "hono";
import { loadConfig } from "../config.ts";
import { createLogger, type Logger } from "../logger.ts";
import { compose } from "../main.ts";
import type { AuthGuards } from "../middleware/guards.ts";
import type { AppEnv, Principal } from "../middleware/principal.ts";
import { API_BASE, createAppShell } from "../routes/app.ts";
import type { SessionClient, SessionManager } from "../sessions/manager.ts";

export const ADMIN_KEY = "test-admin-key-0123456789abcdef";
/** The `CLUSTER_SECRET` of the tests' nodes on PostgreSQL. */
export const CLUSTER_SECRET = "test-cluster-secret-0123456789abcdef";
/** The `AUTH_ENCRYPTION_KEY` of the tests' nodes on PostgreSQL (32 bytes, base64). */
export const AUTH_ENCRYPTION_KEY = "dGVzdC1hdXRoLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE=";

/**
 * What a node on PostgreSQL must be told besides `DATABASE_URL` (where others reach it, the
 * cluster's secret, the logins' key), unless the test says otherwise; nothing on SQLite.
 */
export function nodeEnv(env: Record<string, string>, url: string): Record<string, string> {
  if (!env.DATABASE_URL) return env;
  return { NODE_URL: url, CLUSTER_SECRET, AUTH_ENCRYPTION_KEY, ...env };
}

export interface TestApp {
  app: Awaited<ReturnType<typeof compose>>["app"];
  manager: Awaited<ReturnType<typeof compose>>["manager"];
  store: Awaited<ReturnType<typeof compose>>["store"];
  events: Awaited<ReturnType<typeof compose>>["events"];
  dataDir: string;
  /** A request with the admin key (or the given headers), through the app's fetch handler. */
  request(method: string, path: string, options?: RequestOptions): Promise<Response>;
  /** Like `request`, then the JSON body with the status. */
  json<T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: RequestOptions,
  ): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Send no credentials at all. */
  anonymous?: boolean;
}

/** Composes the server on a fresh temp `DATA_DIR` with the simulator engine by default. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const dataDir = env.DATA_DIR ?? await Deno.makeTempDir({ prefix: "wa-gateway-test-" });
  const config = loadConfig({
    WA_ENGINE: "simulator",
    SIMULATOR_SCAN_MS: "50",
    // Test files run side by side: Workers below every other process's threads would wait on
    // them (tests/worker_priority_test.ts sets it).
    WORKER_NICE: "0",
    API_KEY: ADMIN_KEY,
    LOG_LEVEL: "silent",
    // In-process: no port of its own, so no other node can reach it (tests of one node).
    ...nodeEnv(env, "http://127.0.0.1:9"),
    DATA_DIR: dataDir,
  });
  const server = await compose(config, createLogger(config.logLevel));

  async function request(method: string, path: string, options: RequestOptions = {}) {
    const headers: Record<string, string> = options.anonymous ? {} : { "X-Api-Key": ADMIN_KEY };
    let body: BodyInit | undefined;
    if (options.body !== undefined && method !== "GET" && method !== "HEAD") {
      headers["Content-Type"] = "application/json";
      body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    }
    return await server.app.request(`/api/whatsapp${path}`, {
      method,
      headers: { ...headers, ...options.headers },
      body,
    });
  }

  return {
    app: server.app,
    manager: server.manager,
    store: server.store,
    events: server.events,
    dataDir,
    request,
    async json<T>(method: string, path: string, options?: RequestOptions) {
      const response = await request(method, path, options);
      return { status: response.status, body: await response.json() as T };
    },
    async close() {
      await server.close();
      if (!env.DATA_DIR) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

/** Polls until `check` returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
}

/** Waits until the session's contract `state` is the given one. */
export function waitForState(
  server: Pick<TestApp, "json">,
  phoneNumber: string,
  state: "CONNECTED" | "DISCONNECTED" | "AUTHENTICATING" | "CONFLICT",
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  return waitFor(`session ${phoneNumber} to be ${state}`, async () => {
    const { status, body } = await server.json("GET", `/${phoneNumber}/state`);
    return status === 200 && body.state === state ? body : null;
  }, timeoutMs);
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Starts a session through the API and waits until it has the given state (connected). */
export async function startSession(
  server: Pick<TestApp, "json">,
  phoneNumber: string,
  state: "CONNECTED" | "AUTHENTICATING" = "CONNECTED",
): Promise<void> {
  const { status, body } = await server.json("POST", `/${phoneNumber}/start`);
  if (status !== 200) throw new Error(`Starting ${phoneNumber} failed: ${JSON.stringify(body)}`);
  await waitForState(server, phoneNumber, state);
}

export interface ServerProcess {
  child: Deno.ChildProcess;
  port: number;
  /** `http://127.0.0.1:<port>/api/whatsapp` */
  base: string;
  /** A request with the admin key; the body is JSON or null. */
  call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> | null }>;
  /** Sends the signal and waits for the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

/**
 * The real entry point (`main.ts`) as a subprocess on 127.0.0.1, with the simulator engine, the
 * test admin key and a temporary `DATA_DIR` (removed by `stop`), once it answers its health check.
 * `env` adds to or overrides those settings.
 */
export async function startServerProcess(
  env: Record<string, string>,
  options: { port?: number; stdout?: "piped" | "null"; stderr?: "piped" | "null" } = {},
): Promise<ServerProcess> {
  const port = options.port ?? freePort();
  // A folder of its own unless the test gives one: servers in parallel tests must not share one.
  const ownDataDir = env.DATA_DIR ? null : await Deno.makeTempDir({ prefix: "wa-gateway-proc-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      WA_ENGINE: "simulator",
      API_KEY: ADMIN_KEY,
      LOG_LEVEL: "warn",
      NO_COLOR: "1",
      ...(ownDataDir ? { DATA_DIR: ownDataDir } : {}),
      ...nodeEnv(env, `http://127.0.0.1:${port}`),
    },
    stdin: "null",
    stdout: options.stdout ?? "null",
    stderr: options.stderr ?? "null",
  }).spawn();
  const base = `http://127.0.0.1:${port}/api/whatsapp`;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined
        ? { "X-Api-Key": ADMIN_KEY }
        : { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  try {
    await waitFor(
      "the server to answer",
      async () => (await call("GET", "/health").catch(() => null))?.status === 200,
      30_000,
    );
  } catch (error) {
    child.kill("SIGKILL");
    await child.status;
    if (ownDataDir) await Deno.remove(ownDataDir, { recursive: true }).catch(() => {});
    throw error;
  }
  return {
    child,
    port,
    base,
    call,
    async stop(signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
      const { code } = await child.status;
      if (ownDataDir) await Deno.remove(ownDataDir, { recursive: true }).catch(() => {});
      return code;
    },
  };
}

/**
 * One route group mounted under `/api/whatsapp` on the app's shell: the same request id, error
 * answers, 404 and 405 as the real app, and nothing else (no store, no Workers). The test builds
 * the group with what it needs: often `stubManager()` and `passGuards()`.
 */
export function createTestApp<E extends Env, S extends Schema, B extends string>(
  router: Hono<E, S, B>,
  options: { log?: Logger } = {},
) {
  return createAppShell(options.log ?? createLogger("silent")).route(API_BASE, router);
}

export const ADMIN_PRINCIPAL: Principal = {
  kind: "admin",
  accountId: null,
  userId: null,
  role: null,
  via: "api_key",
};

/** Guards that let every request in as `principal` (the admin by default). */
export function passGuards(principal: Principal = ADMIN_PRINCIPAL): AuthGuards {
  const pass: MiddlewareHandler<AppEnv> = async (c, next) => {
    c.set("principal", principal);
    await next();
  };
  return {
    requireAuth: pass,
    requireSingleAccountProtected: () => pass,
    requireSessionInBody: () => pass,
    requireWahaProtected: pass,
    requireAdmin: pass,
  };
}

/**
 * A session manager that answers with `manager`'s methods and, for `session()`, with `client`'s;
 * anything else throws, naming what the route called that the test did not expect.
 */
export function stubManager(
  manager: Partial<SessionManager> = {},
  client: Partial<SessionClient> = {},
): SessionManager {
  const unexpected = (what: string) => () => {
    throw new Error(`stubManager: unexpected call of ${what}`);
  };
  const session = new Proxy(client, {
    get: (target, name) =>
      target[name as keyof SessionClient] ?? unexpected(`session.${String(name)}`),
  });
  return new Proxy(manager, {
    get: (target, name) =>
      target[name as keyof SessionManager] ??
        (name === "session" ? () => session : unexpected(String(name))),
  }) as SessionManager;
}

/**
 * The first event named `event` (in arrival order) that a test receiver got and whose payload
 * `matches`, waiting up to `timeoutMs` for it.
 */
export function webhookEvent(
  receiver: Pick<Receiver, "received">,
  event: string,
  matches: (payload: Record<string, unknown>) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<Received> {
  return waitFor(
    `a "${event}" event at the webhook`,
    () => receiver.received.find((r) => r.json.event === event && matches(r.json.payload)),
    timeoutMs,
  );
}
