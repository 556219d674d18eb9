/**
 * @module
 * The README's simulator quick-start works when pasted: the block marked as tested is taken from
 * README.md as written and run with bash in a fresh copy of the repository (no `node_modules`,
 * no `data/`, as after a clone), on a free port through the `PORT` the block itself reads. It must
 * start the server, wait for it, link the simulator and send the first message, and print none of
 * the noise a newcomer would trip over (Deno's package set-up lines, the build-scripts box, its
 * notice about `request.signal`).
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { freePort } from "./_helpers.ts";
import { processes } from "./processes.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const MARKER = "<!-- tested: tests/readme_test.ts";
/** Not part of a clone, or made by running it. */
const LEFT_OUT = new Set(["node_modules", ".git", "data", ".wwebjs_cache", "qr.png"]);

/** The shell block that follows the marker in README.md. */
export function quickStartBlock(readme: string): string {
  const at = readme.indexOf(MARKER);
  assert.ok(at >= 0, "README.md marks its tested quick-start block");
  const open = readme.indexOf("```sh\n", at);
  const close = readme.indexOf("\n```", open);
  assert.ok(open > at && close > open, "a ```sh block follows the marker");
  return readme.slice(open + "```sh\n".length, close + 1);
}

/** The repository's files as a clone has them, into `to`. */
async function copyRepository(to: string): Promise<void> {
  for await (const entry of Deno.readDir(ROOT)) {
    if (LEFT_OUT.has(entry.name)) continue;
    await copy(`${ROOT}${entry.name}`, `${to}/${entry.name}`);
  }
}

async function copy(from: string, to: string): Promise<void> {
  const info = await Deno.lstat(from);
  if (info.isDirectory) {
    await Deno.mkdir(to);
    for await (const entry of Deno.readDir(from)) {
      await copy(`${from}/${entry.name}`, `${to}/${entry.name}`);
    }
  } else if (info.isFile) {
    await Deno.copyFile(from, to);
  }
}

/** Whether anything still runs in the process group (the server the block left running). */
const groupAlive = (group: number) => processes().some((p) => p.group === group && p.state !== "Z");

Deno.test("the README's simulator quick-start, pasted into bash on a fresh copy, sends the first message", async () => {
  const block = quickStartBlock(await Deno.readTextFile(`${ROOT}README.md`));
  const dir = await Deno.makeTempDir({ prefix: "wa-gateway-readme-" });
  await copyRepository(dir);
  await Deno.writeTextFile(`${dir}/quickstart.sh`, block);
  const env: Record<string, string> = {
    PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
    HOME: Deno.env.get("HOME") ?? dir,
    PORT: String(freePort()),
    NO_COLOR: "1",
  };
  // Where Deno keeps its cache: the copy installs its node_modules from it, as a second clone would.
  for (const name of ["DENO_DIR", "XDG_CACHE_HOME", "NPM_CONFIG_REGISTRY"]) {
    const value = Deno.env.get(name);
    if (value) env[name] = value;
  }
  // A session of its own, so the server the block leaves running can be stopped with its group.
  const shell = new Deno.Command("setsid", {
    args: ["bash", "quickstart.sh"],
    cwd: dir,
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const pgid = shell.pid;
  // The server writes to the same pipes after the block ends: read what the block printed.
  const streams = [shell.stdout, shell.stderr].map((stream) => {
    let text = "";
    const done = stream.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (chunk) => void (text += chunk) }),
    ).catch(() => {});
    return { text: () => text, done };
  });
  try {
    const { code } = await shell.status;
    const printed = streams.map((s) => s.text()).join("\n");
    assert.equal(code, 0, printed);
    assert.match(
      printed,
      /\{"messageId":"true_15550000000@c\.us_[^"]+","timestamp":\d+\}/,
      printed,
    );
    assert.match(printed, /"success":true/, "the start was answered");
    for (const noise of ["Initialize", "Ignored build scripts", "Task start", "request.signal"]) {
      assert.ok(!printed.includes(noise), `no "${noise}" in what the block printed:\n${printed}`);
    }
    const qr = await Deno.readFile(`${dir}/qr.png`);
    assert.deepEqual([...qr.slice(1, 4)], [0x50, 0x4e, 0x47], "qr.png is a PNG");
  } finally {
    try {
      Deno.kill(-pgid, "SIGTERM");
    } catch {
      // Nothing left in the group.
    }
    for (let i = 0; i < 100 && groupAlive(pgid); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (groupAlive(pgid)) Deno.kill(-pgid, "SIGKILL");
    await Promise.all(streams.map((s) => s.done));
    await Deno.remove(dir, { recursive: true });
  }
});
