/**
 * @module
 * The SQLite repositories are written synchronously (`node:sqlite` is) and handed out behind the
 * asynchronous interfaces: `promised` wraps each method so it returns a Promise of what it
 * computed, and a throw becomes a rejection. The work itself still runs in the call, so a
 * transaction never spans an `await` and no other statement can run inside it.
 */

/** The interface `T` with each method answering directly instead of with a Promise. */
export type Synchronous<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : T[K];
};

export function promised<T extends object>(sync: Synchronous<T>): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(sync)) {
    if (typeof value !== "function") {
      wrapped[name] = value;
      continue;
    }
    wrapped[name] = (...args: unknown[]) => {
      try {
        return Promise.resolve(value(...args));
      } catch (error) {
        return Promise.reject(error);
      }
    };
  }
  return wrapped as T;
}
