/**
 * @module
 * The numbers' whatsapp-web.js logins kept in the shared store (a cluster), so a number goes on
 * without a new scan on whichever node runs it next. The engine packs the login in its Worker
 * (`login` events); this part, on the main thread that owns the database pool, seals it
 * (`login_cipher.ts`) and saves it under the session's lease (a stale lease is refused by the
 * store), one save at a time per number with the newest archive winning. A save that fails is
 * logged and tried again with a growing delay; it never touches the session.
 *
 * Before a Worker starts a number, `prepare` decides between the local login and the stored one
 * by their lease epochs: the local copy records the epoch of the last run on this node
 * (`auth/login-epoch`, written once the engine started), the stored one the epoch it was saved
 * under. A stored login of a later epoch means another node ran the number since: it replaces the
 * local copy. Otherwise the local copy is at least as new (this node saved it, and kept running
 * after that save) and stays. No stored login for the account that owns the number means it was
 * logged out or deleted elsewhere (a login is saved as soon as it links): a local copy is then
 * stale, another account's or unlinked, and is deleted, so the number asks for a QR.
 */
import { join } from "node:path";
import { describeError, type Logger } from "../logger.ts";
import type { Fence, LoginRepository } from "../store/store.ts";
import type { EngineOptions } from "./engine.ts";
import { LINKED_MARKER, LOGIN_DIR } from "./engines/wwebjs/login_archive.ts";
import type { LoginCipher } from "./login_cipher.ts";

/** Beside the login in its folder: the lease epoch of the last run here (deleted with it). */
const LOCAL_EPOCH_FILE = "login-epoch";
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 60_000;
/** Attempts of one archive before it is given up (about five minutes of retries). */
const MAX_ATTEMPTS = 10;

export interface SavedLoginsDeps {
  logins: LoginRepository;
  cipher: LoginCipher;
  log: Logger;
  /** `AUTH_BACKUP_INTERVAL_MS`: how often a running session's login is saved. */
  intervalMs: number;
  /** The first retry's delay (doubling up to a minute); tests shorten it. */
  retryMinMs?: number;
}

export interface SavedLogins {
  /**
   * For a Worker about to start the number: the engine's `loginBackup`, with the stored login to
   * restore when it is newer than the local one (a local one with none stored is deleted).
   */
  prepare(
    phoneNumber: string,
    sessionDir: string,
  ): Promise<NonNullable<EngineOptions["loginBackup"]>>;
  /** The engine started under `fence`: the local login is this run's from now on. */
  started(sessionDir: string, fence: Fence | null): Promise<void>;
  /** Saves an archive the engine reported (superseding one not yet saved). */
  save(phoneNumber: string, archive: Uint8Array, fence: Fence | null): void;
  /** Resolves once the number's latest archive was saved, refused or given up, or after `timeoutMs`. */
  settled(phoneNumber: string, timeoutMs: number): Promise<void>;
  /** When the number's login was last saved, as this node knows it (it runs or ran it). */
  lastSaved(phoneNumber: string): number | undefined;
  /** When each number's login was last saved, from the store. */
  lastSavedOf(phoneNumbers: string[]): Promise<Map<string, number>>;
  /** The login is gone (a logout, a delete, a refused login): removed everywhere, saves dropped. */
  forget(phoneNumber: string): Promise<void>;
}

interface Pending {
  archive: Uint8Array;
  fence: Fence;
}

export function createSavedLogins(deps: SavedLoginsDeps): SavedLogins {
  const { logins, cipher, log } = deps;
  const retryMinMs = deps.retryMinMs ?? RETRY_MIN_MS;
  /** The newest archive of each number not yet saved. */
  const pending = new Map<string, Pending>();
  /** Each number's save loop, while it runs. */
  const loops = new Map<string, Promise<void>>();
  /** The store write under way per number (awaited by `forget` before it deletes). */
  const writing = new Map<string, Promise<unknown>>();
  /** Numbers whose login was forgotten: their late archives are dropped until the next start. */
  const forgotten = new Set<string>();
  const saved = new Map<string, number>();

  async function saveLoop(phoneNumber: string): Promise<void> {
    let delay = retryMinMs;
    let attempts = 0;
    let last: Pending | undefined;
    while (true) {
      const next = pending.get(phoneNumber);
      if (!next || forgotten.has(phoneNumber)) return;
      pending.delete(phoneNumber);
      if (next !== last) attempts = 0;
      last = next;
      attempts++;
      try {
        const write = (async () => {
          const blob = await cipher.seal(phoneNumber, next.archive);
          return await logins.save(phoneNumber, { blob, size: next.archive.length }, next.fence);
        })();
        writing.set(phoneNumber, write);
        const savedAt = await write.finally(() => writing.delete(phoneNumber));
        delay = retryMinMs;
        if (savedAt === null) {
          log.warn("saved login refused: another node runs the number since", {
            session: phoneNumber,
            epoch: next.fence.epoch,
          });
        } else {
          saved.set(phoneNumber, savedAt);
          log.debug("login saved", { session: phoneNumber, bytes: next.archive.length });
        }
      } catch (error) {
        const giveUp = attempts >= MAX_ATTEMPTS;
        log.warn(
          giveUp ? "saving the login failed; giving up" : "saving the login failed; retrying",
          {
            session: phoneNumber,
            attempt: attempts,
            retryInMs: giveUp ? undefined : delay,
            error: describeError(error),
          },
        );
        if (giveUp) continue;
        // A newer archive that came meanwhile goes instead of this one.
        if (!pending.has(phoneNumber)) pending.set(phoneNumber, next);
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  async function localEpoch(sessionDir: string): Promise<number | null> {
    const folder = join(sessionDir, LOGIN_DIR);
    try {
      await Deno.stat(join(folder, LINKED_MARKER));
    } catch {
      return null; // No local login.
    }
    try {
      const epoch = Number(await Deno.readTextFile(join(folder, LOCAL_EPOCH_FILE)));
      return Number.isSafeInteger(epoch) ? epoch : 0;
    } catch {
      // A login from before the cluster (a single node's, carried by migrate-to-postgres).
      return 0;
    }
  }

  return {
    async prepare(phoneNumber, sessionDir) {
      forgotten.delete(phoneNumber);
      const backup: NonNullable<EngineOptions["loginBackup"]> = { intervalMs: deps.intervalMs };
      try {
        const [stored, local] = await Promise.all([
          logins.get(phoneNumber),
          localEpoch(sessionDir),
        ]);
        if (stored) saved.set(phoneNumber, stored.savedAt);
        if (!stored && local !== null) {
          log.info("no saved login for the number: its local login is not used", {
            session: phoneNumber,
          });
          await Deno.remove(join(sessionDir, LOGIN_DIR), { recursive: true });
        }
        if (stored && (local === null || stored.epoch > local)) {
          backup.restore = await cipher.open(phoneNumber, stored.blob);
          log.info("restoring the saved login", {
            session: phoneNumber,
            savedBy: stored.nodeId,
            epoch: stored.epoch,
            bytes: stored.size,
          });
        }
      } catch (error) {
        // The local login (or a QR) rather than no session at all.
        log.error("reading the saved login failed; starting with the local one", {
          session: phoneNumber,
          error: describeError(error),
        });
      }
      return backup;
    },

    async started(sessionDir, fence) {
      if (!fence) return;
      const folder = join(sessionDir, LOGIN_DIR);
      try {
        await Deno.mkdir(folder, { recursive: true });
        await Deno.writeTextFile(join(folder, LOCAL_EPOCH_FILE), String(fence.epoch));
      } catch (error) {
        // The session runs; its next start here may restore a login it did not need to.
        log.warn("recording the local login's epoch failed", { error: describeError(error) });
      }
    },

    save(phoneNumber, archive, fence) {
      if (!fence || forgotten.has(phoneNumber)) return;
      pending.set(phoneNumber, { archive, fence });
      if (loops.has(phoneNumber)) return;
      const loop = saveLoop(phoneNumber).finally(() => loops.delete(phoneNumber));
      loops.set(phoneNumber, loop);
    },

    async settled(phoneNumber, timeoutMs) {
      const loop = loops.get(phoneNumber);
      if (!loop) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        loop,
        new Promise((resolve) => timer = setTimeout(resolve, timeoutMs)),
      ]);
      clearTimeout(timer);
    },

    lastSaved: (phoneNumber) => saved.get(phoneNumber),

    lastSavedOf: (phoneNumbers) => logins.savedAt(phoneNumbers),

    async forget(phoneNumber) {
      forgotten.add(phoneNumber);
      pending.delete(phoneNumber);
      saved.delete(phoneNumber);
      // A write already sent must land before the delete, or it would bring the login back.
      await writing.get(phoneNumber)?.catch(() => {});
      await logins.remove(phoneNumber);
    },
  };
}
