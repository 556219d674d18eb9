/**
 * @module
 * The composition root: configuration → store → this node's leases → routing (in a cluster) →
 * session manager → HTTP app → server. The session manager and everything under it (Workers,
 * engines) is imported only by roles that host sessions: an edge (`NODE_ROLE=edge`) runs without
 * them. It then takes the sessions that should run (restoring those that ran here), and on
 * SIGINT/SIGTERM stops taking requests, stops every Worker (sessions stay marked started),
 * closes the store and exits 0. In a cluster (`DATABASE_URL`) a signal first drains the node:
 * readiness off, every session stopped and released for the other nodes to take, all within
 * `DRAIN_TIMEOUT_MS`.
 * A store that refuses to open (a data folder in use, a database migrated by a newer version, a
 * database out of reach) ends the start like a configuration error: one line, exit 1.
 */
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { createLogger, describeError, type Logger } from "./logger.ts";
import { openEventPipeline } from "./events/pipeline.ts";
import { createMediaResolver } from "./media/media_input.ts";
import { createAuthGuards } from "./middleware/auth_guards.ts";
import type { Context } from "hono";
import { resolveNodeId } from "./cluster/node.ts";
import { createOwnership } from "./cluster/ownership.ts";
import { createRouting } from "./cluster/routing.ts";
import type { AppEnv } from "./middleware/principal.ts";
import { API_BASE, createApp } from "./routes/app.ts";
import type { SessionManager } from "./sessions/manager.ts";
import { idempotency, sweepIdempotencyKeys } from "./middleware/idempotency.ts";
import { openStore, type Store, StoreRefusedError } from "./store/store.ts";
import type { SavedLogins } from "./sessions/saved_logins.ts";

export const VERSION = "0.1.0";

/** Everything the server is made of, wired together; `close` undoes it. */
export async function compose(
  config: Readonly<Config>,
  log: Logger = createLogger(config.logLevel),
) {
  const store = await openStore(config);

  let adminKey = config.auth.apiKey;
  let generatedKey: string | null = null;
  /** Where the admin key comes from, for the start's log line. */
  let adminKeyFrom = "API_KEY";
  if (!adminKey) {
    try {
      const stored = await store.adminKey();
      adminKey = stored.key;
      if (stored.generated) generatedKey = stored.location;
      adminKeyFrom = `${
        stored.generated ? "generated now, saved in" : "loaded from"
      } ${stored.location}`;
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  const nodeId = config.cluster.role === "edge"
    // An edge keeps nothing on disk: its id comes from NODE_ID (required).
    ? config.cluster.nodeId!
    : resolveNodeId(config.cluster.nodeId, config.dataDir);
  // A node holds a lease on each number it runs; on SQLite it is the only node and holds all.
  const ownership = createOwnership({
    cluster: store.cluster,
    node: {
      id: nodeId,
      url: config.cluster.nodeUrl ?? null,
      role: config.cluster.role,
      capacity: config.cluster.maxSessions,
      version: VERSION,
    },
    ttlMs: config.cluster.leaseTtlMs,
    single: store.kind === "sqlite",
    log: log.child({ component: "cluster" }),
  });
  // Loaded only when on: with metrics off the server neither loads prom-client nor counts.
  const metrics = config.metrics.enabled
    ? (await import("./metrics/registry.ts")).createMetrics({
      // In a cluster every node exposes its own figures: `node` tells them apart.
      node: store.kind === "postgres" ? nodeId : undefined,
      sampleMs: config.metrics.sampleMs,
      version: VERSION,
    })
    : null;
  const events = openEventPipeline(store.outbox, config.webhooks, {
    log: log.child({ component: "events" }),
    version: VERSION,
    clock: () => store.now(),
    node: { id: nodeId, leaseTtlMs: config.cluster.leaseTtlMs },
    // A number's events are written under this node's lease: refused once another node took it.
    fenceOf: (phoneNumber) => ownership.fenceOf(phoneNumber),
    metrics: metrics?.events,
  });
  // Deno.serve hands its connection info to the fetch handler, which Hono exposes as `c.env`.
  const clientIp = (c: Context<AppEnv>) => {
    if (config.trustProxy) {
      // The proxy appends the address it saw; what comes before it the client could forge.
      const forwarded = c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim();
      if (forwarded) return forwarded;
    }
    const addr = (c.env as Deno.ServeHandlerInfo | undefined)?.remoteAddr;
    return addr && "hostname" in addr ? addr.hostname : null;
  };
  const routing = createRouting(config, {
    nodeId,
    store,
    log: log.child({ component: "cluster" }),
    adminKey,
    base: API_BASE,
    clientIp,
    // A number whose lease this node holds is served here without asking the store.
    holds: (phoneNumber) => ownership.holds(phoneNumber),
  });
  const forwarder = routing.forwarder;
  // Only roles that host sessions load their parts (Workers, engines): an edge runs without them.
  let manager: SessionManager;
  if (routing.edgeSessions) {
    manager = routing.edgeSessions;
  } else {
    const { createSessionManager } = await import("./sessions/manager.ts");
    manager = createSessionManager({
      logins: await savedLogins(config, store, log),
      config,
      sessions: store.sessions,
      leases: ownership,
      maxNumbersPerAccount: config.auth.maxNumbersPerAccount,
      log: log.child({ component: "sessions" }),
      onEvent: (event) => events.acceptSessionEvent(event),
      flushEvents: (alone) => events.flush(alone),
      forgetNumber: (phoneNumber) => events.forgetNumber(phoneNumber),
      now: () => store.now(),
      metrics: metrics?.sessions,
    });
  }
  metrics?.observe({
    // In a cluster, only the numbers this node runs: each node reports its own.
    sessions: async () =>
      (await manager.list()).filter((info) => info.node === undefined || info.node === nodeId),
    backlog: () => store.outbox.pendingCount(),
  });
  try {
    // An edge takes no number (its capacity is 0): it only keeps its row among the nodes.
    await ownership.join(manager);
  } catch (error) {
    await store.close();
    throw error;
  }
  const authLog = log.child({ component: "auth" });
  const guards = createAuthGuards(config.auth, {
    adminKey,
    sessions: store.sessions,
    body: { mediaMaxBytes: config.bodyMaxBytes, timeoutMs: config.bodyTimeoutMs },
    log: ({ level, event, ...fields }) => authLog[level](event, fields),
    // A request another node forwarded (signed) comes from the client that node saw.
    getClientIp: (c) => forwarder?.hopOf(c)?.clientIp ?? clientIp(c),
    forward: forwarder ?? undefined,
  });
  const keysLog = log.child({ component: "idempotency" });
  const reportKeys = (event: string, fields: Record<string, unknown>) =>
    keysLog.error(event, fields);
  const stopSweepingKeys = sweepIdempotencyKeys(store.idempotency, { onError: reportKeys });
  const app = createApp({
    manager,
    guards,
    log: log.child({ component: "http" }),
    version: VERSION,
    startedAt: Date.now(),
    media: createMediaResolver(config.media, { log: log.child({ component: "media" }) }),
    events,
    nodeId: routing.nodeId,
    verifyHops: forwarder?.verifyHops,
    idempotency: idempotency({
      store: store.idempotency,
      // Longer than a request can take (its body, its media, the engine's answer): only a
      // reservation whose node died is taken over.
      abandonedMs: config.bodyTimeoutMs + config.media.timeoutMs + config.engineCallTimeoutMs +
        60_000,
      onError: reportKeys,
    }),
    cluster: ownership,
    metrics: metrics
      ? (await import("./metrics/http_metrics.ts")).createMetricsHttp(metrics, {
        adminKey,
        token: config.metrics.token,
      })
      : undefined,
  });
  // An edge delivers no webhooks: it only reads the events table for its streams.
  if (!routing.edgeSessions) {
    events.start().catch((error) =>
      log.error("starting the event pipeline failed", { error: describeError(error) })
    );
  }

  return {
    app,
    manager,
    nodeId: routing.nodeId,
    store,
    events,
    guards,
    ownership,
    /**
     * The fence of this node's lease on a number (`{ nodeId, epoch }`), for writes made for it
     * (event appends): the database refuses them once another node took the number.
     */
    fenceOf: ownership.fenceOf,
    adminKey,
    /** The key file's path when this start generated the admin key. */
    generatedKey,
    adminKeyFrom,
    async close() {
      stopSweepingKeys();
      metrics?.close();
      await manager.shutdown();
      await ownership.close();
      await events.close();
      await store.close();
    },
  };
}

async function main(): Promise<void> {
  let config, log, server;
  try {
    config = loadConfig();
    log = createLogger(config.logLevel);
    server = await compose(config, log);
  } catch (error) {
    // Mistakes an operator fixes: one line that says which, no stack.
    if (error instanceof ConfigError || error instanceof StoreRefusedError) {
      console.error(error.message);
      Deno.exit(1);
    }
    throw error;
  }
  try {
    await server.guards.ready;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    await server.close();
    Deno.exit(1);
  }
  const auth = config.auth;
  const otherCredential = auth.apiKey || auth.accountKeys.length > 0 || auth.jwksUrl ||
    auth.publicKey || auth.workosClientId;
  if (server.generatedKey && !otherCredential) {
    // Once: later starts load it from the file. A warning, so LOG_LEVEL=warn still shows it.
    log.warn("No credential configured: generated an admin API key, shown only this once", {
      adminKey: server.adminKey,
      savedIn: server.generatedKey,
      hint: "send it as the X-Api-Key header",
    });
  }

  if (!auth.webhookApiKey) {
    log.warn("WEBHOOK_API_KEY is not set: /api/whatsapp/webhook/* accepts the admin key", {
      hint: "give the WAHA server that posts events a key of its own in WEBHOOK_API_KEY",
    });
  }

  const http = Deno.serve({
    port: config.port,
    hostname: config.host,
    onListen: ({ hostname, port }) => {
      // What to type into a browser on this machine: 0.0.0.0 and :: are every address.
      const host = hostname === "0.0.0.0" || hostname === "::" ? "localhost" : hostname;
      const origin = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
      log.info("listening", {
        version: VERSION,
        url: `${origin}/api/whatsapp`,
        swagger: `${origin}/api/whatsapp/swagger`,
        listen: `${hostname}:${port}`,
        engine: config.engine,
        node: server.nodeId,
        role: config.cluster.role,
        dataDir: config.dataDir,
        adminKey: server.adminKeyFrom,
      });
    },
  }, server.app.fetch);

  // The sessions that should run and have no live lease: on SQLite every one that ran before.
  server.ownership.startTakeover();

  // A whatsapp-web.js Worker loaded ahead, so that the next start goes straight to Chromium.
  if (config.engine === "wwebjs" && config.cluster.role !== "edge") {
    const { sharedSpareWorkers } = await import("./sessions/spare_workers.ts");
    sharedSpareWorkers().keepWarm(config.supervision.heartbeatIntervalMs);
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    server.events.closeStreams();
    if (server.store.kind === "postgres") {
      const timeoutMs = config.cluster.drainTimeoutMs;
      // Whatever happens, the process ends within DRAIN_TIMEOUT_MS.
      setTimeout(() => {
        log.warn("drain timed out: exiting", { timeoutMs });
        Deno.exit(0);
      }, timeoutMs);
      await server.ownership.drain(Math.floor(timeoutMs * 0.8)).catch((error) =>
        log.error("draining failed", { error: describeError(error) })
      );
    }
    await http.shutdown();
    await server.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
}

if (import.meta.main) await main();

/**
 * In a cluster, the whatsapp-web.js logins are kept in the database, sealed with
 * `AUTH_ENCRYPTION_KEY` (the configuration requires it there), so a number goes on without a scan
 * on any node. A single node keeps them in `DATA_DIR` only.
 */
async function savedLogins(
  config: Config,
  store: Store,
  log: Logger,
): Promise<SavedLogins | undefined> {
  const key = config.cluster.loginKey;
  if (!config.database.url || !key) return undefined;
  const { createSavedLogins } = await import("./sessions/saved_logins.ts");
  const { createLoginCipher } = await import("./sessions/login_cipher.ts");
  return createSavedLogins({
    logins: store.logins,
    cipher: await createLoginCipher(key),
    log: log.child({ component: "logins" }),
    intervalMs: config.cluster.loginBackupIntervalMs,
  });
}
