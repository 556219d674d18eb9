/**
 * @module
 * The admin API key of an install that configured no credential: generated once, kept in
 * `DATA_DIR/admin-api-key` readable only by the server's user, so a fresh install is never open.
 */
import { join } from "node:path";

export interface AdminKey {
  key: string;
  /** True when this call generated it (print it once). */
  generated: boolean;
  path: string;
}

export function loadOrCreateAdminKey(dataDir: string): AdminKey {
  const path = join(dataDir, "admin-api-key");
  try {
    const key = Deno.readTextFileSync(path).trim();
    if (key.length >= 32) return { key, generated: false, path };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  Deno.mkdirSync(dataDir, { recursive: true });
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const key = "wag_" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  Deno.writeTextFileSync(path, key + "\n", { mode: 0o600 });
  Deno.chmodSync(path, 0o600);
  return { key, generated: true, path };
}
