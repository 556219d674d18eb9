/**
 * @module
 * What an edge (`NODE_ROLE=edge`) loads at start: `main.ts`'s module graph (from `deno info`)
 * through its static imports, the ones that run whatever the role. The parts that host sessions
 * (the session manager, Workers, engines, Chromium's driver) and SQLite are loaded by dynamic
 * import, only by the roles and stores that use them; the edge test runs the edge with
 * `--allow-net --allow-env --allow-read` to show it needs nothing more.
 */
import assert from "node:assert/strict";

interface Dependency {
  code?: { specifier: string };
  isDynamic?: boolean;
}

async function staticallyLoaded(path: string): Promise<Set<string>> {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(path, import.meta.url).pathname],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(success, "deno info ran");
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    roots: string[];
    modules: { specifier: string; dependencies?: Dependency[] }[];
    redirects: Record<string, string>;
  };
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const next = [...info.roots];
  while (next.length > 0) {
    const specifier = next.pop()!;
    const resolved = info.redirects[specifier] ?? specifier;
    if (seen.has(resolved)) continue;
    seen.add(resolved);
    for (const dependency of modules.get(resolved)?.dependencies ?? []) {
      if (dependency.code && !dependency.isDynamic) next.push(dependency.code.specifier);
    }
  }
  return seen;
}

Deno.test("main.ts loads no session manager, Worker, engine or SQLite unless the role needs them", async () => {
  const loaded = await staticallyLoaded("../main.ts");
  const local = (path: string) => new URL(path, import.meta.url).href;
  assert.ok(loaded.has(local("./routing.ts")), "the routing is loaded");
  const offending = [...loaded].filter((specifier) =>
    [
      local("../sessions/manager.ts"),
      local("../sessions/worker_host.ts"),
      local("../sessions/worker_runtime.ts"),
    ].includes(specifier) ||
    specifier.startsWith(local("../sessions/engines/")) ||
    specifier.startsWith(local("../store/sqlite/")) ||
    /node:sqlite|puppeteer|whatsapp-web\.js/.test(specifier)
  );
  assert.deepEqual(offending, []);
});
