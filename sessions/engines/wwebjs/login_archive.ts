/**
 * @module
 * A whatsapp-web.js login as bytes: what a Chromium profile needs to open WhatsApp Web already
 * linked, packed from the session's login folder and unpacked into another node's. Kept from
 * whatsapp-web.js's `RemoteAuth`: only the profile's `IndexedDB` and `Local Storage` (where
 * WhatsApp Web keeps its keys), none of Chromium's caches. Unlike it, the archive is made in
 * memory (no temporary zip on disk), and a restore replaces the whole login folder (no mix of two
 * logins' files).
 *
 * The archive is gzip over a plain list of files, `WAGA1\n` then, per file, its path's length
 * (u16), its path (UTF-8, relative, `/`-separated), its size (u32) and its bytes. A live profile
 * is copied while Chromium writes it: a file that disappears under the copy (LevelDB compacts and
 * deletes its tables) makes the copy start over, so the files read fit together.
 */
import { join } from "node:path";

/** The session folder's subfolder where whatsapp-web.js keeps the login (`LocalAuth`'s dataPath). */
export const LOGIN_DIR = "auth";
/** Written into the login folder once the session was ready: a login to restore exists. */
export const LINKED_MARKER = "linked";

/** The login folder's files that make the login (LocalAuth's profile is `session-<clientId>`). */
const LOGIN_PARTS = [
  "session-session/Default/IndexedDB",
  "session-session/Default/Local Storage",
];
const MAGIC = new TextEncoder().encode("WAGA1\n");
const ATTEMPTS = 3;

/** An archive that cannot be read (not ours, truncated, or a path that leaves the folder). */
export class LoginArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LoginArchiveError";
  }
}

/**
 * Packs the login kept in `authDir` (with `marker`, the file that says a login exists), or null
 * when there is none.
 */
export async function packLogin(authDir: string, marker: string): Promise<Uint8Array | null> {
  for (let attempt = 1;; attempt++) {
    try {
      const files = new Map<string, Uint8Array>();
      files.set(marker, await Deno.readFile(join(authDir, marker)));
      for (const part of LOGIN_PARTS) await collect(authDir, part, files);
      return await gzip(encode(files));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      // No marker: nothing to save. A file gone under the copy: copy again.
      const marked = await Deno.stat(join(authDir, marker)).then(() => true, () => false);
      if (!marked) return null;
      if (attempt >= ATTEMPTS) throw error;
    }
  }
}

/** Replaces the login folder `authDir` with the archive's files. */
export async function unpackLogin(authDir: string, archive: Uint8Array): Promise<void> {
  const files = decode(await gunzip(archive));
  await Deno.remove(authDir, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  for (const [path, bytes] of files) {
    const target = join(authDir, path);
    await Deno.mkdir(join(target, ".."), { recursive: true });
    await Deno.writeFile(target, bytes, { mode: 0o600 });
  }
}

/** The archive's paths and sizes (tests, and an operator's look inside a decrypted archive). */
export async function listLogin(archive: Uint8Array): Promise<Map<string, number>> {
  const files = decode(await gunzip(archive));
  return new Map([...files].map(([path, bytes]) => [path, bytes.length]));
}

async function collect(root: string, path: string, into: Map<string, Uint8Array>): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(join(root, path)));
  } catch (error) {
    // A profile without this part (no Local Storage yet) is fine.
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  for (const entry of entries) {
    const child = `${path}/${entry.name}`;
    if (entry.isDirectory) await collect(root, child, into);
    else if (entry.isFile) into.set(child, await Deno.readFile(join(root, child)));
  }
}

function encode(files: Map<string, Uint8Array>): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [MAGIC];
  for (const [path, bytes] of files) {
    const name = encoder.encode(path);
    const head = new Uint8Array(6);
    const view = new DataView(head.buffer);
    view.setUint16(0, name.length);
    view.setUint32(2, bytes.length);
    parts.push(head.subarray(0, 2), name, head.subarray(2), bytes);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function decode(data: Uint8Array): Map<string, Uint8Array> {
  if (data.length < MAGIC.length || !MAGIC.every((b, i) => data[i] === b)) {
    throw new LoginArchiveError("Not a login archive");
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const files = new Map<string, Uint8Array>();
  let at = MAGIC.length;
  while (at < data.length) {
    if (at + 2 > data.length) throw new LoginArchiveError("Truncated login archive");
    const nameLength = view.getUint16(at);
    at += 2;
    if (at + nameLength + 4 > data.length) throw new LoginArchiveError("Truncated login archive");
    const path = decoder.decode(data.subarray(at, at + nameLength));
    at += nameLength;
    const size = view.getUint32(at);
    at += 4;
    if (at + size > data.length) throw new LoginArchiveError("Truncated login archive");
    if (!isSafePath(path)) throw new LoginArchiveError(`A path leaves the login folder: ${path}`);
    files.set(path, data.slice(at, at + size));
    at += size;
  }
  return files;
}

/** Relative, `/`-separated, no `.`/`..` segments and no empty ones. */
function isSafePath(path: string): boolean {
  if (path.startsWith("/") || path.includes("\\") || path.includes("\0")) return false;
  return path.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
}

async function gzip(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function gunzip(data: Uint8Array): Promise<Uint8Array> {
  try {
    const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
      new DecompressionStream("gzip"),
    );
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    throw new LoginArchiveError("Not a login archive (not gzip)");
  }
}
