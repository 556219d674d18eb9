import assert from "node:assert/strict";
import type { MessageDto } from "../../engine.ts";
import type { SimChat } from "./data.ts";
import { createSimulatorStateFile, type SimulatorState } from "./state_file.ts";
import type { SimulatorRest } from "./state_changes.ts";

const STATE = "simulator-state.json";
const JOURNAL = "simulator-journal.jsonl";

/** A stand-in for the engine: the state it keeps, and its state file in `dir`. */
function phone(dir: string, saved?: SimulatorState | null, journalMinBytes?: number) {
  const chats = new Map<string, SimChat>();
  const rest: SimulatorRest = {
    blocked: [],
    profile: { name: "Sim", status: "Hey", picture: null },
    labels: [{ id: "1", name: "New", color: 0 }],
    channels: [],
    ownStatuses: [],
  };
  const file = createSimulatorStateFile(dir, { chats, rest: () => structuredClone(rest) }, {
    journalMinBytes,
  });
  const loaded = saved === undefined ? file.load() : saved;
  if (loaded) {
    for (const chat of loaded.chats) chats.set(chat.id, chat);
    const { chats: _, ...others } = loaded;
    Object.assign(rest, others);
  }
  let made = 0;
  return {
    file,
    chats,
    rest,
    loaded,
    /** A message arrives in the chat (made on first use), as the engine's `receive`. */
    receive(chatId: string, body = `message ${++made}`): MessageDto {
      let chat = chats.get(chatId);
      if (!chat) {
        chat = {
          id: chatId,
          name: chatId,
          archived: false,
          pinned: false,
          muted: false,
          unreadCount: 0,
          messages: [],
        };
        chats.set(chatId, chat);
      }
      const message = {
        id: `false_${chatId}_${++made}`,
        chatId,
        from: chatId,
        to: "me@c.us",
        author: null,
        type: "chat",
        timestamp: 1_700_000_000 + made,
        hasMedia: false,
        media: null,
        ack: 0,
        quotedMsgId: null,
        source: "app",
        body,
      } as MessageDto;
      chat.messages.push(message);
      chat.unreadCount++;
      file.changed(chatId);
      return message;
    },
    /** The state as it would load: plain JSON. */
    expected(): unknown {
      return JSON.parse(JSON.stringify({ chats: [...chats.values()], ...rest }));
    },
  };
}

/** What a new process loads from `dir`, as plain JSON. */
function reload(dir: string, journalMinBytes?: number): unknown {
  const file = createSimulatorStateFile(dir, { chats: new Map(), rest: () => ({}) as never }, {
    journalMinBytes,
  });
  const state = file.load();
  file.close();
  return JSON.parse(JSON.stringify(state));
}

const read = (dir: string, name: string) => Deno.readTextFileSync(`${dir}/${name}`);
/** A file's text, null when there is none (a journal begins at the first write after a snapshot). */
function maybe(dir: string, name: string): string | null {
  try {
    return read(dir, name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}
const lines = (dir: string) => read(dir, JOURNAL).split("\n").filter(Boolean);

async function inTempDir(run: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wa-gateway-simstate-file-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the simulator state loads back from its snapshot and the journal lines after it", () =>
  inTempDir((dir) => {
    const a = phone(dir);
    assert.equal(a.loaded, null);
    a.receive("alice@c.us", "hello");
    a.file.flush();
    const snapshot = read(dir, STATE);

    a.receive("alice@c.us");
    a.file.flush();
    a.receive("bob@c.us");
    a.receive("alice@c.us");
    a.file.flush();
    // Anything else: an edit in place, a new chat and a deleted one, the profile.
    a.chats.get("alice@c.us")!.messages[0].body = "edited";
    a.chats.get("alice@c.us")!.archived = true;
    a.chats.delete("bob@c.us");
    a.receive("carol@c.us");
    a.rest.profile.name = "Renamed";
    a.file.changed();
    a.file.flush();
    a.file.close();

    assert.equal(read(dir, STATE), snapshot, "the snapshot is not written again");
    assert.equal(lines(dir).length, 1 + 3, "the journal's first line, then one line a write");
    assert.deepEqual(reload(dir), a.expected());
  }));

Deno.test("a write that changes nothing appends nothing", () =>
  inTempDir((dir) => {
    const a = phone(dir);
    a.receive("alice@c.us");
    a.file.flush();
    a.receive("alice@c.us");
    a.file.flush();
    const before = read(dir, JOURNAL);
    a.file.changed();
    a.file.flush();
    a.file.changed("alice@c.us");
    a.file.flush();
    a.file.close();
    assert.equal(read(dir, JOURNAL), before);
  }));

Deno.test("a torn last journal line is ignored, and the next line is written whole after the rest", () =>
  inTempDir((dir) => {
    const a = phone(dir);
    a.receive("alice@c.us");
    a.file.flush();
    a.receive("alice@c.us", "kept");
    a.file.flush();
    const kept = a.expected();
    a.receive("alice@c.us", "torn");
    a.file.flush();
    a.file.close();
    // The process was killed in the middle of the last line's write.
    const journal = read(dir, JOURNAL);
    const lastLine = journal.slice(journal.lastIndexOf("\n", journal.length - 2) + 1);
    Deno.writeTextFileSync(
      `${dir}/${JOURNAL}`,
      journal.slice(0, journal.length - lastLine.length) + lastLine.slice(0, lastLine.length / 2),
    );
    assert.deepEqual(reload(dir), kept);

    const b = phone(dir);
    assert.deepEqual(JSON.parse(JSON.stringify(b.loaded)), kept);
    b.receive("alice@c.us", "after the restart");
    b.file.flush();
    b.file.close();
    assert.ok(read(dir, JOURNAL).endsWith("\n"));
    assert.deepEqual(reload(dir), b.expected());
    const bodies = b.chats.get("alice@c.us")!.messages.map((m) => m.body);
    assert.deepEqual(bodies.slice(1), ["kept", "after the restart"]);
  }));

Deno.test("a journal line that does not fit the state ends the replay there, and is cut off", () =>
  inTempDir((dir) => {
    const a = phone(dir);
    a.receive("alice@c.us");
    a.file.flush();
    a.receive("alice@c.us", "kept");
    a.file.flush();
    a.file.close();
    const kept = a.expected();
    const journal = read(dir, JOURNAL);
    const unfit = [
      "null",
      "[]",
      '{"rest":null}',
      '{"gone":5}',
      '{"order":["alice@c.us","nobody@c.us"]}',
      '{"chats":[{"id":"nobody@c.us","length":0,"put":[]}]}',
      '{"chats":[{"id":"alice@c.us","meta":null,"length":0,"put":[]}]}',
      '{"chats":[{"id":"alice@c.us","length":9,"put":[]}]}',
      '{"chats":[{"id":"alice@c.us","length":1,"put":[[1,{}]]}]}',
    ];
    for (const line of unfit) {
      const after = '{"rest":{"blocked":["after@c.us"]}}';
      Deno.writeTextFileSync(`${dir}/${JOURNAL}`, `${journal}${line}\n${after}\n`);
      assert.deepEqual(reload(dir), kept, line);
      assert.equal(read(dir, JOURNAL), journal, line);
    }
  }));

Deno.test("a journal grown past the snapshot becomes a new snapshot, and nothing is lost", () =>
  inTempDir((dir) => {
    const a = phone(dir, undefined, 2_000);
    const journals = new Set<string>();
    for (let i = 0; i < 60; i++) {
      a.receive(i % 3 === 0 ? "bob@c.us" : "alice@c.us", `message ${i} ${"x".repeat(100)}`);
      a.file.flush();
      journals.add(JSON.parse(read(dir, STATE)).journal);
      const journal = maybe(dir, JOURNAL)?.length ?? 0;
      assert.ok(journal < 2 * Math.max(read(dir, STATE).length, 2_000), `${journal} bytes`);
    }
    a.file.close();
    assert.ok(journals.size > 2, `${journals.size} snapshots`);
    assert.deepEqual(reload(dir), a.expected());
  }));

Deno.test("a simulator-state.json of the version before the journal loads, and is continued", () =>
  inTempDir((dir) => {
    const old = phone(`${dir}/none`, null);
    old.receive("alice@c.us", "from the old version");
    old.receive("15550000002@c.us");
    old.chats.get("15550000002@c.us")!.archived = true;
    old.file.close();
    Deno.writeTextFileSync(`${dir}/${STATE}`, JSON.stringify(old.expected()));

    assert.deepEqual(reload(dir), old.expected());
    const b = phone(dir);
    b.receive("alice@c.us", "after the upgrade");
    b.file.flush();
    b.file.close();
    assert.equal(typeof JSON.parse(read(dir, STATE)).journal, "string");
    assert.deepEqual(reload(dir), b.expected());
    assert.equal(b.chats.get("alice@c.us")!.messages[0].body, "from the old version");
  }));

Deno.test("a process killed at any point of writing a new snapshot leaves a state that loads", () =>
  inTempDir((dir) => {
    const a = phone(dir, undefined, 1_000);
    a.receive("alice@c.us");
    a.file.flush();
    // Journal lines up to the size that makes the next write a snapshot.
    let before: { state: string; journal: string | null; expected: unknown };
    do {
      before = { state: read(dir, STATE), journal: maybe(dir, JOURNAL), expected: a.expected() };
      a.receive("alice@c.us", "y".repeat(200));
      a.file.flush();
    } while (read(dir, STATE) === before.state);
    a.file.close();
    const after = { state: read(dir, STATE), expected: a.expected() };
    assert.ok(before.journal !== null && before.journal.split("\n").length > 2, "lines replayed");
    assert.notDeepEqual(after.expected, before.expected);

    const lay = (files: Record<string, string | null>) => {
      for (const [name, text] of Object.entries(files)) {
        if (text === null) Deno.removeSync(`${dir}/${name}`, { recursive: true });
        else Deno.writeTextFileSync(`${dir}/${name}`, text);
      }
    };
    // Killed while writing the new snapshot's `.tmp` file: the old snapshot and its journal.
    lay({ [STATE]: before.state, [JOURNAL]: before.journal });
    lay({ [`${STATE}.tmp`]: after.state.slice(0, 100) });
    assert.deepEqual(reload(dir), before.expected);
    Deno.removeSync(`${dir}/${STATE}.tmp`);
    // Killed after the rename, before the new journal began: the old journal is not replayed.
    lay({ [STATE]: after.state, [JOURNAL]: before.journal });
    assert.deepEqual(reload(dir), after.expected);
    // Killed while writing the new journal's `.tmp` file.
    lay({ [`${JOURNAL}.tmp`]: '{"jour' });
    assert.deepEqual(reload(dir), after.expected);
    // And the next run goes on from there.
    const b = phone(dir);
    b.receive("alice@c.us", "next run");
    b.file.flush();
    b.file.close();
    assert.deepEqual(reload(dir), b.expected());
  }));

Deno.test("a state file in a folder that a logout deleted is not written again", () =>
  inTempDir((dir) => {
    const sessionDir = `${dir}/session`;
    Deno.mkdirSync(sessionDir);
    const a = phone(sessionDir);
    a.receive("alice@c.us");
    a.file.flush();
    a.receive("alice@c.us");
    a.file.flush();
    Deno.removeSync(sessionDir, { recursive: true });
    a.receive("alice@c.us");
    a.file.flush();
    a.file.changed();
    a.file.flush();
    a.file.close();
    assert.throws(() => Deno.statSync(sessionDir), Deno.errors.NotFound);
  }));

/** A small deterministic generator (mulberry32), so that a failure can be run again. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("any mix of changes, restarts and new snapshots loads back what was written", () =>
  inTempDir((dir) => {
    const next = random(21);
    const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)];
    const ids = ["a@c.us", "b@c.us", "c@c.us", "g@g.us"];
    let p = phone(dir, undefined, 3_000);
    const snapshots = new Set<string>();
    let restarts = 0;
    for (let step = 0; step < 400; step++) {
      const existing = [...p.chats.values()];
      const roll = next();
      if (roll < 0.4 || existing.length === 0) p.receive(pick(ids));
      else if (roll < 0.5) {
        const chat = pick(existing);
        if (chat.messages.length > 0) pick(chat.messages).body = `edited ${step}`;
        p.file.changed();
      } else if (roll < 0.55) {
        p.chats.delete(pick(existing).id);
        p.file.changed();
      } else if (roll < 0.6) {
        // Deleted and made again: at the end of the order.
        const chat = pick(existing);
        p.chats.delete(chat.id);
        p.chats.set(chat.id, { ...chat, messages: chat.messages.slice(1) });
        p.file.changed();
      } else if (roll < 0.65) {
        pick(existing).messages = [];
        p.file.changed();
      } else if (roll < 0.7) {
        pick(existing).messages.pop();
        p.file.changed();
      } else if (roll < 0.8) {
        const chat = pick(existing);
        chat.unreadCount = 0;
        chat.labels = [String(step)];
        p.file.changed();
      } else if (roll < 0.85) {
        p.rest.blocked.push(`${step}@c.us`);
        p.file.changed();
      } else if (roll < 0.9) {
        // Nested objects changed in place: a message's media, a chat's labels.
        const chat = pick(existing);
        const message = chat.messages.at(-1);
        if (message) {
          message.media ??= { mimetype: "image/png", filename: null };
          message.media.filename = `file ${step}`;
        }
        (chat.labels ??= []).push(String(step));
        p.file.changed();
      }
      if (next() < 0.5) p.file.flush();
      snapshots.add(maybe(dir, STATE) ?? "");
      if (next() < 0.1) {
        // A restart: what was flushed loads back, and the new run goes on from it.
        p.file.flush();
        p.file.close();
        const expected = p.expected();
        p = phone(dir, undefined, 3_000);
        restarts++;
        assert.deepEqual(JSON.parse(JSON.stringify(p.loaded)), expected, `step ${step}`);
      }
    }
    p.file.flush();
    p.file.close();
    assert.deepEqual(reload(dir), p.expected());
    assert.ok(
      snapshots.size > 5 && restarts > 5,
      `${snapshots.size} snapshots, ${restarts} restarts`,
    );
  }));
