/**
 * @module
 * What the simulator's phone keeps across restarts, as a real phone keeps its chats: the chats with
 * their messages, the blocks, the profile and the labels in `simulator-state.json` in the session's folder,
 * and each sent media in a file of its own under `simulator-media/` (read back when it is asked
 * for). Written by the engine inside its Worker with Deno's file API alone: a `node:` module would
 * cost every simulator Worker Deno's Node layer (bench/worker_memory.ts). A logout deletes the
 * folder, and with it all of this.
 */
import type { MediaInput } from "../../engine.ts";
import type { SimChat } from "./data.ts";
import type { SimLabel } from "./social.ts";
import type { SimChannel } from "./channels.ts";
import type { OwnStatus } from "./status.ts";
import { after, type Timer } from "../../worker_timers.ts";

const STATE_FILE = "simulator-state.json";
const MEDIA_DIR = "simulator-media";
/** Changes that come together (a burst of incoming messages) are written once. */
const WRITE_AFTER_MS = 50;

export interface SimulatorState {
  chats: SimChat[];
  blocked: string[];
  profile: { name: string; status: string; picture: string | null };
  /** The account's labels (absent in a state written before there were labels). */
  labels?: SimLabel[];
  /** The channels the phone knows (`channels.ts`); absent in a file of an older version. */
  channels?: SimChannel[];
  /** The account's own statuses (`status.ts`). */
  ownStatuses?: OwnStatus[];
}

export interface SimulatorStateFile {
  /** The state written by an earlier run, or null (first start, or an unreadable file). */
  load(): SimulatorState | null;
  /** Writes the state soon, if it changed since it was last written. */
  changed(): void;
  /** Writes a sent media once; `readMedia` finds it after a restart. */
  saveMedia(messageId: string, media: MediaInput): void;
  readMedia(messageId: string): MediaInput | null;
  /** Writes what changed now (the Worker is about to stop). */
  flush(): void;
  /** Writes nothing more (the login and its folder are being deleted). */
  close(): void;
}

export function createSimulatorStateFile(
  dir: string,
  snapshot: () => SimulatorState,
): SimulatorStateFile {
  // Templates, not node:path (see the module comment).
  const statePath = `${dir}/${STATE_FILE}`;
  const mediaPath = (id: string) => `${dir}/${MEDIA_DIR}/${encodeURIComponent(id)}.json`;
  let written: string | null = null;
  let timer: Timer | null = null;
  let closed = false;

  function write(): void {
    timer?.cancel();
    timer = null;
    if (closed) return;
    const text = JSON.stringify(snapshot());
    if (text === written) return;
    try {
      // A new file renamed over the old: a Worker killed mid-write leaves the last whole state.
      Deno.writeTextFileSync(`${statePath}.tmp`, text);
      Deno.renameSync(`${statePath}.tmp`, statePath);
      written = text;
    } catch {
      // The folder is gone (a logout deleted it): nothing to keep.
    }
  }

  return {
    load() {
      try {
        const text = Deno.readTextFileSync(statePath);
        const state = JSON.parse(text) as SimulatorState;
        if (!Array.isArray(state.chats) || !Array.isArray(state.blocked)) return null;
        written = text;
        return state;
      } catch {
        return null;
      }
    },
    changed() {
      if (closed || timer !== null) return;
      timer = after(WRITE_AFTER_MS, write);
    },
    saveMedia(messageId, media) {
      if (closed) return;
      try {
        // Not recursive: a session folder that a logout deleted is not made again.
        Deno.mkdirSync(`${dir}/${MEDIA_DIR}`, { recursive: false });
      } catch {
        // There already, or the folder is gone (then the write fails too).
      }
      try {
        Deno.writeTextFileSync(mediaPath(messageId), JSON.stringify(media));
      } catch {
        // As above: the folder is being deleted.
      }
    },
    readMedia(messageId) {
      try {
        return JSON.parse(Deno.readTextFileSync(mediaPath(messageId))) as MediaInput;
      } catch {
        return null;
      }
    },
    flush: write,
    close() {
      closed = true;
      timer?.cancel();
      timer = null;
    },
  };
}
