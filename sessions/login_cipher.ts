/**
 * @module
 * Authenticated encryption of a saved login at rest (`AUTH_ENCRYPTION_KEY`): AES-256-GCM with a
 * fresh 96-bit nonce per save, and the number as additional data, so a blob opens only with the
 * key and only as the login of the number it was sealed for (a row copied onto another number
 * fails like a wrong key). A sealed blob is `WAL1` ‖ nonce ‖ ciphertext ‖ tag: nothing of the
 * archive inside is readable without the key.
 */

/** The key is 32 random bytes, written in base64 (standard or URL-safe) or in hex. */
export const AUTH_KEY_HINT =
  "32 random bytes in base64, e.g. the output of `openssl rand -base64 32`";

const MAGIC = new TextEncoder().encode("WAL1");
const NONCE_BYTES = 12;

/** A blob that is not a login sealed with this key for this number (or was altered). */
export class LoginCipherError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LoginCipherError";
  }
}

/** The key's 32 bytes, or null when `text` is not 32 bytes in base64 or hex. */
export function parseAuthKey(text: string): Uint8Array | null {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    return Uint8Array.from(trimmed.match(/../g)!.map((pair) => parseInt(pair, 16)));
  }
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return null;
  try {
    const standard = trimmed.replaceAll("-", "+").replaceAll("_", "/");
    const padded = standard.padEnd(Math.ceil(standard.length / 4) * 4, "=");
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    return bytes.length === 32 ? bytes : null;
  } catch {
    return null;
  }
}

/** Seals and opens the logins of one key. */
export interface LoginCipher {
  seal(phoneNumber: string, archive: Uint8Array): Promise<Uint8Array>;
  /** Throws `LoginCipherError` for a wrong key, another number's blob, or altered bytes. */
  open(phoneNumber: string, sealed: Uint8Array): Promise<Uint8Array>;
}

/** The cipher of `AUTH_ENCRYPTION_KEY` (throws when it is not a valid key). */
export async function createLoginCipher(keyText: string): Promise<LoginCipher> {
  const raw = parseAuthKey(keyText);
  if (!raw) throw new LoginCipherError(`AUTH_ENCRYPTION_KEY must be ${AUTH_KEY_HINT}`);
  const key = await crypto.subtle.importKey(
    "raw",
    raw as Uint8Array<ArrayBuffer>,
    "AES-GCM",
    false,
    [
      "encrypt",
      "decrypt",
    ],
  );
  const aad = (phoneNumber: string) => new TextEncoder().encode(`wa-gateway login ${phoneNumber}`);
  return {
    async seal(phoneNumber, archive) {
      const iv = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
      const sealed = new Uint8Array(
        await crypto.subtle.encrypt(
          { name: "AES-GCM", iv, additionalData: aad(phoneNumber) },
          key,
          archive as Uint8Array<ArrayBuffer>,
        ),
      );
      const blob = new Uint8Array(MAGIC.length + NONCE_BYTES + sealed.length);
      blob.set(MAGIC);
      blob.set(iv, MAGIC.length);
      blob.set(sealed, MAGIC.length + NONCE_BYTES);
      return blob;
    },
    async open(phoneNumber, sealed) {
      const head = sealed.subarray(0, MAGIC.length);
      if (
        sealed.length < MAGIC.length + NONCE_BYTES + 16 || !head.every((b, i) => b === MAGIC[i])
      ) {
        throw new LoginCipherError("Not a sealed login");
      }
      const iv = sealed.slice(MAGIC.length, MAGIC.length + NONCE_BYTES);
      try {
        return new Uint8Array(
          await crypto.subtle.decrypt(
            { name: "AES-GCM", iv, additionalData: aad(phoneNumber) },
            key,
            sealed.slice(MAGIC.length + NONCE_BYTES),
          ),
        );
      } catch {
        throw new LoginCipherError(
          "The saved login does not open with AUTH_ENCRYPTION_KEY (another key, or altered)",
        );
      }
    },
  };
}
