/**
 * @module
 * The channel between the main thread and a session's Worker. It has two inputs on each side:
 * `endpoint`, given to Comlink (`wrap` or `expose`), whose messages it carries without reading
 * them, and `postEvent`, for one-way messages of ours (the engine's events). Both share one queue,
 * and what a turn of the event loop posted leaves as one `postMessage` (one structured clone, one
 * wake-up of the other thread, one message event there) instead of one each: under load a
 * session's Worker answers many calls and emits their events in the same turn, and the main thread
 * sends it many calls in the same turn (measured in bench/README.md). The other side hands them
 * out in the order they were posted, so an event the engine emitted before answering a call
 * reaches the main thread before that answer.
 *
 * A Comlink message that cannot be cloned throws from `postMessage`, as a port's would, so Comlink's
 * own error path works: on the Worker's side it answers the caller with its "Unserializable return
 * value" error, on the caller's side the call rejects, instead of a batch failing later in silence.
 */
import type { Endpoint } from "comlink";

/** What a Worker and a Worker's global scope have in common. */
export interface MessageTarget {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  removeEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}

export interface BatchedChannelOptions {
  /**
   * The side that answers (the Worker): everything Comlink sends from it is an answer that a
   * caller waits for. An answer leaves, with everything queued before it, once the current
   * microtasks have run, so the answers of one turn still share a message.
   */
  answers?: boolean;
  /**
   * Asked when a call would start a new batch: true sends it at once, without waiting for (or
   * scheduling) the tick. The caller's side answers "no call is in flight": one call at a time
   * then pays no tick (a tick is an extra wake-up of the thread, ~40 µs a call here), while calls
   * made under load still share messages.
   */
  sendAtOnce?: () => boolean;
  /** The other side's events, in order with Comlink's messages. */
  onEvent?: (event: unknown) => void;
}

export interface BatchedChannel {
  /** For Comlink: its messages travel as they are, in order with the events. */
  readonly endpoint: Endpoint;
  /**
   * Sends one event one way (no answer). It leaves with the next batch; one that cannot be cloned
   * is dropped, and the others of its batch still leave.
   */
  postEvent(event: unknown): void;
  /** Stops the scheduler (the queue is dropped). */
  close(): void;
}

type Listener = (event: { data: unknown }) => void;

/** A batch is `[lane, message, lane, message, …]`: the lane says which input a message came from. */
const COMLINK = 0;
const EVENT = 1;
type Lane = typeof COMLINK | typeof EVENT;

/**
 * Whether `value` is made of primitives, arrays and plain objects only, which always clone: a walk
 * costs far less than `structuredClone` (~5 µs for a small answer here), which is then left to
 * decide only about the rest (class instances, cycles, functions).
 */
function isPlainData(value: unknown, depth: number): boolean {
  if (typeof value !== "object" || value === null) {
    return typeof value !== "function" && typeof value !== "symbol";
  }
  if (depth > 32) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!isPlainData(item, depth + 1)) return false;
    return true;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  for (const key in value) {
    if (!isPlainData((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

/**
 * Wraps `target`. Queued messages leave at a task queued behind the ones already waiting (a
 * `MessageChannel` tick, like `setImmediate`; a timer would add a delay), except answers, which
 * leave once the current microtasks have run, and calls that `sendAtOnce` lets through.
 */
export function batchedChannel(
  target: MessageTarget,
  options: BatchedChannelOptions = {},
): BatchedChannel {
  let queue: unknown[] = [];
  let scheduled = false;
  let flushingSoon = false;
  const listeners = new Set<Listener>();
  const ticker = new MessageChannel();
  ticker.port1.onmessage = () => {
    scheduled = false;
    flush();
  };

  function flush(): void {
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    try {
      target.postMessage(batch, []);
    } catch {
      // An event in it cannot be cloned (Comlink's messages were checked when posted): send the
      // rest one by one and drop what fails.
      for (let i = 0; i < batch.length; i += 2) {
        try {
          target.postMessage([batch[i], batch[i + 1]], []);
        } catch {
          // Dropped.
        }
      }
    }
  }

  function flushSoon(): void {
    if (flushingSoon) return;
    flushingSoon = true;
    queueMicrotask(() => {
      flushingSoon = false;
      flush();
    });
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    ticker.port2.postMessage(null);
  }

  function enqueue(lane: Lane, message: unknown): void {
    queue.push(lane, message);
  }

  function receive(event: MessageEvent): void {
    const batch = event.data;
    if (!Array.isArray(batch)) return;
    for (let i = 0; i < batch.length; i += 2) {
      if (batch[i] === EVENT) {
        options.onEvent?.(batch[i + 1]);
      } else {
        const message = { data: batch[i + 1] };
        for (const listener of listeners) listener(message);
      }
    }
  }
  target.addEventListener("message", receive);

  const endpoint: Endpoint = {
    postMessage(message: unknown, transfer?: Transferable[]) {
      if (transfer && transfer.length > 0) {
        // Transfers travel alone, after what was queued before them.
        flush();
        target.postMessage([COMLINK, message], transfer);
        return;
      }
      // Throws here, to Comlink, when the message cannot be cloned: Comlink then rejects the call,
      // or answers it with its own error, instead of a batch failing later in silence.
      if (!isPlainData(message, 0)) structuredClone(message);
      const first = queue.length === 0;
      enqueue(COMLINK, message);
      if (options.answers) {
        flushSoon();
        return;
      }
      if (scheduled) return;
      if (first && options.sendAtOnce?.()) {
        flush();
        return;
      }
      schedule();
    },
    addEventListener(_type: string, listener: EventListenerOrEventListenerObject) {
      listeners.add(listener as unknown as Listener);
    },
    removeEventListener(_type: string, listener: EventListenerOrEventListenerObject) {
      listeners.delete(listener as unknown as Listener);
    },
  };

  return {
    endpoint,
    postEvent(event) {
      enqueue(EVENT, event);
      if (!flushingSoon) schedule();
    },
    close() {
      queue = [];
      target.removeEventListener("message", receive);
      ticker.port1.close();
      ticker.port2.close();
    },
  };
}
