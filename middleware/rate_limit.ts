/**
 * @module
 * Slows down credential guessing: counts failed authentications (401s) per client address, and once
 * an address has failed `maxFailures` times within `windowMs` it is refused with `429` for
 * `blockMs`, good credentials included, so a blocked guesser cannot even learn that a guess was
 * right. Successful requests are never counted and do not reset the count. The table lives in memory,
 * per process, and is bounded: expired entries are pruned, and past `maxEntries` the oldest go.
 */

export interface FailureLimiterOptions {
  /** Failures within the window that block an address; 10. */
  maxFailures?: number;
  /** The window in which failures are counted, from the first one; 60 s. */
  windowMs?: number;
  /** How long a blocked address is refused; 60 s. */
  blockMs?: number;
  /** Addresses tracked at most; 10,000. */
  maxEntries?: number;
  now?: () => number;
}

export type LimiterVerdict = { blocked: false } | { blocked: true; retryAfterSeconds: number };

export interface FailureLimiter {
  /** Whether the address is blocked now. */
  check(address: string): LimiterVerdict;
  /** Records a failed authentication from the address; says whether it is now blocked. */
  fail(address: string): LimiterVerdict;
  /** Addresses tracked, for tests and metrics. */
  readonly size: number;
}

interface Entry {
  failures: number;
  windowStart: number;
  blockedUntil: number;
}

/** Creates an in-memory limiter of failed authentications per client address. */
export function createFailureLimiter(options: FailureLimiterOptions = {}): FailureLimiter {
  const {
    maxFailures = 10,
    windowMs = 60_000,
    blockMs = 60_000,
    maxEntries = 10_000,
    now = Date.now,
  } = options;
  const entries = new Map<string, Entry>();

  const expired = (entry: Entry, at: number) =>
    entry.blockedUntil <= at && entry.windowStart + windowMs <= at;

  const verdict = (entry: Entry | undefined, at: number): LimiterVerdict =>
    entry && entry.blockedUntil > at
      ? {
        blocked: true,
        retryAfterSeconds: Math.max(1, Math.ceil((entry.blockedUntil - at) / 1000)),
      }
      : { blocked: false };

  function prune(at: number): void {
    for (const [address, entry] of entries) if (expired(entry, at)) entries.delete(address);
    // Still full: forget the oldest (Map keeps insertion order).
    for (const address of entries.keys()) {
      if (entries.size < maxEntries) break;
      entries.delete(address);
    }
  }

  return {
    check(address) {
      return verdict(entries.get(address), now());
    },
    fail(address) {
      const at = now();
      let entry = entries.get(address);
      if (entry && expired(entry, at)) {
        entries.delete(address);
        entry = undefined;
      }
      if (!entry) {
        if (entries.size >= maxEntries) prune(at);
        entry = { failures: 0, windowStart: at, blockedUntil: 0 };
        entries.set(address, entry);
      } else if (entry.windowStart + windowMs <= at) {
        entry.failures = 0;
        entry.windowStart = at;
      }
      entry.failures++;
      if (entry.failures >= maxFailures) {
        entry.blockedUntil = at + blockMs;
        entry.failures = 0;
        entry.windowStart = at;
      }
      return verdict(entry, at);
    },
    get size() {
      return entries.size;
    },
  };
}
