/**
 * @module
 * Boot-time restore: every session that was running when the server stopped is started again, a
 * few at a time, each in a task of its own, and not at all once shutdown began.
 */
import { describeError, type Logger } from "../logger.ts";
import type { SessionRecord } from "../store/store.ts";

/** Sessions started at the same time when the server boots. */
export const RESTORE_CONCURRENCY = 4;

export interface RestoreDeps {
  /** The sessions recorded as running. */
  records: readonly SessionRecord[];
  /** Starts one of them; resolves once its engine started or failed to. */
  start: (record: SessionRecord) => Promise<void>;
  isClosing: () => boolean;
  log: Logger;
}

export async function restoreSessions(deps: RestoreDeps): Promise<void> {
  const { records, start, isClosing, log } = deps;
  // A few at a time: dozens of Workers (and Chromiums) loading at once would starve the main
  // thread, and with it every request, on a small machine.
  let next = 0;
  const restoreNext = async (): Promise<void> => {
    for (let record = records[next++]; record && !isClosing(); record = records[next++]) {
      // `new Worker()` blocks this thread ~25-30 ms: a task of its own per session lets the
      // requests waiting meanwhile through (else a restore of 50 held the first answer ~1.3 s).
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (isClosing()) return;
      try {
        await start(record);
      } catch (error) {
        log.error("could not restore session", {
          session: record.phoneNumber,
          error: describeError(error),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: RESTORE_CONCURRENCY }, restoreNext));
  if (records.length > 0) log.info("sessions restored", { count: records.length });
}
