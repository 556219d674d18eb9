/**
 * @module
 * Where a request's time goes: starts the server subprocess with the V8 inspector, drives one wrk
 * load at it (`state` or `send`), and meanwhile (1) records a CPU profile of the main thread
 * through the inspector and (2) reads the CPU time of every thread of the process from `/proc`,
 * so the Worker threads and Deno's I/O threads show up too. Prints the top functions by self time,
 * self time summed by source file, and CPU per thread; writes the `.cpuprofile` for Chrome DevTools.
 *
 * `deno run -A bench/profile.ts [state|send] [connections] [seconds]`
 *
 * `deno run -A bench/profile.ts start [sessions]` profiles the start instead: `sessions` simulator
 * numbers started at once (16 requests in flight) until all are CONNECTED, with the CPU of every
 * thread summed by its name (the session Workers' threads together).
 */
import {
  API_KEY,
  ensureWrk,
  freePort,
  phone,
  QUIET_CHAT,
  runWrk,
  startServer,
  startSessions,
  waitConnected,
  type WrkOptions,
} from "./lib.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
async function connectInspector(port: number) {
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
    if (message.id && pending.has(message.id)) {
      pending.get(message.id)!(message.result ?? message.error);
      pending.delete(message.id);
    }
  };
  return {
    send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      const id = nextId++;
      socket.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve) => pending.set(id, resolve as (r: unknown) => void));
    },
    close: () => socket.close(),
  };
}

/** CPU ticks (user + system) of every thread, by thread id, with the thread's name. */
export function threadTimes(pid: number): Map<string, { name: string; ticks: number }> {
  const times = new Map<string, { name: string; ticks: number }>();
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const name = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/comm`).trim();
      times.set(entry.name, { name, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The thread ended.
    }
  }
  return times;
}

function summarise(profile: CpuProfile, top = 25): string[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
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

/** Profiles `count` simulator sessions starting at once; see the module's comment. */
async function profileStart(count: number) {
  const inspectPort = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-profile-" });
  const server = startServer({
    dataDir,
    denoFlags: ["run", "-A", `--inspect=127.0.0.1:${inspectPort}`],
  });
  try {
    await server.ready();
    const phones = Array.from({ length: count }, (_, i) => phone(i + 1));
    const inspector = await connectInspector(inspectPort);
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: 200 });
    await inspector.send("Profiler.start");
    const before = threadTimes(server.pid);
    const began = performance.now();
    await startSessions(server.base, phones);
    const answered = performance.now() - began;
    await waitConnected(server.base, phones, 600_000);
    const took = performance.now() - began;
    const after = threadTimes(server.pid);
    const { profile } = await inspector.send<{ profile: CpuProfile }>("Profiler.stop");
    inspector.close();
    console.log(
      `${count} sessions: every start answered in ${(answered / 1000).toFixed(2)} s, ` +
        `all CONNECTED in ${(took / 1000).toFixed(2)} s`,
    );
    console.log("\nCPU by thread name during the start (seconds of CPU):");
    const byName = new Map<string, { s: number; threads: number }>();
    for (const [tid, { name, ticks }] of after) {
      const used = (ticks - (before.get(tid)?.ticks ?? 0)) / 100;
      const row = byName.get(name) ?? { s: 0, threads: 0 };
      row.s += used;
      row.threads++;
      byName.set(name, row);
    }
    for (const [name, row] of [...byName].sort((a, b) => b[1].s - a[1].s).slice(0, 12)) {
      console.log(`${row.s.toFixed(2).padStart(8)} s  ${name} (${row.threads} threads)`);
    }
    console.log();
    for (const line of summarise(profile, 40)) console.log(line);
    const file = `${await Deno.makeTempDir({ prefix: "wa-gateway-cpuprofile-" })}/start.cpuprofile`;
    await Deno.writeTextFile(file, JSON.stringify(profile));
    console.log(`\nCPU profile written to ${file}`);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main && Deno.args[0] === "start") {
  await profileStart(Number(Deno.args[1] ?? 150));
} else if (import.meta.main) {
  const target = Deno.args[0] ?? "send";
  const connections = Number(Deno.args[1] ?? 16);
  const seconds = Number(Deno.args[2] ?? 5);
  const wrk = await ensureWrk();
  const inspectPort = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-profile-" });
  const server = startServer({
    dataDir,
    denoFlags: ["run", "-A", `--inspect=127.0.0.1:${inspectPort}`],
  });
  try {
    await server.ready();
    const session = phone(1);
    await startSessions(server.base, [session]);
    await waitConnected(server.base, [session]);
    const url = `${server.base}/api/whatsapp/${session}/${
      target === "state" ? "state" : "send-text"
    }`;
    const options: Omit<WrkOptions, "durationS"> = target === "state"
      ? { url, connections, headers: { "X-Api-Key": API_KEY } }
      : {
        url,
        connections,
        method: "POST" as const,
        body: JSON.stringify({ chatId: QUIET_CHAT, text: "Hello from the wa-gateway bench" }),
        headers: { "X-Api-Key": API_KEY, "Content-Type": "application/json" },
      };
    await runWrk(wrk, { ...options, durationS: 2 }); // Warm-up.
    const inspector = await connectInspector(inspectPort);
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: 100 });
    await inspector.send("Profiler.start");
    const before = threadTimes(server.pid);
    const result = await runWrk(wrk, { ...options, durationS: seconds });
    const after = threadTimes(server.pid);
    const { profile } = await inspector.send<{ profile: CpuProfile }>("Profiler.stop");
    inspector.close();

    console.log(
      `${target} at ${connections} connections for ${seconds} s: ${
        result.rps.toFixed(0)
      } req/s (with the inspector attached), p50 ${result.p50Ms.toFixed(2)} ms, p99 ${
        result.p99Ms.toFixed(2)
      } ms, ${result.errors} errors`,
    );
    console.log("\nCPU per thread during the run (% of one core):");
    const hz = 100; // USER_HZ on Linux.
    const rows: [string, number][] = [];
    for (const [tid, { name, ticks }] of after) {
      const used = ticks - (before.get(tid)?.ticks ?? 0);
      if (used > 0) rows.push([`${name} (${tid})`, (100 * used) / hz / seconds]);
    }
    for (const [name, p] of rows.sort((a, b) => b[1] - a[1]).slice(0, 12)) {
      console.log(`${p.toFixed(0).padStart(5)}%  ${name}`);
    }
    console.log();
    for (const line of summarise(profile)) console.log(line);
    const file = `${await Deno.makeTempDir({
      prefix: "wa-gateway-cpuprofile-",
    })}/${target}.cpuprofile`;
    await Deno.writeTextFile(file, JSON.stringify(profile));
    console.log(`\nCPU profile written to ${file} (open it in Chrome DevTools → Performance)`);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}
