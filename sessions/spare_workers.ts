/**
 * @module
 * One whatsapp-web.js Worker made ahead of the next start. Loading puppeteer and whatsapp-web.js
 * into a new Worker takes ~0.4 s of the ~1 s from `POST /start` to the first QR; a spare has loaded
 * them already (`engines/wwebjs/worker.ts` imports them before it links), so a start that finds
 * one goes straight to launching Chromium. The next spare is made a moment after one is taken,
 * once that start has had the CPU it needs.
 *
 * At most one spare exists: idle memory grows by one Worker (~35 MB), and only where whatsapp-web.js
 * runs. A spare nobody takes ends after `idleMs` (a script that ran one session should not be kept
 * alive by it), except on a server that asked to keep one warm.
 */
import { pulseOf } from "./heartbeat.ts";
import { sharedSpawner, type SpawnedWorker, type Spawner, type SpawnOptions } from "./spawner.ts";
import { WWEBJS_ENTRY } from "./worker_source.ts";

export interface SpareWorkersOptions {
  spawner?: Spawner;
  url?: URL;
  /** The heartbeat period whose pulse a spare follows (fixed when the Worker is made). */
  beatEveryMs?: number;
  /** How long after a take the next spare is made (default 2 s). */
  replenishMs?: number;
  /** How long an untaken spare lives (default 60 s; `Infinity` keeps it). */
  idleMs?: number;
}

/** What the host's supervision needs to hear about the Worker it adopts. */
export type Adopter = Pick<SpawnOptions, "onCreated" | "onDeath">;

export interface SpareWorkers {
  /** A spare is up with its modules loaded (it counts its heartbeat once they are). */
  readonly ready: boolean;
  /** The spare, if one is up and alive, handed to `adopter`; another is made soon after. */
  take(beatEveryMs: number, adopter: Adopter): SpawnedWorker | undefined;
  /**
   * Makes a spare now if there is none (counting every `beatEveryMs`), and keeps one from now on
   * until taken (a server's boot).
   */
  keepWarm(beatEveryMs?: number): void;
  /** Ends the spare. */
  close(): void;
}

interface Spare {
  worker: SpawnedWorker;
  beatEveryMs: number;
  created: boolean;
  adopter?: Adopter;
}

export function createSpareWorkers(options: SpareWorkersOptions = {}): SpareWorkers {
  const url = options.url ?? WWEBJS_ENTRY;
  const replenishMs = options.replenishMs ?? 2_000;
  let idleMs = options.idleMs ?? 60_000;
  let beatEveryMs = options.beatEveryMs ?? 500;
  let spare: Spare | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function later(ms: number, work: () => void): void {
    clearTimeout(timer);
    timer = undefined;
    if (!Number.isFinite(ms)) return;
    timer = setTimeout(work, ms);
    Deno.unrefTimer(timer);
  }

  function make(): void {
    if (spare) return;
    const made: Spare = { beatEveryMs, created: false } as Spare;
    made.worker = (options.spawner ?? sharedSpawner()).spawn(url, {
      name: "spare session",
      pulse: pulseOf(beatEveryMs),
      onCreated: () => {
        made.created = true;
        made.adopter?.onCreated();
      },
      onDeath: (reason) => {
        if (made.adopter) made.adopter.onDeath(reason);
        else if (spare === made) spare = undefined;
      },
    });
    spare = made;
    later(idleMs, () => {
      if (spare === made) {
        spare = undefined;
        made.worker.end();
      }
    });
  }

  return {
    get ready() {
      return spare !== undefined && Atomics.load(spare.worker.beats, 0) > 0;
    },
    take(wantedBeatEveryMs, adopter) {
      beatEveryMs = wantedBeatEveryMs;
      const taken = spare;
      spare = undefined;
      later(replenishMs, make);
      // A spare counting at another pace would be judged by the wrong clock: made again.
      if (!taken || taken.beatEveryMs !== wantedBeatEveryMs) {
        taken?.worker.end();
        return undefined;
      }
      taken.adopter = adopter;
      if (taken.created) adopter.onCreated();
      return taken.worker;
    },
    keepWarm(wantedBeatEveryMs = beatEveryMs) {
      beatEveryMs = wantedBeatEveryMs;
      idleMs = Infinity;
      clearTimeout(timer);
      make();
    },
    close() {
      clearTimeout(timer);
      spare?.worker.end();
      spare = undefined;
    },
  };
}

let shared: SpareWorkers | undefined;

/** The process's spare whatsapp-web.js Worker, made on first use. */
export function sharedSpareWorkers(): SpareWorkers {
  shared ??= createSpareWorkers();
  return shared;
}
