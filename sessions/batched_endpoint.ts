/**
 * @module
 * A Comlink endpoint that carries the messages posted in one turn of the event loop as one array:
 * one `postMessage` (one structured clone, one wake-up of the other thread, one message event
 * there) instead of one each. Under load a session's Worker answers many calls and emits their
 * events in the same turn, and the main thread sends it many calls in the same turn; each
 * separate message costs the receiving thread a wake-up and an event dispatch (measured in
 * bench/README.md). Order is kept: messages leave in the order they were posted, and the other
 * side hands them to its listeners in that order. Both sides of a port must use it.
 */
import type { Endpoint } from "comlink";

/** What a Worker and a Worker's global scope have in common. */
export interface MessageTarget {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  removeEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}

type Listener = (event: { data: unknown }) => void;

/** Comlink's answers carry the call's `id` (a string); events of ours do not. */
export function isComlinkAnswer(message: unknown): message is { id: string } {
  return typeof (message as { id?: unknown } | null)?.id === "string";
}

/**
 * For the side that exposes an API through Comlink: an answer that cannot be cloned becomes the
 * error Comlink itself sends in that case ("Unserializable return value"), so the caller gets an
 * error instead of silence; anything else that cannot be cloned is dropped.
 */
export function comlinkErrorForUnclonable(message: unknown): unknown | null {
  if (!isComlinkAnswer(message)) return null;
  return {
    id: message.id,
    type: "HANDLER",
    name: "throw",
    value: { isError: true, value: { name: "TypeError", message: "Unserializable return value" } },
  };
}

export interface BatchedEndpointOptions {
  /**
   * A message that cannot be cloned (it holds a function, say) would sink its whole batch: the
   * batch is then sent message by message, and each one that fails is replaced by what this
   * returns (null: dropped). The Worker answers such a call with an error instead of silence.
   */
  replaceUnclonable?: (message: unknown) => unknown | null;
  /**
   * Asked when a message would start a new batch: true sends it at once, without waiting for (or
   * scheduling) the tick. The caller's side answers "no call is in flight": one call at a time
   * then pays no tick (a tick is an extra wake-up of the thread, ~40 µs a call here), while calls
   * made under load still share messages.
   */
  sendAtOnce?: () => boolean;
  /**
   * Messages that should leave once the current microtasks have run rather than at the tick (the
   * Worker's answers: a caller waits for each). Everything queued before them leaves with them;
   * answers made in the same turn still share a message, since the flush waits behind them.
   */
  isUrgent?: (message: unknown) => boolean;
}

export interface BatchedEndpoint extends Endpoint {
  /** Stops the scheduler (the queue is dropped). */
  close(): void;
}

/**
 * Wraps `target`. Posted messages wait for a task queued behind the ones already waiting (a
 * `MessageChannel` tick, like `setImmediate`; a timer would add a delay), except urgent ones,
 * which leave with everything before them once the current microtasks have run, and those that
 * `sendAtOnce` lets through.
 */
export function batchedEndpoint(
  target: MessageTarget,
  options: BatchedEndpointOptions = {},
): BatchedEndpoint {
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
      for (const message of batch) sendAlone(message);
    }
  }

  function sendAlone(message: unknown): void {
    try {
      target.postMessage([message], []);
    } catch {
      const replacement = options.replaceUnclonable?.(message) ?? null;
      if (replacement === null) return;
      try {
        target.postMessage([replacement], []);
      } catch {
        // Nothing more to try.
      }
    }
  }

  function receive(event: MessageEvent): void {
    const data = event.data;
    if (!Array.isArray(data)) return;
    for (const message of data) {
      for (const listener of listeners) listener({ data: message });
    }
  }
  target.addEventListener("message", receive);

  return {
    postMessage(message: unknown, transfer?: Transferable[]) {
      if (transfer && transfer.length > 0) {
        // Transfers travel alone, after what was queued before them.
        flush();
        target.postMessage([message], transfer);
        return;
      }
      queue.push(message);
      if (options.isUrgent?.(message)) {
        if (!flushingSoon) {
          flushingSoon = true;
          queueMicrotask(() => {
            flushingSoon = false;
            flush();
          });
        }
        return;
      }
      if (scheduled) return;
      if (queue.length === 1 && options.sendAtOnce?.()) {
        flush();
        return;
      }
      scheduled = true;
      ticker.port2.postMessage(null);
    },
    addEventListener(_type: string, listener: EventListenerOrEventListenerObject) {
      listeners.add(listener as unknown as Listener);
    },
    removeEventListener(_type: string, listener: EventListenerOrEventListenerObject) {
      listeners.delete(listener as unknown as Listener);
    },
    close() {
      queue = [];
      target.removeEventListener("message", receive);
      ticker.port1.close();
      ticker.port2.close();
    },
  };
}
