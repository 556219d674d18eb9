/**
 * @module
 * The admin API key of an install that configured no credential: generated once, so a fresh
 * install is never open. On SQLite it is kept in `DATA_DIR/admin-api-key`, readable only by the
 * server's user; on PostgreSQL in the database (`store/postgres/store.ts`), shared by every node.
 */
import { join } from "node:path";
import type { AdminKey } from "./store.ts";

/** A new admin key: `wag_` and 32 random bytes in hex. */
export function generateAdminKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return "wag_" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function loadOrCreateAdminKey(dataDir: string): AdminKey {
  const path = join(dataDir, "admin-api-key");
  try {
    const key = Deno.readTextFileSync(path).trim();
    if (key.length >= 32) return { key, generated: false, location: path };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  Deno.mkdirSync(dataDir, { recursive: true });
  const key = generateAdminKey();
  Deno.writeTextFileSync(path, key + "\n", { mode: 0o600 });
  Deno.chmodSync(path, 0o600);
  return { key, generated: true, location: path };
}
