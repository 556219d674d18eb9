/**
 * @module
 * The webhook dispatcher: delivers the outbox's pending deliveries. A destination's deliveries are
 * in lanes (`laneOf` in `outbox.ts`: one number's are all in one lane), and each lane is served in
 * order by one loop: one request in flight, the oldest pending delivery first, so a retrying
 * delivery holds back the ones behind it in its lane (its number's, and those of the numbers that
 * share the lane) and no others. A destination's lanes are served side by side: at most
 * `concurrency` destinations are served at once, each with up to one request per lane in flight
 * (`WEBHOOK_CONCURRENCY` × `WEBHOOK_LANES` in all). Network errors, timeouts, 408, 429 and 5xx are
 * retried with exponential backoff and jitter (a `Retry-After` wins), other answers and the last
 * allowed attempt move the delivery to `failed` (the dead letters). Before every attempt the
 * destination is looked up (`resolve`): URL, secret and headers are the webhook's as configured
 * at that moment, and the pending deliveries of a destination whose webhook was removed fail at
 * once, unsent, saying so. A destination whose URL was checked (set through the API) is sent with
 * `pinnedPost`, connected to exactly the addresses the check approved, so DNS cannot rebind it to
 * a private address between the check and the connection; the operator's trusted `WEBHOOK_URL`
 * goes through plain `fetch`. Lane loops are started by `wake` (when an event is accepted: the
 * lanes its deliveries joined), `notify` (another node queued something: the destination's
 * pending lanes are read), one timer per waiting lane, and a sweep every third of the lease time.
 * A loop reads its lane's next few deliveries at once and marks those their receivers accepted
 * together, before it reads again (`serve`): a delivery accepted just before a crash may be sent
 * again, as one cut short always was. `close()` aborts requests in flight, clears every timer
 * and gives up the node's leases; a delivery cut short stays pending and is sent again (at least
 * once).
 *
 * Nodes sharing one outbox serve each destination one at a time: before each attempt the node
 * takes or renews its lease on the destination (`Outbox.nextDelivery`, a short transaction; no
 * lock is held while the POST is in flight). The lease is the destination's, not a lane's: the
 * node that holds it serves all its lanes, as one node served the whole destination before there
 * were lanes, so a lane is never served by two nodes, a node of the previous release (which
 * takes the same lease and serves the destination in id order) excludes and is excluded alike,
 * and the lease table holds a row per destination whatever the lane count. The lease lasts the
 * webhook timeout plus the node lease time, so it cannot expire during an attempt of a live
 * node; the sweep renews the leases of destinations still pending and takes those whose holder
 * died once their lease expired.
 */
import { describeError, type Logger } from "../logger.ts";
import type { EventMetrics } from "../metrics/hooks.ts";
import type { ResolvedAddress } from "../ssrf_guard/address_policy.ts";
import type { DeliveredMark, DeliveryQueue, DueDelivery, Outbox } from "./outbox.ts";
import type { DeliveryTarget } from "./webhook_directory.ts";
import { isSendableHeader } from "./webhook_headers.ts";
import { createDirectSender, type WebhookAnswer, type WebhookSender } from "./webhook_sender.ts";

/** The `lastError` of a delivery whose webhook was removed before it could be sent. */
export const WEBHOOK_REMOVED = "The webhook was removed: the delivery was not sent";

export interface DispatcherOptions {
  outbox: Outbox;
  log: Logger;
  maxAttempts: number;
  timeoutMs: number;
  /** Destinations served at the same time (each with up to one request per lane in flight). */
  concurrency: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** A destination's URL, secret and headers as configured now; null when it was removed. */
  resolve: (destination: string) => Promise<DeliveryTarget | null>;
  /**
   * Checked before each attempt (SSRF rules for URLs set through the API): the addresses to pin
   * the connection to, or null for a trusted URL sent with `fetch`; throws to refuse.
   */
  checkUrl?: (
    destination: string,
    url: string,
    deliveryId: number,
  ) => Promise<readonly ResolvedAddress[] | null>;
  /**
   * Signs and sends each POST (`webhook_sender.ts`); closed with the dispatcher. Default: on this
   * thread, with `fetch` for trusted URLs.
   */
  sender?: WebhookSender;
  /** Sends to trusted URLs when no `sender` is given (default: the global `fetch`). */
  fetch?: typeof fetch;
  /**
   * This node (`NODE_ID`) and its lease time (`LEASE_TTL_MS`), for the destination leases;
   * default a node of its own and 15 s.
   */
  node?: { id: string; leaseTtlMs: number };
  now?: () => number;
  random?: () => number;
  /** Told of every attempt's result and time (`METRICS_ENABLED`). */
  metrics?: Pick<EventMetrics, "delivery">;
}

export interface Dispatcher {
  /** Serves every destination with pending deliveries (after a restart, say). */
  start(): Promise<void>;
  /**
   * Something was queued for these destinations here: serve them, taking their leases. A
   * destination given by name has its pending lanes read; a lane given is served as it is.
   */
  wake(destinations: Iterable<string | DeliveryQueue>): void;
  /**
   * Any node queued something for the destination (a `NOTIFY`): served again when this node
   * holds its lease; otherwise its holder serves it.
   */
  notify(destination: string): void;
  /** Wakes the destinations this node holds that `match` selects (their webhook changed). */
  wakeHeld(match: (destination: string) => boolean): void;
  /** Renews this node's leases and takes the expired ones with pending deliveries. */
  sweep(): Promise<void>;
  /** Stops: aborts requests in flight, clears timers, waits for the loops to end. */
  close(): Promise<void>;
}

/** A refusal that retrying cannot fix (a URL the address policy refuses). */
export class PermanentDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermanentDeliveryError";
  }
}

class RetryableError extends Error {
  constructor(message: string, readonly httpStatus: number | null, readonly retryAfterMs?: number) {
    super(message);
  }
}

/** A read of a destination's pending lanes under way (`wakePending`). */
interface PendingRead {
  idleOnly: boolean;
  /** A wake came meanwhile: read again after this one (`true`: for idle lanes only). */
  again: boolean | null;
  done: Promise<void>;
}

/** How many of a lane's deliveries one read takes (`serve`). */
const READ_AHEAD = 16;

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { outbox, log } = options;
  const sender = options.sender ?? createDirectSender({ fetch: options.fetch });
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  /** The lanes being served, per destination; its size is the destinations served. */
  const active = new Map<string, Map<number, Promise<void>>>();
  /** Lanes waiting for a destination's turn (`concurrency`), per destination. */
  const queued = new Map<string, Set<number>>();
  /** Lanes woken while their loop ran: served again when it ends (`laneKey`). */
  const rewake = new Set<string>();
  /** A timer per lane waiting for its head's due time (`laneKey`). */
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Destinations whose pending lanes are being read (`wakePending`). */
  const reading = new Map<string, PendingRead>();
  /** Attempts in flight, each with the time it must end by (`performance.now()`). */
  const inFlight = new Map<AbortController, number>();
  /** Aborts the attempts past their time; runs while any is in flight (`watchAttempt`). */
  let watchdog: ReturnType<typeof setInterval> | null = null;
  /** Destinations whose lease this node took last time it asked. */
  const held = new Set<string>();
  const node = options.node ?? { id: `node-${crypto.randomUUID()}`, leaseTtlMs: 15_000 };
  // An attempt starts with at least the timeout and half the node lease time left on the lease.
  const lease = {
    nodeId: node.id,
    ttlMs: node.leaseTtlMs + options.timeoutMs,
    renewBelowMs: Math.round(options.timeoutMs + node.leaseTtlMs / 2),
  };
  let sweepTimer: ReturnType<typeof setInterval> | null = null;
  let sweeping: Promise<void> | null = null;
  let requestCounter = 0;
  let closed = false;

  function backoff(attempts: number): number {
    const exponential = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** (attempts - 1));
    // ±20% jitter, as WAHA's exponential policy, so retries of many destinations spread out.
    return Math.max(0, Math.round(exponential * (0.8 + 0.4 * random())));
  }

  function laneKey(destination: string, lane: number): string {
    return `${lane} ${destination}`;
  }

  function wakeLane(destination: string, lane: number): void {
    if (closed) return;
    const key = laneKey(destination, lane);
    let lanes = active.get(destination);
    if (lanes?.has(lane)) {
      // Its loop may already have found nothing and be on its way out: look again after it.
      rewake.add(key);
      return;
    }
    const timer = timers.get(key);
    if (timer !== undefined) {
      clearTimeout(timer);
      timers.delete(key);
    }
    if (!lanes) {
      if (active.size >= options.concurrency) {
        const waiting = queued.get(destination) ?? new Set();
        queued.set(destination, waiting.add(lane));
        return;
      }
      lanes = new Map();
      active.set(destination, lanes);
    }
    const loop = serve(destination, lane).catch((error) =>
      log.error("webhook dispatcher failed", { destination, lane, error: describeError(error) })
    ).finally(() => {
      lanes.delete(lane);
      if (lanes.size === 0 && active.get(destination) === lanes) active.delete(destination);
      if (rewake.delete(key)) wakeLane(destination, lane);
      if (active.has(destination)) return;
      // A destination's turn ended: the next one waiting gets it, with every lane it queued.
      const next = queued.entries().next();
      if (next.done) return;
      const [waiting, waitingLanes] = next.value;
      queued.delete(waiting);
      for (const waitingLane of waitingLanes) wakeLane(waiting, waitingLane);
    });
    lanes.set(lane, loop);
  }

  /**
   * Reads a destination's pending lanes and wakes them; `idleOnly` (the sweep) leaves alone the
   * lanes being served or waiting for their retry time. A wake that comes while a read is under
   * way is served by one more read after it (the first may have run before what it was told of).
   */
  function wakePending(destination: string, idleOnly = false): Promise<void> {
    if (closed) return Promise.resolve();
    const under = reading.get(destination);
    if (under) {
      under.again = (under.again ?? true) && idleOnly;
      return under.done;
    }
    const read: PendingRead = { idleOnly, again: null, done: Promise.resolve() };
    reading.set(destination, read);
    read.done = outbox.pendingLanes(destination).then((lanes) => {
      for (const lane of lanes) {
        const idle = !active.get(destination)?.has(lane) &&
          !timers.has(laneKey(destination, lane));
        if (!read.idleOnly || idle) wakeLane(destination, lane);
      }
    }, (error) => {
      log.warn("reading a webhook destination's lanes failed", {
        destination,
        error: describeError(error),
      });
    }).then(() => {
      reading.delete(destination);
      return read.again === null ? undefined : wakePending(destination, read.again);
    });
    return read.done;
  }

  function wakeOne(target: string | DeliveryQueue): void {
    if (typeof target === "string") void wakePending(target);
    else wakeLane(target.destination, target.lane);
  }

  function schedule(destination: string, lane: number, delayMs: number): void {
    if (closed) return;
    const key = laneKey(destination, lane);
    const previous = timers.get(key);
    if (previous !== undefined) clearTimeout(previous);
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        wakeLane(destination, lane);
      }, delayMs),
    );
  }

  /**
   * Drains a lane. Each read takes the lane's next `READ_AHEAD` deliveries at once (one query,
   * and the lease checked or renewed), which are sent one at a time, in order, while the lease
   * still covers an attempt; the receivers' acceptances are written together, before the next
   * read. A read that found fewer than it asked for, all of them sent, leaves the lane drained:
   * anything queued after it woke the lane (`rewake`), so no read is spent to find it empty.
   */
  async function serve(destination: string, lane: number): Promise<void> {
    // Let the accepting call finish first; the loop then drains the lane in order.
    await Promise.resolve();
    while (!closed) {
      const next = await outbox.nextDelivery(destination, lease, { lane, limit: READ_AHEAD });
      if (!next.held) {
        // Another node serves it (order per lane): its NOTIFY wakes that node.
        held.delete(destination);
        return;
      }
      held.add(destination);
      if (!next.delivery || closed) return;
      const read = [next.delivery, ...next.later];
      const readAt = performance.now();
      const delivered: DeliveredMark[] = [];
      let sentAll = true;
      try {
        for (const [i, delivery] of read.entries()) {
          // The lease had at least the timeout and half the node lease time left when read.
          if (performance.now() - readAt > node.leaseTtlMs / 2) {
            sentAll = false;
            break;
          }
          const target = await options.resolve(destination);
          if (closed) return;
          if (!target) {
            // Every lane's: the other lanes' loops then find nothing.
            const count = await outbox.failPending(destination, WEBHOOK_REMOVED);
            if (count > 0) {
              log.warn("webhook deliveries not sent: the webhook was removed", {
                url: delivery.url,
                count,
              });
            }
            return;
          }
          // Due times are the database's (`dueInMs`), not this node's clock; one behind the
          // lane's head that is not due yet is read again (and waited for) as the head.
          if (delivery.dueInMs > 0) {
            if (i > 0) {
              sentAll = false;
              break;
            }
            schedule(destination, lane, delivery.dueInMs);
            return;
          }
          const status = await attempt(delivery, target);
          if (closed) return;
          if (status === null) {
            // Retried later or failed: read again from the lane's head.
            sentAll = false;
            break;
          }
          delivered.push({ id: delivery.id, httpStatus: status });
        }
      } finally {
        // Even when closing: what the receivers accepted is not sent again.
        if (delivered.length > 0) await outbox.markDelivered(delivered);
      }
      if (sentAll && read.length < READ_AHEAD) return;
    }
  }

  async function send(
    delivery: DueDelivery,
    target: DeliveryTarget,
    signal: AbortSignal,
  ): Promise<number> {
    const { url, secret } = target;
    const addresses = options.checkUrl
      ? await options.checkUrl(delivery.destination, url, delivery.id)
      : null;
    const headers: [string, string][] = [];
    for (const [name, value] of Object.entries(target.headers ?? {})) {
      // The API refuses such headers; one saved before it did is left out, not sent.
      if (isSendableHeader(name, value)) headers.push([name, value]);
    }
    headers.push(
      ["Content-Type", "application/json"],
      ["X-Webhook-Request-Id", `req_${delivery.id}_${++requestCounter}`],
      ["X-Webhook-Timestamp", String(now())],
    );
    let response: WebhookAnswer;
    try {
      response = await sender.post(
        { url, body: delivery.body, headers, secret: secret || null, addresses },
        signal,
      );
    } catch (error) {
      const reason = signal.aborted
        ? closed ? "Server shutting down" : `No answer within ${options.timeoutMs} ms`
        : `Network error: ${describeError(error)}`;
      throw new RetryableError(reason, null);
    }
    const status = response.status;
    if (status >= 200 && status < 300) return status;
    if (status === 408 || status === 429 || status >= 500) {
      throw new RetryableError(
        `The receiver answered ${status}`,
        status,
        parseRetryAfter(response.retryAfter, now()),
      );
    }
    throw Object.assign(new PermanentDeliveryError(`The receiver answered ${status}`), { status });
  }

  /**
   * The signal of a new attempt, aborted once `timeoutMs` passed. One timer checks every attempt
   * in flight (a timer per attempt costs more than the check), at a twentieth of the timeout, so
   * an attempt ends at most that much after its time.
   */
  function watchAttempt(): AbortController {
    const controller = new AbortController();
    inFlight.set(controller, performance.now() + options.timeoutMs);
    watchdog ??= setInterval(() => {
      const now = performance.now();
      for (const [waiting, endsAt] of inFlight) {
        if (endsAt <= now) waiting.abort();
      }
      if (inFlight.size === 0 && watchdog !== null) {
        clearInterval(watchdog);
        watchdog = null;
      }
    }, Math.max(5, Math.min(500, options.timeoutMs / 20)));
    return controller;
  }

  /**
   * One attempt: the receiver's status when it accepted the delivery (the caller marks it
   * delivered), or null once it is marked for a retry or failed (or the dispatcher is closing).
   */
  async function attempt(delivery: DueDelivery, target: DeliveryTarget): Promise<number | null> {
    // The attempt's time is the receiver's: not a sender Worker's start.
    await sender.ready();
    const controller = watchAttempt();
    const attempts = delivery.attempts + 1;
    const metrics = options.metrics;
    const started = metrics ? performance.now() : 0;
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const status = await send(delivery, target, controller.signal);
      if (closed) return null;
      metrics?.delivery("success", seconds());
      return status;
    } catch (error) {
      if (closed) return null;
      const message = error instanceof Error ? error.message : String(error);
      const httpStatus = (error as { httpStatus?: number | null; status?: number }).httpStatus ??
        (error as { status?: number }).status ?? null;
      // Only a refusal retrying cannot fix is final at once; anything else (a host that did not
      // resolve this time, an error nobody foresaw) is tried again, so no event is given up early.
      if (error instanceof PermanentDeliveryError || attempts >= options.maxAttempts) {
        metrics?.delivery("failed", seconds());
        await outbox.markFailed(delivery.id, { attempts, error: message, httpStatus });
        log.warn("webhook delivery failed", {
          delivery: delivery.id,
          event: delivery.eventId,
          url: target.url,
          attempts,
          error: message,
        });
        return null;
      }
      const retryAfterMs = error instanceof RetryableError ? error.retryAfterMs : undefined;
      const delay = retryAfterMs !== undefined
        ? Math.min(options.retryMaxMs, retryAfterMs)
        : backoff(attempts);
      metrics?.delivery("retry", seconds());
      await outbox.markRetry(delivery.id, { attempts, delayMs: delay, error: message, httpStatus });
      log.debug("webhook delivery will be retried", {
        delivery: delivery.id,
        url: target.url,
        attempts,
        delayMs: delay,
        error: message,
      });
      return null;
    } finally {
      inFlight.delete(controller);
    }
  }

  function sweep(): Promise<void> {
    sweeping ??= (async () => {
      try {
        const reads = (await outbox.leasePending(lease)).map((destination) => {
          held.add(destination);
          // A lane being served needs nothing; one waiting for its retry time keeps its timer.
          return wakePending(destination, true);
        });
        await Promise.all(reads);
      } catch (error) {
        log.warn("taking webhook destinations failed", { error: describeError(error) });
      } finally {
        sweeping = null;
      }
    })();
    return sweeping;
  }

  return {
    async start() {
      if (closed) return;
      sweepTimer ??= setInterval(() => void sweep(), Math.max(250, node.leaseTtlMs / 3));
      await sweep();
    },
    wake(destinations) {
      for (const destination of destinations) wakeOne(destination);
    },
    notify(destination) {
      if (held.has(destination)) void wakePending(destination);
    },
    wakeHeld(match) {
      for (const destination of held) if (match(destination)) void wakePending(destination);
    },
    sweep,
    async close() {
      closed = true;
      if (sweepTimer !== null) clearInterval(sweepTimer);
      sweepTimer = null;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      queued.clear();
      if (watchdog !== null) clearInterval(watchdog);
      watchdog = null;
      for (const controller of inFlight.keys()) controller.abort();
      await Promise.allSettled([
        ...[...active.values()].flatMap((lanes) => [...lanes.values()]),
        ...[...reading.values()].map((read) => read.done),
        sweeping,
      ]);
      sender.close();
      // Others take this node's destinations now rather than when the leases run out.
      await outbox.releaseDestinations(node.id).catch((error) =>
        log.warn("releasing webhook destinations failed", { error: describeError(error) })
      );
    },
  };
}
