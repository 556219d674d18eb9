/**
 * @module
 * Boot-time restore: every session that was running when the server stopped is started again, a
 * few at a time per engine, each in a task of its own, and not at all once shutdown began.
 */
import { describeError, type Logger } from "../logger.ts";
import type { SessionRecord } from "../store/store.ts";
import { startAtEnginePace } from "./start_pace.ts";

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
  await startAtEnginePace(records, async (record) => {
    try {
      await start(record);
    } catch (error) {
      log.error("could not restore session", {
        session: record.phoneNumber,
        error: describeError(error),
      });
    }
  }, isClosing);
  if (records.length > 0) log.info("sessions restored", { count: records.length });
}
