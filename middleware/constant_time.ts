/**
 * @module
 * Comparing secrets without leaking, through timing, how much of a guess was right. Both sides are
 * hashed with SHA-256 first, so the comparison always runs over 32 bytes whatever the lengths are,
 * and the loop looks at every byte. Web-standard (`crypto.subtle`) so it runs wherever Hono runs.
 */

const encoder = new TextEncoder();

/** The SHA-256 digest of a string's UTF-8 bytes. */
export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Compares two byte arrays in time that depends only on their lengths, never on their content. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

/** Whether two strings are equal, compared in constant time over their SHA-256 digests. */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
  const [left, right] = await Promise.all([sha256(a), sha256(b)]);
  return equalBytes(left, right);
}
