/**
 * @module
 * Each V8 isolate's heap over time, read from the lines `--v8-flags=--trace-gc` prints (one per
 * GC: `[pid:0xISOLATE]   1234 ms: Incremental Mark-Compact 45.2 (60.1) -> 30.1 (58.0) MB, ...`). Every Worker
 * is an isolate of its own, so this tells which Worker's JS heap grows, where the process's PSS
 * cannot. The heap after a mark-compact is the live data; a scavenge's figure still holds old
 * garbage. An address may be reused by a later isolate (a Worker made after another ended): the
 * isolate's own clock (the ms after the colon) going back marks a new one.
 */

/** One GC as `--trace-gc` prints it. */
export interface GcEvent {
  /** The isolate's address as printed (`0x…`). */
  address: string;
  /** ms since that isolate began. */
  isolateMs: number;
  kind: string;
  beforeMb: number;
  afterMb: number;
  /** The heap's committed size after the GC. */
  committedMb: number;
  /** Freed pages V8 keeps for reuse rather than giving back (0 when not printed). */
  pooledMb: number;
}

const GC_LINE =
  /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: (Scavenge|Minor Mark-Sweep|(?:Incremental )?Mark-Compact(?: \(reduce\))?) ([\d.]+) \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB(?:, pooled: ([\d.]+) MB)?/;

export function parseGcLine(line: string): GcEvent | null {
  const match = GC_LINE.exec(line);
  if (!match) return null;
  return {
    address: match[1],
    isolateMs: Number(match[2]),
    kind: match[3],
    beforeMb: Number(match[4]),
    afterMb: Number(match[5]),
    committedMb: Number(match[6]),
    pooledMb: Number(match[7] ?? 0),
  };
}

/** One isolate's GCs, on the caller's clock (`t`, seconds). */
export interface IsolateHeap {
  /** The address, with `#n` when an earlier isolate had it. */
  id: string;
  firstT: number;
  lastT: number;
  /** The heap after each mark-compact. */
  marks: { t: number; mb: number }[];
  /** The heap after every GC, of any kind (a scavenge's figure includes old garbage). */
  afters: { t: number; mb: number; committedMb: number; pooledMb: number; markCompact: boolean }[];
  /** The committed heap after the last GC of any kind. */
  lastCommittedMb: number;
  gcs: number;
}

export interface GcTrace {
  /** Feeds one line the process printed (others are ignored); true when it was a GC line. */
  onLine(line: string, t: number): boolean;
  isolates(): IsolateHeap[];
}

export function createGcTrace(): GcTrace {
  const current = new Map<string, { heap: IsolateHeap; isolateMs: number }>();
  const all: IsolateHeap[] = [];
  const reused = new Map<string, number>();
  return {
    onLine(line, t) {
      const event = parseGcLine(line);
      if (!event) return false;
      let entry = current.get(event.address);
      if (!entry || event.isolateMs < entry.isolateMs) {
        const n = reused.get(event.address) ?? 0;
        reused.set(event.address, n + 1);
        const heap: IsolateHeap = {
          id: n === 0 ? event.address : `${event.address}#${n}`,
          firstT: t,
          lastT: t,
          marks: [],
          afters: [],
          lastCommittedMb: event.committedMb,
          gcs: 0,
        };
        all.push(heap);
        entry = { heap, isolateMs: event.isolateMs };
        current.set(event.address, entry);
      }
      entry.isolateMs = event.isolateMs;
      entry.heap.lastT = t;
      entry.heap.gcs++;
      entry.heap.lastCommittedMb = event.committedMb;
      const markCompact = event.kind.includes("Mark-Compact");
      entry.heap.afters.push({
        t,
        mb: event.afterMb,
        committedMb: event.committedMb,
        pooledMb: event.pooledMb,
        markCompact,
      });
      if (markCompact) entry.heap.marks.push({ t, mb: event.afterMb });
      return true;
    },
    isolates: () => all,
  };
}
