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
import { startCpuProfile, summariseProfile, writeProfile } from "./cpu_profile.ts";

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
    const profiling = await startCpuProfile(inspectPort, 200);
    const before = threadTimes(server.pid);
    const began = performance.now();
    await startSessions(server.base, phones);
    const answered = performance.now() - began;
    await waitConnected(server.base, phones, 600_000);
    const took = performance.now() - began;
    const after = threadTimes(server.pid);
    const profile = await profiling.stop();
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
    for (const line of summariseProfile(profile, 40)) console.log(line);
    const file = await writeProfile(profile, "start");
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
    const profiling = await startCpuProfile(inspectPort, 100);
    const before = threadTimes(server.pid);
    const result = await runWrk(wrk, { ...options, durationS: seconds });
    const after = threadTimes(server.pid);
    const profile = await profiling.stop();

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
    for (const line of summariseProfile(profile)) console.log(line);
    const file = await writeProfile(profile, target);
    console.log(`\nCPU profile written to ${file} (open it in Chrome DevTools → Performance)`);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}
