/**
 * @module
 * This node's identity: `NODE_ID` when set, else an id generated at the first start and kept in
 * `DATA_DIR/node-id`, so a restarted node is the same node (its leases, its row in `nodes`).
 */
import { join } from "node:path";

const ID_FILE = "node-id";
const VALID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `configured` (NODE_ID) or the id kept in `dataDir`, generated there the first time. */
export function resolveNodeId(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const path = join(dataDir, ID_FILE);
  try {
    const kept = Deno.readTextFileSync(path).trim();
    if (VALID.test(kept)) return kept;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const id = `node-${crypto.randomUUID().slice(0, 8)}`;
  Deno.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  Deno.writeTextFileSync(path, `${id}\n`, { mode: 0o600 });
  return id;
}
