/**
 * @module
 * Slows down credential guessing without ever refusing a valid credential. Only failed
 * authentications (401s) are counted, per client: an IPv4 address, or an IPv6 address's /64 (one
 * host is routinely given a whole /64, so counting single IPv6 addresses would count nothing;
 * IPv4-mapped IPv6 counts as the IPv4 address). `maxFailures` failures within `windowMs` of the
 * first block the client for `blockMs`; while blocked its failed attempts are answered `429`
 * instead of `401` (the guards authenticate first, so a right credential from a blocked client
 * still passes: a typo behind the same NAT cannot lock out a working integration). Successes are
 * not counted and do not reset the count; failures while blocked do not extend the block.
 *
 * Memory stays bounded (`maxEntries` clients in all) without letting anyone unblock a client:
 * clients still being counted are kept in order of their window's start and blocked clients in
 * order of their block's end, so expired entries leave from the front in O(1). When the table is
 * full, the oldest counting entry makes room; blocked entries are never evicted. When every entry
 * is blocked, a failure from a client not in the table is refused as if blocked, without being
 * stored: its credential failed anyway, so no valid caller is hurt, and flooding the table from
 * many addresses only turns more failures into `429`s until the first block ends. (Evicting a
 * blocked entry instead would hand the flooder what it wants; growing the table, its memory.)
 */
import ipaddr from "ipaddr.js";

export interface FailureLimiterOptions {
  /** Failures within the window that block a client; 10. */
  maxFailures?: number;
  /** The window in which failures are counted, from the first one; 60 s. */
  windowMs?: number;
  /** How long a blocked client's failures are answered `429`; 60 s. */
  blockMs?: number;
  /** Clients tracked at most, counting and blocked together; 10,000. */
  maxEntries?: number;
  now?: () => number;
}

export type LimiterVerdict = { blocked: false } | { blocked: true; retryAfterSeconds: number };

/**
 * What a failure did. `blocked` with `refused`: the client was blocked before this failure (or
 * the table is full of blocked clients), so this failure is answered `429`. `blocked` without
 * `refused`: this failure blocked the client; it is still answered `401`, the next ones `429`.
 */
export type FailureVerdict =
  | { blocked: false }
  | { blocked: true; refused: boolean; retryAfterSeconds: number };

export interface FailureLimiter {
  /** Whether the client at this address is blocked now. */
  check(address: string): LimiterVerdict;
  /** Records a failed authentication from the address. */
  fail(address: string): FailureVerdict;
  /** Clients tracked, for tests and metrics. */
  readonly size: number;
}

interface Counting {
  failures: number;
  windowStart: number;
}

/**
 * The client an address counts as: an IPv4 address, or `<first 64 bits>::/64` for IPv6. What is
 * no IP address (a misconfigured proxy's header) is its own client, as written.
 */
export function clientKey(address: string): string {
  let text = address.trim().toLowerCase();
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  try {
    const ip = ipaddr.process(text);
    if (ip.kind() === "ipv4") return ip.toString();
    const parts = (ip as ipaddr.IPv6).parts.slice(0, 4);
    return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString()}/64`;
  } catch {
    return text;
  }
}

/** Creates an in-memory limiter of failed authentications per client. */
export function createFailureLimiter(options: FailureLimiterOptions = {}): FailureLimiter {
  const {
    maxFailures = 10,
    windowMs = 60_000,
    blockMs = 60_000,
    maxEntries = 10_000,
    now = Date.now,
  } = options;
  // Maps keep insertion order: `counting` by window start, `blocked` by block end (fixed blockMs).
  const counting = new Map<string, Counting>();
  const blocked = new Map<string, number>();

  const seconds = (until: number, at: number) => Math.max(1, Math.ceil((until - at) / 1000));

  function prune(at: number): void {
    for (const [key, until] of blocked) {
      if (until > at) break;
      blocked.delete(key);
    }
    for (const [key, entry] of counting) {
      if (entry.windowStart + windowMs > at) break;
      counting.delete(key);
    }
  }

  function blockedUntil(key: string, at: number): number | null {
    const until = blocked.get(key);
    if (until === undefined) return null;
    if (until > at) return until;
    blocked.delete(key);
    return null;
  }

  return {
    check(address) {
      const at = now();
      const until = blockedUntil(clientKey(address), at);
      return until === null ? { blocked: false } : {
        blocked: true,
        retryAfterSeconds: seconds(until, at),
      };
    },
    fail(address) {
      const at = now();
      const key = clientKey(address);
      prune(at);
      const until = blockedUntil(key, at);
      if (until !== null) {
        return { blocked: true, refused: true, retryAfterSeconds: seconds(until, at) };
      }
      let entry = counting.get(key);
      if (entry && entry.windowStart + windowMs <= at) {
        counting.delete(key);
        entry = undefined;
      }
      if (!entry) {
        if (counting.size + blocked.size >= maxEntries) {
          const oldest = counting.keys().next();
          if (oldest.done) {
            // Every entry is blocked: refuse this failure too, until the first block ends.
            const first = blocked.values().next().value!;
            return { blocked: true, refused: true, retryAfterSeconds: seconds(first, at) };
          }
          counting.delete(oldest.value);
        }
        entry = { failures: 0, windowStart: at };
        counting.set(key, entry);
      }
      entry.failures++;
      if (entry.failures < maxFailures) return { blocked: false };
      counting.delete(key);
      blocked.set(key, at + blockMs);
      return { blocked: true, refused: false, retryAfterSeconds: seconds(at + blockMs, at) };
    },
    get size() {
      return counting.size + blocked.size;
    },
  };
}
