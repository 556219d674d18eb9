/**
 * @module
 * The memory of a process tree, read from Linux's `/proc`: a root process (a session's Chromium,
 * which runs in its own process group) and every descendant, found through each process's parent
 * in `/proc/<pid>/stat`. PSS (`smaps_rollup`) shares each page among the processes that map it, so
 * it adds up across the tree and across sessions; RSS counts a shared page in every process.
 * A root is known by its pid and its start time, so a pid the kernel gave to another process after
 * Chromium died is not mistaken for it.
 */

export interface ProcessEntry {
  ppid: number;
  /** Clock ticks since boot (field 22 of `stat`): with the pid, names one process for good. */
  startTicks: number;
}

export interface TreeMemory {
  processes: number;
  rssBytes: number;
  /** Null where `smaps_rollup` cannot be read (an old kernel, another user's process). */
  pssBytes: number | null;
}

/** Parses `/proc/<pid>/stat`; null when it is not a stat line. */
export function parseStat(text: string): ProcessEntry | null {
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
  const end = text.lastIndexOf(")");
  if (end < 0) return null;
  const fields = text.slice(end + 2).split(" ");
  const ppid = Number(fields[1]);
  const startTicks = Number(fields[19]);
  if (!Number.isInteger(ppid) || !Number.isFinite(startTicks)) return null;
  return { ppid, startTicks };
}

/** Every process visible in `proc`, by pid. */
export async function readProcessTable(proc = "/proc"): Promise<Map<number, ProcessEntry>> {
  const table = new Map<number, ProcessEntry>();
  const reads: Promise<void>[] = [];
  for await (const entry of Deno.readDir(proc)) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    reads.push(
      Deno.readTextFile(`${proc}/${pid}/stat`).then((text) => {
        const parsed = parseStat(text);
        if (parsed) table.set(pid, parsed);
      }, () => {}), // Gone meanwhile.
    );
  }
  await Promise.all(reads);
  return table;
}

/** `root` and its descendants, as the table has them. */
export function treeOf(table: ReadonlyMap<number, ProcessEntry>, root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of table) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const tree: number[] = [];
  const next = [root];
  while (next.length > 0) {
    const pid = next.pop()!;
    tree.push(pid);
    next.push(...children.get(pid) ?? []);
  }
  return tree;
}

const kbField = (text: string, name: string): number | null => {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
  return match ? Number(match[1]) * 1024 : null;
};

/** One process's RSS and PSS in bytes; null when it is gone. */
async function memoryOfProcess(
  proc: string,
  pid: number,
): Promise<{ rss: number; pss: number | null } | null> {
  try {
    const rollup = await Deno.readTextFile(`${proc}/${pid}/smaps_rollup`);
    const rss = kbField(rollup, "Rss");
    if (rss !== null) return { rss, pss: kbField(rollup, "Pss") };
  } catch {
    // No smaps_rollup (kernel before 4.14) or not ours to read: RSS from status.
  }
  try {
    const status = await Deno.readTextFile(`${proc}/${pid}/status`);
    return { rss: kbField(status, "VmRSS") ?? 0, pss: null };
  } catch {
    return null;
  }
}

/** The memory of `pids` summed; `pssBytes` null when any process's PSS was unreadable. */
export async function memoryOf(pids: readonly number[], proc = "/proc"): Promise<TreeMemory> {
  const each = await Promise.all(pids.map((pid) => memoryOfProcess(proc, pid)));
  let processes = 0, rssBytes = 0, pssBytes: number | null = 0;
  for (const memory of each) {
    if (!memory) continue;
    processes++;
    rssBytes += memory.rss;
    pssBytes = pssBytes === null || memory.pss === null ? null : pssBytes + memory.pss;
  }
  return { processes, rssBytes, pssBytes };
}
