/**
 * @module
 * What a session's Worker loads: its module graph (from `deno info`, dynamic imports included),
 * following only the imports that run. The engine contract takes its input types from the routes'
 * zod schemas, as types only: every Worker would otherwise load zod and the HTTP layer.
 */
import assert from "node:assert/strict";

interface Dependency {
  code?: { specifier: string };
  type?: { specifier: string };
}

interface InfoModule {
  specifier: string;
  dependencies?: Dependency[];
}

/** The module graph of `path` as `deno info --json` gives it. */
async function moduleGraph(path: string) {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(path, import.meta.url).pathname],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(success, "deno info ran");
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    roots: string[];
    modules: InfoModule[];
    redirects: Record<string, string>;
  };
  return { ...info, modules: new Map(info.modules.map((m) => [m.specifier, m])) };
}

/** Every module reached from the root through imports that run. */
function loaded(graph: Awaited<ReturnType<typeof moduleGraph>>): Set<string> {
  const seen = new Set<string>();
  const next = [...graph.roots];
  while (next.length > 0) {
    const specifier = next.pop()!;
    const resolved = graph.redirects[specifier] ?? specifier;
    if (seen.has(resolved)) continue;
    seen.add(resolved);
    for (const dependency of graph.modules.get(resolved)?.dependencies ?? []) {
      if (dependency.code) next.push(dependency.code.specifier);
    }
  }
  return seen;
}

Deno.test("a session's Worker loads neither zod nor the HTTP layer, though the engine contract's input types come from the routes", async () => {
  const local = (path: string) => new URL(path, import.meta.url).href;
  for (
    const [entry, engine] of [
      ["./engines/simulator/worker.ts", "./engines/simulator/engine.ts"],
      ["./engines/wwebjs/worker.ts", "./engines/wwebjs/engine.ts"],
      ["./engines/waha/worker.ts", "./engines/waha/engine.ts"],
    ]
  ) {
    const graph = await moduleGraph(entry);
    const modules = loaded(graph);
    for (const path of ["./engine.ts", "./worker_runtime.ts", engine]) {
      assert.ok(modules.has(local(path)), `${entry} loads ${path}`);
    }
    assert.ok(graph.modules.has(local("../routes/engine_inputs.ts")), "the contract's types");
    const offending = [...modules].filter((specifier) =>
      /zod/.test(specifier) || specifier.startsWith(local("../routes/")) ||
      specifier.startsWith(local("../middleware/"))
    );
    assert.deepEqual(offending, [], entry);
  }
});
