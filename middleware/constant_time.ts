/**
 * @module
 * Comparing secrets without leaking, through timing, how much of a guess was right: the loops look
 * at every byte whatever the bytes are, with no early exit. Plain JavaScript, so it runs wherever
 * Hono runs.
 */

/** Compares two byte arrays in time that depends only on their lengths, never on their content. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

/**
 * Whether `given` equals `expected`, in time that depends only on `expected`'s length: every byte
 * of `expected` is looked at whatever `given` is, so a guess learns nothing from the clock about
 * how much of it was right. Synchronous and hash-free, for the per-request API key check.
 */
export function equalToSecret(given: Uint8Array, expected: Uint8Array): boolean {
  let difference = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) difference |= expected[i] ^ (given[i] ?? 0);
  return difference === 0;
}
