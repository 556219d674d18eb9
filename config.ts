/**
 * @module
 * Every setting of the server, read from the environment once and parsed with zod into a frozen,
 * typed object. Defaults let `deno task start` run with nothing set; a bad value stops the start
 * with one line that names the variable. No other module reads the environment.
 */
import { AUTH_KEY_HINT, parseAuthKey } from "./sessions/login_cipher.ts";
import { proxyProblem } from "./sessions/proxy.ts";
import { z } from "zod";
import { eventNameProblem } from "./events/event_names.ts";

const port = z.coerce.number().int().min(0).max(65535);
const positiveMs = z.coerce.number().int().positive();
const count = z.coerce.number().int().min(0);
const optionalText = z.string().trim().min(1).optional();
const commaList = z.string().default("").transform((raw) =>
  raw.split(",").map((item) => item.trim()).filter((item) => item.length > 0)
);
/**
 * The fewest characters an `API_KEY`, an `API_KEYS` key or `WEBHOOK_API_KEY` may have: guessing 24
 * characters is hopeless with or without the failed-login limiter.
 */
export const MIN_API_KEY_LENGTH = 24;
const KEY_TOO_SHORT = `a key needs at least ${MIN_API_KEY_LENGTH} characters`;
const apiKey = z.string().trim().min(MIN_API_KEY_LENGTH, KEY_TOO_SHORT).optional();
const bool = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) =>
  v === "true" || v === "1" || v === "yes"
);

const schema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATA_DIR: z.string().min(1).default("./data"),
  // PostgreSQL instead of SQLite in DATA_DIR (the store of a cluster).
  DATABASE_URL: z.string().trim().regex(
    /^postgres(ql)?:\/\/\S+$/,
    "expected a postgres:// or postgresql:// URL",
  ).optional(),
  DATABASE_POOL_SIZE: positiveMs.default(5),

  // The cluster (nodes on one PostgreSQL).
  NODE_ID: z.string().trim().regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    "expected 1-64 letters, digits, dots, dashes or underscores",
  ).optional(),
  NODE_URL: z.url().optional(),
  NODE_ROLE: z.enum(["worker", "edge"]).default("worker"),
  NODE_MAX_SESSIONS: positiveMs.default(50),
  LEASE_TTL_MS: z.coerce.number().int().min(1_000).default(15_000),
  DRAIN_TIMEOUT_MS: positiveMs.default(60_000),
  CLUSTER_SECRET: apiKey,
  // Saved whatsapp-web.js logins in the database (a cluster): their key, and how often.
  AUTH_ENCRYPTION_KEY: z.string().trim().optional().refine(
    (text) => text === undefined || parseAuthKey(text) !== null,
    `expected ${AUTH_KEY_HINT}`,
  ),
  AUTH_BACKUP_INTERVAL_MS: z.coerce.number().int().min(1_000).default(60_000),
  WA_ENGINE: z.enum(["wwebjs", "simulator", "waha"]).default("wwebjs"),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  TRUST_PROXY: bool.default(false),
  ENGINE_CALL_TIMEOUT_MS: positiveMs.default(30_000),
  BODY_MAX_BYTES: positiveMs.optional(),
  BODY_TIMEOUT_MS: positiveMs.default(30_000),

  // Session supervision.
  HEARTBEAT_INTERVAL_MS: positiveMs.default(500),
  HEARTBEAT_TIMEOUT_MS: positiveMs.default(1_000),
  RESTART_BACKOFF_MIN_MS: positiveMs.default(1_000),
  RESTART_BACKOFF_MAX_MS: positiveMs.default(60_000),
  RESTART_MAX_CRASHES: positiveMs.default(5),
  RESTART_CRASH_WINDOW_MS: positiveMs.default(600_000),
  WORKER_NICE: count.max(19).default(19),

  // Engines.
  SIMULATOR_SCAN_MS: count.default(1_500),
  // A folder the simulators of several nodes share, as WhatsApp's servers: two devices online
  // with one login are reported as a conflict (tests of the cluster).
  SIMULATOR_CLOUD_DIR: optionalText,
  QR_MAX_RETRIES: count.default(0),
  LOG_QR: z.enum(["off", "terminal"]).default("off"),
  CHROME_PATH: optionalText,
  WWEBJS_WEB_VERSION: optionalText,
  WWEBJS_WEB_CACHE_PATH: optionalText,
  WWEBJS_AUTH_TIMEOUT_MS: positiveMs.default(60_000),
  WWEBJS_READY_TIMEOUT_MS: positiveMs.default(60_000),
  CHROMIUM_NO_SANDBOX: bool.default(false),
  // The waha engine: the WAHA server(s) that run its numbers, and how WAHA reaches us back.
  WAHA_URL: z.url({ protocol: /^https?$/ }).optional(),
  WAHA_API_KEY: optionalText,
  WAHA_URLS: commaList,
  WAHA_POLL_MS: positiveMs.default(2_000),
  WEBHOOK_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  // The proxy of every number that has none of its own (`proxy` in POST /:n/start).
  PROXY_URL: optionalText.superRefine((url, ctx) => {
    const problem = url === undefined ? null : proxyProblem(url);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
  // Incoming calls: rejected at once, and the caller sent this text (the server-wide default).
  CALLS_AUTO_REJECT: bool.default(false),
  CALLS_AUTO_REJECT_MESSAGE: z.string().trim().max(4096).optional().transform((text) =>
    text ? text : undefined
  ),

  // Auth.
  API_KEY: apiKey,
  API_KEYS: commaList,
  JWT_JWKS_URL: z.url().optional(),
  JWT_PUBLIC_KEY: optionalText,
  JWT_ISSUER: commaList,
  JWT_AUDIENCE: commaList,
  JWT_ALGORITHMS: z.string().default("RS256,ES256").transform((raw) =>
    raw.split(",").map((item) => item.trim()).filter((item) => item.length > 0)
  ),
  JWT_JWKS_TIMEOUT_MS: positiveMs.default(5_000),
  WORKOS_CLIENT_ID: optionalText,
  MAX_NUMBERS_PER_ACCOUNT: positiveMs.default(1),
  CLAIM_TTL_MS: positiveMs.default(600_000),
  WEBHOOK_API_KEY: apiKey,
  WEBHOOK_HMAC_SECRET: optionalText,

  // Media fetched on a caller's behalf.
  MEDIA_ALLOW_PRIVATE_HOSTS: commaList,
  MEDIA_TIMEOUT_MS: positiveMs.default(30_000),
  MEDIA_MAX_BYTES: positiveMs.default(64 * 1024 * 1024),

  // Outgoing webhooks and events.
  WEBHOOK_URL: z.url().optional(),
  WEBHOOK_EVENTS: z.string().default("*").transform((raw) =>
    raw.split(",").map((item) => item.trim()).filter((item) => item.length > 0)
  ).superRefine((names, ctx) => {
    const problem = names.map(eventNameProblem).find((p) => p !== null);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
  WEBHOOK_SECRET: optionalText,
  WEBHOOK_ALLOW_PRIVATE_HOSTS: commaList,
  WEBHOOK_MAX_ATTEMPTS: positiveMs.default(8),
  WEBHOOK_TIMEOUT_MS: positiveMs.default(10_000),
  WEBHOOK_CONCURRENCY: positiveMs.default(4),
  WEBHOOK_LANES: z.coerce.number().int().min(1).max(256).default(8),
  WEBHOOK_SENDER: z.enum(["main", "worker"]).default("main"),
  WEBHOOK_RETRY_BASE_MS: positiveMs.default(1_000),
  WEBHOOK_RETRY_MAX_MS: positiveMs.default(300_000),
  EVENTS_RETENTION_HOURS: positiveMs.default(72),
  SSE_HEARTBEAT_MS: positiveMs.default(15_000),
  WEBHOOKS_ENABLED: bool.default(true),

  // Prometheus metrics at /metrics.
  METRICS_ENABLED: bool.default(false),
  METRICS_TOKEN: z.string().trim().min(MIN_API_KEY_LENGTH, KEY_TOO_SHORT).optional(),
  METRICS_SAMPLE_MS: z.coerce.number().int().min(1_000).default(15_000),
});

type Parsed = z.infer<typeof schema>;

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** `DATABASE_URL` set: the store is PostgreSQL, a pool of `poolSize` connections. */
  database: { url?: string; poolSize: number };
  /** This node among the nodes of a cluster (one PostgreSQL); a single node has them too. */
  cluster: {
    /** `NODE_ID`; unset: generated once and kept in `DATA_DIR` (edge nodes must set it). */
    nodeId?: string;
    /** Where other nodes reach this one (`NODE_URL`). */
    nodeUrl?: string;
    /** `worker` hosts sessions; `edge` hosts none and forwards (no Workers, no subprocesses). */
    role: "worker" | "edge";
    /** How many sessions this node takes (`NODE_MAX_SESSIONS`). */
    maxSessions: number;
    /** How long a node's lease on a number lasts without renewal (`LEASE_TTL_MS`). */
    leaseTtlMs: number;
    /** How long SIGTERM may take handing this node's sessions to others (`DRAIN_TIMEOUT_MS`). */
    drainTimeoutMs: number;
    /** Signs node-to-node requests (`CLUSTER_SECRET`). */
    secret?: string;
    /** Seals the whatsapp-web.js logins kept in the database (`AUTH_ENCRYPTION_KEY`). */
    loginKey?: string;
    /** How often a running whatsapp-web.js session's login is saved (`AUTH_BACKUP_INTERVAL_MS`). */
    loginBackupIntervalMs: number;
  };
  engine: "wwebjs" | "simulator" | "waha";
  logLevel: Parsed["LOG_LEVEL"];
  /** Behind one reverse proxy: the client is the last address of `X-Forwarded-For`. */
  trustProxy: boolean;
  engineCallTimeoutMs: number;
  /** The largest body of a route that takes media; big enough for base64 of the largest media. */
  bodyMaxBytes: number;
  /** How long a request body may take to arrive, once the caller is authenticated. */
  bodyTimeoutMs: number;
  supervision: {
    heartbeatIntervalMs: number;
    heartbeatTimeoutMs: number;
    backoffMinMs: number;
    backoffMaxMs: number;
    maxCrashes: number;
    crashWindowMs: number;
    /** `WORKER_NICE`: the nice value of simulator and waha Workers (Linux; 0: the server's own). */
    workerNice: number;
  };
  simulatorScanMs: number;
  /** `SIMULATOR_CLOUD_DIR`: where simulators of all nodes see each other online. */
  simulatorCloudDir?: string;
  /** How long an account's claim on a number whose phone never linked lasts (ms). */
  claimTtlMs: number;
  qrMaxRetries: number;
  logQr: "off" | "terminal";
  wwebjs: {
    chromePath?: string;
    webVersion?: string;
    webVersionCachePath?: string;
    authTimeoutMs: number;
    /** How long a start that needs no scan, or the sync after one, may take to become ready. */
    readyTimeoutMs: number;
    /** Run Chromium without its sandbox even when not root (containers without user namespaces). */
    noSandbox: boolean;
    /** `PROXY_URL`: the proxy of every number without one of its own (the operator's: any host). */
    proxyUrl?: string;
  };
  /** The waha engine's WAHA servers (`WAHA_URL`, `WAHA_URLS`) and our public base for WAHA. */
  waha: WahaConfig;
  /**
   * Incoming calls by default (`CALLS_AUTO_REJECT`, `CALLS_AUTO_REJECT_MESSAGE`): rejected at once,
   * and the caller sent `message` when it is not null.
   */
  calls: { autoReject: boolean; message: string | null };
  auth: {
    apiKey?: string;
    /** Account-scoped keys from `API_KEYS` (`key=accountId` pairs). */
    accountKeys: { key: string; accountId: string }[];
    jwksUrl?: string;
    publicKey?: string;
    issuers: string[];
    audiences: string[];
    algorithms: string[];
    jwksTimeoutMs: number;
    workosClientId?: string;
    maxNumbersPerAccount: number;
    webhookApiKey?: string;
    webhookHmacSecret?: string;
  };
  media: { allowPrivateHosts: string[]; timeoutMs: number; maxBytes: number };
  webhooks: {
    enabled: boolean;
    url?: string;
    events: string[];
    secret?: string;
    allowPrivateHosts: string[];
    maxAttempts: number;
    timeoutMs: number;
    concurrency: number;
    /** Lanes per destination: one number's deliveries go one at a time, lanes side by side. */
    lanes: number;
    /**
     * Where the POSTs are signed and sent: the main thread (`main`, least CPU in all), or a Worker
     * of their own (`worker`: a quarter less of the main thread's CPU a message, ~40 % more in all).
     */
    sender: "main" | "worker";
    retryBaseMs: number;
    retryMaxMs: number;
    retentionHours: number;
    sseHeartbeatMs: number;
  };
  /** `GET /metrics` (Prometheus): off unless `METRICS_ENABLED`. */
  metrics: {
    enabled: boolean;
    /** A bearer token for the scraper (`METRICS_TOKEN`), so it need not hold the admin key. */
    token?: string;
    /** How often each wwebjs session's Chromium memory is read from `/proc`. */
    sampleMs: number;
  };
}

/** The WAHA servers a waha-engine number may run on, as the operator listed them. */
export interface WahaConfig {
  /** `WAHA_URL`: the default server. */
  url?: string;
  /** `WAHA_API_KEY`: WAHA's `X-Api-Key` (the same for every listed server). */
  apiKey?: string;
  /** `WAHA_URLS`: more servers by name (`name=url` pairs), which a start body picks by name. */
  servers: { name: string; url: string }[];
  /** How often the engine asks WAHA for the session's status and QR (`WAHA_POLL_MS`). */
  pollMs: number;
  /** `WEBHOOK_PUBLIC_URL`: this server's base URL as WAHA reaches it, for WAHA's webhooks. */
  webhookPublicUrl?: string;
}

/** WAHA server names: what a start body's `wahaServer` may say. */
export const WAHA_SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function parseWahaServers(pairs: string[]): { name: string; url: string }[] {
  return pairs.map((pair) => {
    const at = pair.indexOf("=");
    const name = pair.slice(0, at);
    const url = pair.slice(at + 1);
    if (at <= 0 || !WAHA_SERVER_NAME.test(name) || !/^https?:\/\/\S+$/.test(url)) {
      throw new ConfigError(
        'Invalid WAHA_URLS: expected comma-separated "name=url" pairs (names of letters, digits, ' +
          "dots, dashes or underscores; http:// or https:// URLs)",
      );
    }
    return { name, url };
  });
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

function parseAccountKeys(pairs: string[]): { key: string; accountId: string }[] {
  return pairs.map((pair) => {
    const at = pair.indexOf("=");
    if (at <= 0 || at === pair.length - 1) {
      throw new ConfigError('Invalid API_KEYS: expected comma-separated "key=accountId" pairs');
    }
    const key = pair.slice(0, at);
    const accountId = pair.slice(at + 1);
    if (key.length < MIN_API_KEY_LENGTH) {
      throw new ConfigError(
        `Invalid API_KEYS: the key of account "${accountId}" is too short: ${KEY_TOO_SHORT}`,
      );
    }
    return { key, accountId };
  });
}

/**
 * Only where the store is (`DATA_DIR`, `DATABASE_URL`, `DATABASE_POOL_SIZE`), for tools that open
 * it without being a node (`deno task migrate-to-postgres`).
 */
export function loadStoreConfig(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): { dataDir: string; database: { url?: string; poolSize: number } } {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ""),
  );
  const result = schema.pick({ DATA_DIR: true, DATABASE_URL: true, DATABASE_POOL_SIZE: true })
    .safeParse(present);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`Invalid ${String(issue.path[0] ?? "environment")}: ${issue.message}`);
  }
  const e = result.data;
  return { dataDir: e.DATA_DIR, database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE } };
}

/** Parses the environment (by default the process's) into the server's configuration. */
export function loadConfig(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Readonly<Config> {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ""),
  );
  const result = schema.safeParse(present);
  if (!result.success) {
    const issue = result.error.issues[0];
    const variable = String(issue.path[0] ?? "environment");
    throw new ConfigError(`Invalid ${variable}: ${issue.message}`);
  }
  const e = result.data;
  if (e.NODE_ROLE === "edge") {
    // An edge keeps nothing of its own and only forwards within a cluster.
    const lacking = !e.NODE_ID
      ? "NODE_ID"
      : !e.DATABASE_URL
      ? "DATABASE_URL"
      : !e.CLUSTER_SECRET
      ? "CLUSTER_SECRET"
      : null;
    if (lacking) throw new ConfigError(`Invalid ${lacking}: required with NODE_ROLE=edge`);
  }
  if (e.DATABASE_URL && e.NODE_ROLE === "worker") {
    // Nodes that host sessions are reached by the others (forwarded requests), signed.
    if (!e.NODE_URL) {
      throw new ConfigError(
        "Missing NODE_URL: a node on DATABASE_URL needs the URL other nodes reach it at",
      );
    }
    if (!e.CLUSTER_SECRET) {
      throw new ConfigError(
        "Missing CLUSTER_SECRET: nodes on DATABASE_URL sign their requests to each other with it",
      );
    }
    if (!e.AUTH_ENCRYPTION_KEY) {
      throw new ConfigError(
        "Missing AUTH_ENCRYPTION_KEY: nodes on DATABASE_URL keep whatsapp-web.js logins in the " +
          `database, encrypted with it; make one (${AUTH_KEY_HINT}) and give every node the same`,
      );
    }
  }
  const wahaServers = parseWahaServers(e.WAHA_URLS);
  if (e.WA_ENGINE === "waha" && !e.WAHA_URL && wahaServers.length === 0) {
    throw new ConfigError(
      "Missing WAHA_URL: WA_ENGINE=waha needs the WAHA server to run numbers on",
    );
  }
  const mediaMax = e.MEDIA_MAX_BYTES;
  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE },
    cluster: {
      nodeId: e.NODE_ID,
      nodeUrl: e.NODE_URL,
      role: e.NODE_ROLE,
      maxSessions: e.NODE_MAX_SESSIONS,
      leaseTtlMs: e.LEASE_TTL_MS,
      drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
      secret: e.CLUSTER_SECRET,
      loginKey: e.AUTH_ENCRYPTION_KEY,
      loginBackupIntervalMs: e.AUTH_BACKUP_INTERVAL_MS,
    },
    engine: e.WA_ENGINE,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    engineCallTimeoutMs: e.ENGINE_CALL_TIMEOUT_MS,
    // Base64 grows media by 4/3; leave room for the JSON around it.
    bodyMaxBytes: e.BODY_MAX_BYTES ?? Math.ceil(mediaMax * 4 / 3) + 64 * 1024,
    bodyTimeoutMs: e.BODY_TIMEOUT_MS,
    supervision: {
      heartbeatIntervalMs: e.HEARTBEAT_INTERVAL_MS,
      heartbeatTimeoutMs: e.HEARTBEAT_TIMEOUT_MS,
      backoffMinMs: e.RESTART_BACKOFF_MIN_MS,
      backoffMaxMs: e.RESTART_BACKOFF_MAX_MS,
      maxCrashes: e.RESTART_MAX_CRASHES,
      crashWindowMs: e.RESTART_CRASH_WINDOW_MS,
      workerNice: e.WORKER_NICE,
    },
    simulatorScanMs: e.SIMULATOR_SCAN_MS,
    simulatorCloudDir: e.SIMULATOR_CLOUD_DIR,
    claimTtlMs: e.CLAIM_TTL_MS,
    qrMaxRetries: e.QR_MAX_RETRIES,
    logQr: e.LOG_QR,
    wwebjs: {
      chromePath: e.CHROME_PATH,
      webVersion: e.WWEBJS_WEB_VERSION,
      webVersionCachePath: e.WWEBJS_WEB_CACHE_PATH,
      authTimeoutMs: e.WWEBJS_AUTH_TIMEOUT_MS,
      readyTimeoutMs: e.WWEBJS_READY_TIMEOUT_MS,
      noSandbox: e.CHROMIUM_NO_SANDBOX,
      proxyUrl: e.PROXY_URL,
    },
    waha: {
      url: e.WAHA_URL,
      apiKey: e.WAHA_API_KEY,
      servers: wahaServers,
      pollMs: e.WAHA_POLL_MS,
      webhookPublicUrl: e.WEBHOOK_PUBLIC_URL,
    },
    calls: { autoReject: e.CALLS_AUTO_REJECT, message: e.CALLS_AUTO_REJECT_MESSAGE ?? null },
    auth: {
      apiKey: e.API_KEY,
      accountKeys: parseAccountKeys(e.API_KEYS),
      jwksUrl: e.JWT_JWKS_URL,
      publicKey: e.JWT_PUBLIC_KEY,
      issuers: e.JWT_ISSUER,
      audiences: e.JWT_AUDIENCE,
      algorithms: e.JWT_ALGORITHMS,
      jwksTimeoutMs: e.JWT_JWKS_TIMEOUT_MS,
      workosClientId: e.WORKOS_CLIENT_ID,
      maxNumbersPerAccount: e.MAX_NUMBERS_PER_ACCOUNT,
      webhookApiKey: e.WEBHOOK_API_KEY,
      webhookHmacSecret: e.WEBHOOK_HMAC_SECRET,
    },
    media: {
      allowPrivateHosts: e.MEDIA_ALLOW_PRIVATE_HOSTS,
      timeoutMs: e.MEDIA_TIMEOUT_MS,
      maxBytes: mediaMax,
    },
    webhooks: {
      enabled: e.WEBHOOKS_ENABLED,
      url: e.WEBHOOK_URL,
      events: e.WEBHOOK_EVENTS,
      secret: e.WEBHOOK_SECRET,
      allowPrivateHosts: e.WEBHOOK_ALLOW_PRIVATE_HOSTS,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      concurrency: e.WEBHOOK_CONCURRENCY,
      lanes: e.WEBHOOK_LANES,
      sender: e.WEBHOOK_SENDER,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: e.WEBHOOK_RETRY_MAX_MS,
      retentionHours: e.EVENTS_RETENTION_HOURS,
      sseHeartbeatMs: e.SSE_HEARTBEAT_MS,
    },
    metrics: { enabled: e.METRICS_ENABLED, token: e.METRICS_TOKEN, sampleMs: e.METRICS_SAMPLE_MS },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
