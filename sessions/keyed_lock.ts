/**
 * @module
 * A lock per key: work for one key runs strictly one after another, work for different keys runs
 * freely. The session manager uses it so concurrent start/stop/restart of a number never race.
 */

export interface KeyedLock {
  /** Runs `work` once every earlier work for `key` has settled; a failure does not block the next. */
  run<T>(key: string, work: () => Promise<T>): Promise<T>;
  /** How many keys have work queued or running. */
  readonly size: number;
}

export function createKeyedLock(): KeyedLock {
  const tails = new Map<string, Promise<void>>();
  return {
    run<T>(key: string, work: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(work);
      const tail = result.then(() => {}, () => {});
      tails.set(key, tail);
      tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
    get size() {
      return tails.size;
    },
  };
}
