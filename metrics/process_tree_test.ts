import assert from "node:assert/strict";
import { memoryOf, parseStat, readProcessTable, treeOf } from "./process_tree.ts";
import { createChromiumMemorySampler } from "./chromium_memory.ts";
import type { TreeMemory } from "./process_tree.ts";

/** A shell with two sleeping children: a tree of three processes, as Chromium's is of several. */
function spawnTree(): Deno.ChildProcess {
  return new Deno.Command("sh", {
    args: ["-c", "sleep 60 & sleep 60 & wait"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function treeSize(pid: number): Promise<number> {
  return treeOf(await readProcessTable(), pid).length;
}

async function waitForTree(pid: number, size: number): Promise<void> {
  for (let i = 0; i < 200 && await treeSize(pid) < size; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function end(child: Deno.ChildProcess): Promise<void> {
  for (const pid of treeOf(await readProcessTable(), child.pid).reverse()) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Gone.
    }
  }
  await child.status;
}

Deno.test("parseStat() reads the parent and start time past a command name with spaces and parentheses", () => {
  const fields = Array.from({ length: 50 }, (_, i) => String(i));
  const line = `4242 (Web Content (x)) S 17 ${fields.slice(0, 17).join(" ")} 98765 rest`;
  assert.deepEqual(parseStat(line), { ppid: 17, startTicks: 98765 });
  assert.equal(parseStat("garbage"), null);
});

Deno.test("readProcessTable() and treeOf() find this process and a child's whole tree", async () => {
  const table = await readProcessTable();
  assert.equal(table.get(Deno.pid)?.ppid, Deno.ppid);
  const child = spawnTree();
  try {
    await waitForTree(child.pid, 3);
    const tree = treeOf(await readProcessTable(), child.pid);
    assert.equal(tree.length, 3);
    assert.equal(tree[0], child.pid);
  } finally {
    await end(child);
  }
});

Deno.test("memoryOf() sums RSS and PSS of live processes and skips those that are gone", async () => {
  const own = await memoryOf([Deno.pid]);
  assert.equal(own.processes, 1);
  // Deno's resident memory is tens of MB; PSS is at most RSS.
  assert.ok(own.rssBytes > 10 * 1024 * 1024, `rss ${own.rssBytes}`);
  assert.ok(own.pssBytes !== null && own.pssBytes > 0 && own.pssBytes <= own.rssBytes);
  const withGone = await memoryOf([Deno.pid, 2 ** 22 + 1]);
  assert.equal(withGone.processes, 1);
});

Deno.test("the Chromium memory sampler reports a tracked tree, then removes it once it is gone", async () => {
  const samples: [string, TreeMemory | null][] = [];
  const sampler = createChromiumMemorySampler({
    intervalMs: 60_000,
    onSample: (session, memory) => samples.push([session, memory]),
  });
  const child = spawnTree();
  try {
    await waitForTree(child.pid, 3);
    sampler.track("4915550018101", child.pid);
    await sampler.sample();
    await sampler.sample();
    const [session, memory] = samples.at(-1)!;
    assert.equal(session, "4915550018101");
    assert.equal(memory?.processes, 3);
    assert.ok(memory!.rssBytes > 0);

    await end(child);
    await sampler.sample();
    assert.deepEqual(samples.at(-1), ["4915550018101", null]);
  } finally {
    sampler.close();
    await end(child).catch(() => {});
  }
});
