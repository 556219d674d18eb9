/**
 * @module
 * The server's Prometheus metrics: one `prom-client` `Registry` per server (never the library's
 * global one, so two apps in one test process count apart), every instrument named
 * `wa_gateway_*`, and the hooks the parts report through (`metrics/hooks.ts`). Gauges that
 * describe the present (sessions by status, the outbox backlog) are read from their sources when
 * Prometheus scrapes; Chromium's memory is sampled on an interval (`chromium_memory.ts`), since
 * walking `/proc` per scrape would bill every scraper for it. In a cluster every series carries
 * the node's id as the default label `node`.
 *
 * Of prom-client's default metrics only those that Deno 2.9 fills with real values are kept:
 * process CPU, start time, resident/virtual memory, file descriptors and the V8 heap of the main
 * thread. Its event-loop lag (`monitorEventLoopDelay` reports microseconds through a 300 ms block),
 * GC durations (no observer fires), active handles and requests (always empty) and Node version
 * (Deno's Node-compat version) are left out; the event-loop lag is measured by a timer instead
 * (`event_loop_lag.ts`).
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import heapSizeAndUsed from "prom-client/lib/metrics/heapSizeAndUsed.js";
import heapSpacesSizeAndUsed from "prom-client/lib/metrics/heapSpacesSizeAndUsed.js";
import osMemoryHeap from "prom-client/lib/metrics/osMemoryHeap.js";
import processCpuTotal from "prom-client/lib/metrics/processCpuTotal.js";
import processMaxFileDescriptors from "prom-client/lib/metrics/processMaxFileDescriptors.js";
import processOpenFileDescriptors from "prom-client/lib/metrics/processOpenFileDescriptors.js";
import processStartTime from "prom-client/lib/metrics/processStartTime.js";
import { eventNameProblem } from "../events/event_names.ts";
import { SESSION_STATUSES } from "../sessions/engine.ts";
import { createChromiumMemorySampler } from "./chromium_memory.ts";
import { startEventLoopLag } from "./event_loop_lag.ts";
import type { DeliveryResult, EventMetrics, SessionMetrics } from "./hooks.ts";
import { RESTART_REASONS, restartReasonLabel } from "./restart_reason.ts";

export const PREFIX = "wa_gateway_";

/** Seconds: from a cached read (~1 ms) to a call at its timeout. */
const CALL_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
];
const ENGINES = ["wwebjs", "simulator"] as const;
const DELIVERY_RESULTS: readonly DeliveryResult[] = ["success", "retry", "failed"];

/** Where the scrape-time gauges read from; set once the parts exist (`GatewayMetrics.observe`). */
export interface MetricSources {
  /** The sessions this node runs, with status and engine. */
  sessions?: () => Promise<readonly { status: string; engine: string }[]>;
  /** Deliveries waiting in the outbox (`Outbox.pendingCount`). */
  backlog?: () => Promise<number>;
}

export interface MetricsOptions {
  /** This node's id, added to every series as `node` (in a cluster). */
  node?: string;
  /** How often Chromium's memory is read from `/proc` (`METRICS_SAMPLE_MS`). */
  sampleMs: number;
  version: string;
  /** Where `/proc` is (tests). */
  procDir?: string;
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;

export function createMetrics(options: MetricsOptions) {
  const registry = new Registry();
  if (options.node) registry.setDefaultLabels({ node: options.node });
  const registers = [registry];
  const config = { prefix: PREFIX };
  for (
    const collector of [
      processCpuTotal,
      processStartTime,
      osMemoryHeap,
      processOpenFileDescriptors,
      processMaxFileDescriptors,
      heapSizeAndUsed,
      heapSpacesSizeAndUsed,
    ]
  ) collector(registry, config);

  new Gauge({
    name: `${PREFIX}build_info`,
    help: "The server's version and the Deno it runs on (always 1).",
    labelNames: ["version", "deno"],
    registers,
  }).set({ version: options.version, deno: Deno.version.deno }, 1);

  const sources: MetricSources = {};

  const requests = new Counter({
    name: `${PREFIX}http_requests_total`,
    help: "HTTP requests answered, by method, route template and status.",
    labelNames: ["method", "route", "status"],
    registers,
  });
  const requestSeconds = new Histogram({
    name: `${PREFIX}http_request_duration_seconds`,
    help: "Time to the response's headers, by method, route template and status.",
    labelNames: ["method", "route", "status"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const sseClients = new Gauge({
    name: `${PREFIX}sse_clients`,
    help: "Open Server-Sent Events streams, by route template.",
    labelNames: ["route"],
    registers,
  });

  new Gauge({
    name: `${PREFIX}sessions`,
    help: "Sessions this node runs, by status and engine (read at scrape).",
    labelNames: ["status", "engine"],
    registers,
    async collect() {
      if (!sources.sessions) return;
      // The store out of reach leaves the last figures: the rest of the scrape still answers.
      const list = await sources.sessions().catch(() => null);
      if (!list) return;
      this.reset();
      for (const status of SESSION_STATUSES) {
        for (const engine of ENGINES) this.set({ status, engine }, 0);
      }
      for (const session of list) this.inc({ status: session.status, engine: session.engine });
    },
  });
  const callSeconds = new Histogram({
    name: `${PREFIX}engine_call_duration_seconds`,
    help: "Engine calls (through the session's Worker), by method and outcome.",
    labelNames: ["method", "outcome"],
    buckets: CALL_BUCKETS,
    registers,
  });
  const restarts = new Counter({
    name: `${PREFIX}session_restarts_total`,
    help: "Deaths of a wanted session's Worker or Chromium, by reason and what followed.",
    labelNames: ["reason", "outcome"],
    registers,
  });
  for (const reason of RESTART_REASONS) {
    for (const outcome of ["restarted", "failed"]) restarts.inc({ reason, outcome }, 0);
  }
  const events = new Counter({
    name: `${PREFIX}events_total`,
    help: "Events written to the outbox, by name.",
    labelNames: ["event"],
    registers,
  });
  const deliveries = new Counter({
    name: `${PREFIX}webhook_deliveries_total`,
    help: "Webhook attempts, by result (success, retry, failed: a dead letter).",
    labelNames: ["result"],
    registers,
  });
  const deliverySeconds = new Histogram({
    name: `${PREFIX}webhook_delivery_duration_seconds`,
    help: "Webhook attempts' time from the POST to its answer, by result.",
    labelNames: ["result"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  for (const result of DELIVERY_RESULTS) deliveries.inc({ result }, 0);
  new Gauge({
    name: `${PREFIX}outbox_pending_deliveries`,
    help: "Webhook deliveries waiting to be sent or retried, all nodes (read at scrape).",
    registers,
    async collect() {
      const backlog = await sources.backlog?.().catch(() => null);
      if (typeof backlog === "number") this.set(backlog);
    },
  });

  const chromiumPss = new Gauge({
    name: `${PREFIX}chromium_pss_bytes`,
    help: "Proportional set size of each wwebjs session's Chromium process tree (sampled).",
    labelNames: ["session"],
    registers,
  });
  const chromiumRss = new Gauge({
    name: `${PREFIX}chromium_rss_bytes`,
    help: "Resident set size summed over each wwebjs session's Chromium process tree (sampled; " +
      "counts shared pages once per process).",
    labelNames: ["session"],
    registers,
  });
  const chromiumProcesses = new Gauge({
    name: `${PREFIX}chromium_processes`,
    help: "Processes in each wwebjs session's Chromium process tree (sampled).",
    labelNames: ["session"],
    registers,
  });
  const chromium = createChromiumMemorySampler({
    intervalMs: options.sampleMs,
    procDir: options.procDir,
    onSample(session, memory) {
      if (!memory) {
        chromiumPss.remove({ session });
        chromiumRss.remove({ session });
        chromiumProcesses.remove({ session });
        return;
      }
      chromiumRss.set({ session }, memory.rssBytes);
      if (memory.pssBytes !== null) chromiumPss.set({ session }, memory.pssBytes);
      chromiumProcesses.set({ session }, memory.processes);
    },
  });

  const lag = new Histogram({
    name: `${PREFIX}event_loop_lag_seconds`,
    help: "How late a timer on the main thread fires (sampled every 500 ms).",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const stopLag = startEventLoopLag((seconds) => lag.observe(seconds));

  const sessionMetrics: SessionMetrics = {
    engineCall(method, seconds, outcome) {
      callSeconds.observe({ method, outcome }, seconds);
    },
    restart(reason, outcome) {
      restarts.inc({ reason: restartReasonLabel(reason), outcome });
    },
    childProcess(phoneNumber, pid) {
      chromium.track(phoneNumber, pid);
    },
  };
  const eventMetrics: EventMetrics = {
    stored(stored) {
      for (const { event } of stored) {
        // Inbound WAHA events may carry any name: only the known ones become series.
        events.inc({ event: eventNameProblem(event) === null ? event : "other" });
      }
    },
    delivery(result, seconds) {
      deliveries.inc({ result });
      deliverySeconds.observe({ result }, seconds);
    },
  };

  return {
    registry,
    sessions: sessionMetrics,
    events: eventMetrics,
    /** Counts one HTTP request (see `http_metrics.ts`, which caches the children). */
    request: { requests, requestSeconds },
    sseClients,
    /** Names where the scrape-time gauges read. */
    observe(more: MetricSources): void {
      Object.assign(sources, more);
    },
    /** Samples every tracked Chromium now (tests; the interval does it otherwise). */
    sampleChromium: () => chromium.sample(),
    close(): void {
      chromium.close();
      stopLag();
    },
  };
}
