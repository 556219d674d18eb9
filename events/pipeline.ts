/**
 * @module
 * The one event pipeline. Session events (from the workers) and inbound WAHA events (from the
 * webhook endpoints) become envelopes that are written to the outbox, with the envelopes derived
 * from them (`state.change` after `session.status`) and a pending delivery for every destination
 * that wants them, in one transaction, before anything is
 * acknowledged; then the dispatcher is woken. It also owns the per-number webhook configuration
 * (URLs set through the API pass the SSRF address policy; `webhook_directory.ts` keeps it and says
 * where each event goes) and the dead-letter list and replay. `EventsApi` is what the HTTP
 * routes see.
 *
 * Streams read the events table, never an in-process copy: any node serves any number's stream,
 * whichever node wrote its events. The outbox's `watch` (PostgreSQL: the node's `LISTEN`
 * connection; SQLite: this process's commits) wakes the streams of a session, which read on from
 * their position; after a lost connection every stream reads again. The same reports drop a
 * number's cached webhooks when any node changed them, and wake the dispatcher for destinations
 * this node serves. A session's events are written under the lease `fenceOf` names: a stale one
 * is refused by the store, logged here, and those events dropped.
 */
import type { Config } from "../config.ts";
import { badRequest, notFound } from "../errors.ts";
import { describeError, type Logger } from "../logger.ts";
import type { EventMetrics } from "../metrics/hooks.ts";
import {
  type AddressPolicy,
  assertUrlAllowed,
  createAddressPolicy,
  hostNotAllowed,
  HostNotAllowedError,
  type HostResolver,
  type ResolvedAddress,
} from "../ssrf_guard/address_policy.ts";
import type { SessionEvent } from "../sessions/manager.ts";
import {
  createDispatcher,
  type Dispatcher,
  PermanentDeliveryError,
  WEBHOOK_REMOVED,
} from "./dispatcher.ts";
import { derivedEnvelopes, type Envelope, toEnvelope } from "./envelope.ts";
import {
  type Delivery,
  type DeliveryQuery,
  type DeliveryScope,
  type EventPage,
  type EventPosition,
  type Fence,
  FIRST_POSITION,
  NUMBER_DESTINATION,
  numberDestination,
  type Outbox,
  type SessionScope,
  StaleFenceError,
  type StoredEvent,
  type WebhookConfig,
} from "./outbox.ts";
import { createWebhookDirectory, type WebhookDirectory } from "./webhook_directory.ts";
import { createWorkerSender, type WebhookSender } from "./webhook_sender.ts";

const PRUNE_EVERY_MS = 60 * 60 * 1000;
/**
 * Session events that no caller waits for are written at most this often while they keep
 * coming (`scheduleFlush`): what a steady stream brings meanwhile shares one transaction.
 */
const WRITE_GAP_MS = 4;

export interface StreamSubscriber {
  /** Events of the number may have been committed: read on from the stream's position. */
  wake(): void;
  /**
   * End the stream: the number was forgotten, or (`retryMs` set) this server is closing and the
   * client should reconnect after that long, to another node or to this one restarted.
   */
  close(options?: { retryMs?: number }): void;
}

/** See `EventsApi.streamStart`. */
export interface StreamStart {
  /** The stream sends the number's events after this position. */
  after: EventPosition;
  /** Only events created at or after this time (ms) are sent. */
  since: number | null;
  /** Why events may be missing before the replay, or null. */
  gap: string | null;
}

/** What the HTTP routes use. */
export interface EventsApi {
  /**
   * Puts envelopes into the pipeline, each with the envelopes derived from it (a `session.status`
   * brings its `state.change`), all events and deliveries in one transaction: all are stored or
   * none. Ids already stored are reported as duplicates and derive nothing; `ids` lists what was
   * stored, derived events included.
   */
  accept(envelopes: Envelope[]): Promise<{ ids: string[]; duplicates: string[] }>;
  getWebhooks(phoneNumber: string): Promise<WebhookConfig[]>;
  /** Validates (SSRF rules) and replaces a number's webhooks; throws 400 on a refused URL. */
  setWebhooks(
    phoneNumber: string,
    webhooks: WebhookConfig[],
    options?: {
      /**
       * Called after the (slow, DNS) URL checks and right before the write: throws when the
       * caller may no longer write (the number changed hands meanwhile).
       */
      confirm?: () => Promise<void>;
      /** The request's id, for the log line of a refused URL. */
      requestId?: string;
    },
  ): Promise<void>;
  /**
   * Forgets a number that is being freed: its stored events (so a later owner cannot read them
   * back from the stream), their deliveries and its webhooks.
   */
  forgetNumber(phoneNumber: string): Promise<void>;
  listDeliveries(phoneNumber: string, query: DeliveryQuery): Promise<Delivery[]>;
  /**
   * Sends a delivery again (a dead letter, usually), as its webhook is configured now; 404 when it
   * is not this number's, or when its webhook was removed (then it is failed, saying so).
   */
  retryDelivery(phoneNumber: string, id: number, scope?: DeliveryScope): Promise<Delivery>;
  /**
   * Events after a cursor (`Last-Event-ID`: an event id or a sequence number); an unknown cursor
   * replays what is retained.
   */
  eventsAfter(phoneNumber: string, cursor: string | null, limit: number): Promise<StoredEvent[]>;
  /**
   * Where a new stream of the number starts: live only (the events not readable yet) unless the
   * client resumes after an event id (`Last-Event-ID`) or asks for the events since a time (ms).
   * An id that is not this number's retained event, or a time before the retention window,
   * replays what is retained with a `gap` that says the client may have missed some.
   */
  streamStart(
    phoneNumber: string,
    from: { lastEventId?: string | null; since?: number | null },
  ): Promise<StreamStart>;
  /**
   * The number's events after a stream position, oldest first, without waiting; `pending`: more
   * are committed but held back behind an older open transaction (read again shortly).
   */
  readStream(phoneNumber: string, after: EventPosition, limit: number): Promise<EventPage>;
  /** Wakes `subscriber` whenever the number's events may have changed, on any node. */
  subscribe(phoneNumber: string, subscriber: StreamSubscriber): () => void;
  /**
   * Where a stream of many numbers starts, as `streamStart`: a `lastEventId` resumes only when
   * `mayRead` says its number is one of the stream's.
   */
  streamStartAll(
    mayRead: (phoneNumber: string) => Promise<boolean>,
    from: { lastEventId?: string | null; since?: number | null },
  ): Promise<StreamStart>;
  /** Every number's events (or an account's numbers') after a position: `Outbox.eventsAfterAll`. */
  readStreams(after: EventPosition, limit: number, scope?: SessionScope): Promise<EventPage>;
  /** Wakes `subscriber` whenever any number's events may have changed, on any node. */
  subscribeAll(subscriber: StreamSubscriber): () => void;
  heartbeatMs: number;
}

export interface EventPipeline extends EventsApi {
  /** The session manager's `onEvent`: queued, written at the latest after this turn. */
  acceptSessionEvent(event: SessionEvent): void;
  /**
   * Resolves once the session events queued so far are written (the manager's `flushEvents`).
   * Every caller waiting in the same turn shares one transaction: a group commit. `now` writes
   * them at once instead (no other call is in flight to share it with, so the tick that would
   * gather them is only one more wake-up of the thread).
   */
  flush(now?: boolean): Promise<void>;
  /** Prunes old events and starts delivering what is pending. */
  start(): Promise<void>;
  /**
   * Ends every live stream (before the HTTP server drains its connections), telling clients to
   * reconnect after `retryMs` (default 1000).
   */
  closeStreams(retryMs?: number): void;
  close(): Promise<void>;
}

export interface EventPipelineOptions {
  outbox: Outbox;
  dispatcher: Dispatcher;
  /** The webhooks (the operator's and the numbers'): the dispatcher's `resolve` reads the same. */
  webhooks: WebhookDirectory;
  log: Logger;
  version: string;
  /** `EVENTS_RETENTION_HOURS`: events older than this (and not pending) are pruned. */
  retentionHours: number;
  /** The address policy for webhook URLs set through the API (`WEBHOOK_ALLOW_PRIVATE_HOSTS`). */
  policy: AddressPolicy;
  heartbeatMs: number;
  /** The store's clock (the database's, so nodes agree on what a `since` means); Unix ms. */
  clock?: () => Promise<number>;
  /**
   * The lease this node holds on a number, which its events are written under (the cluster's
   * ownership supplies it); null or absent: written without a fence.
   */
  fenceOf?: (phoneNumber: string) => Fence | null;
  /** Told of every event stored, by name (`METRICS_ENABLED`). */
  metrics?: Pick<EventMetrics, "stored">;
  /**
   * Lanes per webhook destination (`WEBHOOK_LANES`; default 1): a number's deliveries to a
   * destination stay in order, different numbers' may be in flight at once (`events/outbox.ts`).
   */
  lanes?: number;
  /**
   * Session events no caller waits for are written at most this often while they keep coming
   * (default `WRITE_GAP_MS`; 0: every turn).
   */
  writeGapMs?: number;
}

/**
 * Checks a per-number destination's URL before each attempt (DNS may have changed since it was
 * set) and returns the addresses the dispatcher pins its connection to; the operator's global
 * `WEBHOOK_URL` is trusted (null: sent with `fetch`). A refused address is a
 * `PermanentDeliveryError`, a host that does not resolve is tried again; both carry the generic
 * message (the delivery's `lastError` is shown to the tenant) and the detail goes to the log.
 */
export function createUrlCheck(
  policy: AddressPolicy,
  options: { resolver?: HostResolver; log?: Logger } = {},
) {
  const refused = `Not sent: ${hostNotAllowed("WEBHOOK_ALLOW_PRIVATE_HOSTS")}`;
  return async function checkUrl(
    destination: string,
    url: string,
    deliveryId?: number,
  ): Promise<ResolvedAddress[] | null> {
    if (!destination.startsWith(NUMBER_DESTINATION)) return null;
    try {
      const { addresses } = await assertUrlAllowed(url, policy, {
        label: "webhook URL",
        resolver: options.resolver,
      });
      return addresses;
    } catch (error) {
      if (!(error instanceof HostNotAllowedError)) {
        throw new PermanentDeliveryError(error instanceof Error ? error.message : String(error));
      }
      options.log?.warn("webhook URL refused", {
        delivery: deliveryId,
        destination,
        ...error.refusal,
      });
      if (error.refusal.reason === "unresolvable") throw new Error(refused);
      throw new PermanentDeliveryError(refused);
    }
  };
}

export function createEventPipeline(options: EventPipelineOptions): EventPipeline {
  const { outbox, dispatcher, log } = options;
  const directory = options.webhooks;
  const subscribers = new Map<string, Set<StreamSubscriber>>();
  /** The streams of many numbers: woken by every number's events, never closed by one's. */
  const allSubscribers = new Set<StreamSubscriber>();
  let pruneTimer: ReturnType<typeof setInterval> | null = null;
  let closed = false;
  const pendingEnvelopes: Envelope[] = [];
  // The flush runs as a task queued behind what is already waiting (the answers of other calls),
  // so every call answered in the meantime shares its transaction; a timer would add a delay, a
  // microtask would run before the other answers.
  const flushTicker = new MessageChannel();
  let flushQueued = false;
  flushTicker.port1.onmessage = () => void flushSessionEvents().catch(() => {});
  const writeGapMs = options.writeGapMs ?? WRITE_GAP_MS;
  /** When the last write of session events began (`performance.now()`). */
  let lastFlushAt = -Infinity;
  /** A write held back until `writeGapMs` after the last one (`scheduleFlush`). */
  let heldFlush: ReturnType<typeof setTimeout> | null = null;
  /**
   * Queues the write of the session events taken so far. Events no caller waits for (incoming
   * messages, receipts) that come within `writeGapMs` of the last write wait for the rest of
   * that gap, so that under a steady stream several share one transaction (a commit is most of
   * a write's cost); a caller that waits (`flush`) has them written at the next turn.
   */
  function scheduleFlush(): void {
    if (flushQueued) return;
    const wait = lastFlushAt + writeGapMs - performance.now();
    if (wait > 0 && flushWaiters.length === 0) {
      heldFlush ??= setTimeout(() => {
        heldFlush = null;
        scheduleFlush();
      }, wait);
      return;
    }
    if (heldFlush !== null) clearTimeout(heldFlush);
    heldFlush = null;
    flushQueued = true;
    flushTicker.port2.postMessage(null);
  }
  /**
   * Who waits for the queued session events to be written (see `flush`): told of a failed write
   * too, so a call whose events were not stored does not answer 200.
   */
  const flushWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  /**
   * The latest write of session events: settled once everything taken so far is written; rejected
   * when that write failed.
   */
  let flushing: Promise<void> = Promise.resolve();
  /**
   * The outbox writes of this pipeline, one at a time, in order: live subscribers are told of
   * events in the order they were committed, and session events gather behind a write under way
   * (a group commit on PostgreSQL, where a write takes a round trip).
   */
  let writes: Promise<unknown> = Promise.resolve();
  function serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = writes.then(work, work);
    writes = run.catch(() => {});
    return run;
  }

  function tell(phoneNumber: string | null, act: (subscriber: StreamSubscriber) => void): void {
    const set = phoneNumber === null ? allSubscribers : subscribers.get(phoneNumber) ?? [];
    for (const subscriber of set) {
      try {
        act(subscriber);
      } catch (error) {
        log.warn("event stream subscriber failed", { error: describeError(error) });
      }
    }
  }

  const watching = outbox.watch({
    events(session) {
      tell(session, (subscriber) => subscriber.wake());
      tell(null, (subscriber) => subscriber.wake());
    },
    webhooks(phoneNumber) {
      directory.forget(phoneNumber);
      // A destination of a removed webhook fails at its next turn: give it that turn now.
      const prefix = numberDestination(phoneNumber, "");
      dispatcher.wakeHeld((destination) => destination.startsWith(prefix));
    },
    forgotten(phoneNumber) {
      directory.forget(phoneNumber);
      closeStreamsOf(phoneNumber);
    },
    deliveries(destination, byAppend) {
      // This pipeline's own appends wake the lanes they filled (`accept`): reading the
      // destination's lanes again would only send its loops round once more.
      if (!byAppend) dispatcher.notify(destination);
    },
    resync() {
      log.info("event notifications are back: reading again what they may have missed");
      directory.forgetAll();
      for (const phoneNumber of [...subscribers.keys(), null]) tell(phoneNumber, (s) => s.wake());
      void dispatcher.sweep();
    },
  });
  /**
   * Settled once reports flow. A stream starts after it (so it hears of every change), and what
   * was cached before it is dropped (a change made meanwhile went unreported).
   */
  const watchReady = watching.then(
    () => directory.forgetAll(),
    (error) => log.error("watching the outbox failed", { error: describeError(error) }),
  );

  /** Where a stream starts (`EventsApi.streamStart`); `mayRead`: whether an event id may resume it. */
  async function startOf(
    mayRead: (session: string) => Promise<boolean>,
    { lastEventId, since }: { lastEventId?: string | null; since?: number | null },
  ): Promise<StreamStart> {
    await watchReady;
    const retention = `${options.retentionHours} h`;
    if (lastEventId) {
      const found = await outbox.positionOf(lastEventId);
      // Another number's event is as unknown to this stream as one never stored.
      if (found && await mayRead(found.session)) {
        return { after: found.position, since: null, gap: null };
      }
      return {
        after: FIRST_POSITION,
        since: null,
        gap: `Last-Event-ID "${lastEventId.slice(0, 100)}" is unknown or older than the ` +
          `retention (${retention}): events may have been missed; the retained ones follow`,
      };
    }
    if (since === null || since === undefined) {
      return { after: await outbox.livePosition(), since: null, gap: null };
    }
    const now = options.clock ? await options.clock() : Date.now();
    const horizon = now - options.retentionHours * 3_600_000;
    return {
      after: FIRST_POSITION,
      since,
      gap: since < horizon
        ? `since=${since} is older than the retention (${retention}): events may have been ` +
          "missed; the retained ones follow"
        : null,
    };
  }

  /** Streams opened by the old owner end here: ownership was checked when they opened. */
  function closeStreamsOf(phoneNumber: string): void {
    tell(phoneNumber, (subscriber) => subscriber.close());
    subscribers.delete(phoneNumber);
  }

  /** Appends under each session's lease; a stale lease drops that session's envelopes. */
  async function appendFenced(envelopes: Envelope[]) {
    const destinationsFor = await directory.destinationsFor(envelopes);
    const fenceOf = options.fenceOf;
    const fence = fenceOf ? (session: string) => fenceOf(session) : undefined;
    try {
      return await outbox.append(envelopes, {
        destinationsFor,
        derive: derivedEnvelopes,
        fence,
        lanes: options.lanes,
      });
    } catch (error) {
      if (!(error instanceof StaleFenceError)) throw error;
      const stale = new Set(error.sessions);
      const dropped = envelopes.filter((envelope) => stale.has(envelope.session));
      log.warn("events dropped: this node no longer holds the number's lease", {
        sessions: error.sessions,
        count: dropped.length,
        events: dropped.slice(0, 10).map((envelope) => envelope.event),
      });
      const rest = envelopes.filter((envelope) => !stale.has(envelope.session));
      if (rest.length === 0) {
        return { events: [], destinations: new Set<string>(), queues: [], duplicates: [] };
      }
      // The others' leases were current; one of them lapsing meanwhile is dropped the same way.
      return await appendFenced(rest);
    }
  }

  function accept(envelopes: Envelope[]) {
    if (closed) return Promise.reject(new Error("The event pipeline is closed"));
    return serialized(async () => {
      const result = await appendFenced(envelopes);
      options.metrics?.stored(result.events);
      if (result.queues.length > 0) dispatcher.wake(result.queues);
      return { ids: result.events.map((e) => e.id), duplicates: result.duplicates };
    });
  }

  /**
   * Session events arrive in bursts (a send makes `message.any` then `message.ack`): writing what
   * one turn of the event loop brought in one transaction roughly halves the cost of each
   * (measured in bench/README.md). The manager awaits `flush()` before it returns a call's answer,
   * so an event the engine emitted before answering is stored before the HTTP answer leaves.
   */
  function flushSessionEvents(): Promise<void> {
    flushQueued = false;
    if (heldFlush !== null) clearTimeout(heldFlush);
    heldFlush = null;
    lastFlushAt = performance.now();
    const batch = pendingEnvelopes.splice(0);
    const waiters = flushWaiters.splice(0);
    if (batch.length === 0 && waiters.length === 0) return flushing;
    // Writes are serialised: once this one is done, so is every batch taken before it.
    const write = (async () => {
      try {
        if (batch.length > 0) await accept(batch);
      } catch (error) {
        log.error("storing session events failed", {
          count: batch.length,
          error: describeError(error),
        });
        for (const waiter of waiters) waiter.reject(error);
        throw error;
      }
      for (const waiter of waiters) waiter.resolve();
    })();
    // A failed write fails the calls that wait for it, then is forgotten: a later call with no
    // events of its own must not fail for it.
    flushing = write;
    write.catch(() => {
      if (flushing === write) flushing = Promise.resolve();
    });
    return write;
  }

  async function prune(): Promise<void> {
    try {
      const removed = await outbox.prune(options.retentionHours * 3_600_000);
      if (removed > 0) log.info("old events pruned", { count: removed });
    } catch (error) {
      log.error("pruning events failed", { error: describeError(error) });
    }
  }

  return {
    heartbeatMs: options.heartbeatMs,
    accept,
    flush(now = false) {
      // Nothing queued: what was taken before may still be on its way to the database.
      if (pendingEnvelopes.length === 0) return flushing;
      if (now) return flushSessionEvents();
      const written = new Promise<void>((resolve, reject) =>
        flushWaiters.push({ resolve, reject })
      );
      // A write held back for the gap is not held for a caller that waits.
      scheduleFlush();
      return written;
    },
    acceptSessionEvent(event) {
      if (closed) return;
      pendingEnvelopes.push(toEnvelope(event, options.version));
      scheduleFlush();
    },
    getWebhooks(phoneNumber) {
      return directory.listWebhooks(phoneNumber);
    },
    async forgetNumber(phoneNumber) {
      await flushSessionEvents();
      // Behind any write under way: nothing of the number is written after it is forgotten.
      await serialized(() => outbox.forgetSession(phoneNumber));
      directory.forget(phoneNumber);
      // Other nodes end theirs when the store tells them (`forgotten`).
      closeStreamsOf(phoneNumber);
    },
    async setWebhooks(phoneNumber, webhooks, { confirm, requestId } = {}) {
      const seen = new Set<string>();
      for (const [i, hook] of webhooks.entries()) {
        if (seen.has(hook.url)) {
          throw badRequest(`Invalid body field "webhooks.${i}.url": the URL is listed twice`);
        }
        seen.add(hook.url);
        try {
          await assertUrlAllowed(hook.url, options.policy, { label: "webhook URL" });
        } catch (error) {
          const field = `webhooks.${i}.url`;
          if (error instanceof HostNotAllowedError) {
            // The tenant learns nothing of the network; the operator gets the detail.
            log.warn("webhook URL refused", {
              requestId,
              session: phoneNumber,
              field,
              ...error.refusal,
            });
            throw badRequest(
              `Invalid body field "${field}": ${hostNotAllowed("WEBHOOK_ALLOW_PRIVATE_HOSTS")}`,
            );
          }
          const message = error instanceof Error ? error.message : String(error);
          throw badRequest(`Invalid body field "${field}": ${message}`);
        }
      }
      await confirm?.();
      // The next attempt of every pending delivery reads the new configuration; the deliveries
      // of a removed webhook are failed now rather than when their backoff ends.
      const removed = await directory.replaceWebhooks(phoneNumber, webhooks);
      if (removed.length > 0) dispatcher.wake(removed);
    },
    listDeliveries(phoneNumber, query) {
      return outbox.listDeliveries(phoneNumber, query);
    },
    async retryDelivery(phoneNumber, id, scope) {
      const missing = () => notFound(`Delivery ${id} of session "${phoneNumber}" not found`);
      const found = await outbox.getDelivery(phoneNumber, id, scope);
      if (!found) throw missing();
      if (!await directory.resolve(found.destination)) {
        if (found.status !== "delivered") {
          await outbox.markFailed(id, {
            attempts: found.attempts,
            error: WEBHOOK_REMOVED,
            httpStatus: found.lastStatus,
          });
        }
        throw notFound(
          `Delivery ${id} of session "${phoneNumber}" cannot be retried: its webhook was removed`,
        );
      }
      const delivery = await outbox.requeue(phoneNumber, id, scope);
      if (!delivery) throw missing();
      dispatcher.wake([delivery.destination]);
      return delivery;
    },
    async eventsAfter(phoneNumber, cursor, limit) {
      let after = 0;
      if (cursor && /^\d+$/.test(cursor)) after = Number(cursor);
      else if (cursor) after = await outbox.seqOf(cursor) ?? 0;
      return await readEvents(outbox, phoneNumber, after, limit);
    },
    streamStart(phoneNumber, from) {
      return startOf((session) => Promise.resolve(session === phoneNumber), from);
    },
    streamStartAll(mayRead, from) {
      return startOf(mayRead, from);
    },
    readStream(phoneNumber, after, limit) {
      return outbox.eventsAfter(phoneNumber, after, limit);
    },
    readStreams(after, limit, scope) {
      return outbox.eventsAfterAll(after, limit, scope);
    },
    subscribeAll(subscriber) {
      allSubscribers.add(subscriber);
      return () => allSubscribers.delete(subscriber);
    },
    subscribe(phoneNumber, subscriber) {
      let set = subscribers.get(phoneNumber);
      if (!set) {
        set = new Set();
        subscribers.set(phoneNumber, set);
      }
      set.add(subscriber);
      return () => {
        set.delete(subscriber);
        if (set.size === 0 && subscribers.get(phoneNumber) === set) subscribers.delete(phoneNumber);
      };
    },
    async start() {
      pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
      await prune();
      await watchReady;
      if (!closed) await dispatcher.start();
    },
    closeStreams(retryMs = 1_000) {
      for (const set of [...subscribers.values(), allSubscribers]) {
        for (const subscriber of set) subscriber.close({ retryMs });
      }
      subscribers.clear();
      allSubscribers.clear();
    },
    async close() {
      await flushSessionEvents();
      closed = true;
      if (heldFlush !== null) clearTimeout(heldFlush);
      heldFlush = null;
      flushTicker.port1.close();
      flushTicker.port2.close();
      if (pruneTimer !== null) clearInterval(pruneTimer);
      pruneTimer = null;
      this.closeStreams();
      await writes;
      await dispatcher.close();
      const unwatch = await watching.catch(() => null);
      await unwatch?.().catch(() => {});
    },
  };
}

/** How long a read waits, at most, for events held back behind an older open transaction. */
const HELD_BACK_WAIT_MS = 2_000;

/**
 * A page of events after `after`. Events that are committed but held back behind an older open
 * transaction (PostgreSQL: `EventPage.pending`) are waited for, briefly: a stream that subscribed
 * before reading its backlog was told of them already, before it subscribed, and would not be
 * again. Such a transaction lasts milliseconds (the gateway's own are short).
 */
async function readEvents(
  outbox: Outbox,
  session: string,
  after: number,
  limit: number,
): Promise<StoredEvent[]> {
  let page = await outbox.eventsAfter(session, after, limit);
  const deadline = Date.now() + HELD_BACK_WAIT_MS;
  for (let pause = 5; page.pending && page.events.length < limit && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 100);
    page = await outbox.eventsAfter(session, after, limit);
  }
  return page.events;
}

/** The pipeline as the server runs it: the store's outbox, the dispatcher, the address policy. */
export function openEventPipeline(
  outbox: Outbox,
  webhooks: Readonly<Config["webhooks"]>,
  options: {
    log: Logger;
    version: string;
    clock?: () => Promise<number>;
    /** This node and its lease time (destination leases); see `DispatcherOptions.node`. */
    node?: { id: string; leaseTtlMs: number };
    fenceOf?: (phoneNumber: string) => Fence | null;
    metrics?: EventMetrics;
    /** Sends the POSTs; default as `webhooks.sender` says (`webhook_sender.ts`). */
    sender?: WebhookSender;
  },
): EventPipeline {
  const directory = createWebhookDirectory(outbox, webhooks);
  const policy = createAddressPolicy(webhooks.allowPrivateHosts);
  const dispatcher = createDispatcher({
    outbox,
    resolve: directory.resolve,
    log: options.log,
    maxAttempts: webhooks.maxAttempts,
    timeoutMs: webhooks.timeoutMs,
    concurrency: webhooks.concurrency,
    retryBaseMs: webhooks.retryBaseMs,
    retryMaxMs: webhooks.retryMaxMs,
    checkUrl: createUrlCheck(policy, { log: options.log }),
    sender: options.sender ??
      (webhooks.sender === "worker" ? createWorkerSender({ log: options.log }) : undefined),
    node: options.node,
    metrics: options.metrics,
  });
  return createEventPipeline({
    outbox,
    dispatcher,
    webhooks: directory,
    log: options.log,
    version: options.version,
    retentionHours: webhooks.retentionHours,
    policy,
    heartbeatMs: webhooks.sseHeartbeatMs,
    clock: options.clock,
    fenceOf: options.fenceOf,
    metrics: options.metrics,
    lanes: webhooks.lanes,
  });
}
