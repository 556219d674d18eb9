/**
 * @module
 * WhatsApp's servers as the simulators of several processes see them (`SIMULATOR_CLOUD_DIR`): a
 * device online for a number keeps a presence file in the shared folder fresh, as a real client
 * keeps its connection alive. A device that comes online, or stays online, while another device
 * of the same number is online is a conflict, as WhatsApp answers two web clients on one login:
 * it is appended to `conflicts.log` (what the cluster's tests read) and the session goes CONFLICT.
 * A split brain between nodes then fails a test instead of passing unseen.
 *
 * A device is its login's folder (each node keeps its own), so a Worker restarted on the same
 * node is the same device reconnecting. A device whose keep-alive stopped for `STALE_MS` (its
 * process paused) is dropped by the "server" and must reconnect before it is online again, as a
 * real client must after its socket was closed. Worker files with Deno's API only (no `node:`).
 */

import { every, type Timer } from "../../worker_timers.ts";

/** How often an online device refreshes its presence. */
const BEAT_MS = 200;
/** A presence older than this is offline; a device that could not beat for this long is dropped. */
export const STALE_MS = 1_000;
/** How long a dropped device takes to reconnect. */
const RECONNECT_MS = 1_000;

export interface CloudEvents {
  /** Another device of the login is online: the session must go CONFLICT. */
  conflict(reason: string): void;
  /** The server dropped this device (it missed its keep-alives): reconnect later. */
  dropped(): void;
}

export interface SimulatorCloud {
  /** Goes online; false (and a conflict reported) when another device of the login is. */
  online(): boolean;
  /** Goes offline (stop, logout). */
  offline(): void;
  /** How long a dropped device waits before it reconnects. */
  readonly reconnectMs: number;
}

/** A short stable name for a device folder. */
function deviceName(sessionDir: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < sessionDir.length; i++) {
    hash = Math.imul(hash ^ sessionDir.charCodeAt(i), 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

export function joinSimulatorCloud(
  dir: string,
  input: { phoneNumber: string; sessionDir: string },
  events: CloudEvents,
): SimulatorCloud {
  const numberDir = `${dir}/${input.phoneNumber}`;
  const device = deviceName(input.sessionDir);
  const presence = `${numberDir}/${device}.json`;
  let timer: Timer | null = null;
  let lastBeat = 0;

  /** Other devices of the login online now. */
  function othersOnline(now: number): string[] {
    const others: string[] = [];
    try {
      for (const entry of Deno.readDirSync(numberDir)) {
        if (!entry.name.endsWith(".json") || entry.name === `${device}.json`) continue;
        try {
          const seen = JSON.parse(Deno.readTextFileSync(`${numberDir}/${entry.name}`));
          if (now - seen.at < STALE_MS) others.push(`${seen.device}`);
        } catch {
          // Being written or removed.
        }
      }
    } catch {
      // No device of this number yet.
    }
    return others;
  }

  function write(now: number): void {
    Deno.mkdirSync(numberDir, { recursive: true });
    const text = JSON.stringify({ device: input.sessionDir, at: now });
    Deno.writeTextFileSync(`${presence}.tmp`, text);
    Deno.renameSync(`${presence}.tmp`, presence);
  }

  function remove(): void {
    timer?.cancel();
    timer = null;
    try {
      Deno.removeSync(presence);
    } catch {
      // Not online.
    }
  }

  /** Online with others: report it (both devices do, whoever notices first). */
  function conflict(others: string[]): boolean {
    if (others.length === 0) return false;
    remove();
    const line = JSON.stringify({
      phoneNumber: input.phoneNumber,
      device: input.sessionDir,
      others,
      at: new Date().toISOString(),
    });
    try {
      Deno.writeTextFileSync(`${dir}/conflicts.log`, `${line}\n`, { append: true });
    } catch {
      // The folder is gone (the test ended).
    }
    events.conflict("Another device is online with this login");
    return true;
  }

  function beat(): void {
    const now = Date.now();
    if (now - lastBeat > STALE_MS) {
      // This process was paused: the server closed the connection long ago.
      remove();
      events.dropped();
      return;
    }
    lastBeat = now;
    if (conflict(othersOnline(now))) return;
    write(now);
  }

  return {
    reconnectMs: RECONNECT_MS,
    online() {
      const now = Date.now();
      if (conflict(othersOnline(now))) return false;
      lastBeat = now;
      write(now);
      if (timer === null) timer = every(BEAT_MS, beat);
      return true;
    },
    offline: remove,
  };
}
