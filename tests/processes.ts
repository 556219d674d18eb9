/**
 * @module
 * The machine's processes as Linux's `/proc` shows them, for tests and benchmarks that look for the
 * Chromiums a server started: each process's pid, process group (puppeteer starts every browser
 * as the leader of a group of its own), state and command line. Read synchronously, once per call.
 */

export interface Proc {
  pid: number;
  /** Its process group (field 5 of `/proc/<pid>/stat`). */
  group: number;
  /** Its state (field 3): `R`, `S`, …, `Z` for a zombie not yet reaped. */
  state: string;
  /** Its command line, one argument per item. */
  args: string[];
}

/** Every process visible now (one that ends while it is read is left out). */
export function processes(): Proc[] {
  const found: Proc[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // The command name (field 2) is in parentheses and may hold spaces: count after it.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const args = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      found.push({ pid: Number(entry.name), group: Number(fields[2]), state: fields[0], args });
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** The pids in process group `group`. */
export function groupMembers(group: number): number[] {
  return processes().filter((p) => p.group === group).map((p) => p.pid);
}

/** Whether `proc` is one of the Chromium processes (any) whose profile lives under `dir`. */
export function isChromiumOn(proc: Proc, dir: string): boolean {
  return proc.args.some((a) => a.startsWith("--user-data-dir=") && a.includes(dir));
}

/**
 * Whether `proc` is a Chromium browser process (not one of its children, which carry `--type=`).
 * Debian's /usr/bin/chromium-headless-shell is a shell script that runs the binary as its child:
 * the script's process has the same arguments, and killing it leaves the browser running.
 */
export function isBrowser(proc: Proc): boolean {
  return !/(^|\/)(ba|da)?sh$/.test(proc.args[0]) &&
    !proc.args.some((a) => a.startsWith("--type="));
}

/** The pids of the Chromium browser processes whose profile lives under `dir`. */
export function browsersOn(dir: string): number[] {
  return processes().filter((p) => isChromiumOn(p, dir) && isBrowser(p)).map((p) => p.pid);
}

/** The process groups of every Chromium process (the launcher script's too) under `dir`. */
export function chromiumGroupsUnder(dir: string): Set<number> {
  return new Set(
    processes().filter((p) => isChromiumOn(p, dir) && p.state !== "Z").map((p) => p.group),
  );
}
