/**
 * @module
 * Samples the memory of each wwebjs session's Chromium on an interval: the engine reports the
 * browser's pid (its `child_process` event) and from then on, every `intervalMs`, one walk of
 * `/proc` (`process_tree.ts`) gives each browser's process tree and its PSS. A browser that is
 * gone (stopped, crashed, its pid reused) is forgotten and its series removed; a session that
 * reports a new browser replaces the old one. The timer runs only while a browser is tracked, so
 * a server of simulator sessions never wakes for it.
 */
import { memoryOf, readProcessTable, type TreeMemory, treeOf } from "./process_tree.ts";

export interface ChromiumMemorySampler {
  /** From now on samples `pid` (and its descendants) as `session`'s Chromium. */
  track(session: string, pid: number): void;
  /** Samples every tracked browser now. */
  sample(): Promise<void>;
  close(): void;
}

export function createChromiumMemorySampler(options: {
  intervalMs: number;
  /** A sample of `session`'s browser; null when it is gone (remove its series). */
  onSample: (session: string, memory: TreeMemory | null) => void;
  procDir?: string;
}): ChromiumMemorySampler {
  const proc = options.procDir ?? "/proc";
  /** Each session's browser: its pid, and its start time once the first sample saw it. */
  const roots = new Map<string, { pid: number; startTicks: number | null; unseen: number }>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<void> | null = null;
  let closed = false;

  async function sampleAll(): Promise<void> {
    if (roots.size === 0) return;
    const table = await readProcessTable(proc);
    for (const [session, root] of [...roots]) {
      const entry = table.get(root.pid);
      // A walk that began before the browser was reported may not have it yet: one more chance.
      if (!entry && root.startTicks === null && root.unseen++ === 0) continue;
      root.startTicks ??= entry?.startTicks ?? null;
      if (!entry || entry.startTicks !== root.startTicks) {
        // Gone: unless the session reported another browser meanwhile.
        if (roots.get(session) === root) {
          roots.delete(session);
          options.onSample(session, null);
        }
        continue;
      }
      const memory = await memoryOf(treeOf(table, root.pid), proc);
      if (roots.get(session) === root) options.onSample(session, memory);
    }
    if (roots.size === 0) stopTimer();
  }

  function sample(): Promise<void> {
    running ??= sampleAll().catch(() => {}).finally(() => running = null);
    return running;
  }

  function stopTimer(): void {
    clearInterval(timer);
    timer = undefined;
  }

  return {
    track(session, pid) {
      if (closed) return;
      roots.set(session, { pid, startTicks: null, unseen: 0 });
      if (timer === undefined) {
        const interval = setInterval(() => void sample(), options.intervalMs);
        Deno.unrefTimer(interval);
        timer = interval;
      }
      void sample();
    },
    sample,
    close() {
      closed = true;
      stopTimer();
      roots.clear();
    },
  };
}
