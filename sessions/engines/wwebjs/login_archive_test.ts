import assert from "node:assert/strict";
import { join } from "node:path";
import { listLogin, LoginArchiveError, packLogin, unpackLogin } from "./login_archive.ts";

const PROFILE = "session-session/Default";

async function write(path: string, text: string): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, text);
}

Deno.test("a login is packed without Chromium's caches and unpacked in place of another", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const from = join(dir, "a");
    await write(join(from, "linked"), "15550001111@c.us");
    await write(join(from, PROFILE, "IndexedDB/web.leveldb/000003.log"), "keys");
    await write(join(from, PROFILE, "Local Storage/leveldb/CURRENT"), "MANIFEST-000001");
    await write(join(from, PROFILE, "Cache/Cache_Data/data_0"), "cache");
    await write(join(from, PROFILE, "Code Cache/js/index"), "code cache");
    const archive = (await packLogin(from, "linked"))!;
    assert.deepEqual(
      [...(await listLogin(archive)).keys()].sort(),
      [
        "linked",
        `${PROFILE}/IndexedDB/web.leveldb/000003.log`,
        `${PROFILE}/Local Storage/leveldb/CURRENT`,
      ],
    );

    const to = join(dir, "b");
    await write(join(to, PROFILE, "IndexedDB/web.leveldb/000009.log"), "an older login");
    await unpackLogin(to, archive);
    assert.equal(await Deno.readTextFile(join(to, "linked")), "15550001111@c.us");
    assert.equal(
      await Deno.readTextFile(join(to, PROFILE, "IndexedDB/web.leveldb/000003.log")),
      "keys",
    );
    await assert.rejects(Deno.stat(join(to, PROFILE, "IndexedDB/web.leveldb/000009.log")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a folder without a login marker packs nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await write(join(dir, PROFILE, "IndexedDB/x"), "a profile that never linked");
    assert.equal(await packLogin(dir, "linked"), null);
    assert.equal(await packLogin(join(dir, "missing"), "linked"), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an archive that is not ours, or names a path outside the folder, is refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(unpackLogin(dir, new TextEncoder().encode("plain")), LoginArchiveError);
    const evil = new Uint8Array([
      ...new TextEncoder().encode("WAGA1\n"),
      0,
      9,
      ...new TextEncoder().encode("../escape"),
      0,
      0,
      0,
      1,
      65,
    ]);
    const gz = new Uint8Array(
      await new Response(new Blob([evil]).stream().pipeThrough(new CompressionStream("gzip")))
        .arrayBuffer(),
    );
    await assert.rejects(unpackLogin(join(dir, "auth"), gz), /leaves the login folder/);
    await assert.rejects(Deno.stat(join(dir, "escape")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
