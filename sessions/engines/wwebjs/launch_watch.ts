/**
 * @module
 * Chromium's process group from the moment it is spawned, not from when puppeteer's `launch()`
 * resolves. Launching takes from a few hundred ms to seconds on a busy machine, and the session's
 * supervisor only kills the Chromium whose pid the engine reported: a Worker ended in that window
 * (a missed heartbeat, a stop) left its Chromium running for good (`deno task soak --long` found
 * two after a restart loop; `bench/README.md`). So the engine watches its own thread's children
 * for the browser on its profile folder while it launches, reports it at once, kills it itself
 * when stopped before the launch ends, and ends any process left on the folder (by an earlier
 * Worker, or a server killed with SIGKILL) before it starts.
 */

/** The process group of `pid` (puppeteer starts Chromium as the leader of a group of its own). */
function groupOf(pid: string): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
}

function holds(pid: string, flag: string): boolean {
  return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").includes(flag);
}

/**
 * The process groups of the processes anywhere on the machine whose command line names
 * `--user-data-dir=<profileDir>` (Debian's `chromium-headless-shell` is a shell script whose child
 * is the browser: both are in the group). Reads every process's command line: once per start.
 */
export function chromiumGroupsOn(profileDir: string): number[] {
  const flag = `--user-data-dir=${profileDir}`;
  const groups = new Set<number>();
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync("/proc");
  } catch {
    return []; // No /proc (not Linux): nothing to find.
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (!holds(entry.name, flag)) continue;
      const group = groupOf(entry.name);
      if (group > 1) groups.add(group);
    } catch {
      // Ended while we looked.
    }
  }
  return [...groups];
}

/**
 * The group of the process this thread spawned on `profileDir`, if any: only this thread's own
 * children are read (`/proc/thread-self/children`, a fraction of a millisecond), so it can be
 * asked often while Chromium launches.
 */
export function spawnedOn(profileDir: string): number | null {
  const flag = `--user-data-dir=${profileDir}`;
  try {
    for (const pid of Deno.readTextFileSync("/proc/thread-self/children").split(" ")) {
      if (!pid) continue;
      try {
        if (holds(pid, flag)) return groupOf(pid);
      } catch {
        // Ended while we looked.
      }
    }
  } catch {
    // No /proc (not Linux).
  }
  return null;
}

/** Whether process `pid` still runs (not ended, nor a zombie waiting to be reaped). */
export function isRunning(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** SIGKILL to a whole process group; quiet when it is gone already. */
export function killGroup(pid: number): void {
  try {
    Deno.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/**
 * Looks for Chromium's group on `profileDir` every `everyMs` until found (reported once through
 * `onFound`) or stopped. Returns what it found so far and the stop.
 */
export function watchLaunch(
  profileDir: string,
  onFound: (pid: number) => void,
  everyMs = 50,
): { found(): number | null; stop(): void } {
  let found: number | null = null;
  const look = () => {
    const group = spawnedOn(profileDir);
    if (group === null) return;
    found = group;
    clearInterval(timer);
    onFound(group);
  };
  const timer = setInterval(look, everyMs);
  return { found: () => found, stop: () => clearInterval(timer) };
}
