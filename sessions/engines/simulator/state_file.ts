/**
 * @module
 * What the simulator's phone keeps across restarts, as a real phone keeps its chats: the chats with
 * their messages, the blocks, the profile and the labels in `simulator-state.json` in the session's folder,
 * and each sent media in a file of its own under `simulator-media/` (read back when it is asked
 * for). Written by the engine inside its Worker with Deno's file API alone: a `node:` module would
 * cost every simulator Worker Deno's Node layer (bench/worker_memory.ts). A logout deletes the
 * folder, and with it all of this.
 *
 * The state grows with every message, and is written whole at each change: it is serialized and
 * written in pieces (`json_pieces.ts`) rather than as one string, and what was written last is
 * remembered by a digest rather than by a copy (a copy kept the whole state twice in every
 * simulator Worker; one string per write put a large object in V8 per message, bench/README.md).
 */
import type { MediaInput } from "../../engine.ts";
import type { SimChat } from "./data.ts";
import type { SimLabel } from "./social.ts";
import type { SimChannel } from "./channels.ts";
import type { OwnStatus } from "./status.ts";
import { after, type Timer } from "../../worker_timers.ts";
import { jsonPieces } from "./json_pieces.ts";

const STATE_FILE = "simulator-state.json";
const MEDIA_DIR = "simulator-media";
/** Changes that come together (a burst of incoming messages) are written once. */
const WRITE_AFTER_MS = 50;

/**
 * A digest of a text given in pieces (the same whatever the cut): its length and two 32-bit hashes
 * of its UTF-16 code units (FNV-1a, and a multiplicative one with another multiplier). Telling an
 * unchanged state from a changed one without keeping a copy; two states that differ and share all
 * 64 bits and the length are not a concern at a write a second.
 */
export function textDigest(pieces: Iterable<string>): string {
  let fnv = 0x811c9dc5;
  let mul = 0;
  let length = 0;
  for (const piece of pieces) {
    for (let i = 0; i < piece.length; i++) {
      const unit = piece.charCodeAt(i);
      fnv = Math.imul(fnv ^ unit, 0x01000193);
      mul = (Math.imul(mul, 0x5bd1e995) + unit + 1) | 0;
    }
    length += piece.length;
  }
  return `${length}:${(fnv >>> 0).toString(16)}:${(mul >>> 0).toString(16)}`;
}

/** Writes all of `bytes` (a write may take only part of them). */
function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += file.writeSync(bytes.subarray(done));
}

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
  /** The digest of the state last written (or loaded). */
  let written: string | null = null;
  let timer: Timer | null = null;
  let closed = false;
  const encoder = new TextEncoder();
  /** Reused for every piece: no buffer the size of the state per write. */
  let buffer = new Uint8Array(0);

  function write(): void {
    timer?.cancel();
    timer = null;
    if (closed) return;
    const state = snapshot();
    const digest = textDigest(jsonPieces(state));
    if (digest === written) return;
    try {
      // A new file renamed over the old: a Worker killed mid-write leaves the last whole state.
      const file = Deno.openSync(`${statePath}.tmp`, { write: true, create: true, truncate: true });
      try {
        for (const piece of jsonPieces(state)) {
          // UTF-8 takes at most 3 bytes per UTF-16 code unit.
          if (buffer.length < piece.length * 3) buffer = new Uint8Array(piece.length * 3);
          writeAll(file, buffer.subarray(0, encoder.encodeInto(piece, buffer).written));
        }
      } finally {
        file.close();
      }
      Deno.renameSync(`${statePath}.tmp`, statePath);
      written = digest;
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
        written = textDigest([text]);
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
