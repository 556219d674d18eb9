/**
 * @module
 * Releases accounts' claims on numbers whose phone never linked, `CLAIM_TTL_MS` after the claim
 * was made: without it, any account could hold a company's number by starting it and never
 * scanning. The claim's age comes from the store (its `createdAt`), so a restart does not reset
 * it. One timer, set for the next claim to expire (at the latest one TTL ahead, when claims made
 * meanwhile are seen); the release itself (stop the session, delete its record) is the caller's.
 */
import { describeError, type Logger } from "../logger.ts";
import type { SessionRepository } from "../store/store.ts";

/** setTimeout's largest delay. */
const MAX_DELAY_MS = 2 ** 31 - 1;
const RETRY_MS = 1_000;

export interface ClaimSweeperDeps {
  ttlMs: number;
  sessions: Pick<SessionRepository, "listUnlinkedClaims">;
  /**
   * Releases the number if it is still a never-linked claim made at or before `createdBefore`;
   * resolves whether it did.
   */
  release(phoneNumber: string, createdBefore: number): Promise<boolean>;
  log: Logger;
  /** The database's clock: claims' ages are measured with the clock that stamped them. */
  now?: () => Promise<number>;
}

export interface ClaimSweeper {
  /** Releases every expired claim now (the timer does this on its own). */
  sweep(): Promise<void>;
  /** Ends the timer; a sweep under way finishes, no other starts. */
  stop(): void;
}

/** Starts sweeping: at once (claims that expired while the server was down), then as they expire. */
export function startClaimSweeper(deps: ClaimSweeperDeps): ClaimSweeper {
  const { ttlMs, sessions, log } = deps;
  const now = deps.now ?? (() => Promise.resolve(Date.now()));
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  async function sweep(): Promise<void> {
    const cutoff = await now() - ttlMs;
    for (const claim of await sessions.listUnlinkedClaims()) {
      if (stopped || claim.createdAt > cutoff) break;
      try {
        if (await deps.release(claim.phoneNumber, cutoff)) {
          log.info("claim released: its phone never linked", {
            session: claim.phoneNumber,
            accountId: claim.ownerAccountId,
            claimTtlMs: ttlMs,
          });
        }
      } catch (error) {
        log.error("releasing a claim failed", {
          session: claim.phoneNumber,
          error: describeError(error),
        });
      }
    }
  }

  async function schedule(): Promise<void> {
    if (stopped) return;
    const oldest = (await sessions.listUnlinkedClaims())[0];
    const delay = oldest ? oldest.createdAt + ttlMs - await now() : ttlMs;
    if (stopped) return;
    // An expired claim still listed could not be released (or expired just now): try again soon,
    // not in a tight loop.
    const wait = delay > 0 ? delay : Math.min(ttlMs, RETRY_MS);
    timer = setTimeout(run, Math.min(wait, MAX_DELAY_MS));
  }

  async function run(): Promise<void> {
    timer = null;
    try {
      await sweep();
    } catch (error) {
      log.error("listing claims failed", { error: describeError(error) });
    }
    // The next sweep is set even when the store failed: at the latest one retry away.
    await schedule().catch((error) => {
      log.error("listing claims failed", { error: describeError(error) });
      if (!stopped) timer = setTimeout(run, Math.min(ttlMs, RETRY_MS));
    });
  }

  timer = setTimeout(run, 0);
  return {
    sweep,
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
