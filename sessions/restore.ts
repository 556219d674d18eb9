/**
 * @module
 * Boot-time restore: every session that was running when the server stopped is started again, a
 * few at a time per engine, each in a task of its own, and not at all once shutdown began.
 */
import { describeError, type Logger } from "../logger.ts";
import type { SessionRecord } from "../store/store.ts";
import type { EngineName } from "./engine.ts";

/**
 * Sessions of each engine started at the same time when the server boots. A whatsapp-web.js
 * session launches a Chromium (hundreds of ms of CPU, ~170 MB): a few at a time. A simulator
 * session is a Worker made off the main thread (`spawner.ts`); more at once keep both cores busy.
 */
export const RESTORE_CONCURRENCY: Record<EngineName, number> = {
  wwebjs: 4,
  simulator: 32,
  waha: 32,
};

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
  // A few at a time: dozens of Chromiums loading at once would starve the main thread, and with
  // it every request, on a small machine.
  const restoreAll = async (engine: string): Promise<void> => {
    const queue = records.filter((record) => record.engine === engine);
    let next = 0;
    const restoreNext = async (): Promise<void> => {
      for (let record = queue[next++]; record && !isClosing(); record = queue[next++]) {
        // A task of its own per session lets the requests waiting meanwhile through (a restore
        // of 50 once held the first answer ~1.3 s).
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
    const limit = RESTORE_CONCURRENCY[engine as EngineName] ?? RESTORE_CONCURRENCY.wwebjs;
    await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, restoreNext));
  };
  await Promise.all([...new Set(records.map((record) => record.engine))].map(restoreAll));
  if (records.length > 0) log.info("sessions restored", { count: records.length });
}
