/**
 * @module
 * At most a few callers per turn of the event loop, the others in later turns, in the order they
 * came. A start request is a few milliseconds of the main thread's work with no real wait in it
 * (its store is SQLite's, synchronous): when a fleet's client sends them 64 at a time, one turn ran
 * the starts of all 64, and every other request (a `/health`) waited behind the turn, 100–200 ms
 * (bench/README.md, "where the slow probes are"). Between two turns' admissions the event loop
 * polls its I/O, so other requests are served in between; the starts are answered at the same
 * pace, each a little later.
 */

export interface TurnGate {
  /** Resolves in a later turn of the event loop, once this caller's place in the queue came. */
  pass(): Promise<void>;
  /** Callers waiting now (what the tests look at). */
  readonly waiting: number;
}

export function createTurnGate(perTurn: number): TurnGate {
  const queue: (() => void)[] = [];
  let scheduled = false;

  function admit(): void {
    scheduled = false;
    for (const resolve of queue.splice(0, perTurn)) resolve();
    if (queue.length > 0) schedule();
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setTimeout(admit, 0);
  }

  return {
    pass() {
      return new Promise<void>((resolve) => {
        queue.push(resolve);
        schedule();
      });
    },
    get waiting() {
      return queue.length;
    },
  };
}
