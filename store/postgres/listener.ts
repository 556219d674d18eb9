/**
 * @module
 * The node's one `LISTEN` connection to PostgreSQL, shared by everything that is woken by
 * `NOTIFY` (the outbox's channels; the cluster may add its own). A notification is a wake-up
 * carrying an id, never the data: it reaches only the listeners connected when it is committed,
 * so after the connection is lost and back, every `onResync` handler is called to read again
 * from the tables what it follows. The connection is opened on the first `listen`, kept for the
 * node's lifetime (no idle timeout), and reopened with a growing pause while the database is out
 * of reach. The driver's own `sql.listen` is not used: it gives up re-listening when the first
 * reconnect fails.
 */
import postgres from "postgres";

export interface Listener {
  /**
   * Calls `onNotify` with the payload of every notification on `channel` until the returned
   * function is called; resolves once the channel is listened to.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Calls `handler` each time the connection is back after it was lost. */
  onResync(handler: () => void): () => void;
  close(): Promise<void>;
}

export interface ListenerOptions {
  /** Seconds to wait for the connection (default 10). */
  connectTimeoutS?: number;
  /** Longest pause between attempts to reconnect, ms (default 5000). */
  maxRetryMs?: number;
  onError?: (error: unknown) => void;
}

function quote(channel: string): string {
  return `"${channel.replaceAll('"', '""')}"`;
}

export function createListener(url: string, options: ListenerOptions = {}): Listener {
  const channels = new Map<string, Set<(payload: string) => void>>();
  const resyncs = new Set<() => void>();
  let sql: postgres.Sql | null = null;
  let closed = false;
  /** The connection answered its `LISTEN`s and has not been lost since. */
  let live = false;
  let reconnecting: Promise<void> | null = null;

  function connection(): postgres.Sql {
    if (sql) return sql;
    // `onnotify` is an option of the driver its types leave out: a variable, not a literal.
    const settings = {
      max: 1,
      // 0: never closed for idleness or age (the driver's types miss its `null`).
      idle_timeout: 0,
      max_lifetime: 0,
      fetch_types: false,
      connect_timeout: options.connectTimeoutS ?? 10,
      onnotice: () => {},
      connection: { application_name: "wa-gateway listener" },
      onnotify(channel: string, payload: string) {
        for (const handler of channels.get(channel) ?? []) {
          try {
            handler(payload);
          } catch (error) {
            options.onError?.(error);
          }
        }
      },
      onclose() {
        if (!live || closed) return;
        live = false;
        void reconnect();
      },
    };
    sql = postgres(url, settings);
    return sql;
  }

  async function listenAll(): Promise<void> {
    const names = [...channels.keys()];
    // One round trip; the connection is opened by the query when it is not.
    await connection().unsafe(
      names.length ? names.map((n) => `LISTEN ${quote(n)}`).join("; ") : "SELECT 1",
    );
    live = true;
  }

  function reconnect(): Promise<void> {
    reconnecting ??= (async () => {
      for (let pause = 100; !closed;) {
        try {
          await listenAll();
          break;
        } catch (error) {
          options.onError?.(error);
          await new Promise((resolve) => setTimeout(resolve, pause));
          pause = Math.min(pause * 2, options.maxRetryMs ?? 5_000);
        }
      }
      reconnecting = null;
      if (closed) return;
      for (const handler of resyncs) {
        try {
          handler();
        } catch (error) {
          options.onError?.(error);
        }
      }
    })();
    return reconnecting;
  }

  return {
    async listen(channel, onNotify) {
      let set = channels.get(channel);
      const fresh = !set;
      if (!set) {
        set = new Set();
        channels.set(channel, set);
      }
      set.add(onNotify);
      if (fresh && !reconnecting) {
        try {
          await connection().unsafe(`LISTEN ${quote(channel)}`);
          live = true;
        } catch (error) {
          // Out of reach now: keep trying; the resync tells the caller once it is listening.
          options.onError?.(error);
          void reconnect();
        }
      }
      return async () => {
        set.delete(onNotify);
        if (set.size > 0 || channels.get(channel) !== set) return;
        channels.delete(channel);
        if (live && !closed) {
          await connection().unsafe(`UNLISTEN ${quote(channel)}`).catch(() => {});
        }
      };
    },
    onResync(handler) {
      resyncs.add(handler);
      return () => resyncs.delete(handler);
    },
    async close() {
      closed = true;
      live = false;
      channels.clear();
      resyncs.clear();
      await sql?.end({ timeout: 1 });
    },
  };
}
