/**
 * @module
 * The main thread's CPU profile of a server started with `--inspect`: a minimal Chrome DevTools
 * Protocol client over the inspector's WebSocket, a summary of where the samples' time went (self
 * time by source file and by function), and the `.cpuprofile` written for Chrome DevTools.
 * Used by `bench/profile.ts` and `bench/events_scale.ts --profile`.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** V8's CPU profile, as `Profiler.stop` returns it. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A running profile of the first inspector target on `port`; `stop()` ends it. */
export interface Profiling {
  stop(): Promise<CpuProfile>;
}

/** Starts sampling the main thread every `intervalUs` microseconds. */
export async function startCpuProfile(port: number, intervalUs = 200): Promise<Profiling> {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    pending.get(message.id)?.(message.result ?? message.error);
    pending.delete(message.id);
  };
  const send = <T = unknown>(method: string, params: Record<string, unknown> = {}) => {
    const id = nextId++;
    socket.send(JSON.stringify({ id, method, params }));
    return new Promise<T>((resolve) => pending.set(id, resolve as (r: unknown) => void));
  };
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: intervalUs });
  await send("Profiler.start");
  return {
    async stop() {
      const { profile } = await send<{ profile: CpuProfile }>("Profiler.stop");
      socket.close();
      return profile;
    },
  };
}

/** Where the samples' time went: the `top` source files and functions by self time. */
export function summariseProfile(profile: CpuProfile, top = 25): string[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  );
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    const file = frame.url
      ? frame.url.replace(/^.*node_modules\/\.deno\/([^/]+)\/.*$/, "npm:$1")
        .replace(/^file:\/\/.*?\/(?=[^/]+\/[^/]+$)/, "")
      : `(${frame.functionName || "native"})`;
    const fn = `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
  const pct = (us: number) => `${(100 * us / total).toFixed(1)}%`.padStart(6);
  const lines = [`main thread: ${(total / 1e6).toFixed(2)} s of samples`, "", "by file:"];
  for (const [file, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`${pct(us)}  ${file}`);
  }
  lines.push("", "by function (self time):");
  for (const [fn, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`${pct(us)}  ${fn}`);
  }
  return lines;
}

/** Writes `profile` to `<a new temporary folder>/<name>.cpuprofile`; returns the path. */
export async function writeProfile(profile: CpuProfile, name: string): Promise<string> {
  const file = `${await Deno.makeTempDir({ prefix: "wa-gateway-cpuprofile-" })}/${name}.cpuprofile`;
  await Deno.writeTextFile(file, JSON.stringify(profile));
  return file;
}
