/**
 * @module
 * What the simulator's phone keeps across restarts, as a real phone keeps its chats: the chats with
 * their messages, the blocks, the profile, the labels, the channels and the own statuses, in the
 * session's folder, and each sent media in a file of its own under `simulator-media/` (read back
 * when it is asked for). Written by the engine inside its Worker with Deno's file API alone: a
 * `node:` module would cost every simulator Worker Deno's Node layer (bench/worker_memory.ts). A
 * logout deletes the folder, and with it all of this.
 *
 * The state is a snapshot, `simulator-state.json`, and a journal of what changed since,
 * `simulator-journal.jsonl`: 50 ms after a change one line of what changed (`state_changes.ts`) is
 * appended with one `write`, so a message costs its own size, not the state's (rewriting the whole
 * state after each message was half of a simulator Worker's CPU, and grew with the history). Once
 * the journal outgrows the snapshot, the next write is a new snapshot instead, and the journal
 * starts over: the cost stays in proportion to the changes. The snapshot names its journal (a
 * random id, the journal's first line), and a journal is replayed only over the snapshot that names
 * it. A process killed at any point (SIGKILL, `Worker.terminate()`) leaves a state that loads,
 * missing at most the changes of its last 50 ms:
 * - killed in an append: the last line is torn (no newline); loading ignores it and cuts it off, so
 *   the next line starts whole;
 * - killed while writing a new snapshot: it goes to a `.tmp` file first and is renamed over the old
 *   one, so either the old snapshot with its journal loads, or the new one, whole;
 * - killed after the rename, before the new journal exists: the old journal names the old
 *   snapshot, not the new, and is ignored (the new snapshot holds all it said);
 * - a new journal is written as a `.tmp` file holding its first line and renamed in place, so it
 *   never lacks the line that names its snapshot.
 * A `simulator-state.json` of an older version (one file, naming no journal) loads as it is; the
 * first write after it makes a snapshot with a journal.
 */
import type { MediaInput } from "../../engine.ts";
import type { SimChat } from "./data.ts";
import type { SimLabel } from "./social.ts";
import type { SimChannel } from "./channels.ts";
import type { OwnStatus } from "./status.ts";
import {
  applyLine,
  createWrittenState,
  type SimulatorStateSource,
  UnfitLine,
} from "./state_changes.ts";
import { after, type Timer } from "../../worker_timers.ts";

export type { SimulatorStateSource } from "./state_changes.ts";

const STATE_FILE = "simulator-state.json";
const JOURNAL_FILE = "simulator-journal.jsonl";
const MEDIA_DIR = "simulator-media";
/** Changes that come together (a burst of incoming messages) are written once. */
const WRITE_AFTER_MS = 50;
/** The journal is folded into a new snapshot once it is larger than the snapshot and this. */
const JOURNAL_MIN_BYTES = 128 * 1024;
const NEWLINE = 10;

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
  /**
   * Writes what changed soon. With `chatId`, only that chat changed, by new messages at its end or
   * its own fields (an incoming message); without, anything may have (compared whole at the write).
   */
  changed(chatId?: string): void;
  /** Writes a sent media once; `readMedia` finds it after a restart. */
  saveMedia(messageId: string, media: MediaInput): void;
  readMedia(messageId: string): MediaInput | null;
  /** Writes what changed now (the Worker is about to stop). */
  flush(): void;
  /** Writes nothing more (the login and its folder are being deleted). */
  close(): void;
}

export interface SimulatorStateFileOptions {
  /** The journal's size past which (and past the snapshot's) a write makes a new snapshot. */
  journalMinBytes?: number;
}

export function createSimulatorStateFile(
  dir: string,
  source: SimulatorStateSource,
  { journalMinBytes = JOURNAL_MIN_BYTES }: SimulatorStateFileOptions = {},
): SimulatorStateFile {
  // Templates, not node:path (see the module comment).
  const statePath = `${dir}/${STATE_FILE}`;
  const journalPath = `${dir}/${JOURNAL_FILE}`;
  const mediaPath = (id: string) => `${dir}/${MEDIA_DIR}/${encodeURIComponent(id)}.json`;
  const written = createWrittenState();
  const encoder = new TextEncoder();
  /** The journal the snapshot on disk names, or null: the next write makes a snapshot. */
  let journalId: string | null = null;
  let snapshotBytes = 0;
  /** The journal open for appending; null until the first append after a load or a snapshot. */
  let journal: Deno.FsFile | null = null;
  /** Whether the journal file on disk is `journalId`'s, ending with a whole line. */
  let journalOnDisk = false;
  let journalBytes = 0;
  /** What changed since the last write: some chats' messages and fields, or anything. */
  let pending: Set<string> | "anything" | null = null;
  let timer: Timer | null = null;
  let closed = false;

  /** Writes the whole state as a new snapshot naming a new (empty) journal. */
  function writeSnapshot(): void {
    const id = crypto.randomUUID();
    const state: SimulatorState = { chats: [...source.chats.values()], ...source.rest() };
    const text = JSON.stringify({ journal: id, ...state });
    Deno.writeTextFileSync(`${statePath}.tmp`, text);
    Deno.renameSync(`${statePath}.tmp`, statePath);
    written.remember(state);
    // From here the old journal names a snapshot that is gone, and is ignored.
    journal?.close();
    journal = null;
    journalId = id;
    snapshotBytes = text.length;
    journalOnDisk = false;
    journalBytes = 0;
  }

  function append(line: string): void {
    if (!journalOnDisk) {
      const first = `${JSON.stringify({ journal: journalId })}\n`;
      Deno.writeTextFileSync(`${journalPath}.tmp`, first);
      Deno.renameSync(`${journalPath}.tmp`, journalPath);
      journal?.close();
      journal = null;
      journalOnDisk = true;
      journalBytes = first.length;
    }
    journal ??= Deno.openSync(journalPath, { append: true });
    const bytes = encoder.encode(`${line}\n`);
    // One write for the line; the loop is for a short write only (then a kill may tear it).
    for (let done = 0; done < bytes.length;) done += journal.writeSync(bytes.subarray(done));
    journalBytes += bytes.length;
  }

  function write(): void {
    timer?.cancel();
    timer = null;
    if (closed || (pending === null && journalId !== null)) return;
    const changes = pending;
    pending = null;
    const line = written.diff(source, changes instanceof Set ? changes : undefined);
    if (line === null && journalId !== null) return;
    try {
      if (
        journalId === null ||
        journalBytes + line!.length > Math.max(snapshotBytes, journalMinBytes)
      ) {
        writeSnapshot();
      } else {
        append(line!);
      }
    } catch {
      // The folder is gone (a logout deleted it), or the disk refused: what is remembered as
      // written may not be, and a half-written line may end the journal. The next write makes a
      // snapshot of everything, with a new journal.
      journalId = null;
    }
  }

  /**
   * Applies the journal that follows the loaded snapshot (`id`) to `state`, up to its last whole
   * line that fits, and cuts off anything after that (a line torn by a kill), so that the next
   * line appended starts whole.
   */
  function replayJournal(state: SimulatorState, id: string): void {
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(journalPath);
    } catch {
      return; // None yet: the first append starts it.
    }
    const decoder = new TextDecoder();
    const headerEnd = bytes.indexOf(NEWLINE);
    try {
      if (headerEnd < 0) return;
      const header = JSON.parse(decoder.decode(bytes.subarray(0, headerEnd)));
      if (header?.journal !== id) return; // Another snapshot's (killed before its journal began).
    } catch {
      return;
    }
    const chats = new Map(state.chats.map((chat) => [chat.id, chat]));
    let whole = headerEnd + 1;
    for (let end = bytes.indexOf(NEWLINE, whole); end >= 0; end = bytes.indexOf(NEWLINE, whole)) {
      try {
        applyLine(chats, state, JSON.parse(decoder.decode(bytes.subarray(whole, end))));
      } catch (error) {
        if (!(error instanceof SyntaxError || error instanceof UnfitLine)) throw error;
        break;
      }
      whole = end + 1;
    }
    state.chats = [...chats.values()];
    journalOnDisk = true;
    journalBytes = whole;
    if (whole === bytes.length) return;
    try {
      Deno.truncateSync(journalPath, whole);
    } catch {
      journalId = null; // Then the next write makes a snapshot, and a new journal.
    }
  }

  return {
    load() {
      let text: string;
      let state: SimulatorState & { journal?: unknown };
      try {
        text = Deno.readTextFileSync(statePath);
        state = JSON.parse(text);
      } catch {
        return null;
      }
      if (!Array.isArray(state?.chats) || !Array.isArray(state.blocked)) return null;
      const id = typeof state.journal === "string" ? state.journal : null;
      delete state.journal;
      // An older version's file names no journal: the first write makes a snapshot that does.
      journalId = id;
      snapshotBytes = text.length;
      if (id !== null) replayJournal(state, id);
      written.remember(state);
      return state;
    },
    changed(chatId) {
      if (closed) return;
      if (chatId === undefined) pending = "anything";
      else if (pending === null) pending = new Set([chatId]);
      else if (pending instanceof Set) pending.add(chatId);
      timer ??= after(WRITE_AFTER_MS, write);
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
      journal?.close();
      journal = null;
    },
  };
}
