/**
 * @module
 * `deno task soak`: faults under load, bounded in time (about two minutes), loopback only.
 *
 * Starts the server as a subprocess with 20 simulator sessions and drives a steady mixed load
 * (sends, state polls, session lists) from 8 paced clients. Meanwhile it hangs one session,
 * crashes others at random (`/simulate crash`, `/simulate exit`), restarts the whole server once
 * with SIGTERM and kills it once with SIGKILL (restarting it on the same `DATA_DIR` both times).
 *
 * Rules, each a non-zero exit when broken:
 * - outside the server restarts, requests to untouched sessions all succeed, and the hurt
 *   sessions answer only 409 or 504 besides success;
 * - while the server restarts, only refused connections and 409 are allowed;
 * - SIGTERM ends the server with exit code 0;
 * - all 20 sessions are CONNECTED at the end;
 * - when webhooks deliver (`WEBHOOK_URL`), no event of an accepted send is lost.
 * It also reports requests served, errors by status, and the p99 of the untouched sessions
 * before, during the in-process faults, and after the restarts. `--long` runs the long soak
 * instead (`soak_long.ts`: memory over time).
 */
import {
  API_KEY,
  connectedCount,
  ECHO_CONTACT,
  freePort,
  percentile,
  phone,
  QUIET_CHAT,
  type Server,
  sleep,
  startServer,
  startSessions,
  waitConnected,
} from "./lib.ts";

const SESSIONS = 20;
const CLIENTS = 8;
const CLIENT_INTERVAL_MS = 40; // 8 clients × 25 req/s ≈ 200 req/s.
const BASELINE_MS = 15_000;
const FAULTS_MS = 35_000;
const CRASH_EVERY_MS = 3_000;
const SETTLE_MS = 10_000;
const ENGINE_CALL_TIMEOUT_MS = 2_000;

type Phase = "baseline" | "faults" | "restart" | "after";
interface Sample {
  phase: Phase;
  phone: string;
  op: string;
  /** HTTP status, or 0 when the connection failed. */
  status: number;
  ms: number;
}

const phones = Array.from({ length: SESSIONS }, (_, i) => phone(i, "4917"));
const crashVictims = phones.slice(0, 5);
const hangVictim = phones[5];
const hurt = new Set([...crashVictims, hangVictim]);
const untouched = phones.filter((p) => !hurt.has(p));

const samples: Sample[] = [];
const acceptedTokens = new Set<string>();
const seenBodies: string[] = [];
let phase: Phase = "baseline";
let running = true;
let webhooksWork = false;

async function request(
  base: string,
  op: string,
  number: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<number> {
  const started = performance.now();
  const at = phase;
  let status = 0;
  try {
    const response = await fetch(`${base}/api/whatsapp${path}`, {
      method,
      headers: {
        "X-Api-Key": API_KEY,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    await response.arrayBuffer();
    status = response.status;
  } catch {
    status = 0;
  }
  // A request that overlapped a server restart is judged by the restart's rules.
  const label = at === "restart" || phase === "restart" ? "restart" : at;
  samples.push({ phase: label, phone: number, op, status, ms: performance.now() - started });
  return status;
}

async function client(server: () => Server, id: number): Promise<void> {
  let n = 0;
  while (running) {
    const began = performance.now();
    const number = phones[Math.floor(Math.random() * phones.length)];
    const roll = Math.random();
    const base = server().base;
    if (roll < 0.5) {
      const token = `soak-${id}-${n++}-${crypto.randomUUID()}`;
      const chatId = n % 5 === 0 ? ECHO_CONTACT : QUIET_CHAT;
      const status = await request(base, "send", number, "POST", `/${number}/send-text`, {
        chatId,
        text: token,
      });
      if (status === 200) acceptedTokens.add(token);
    } else if (roll < 0.85) {
      await request(base, "state", number, "GET", `/${number}/state`);
    } else {
      await request(base, "list", "-", "GET", "/sessions");
    }
    await sleep(Math.max(0, CLIENT_INTERVAL_MS - (performance.now() - began)));
  }
}

/** A fault request: its answer is expected to be an error, so it is not part of the load. */
async function hurtSession(base: string, number: string, command: string): Promise<number> {
  try {
    const response = await fetch(`${base}/api/whatsapp/${number}/send-text`, {
      method: "POST",
      headers: { "X-Api-Key": API_KEY, "Content-Type": "application/json" },
      body: JSON.stringify({ chatId: QUIET_CHAT, text: `/simulate ${command}` }),
      signal: AbortSignal.timeout(15_000),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

async function restartServer(
  current: Server,
  signal: Deno.Signal,
  dataDir: string,
  env: Record<string, string>,
): Promise<{ server: Server; code: number; downMs: number; backMs: number }> {
  const t0 = performance.now();
  const code = await current.stop(signal);
  const server = startServer({ dataDir, port: current.port, env });
  await server.ready();
  const downMs = performance.now() - t0;
  await waitConnected(server.base, phones, 60_000);
  return { server, code, downMs, backMs: performance.now() - t0 };
}

function p99(filter: (s: Sample) => boolean): string {
  const values = samples.filter(filter).map((s) => s.ms);
  return values.length
    ? `${percentile(values, 99).toFixed(1)} ms (${values.length} requests)`
    : "–";
}

if (import.meta.main && Deno.args.includes("--long")) {
  // The long soak (memory over time) is a module of its own; this one stays the short soak.
  const { runLongSoak } = await import("./soak_long.ts");
  Deno.exit(await runLongSoak(Deno.args));
} else if (import.meta.main) {
  const began = performance.now();
  const receiverPort = freePort();
  const receiver = Deno.serve(
    { hostname: "127.0.0.1", port: receiverPort, onListen: () => {} },
    async (req) => {
      seenBodies.push(await req.text());
      return new Response(null, { status: 204 });
    },
  );
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-soak-" });
  const env = {
    ENGINE_CALL_TIMEOUT_MS: String(ENGINE_CALL_TIMEOUT_MS),
    RESTART_BACKOFF_MIN_MS: "500",
    RESTART_BACKOFF_MAX_MS: "4000",
    WEBHOOK_URL: `http://127.0.0.1:${receiverPort}/hook`,
    WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
  };
  let server = startServer({ dataDir, env });
  const broken: string[] = [];
  const report: string[] = [];
  try {
    await server.ready();
    await startSessions(server.base, phones);
    await waitConnected(server.base, phones, 60_000);

    // Do webhooks deliver yet? One probe through the echo contact.
    const probe = `probe-${crypto.randomUUID()}`;
    await request(server.base, "probe", untouched[0], "POST", `/${untouched[0]}/send-text`, {
      chatId: ECHO_CONTACT,
      text: probe,
    });
    samples.length = 0;
    for (let i = 0; i < 60 && !webhooksWork; i++) {
      webhooksWork = seenBodies.some((body) => body.includes(probe));
      await sleep(50);
    }

    const clients = Array.from({ length: CLIENTS }, (_, i) => client(() => server, i));
    console.error(`soak: baseline ${BASELINE_MS / 1000} s`);
    await sleep(BASELINE_MS);

    phase = "faults";
    console.error(`soak: faults ${FAULTS_MS / 1000} s (hang one, crash/exit others)`);
    const hangStatus = hurtSession(server.base, hangVictim, "hang");
    const faultAnswers: number[] = [];
    const order = shuffled(crashVictims);
    const faultsEnd = performance.now() + FAULTS_MS;
    for (let i = 0; performance.now() < faultsEnd; i++) {
      const victim = order[i % order.length];
      const command = i % 2 === 0 ? "crash" : "exit";
      hurtSession(server.base, victim, command).then((status) => faultAnswers.push(status));
      await sleep(Math.min(CRASH_EVERY_MS, Math.max(0, faultsEnd - performance.now())));
    }
    faultAnswers.push(await hangStatus);

    console.error("soak: SIGTERM and restart");
    phase = "restart";
    const term = await restartServer(server, "SIGTERM", dataDir, env);
    server = term.server;
    if (term.code !== 0) broken.push(`SIGTERM ended the server with exit code ${term.code}, not 0`);
    phase = "after";
    await sleep(SETTLE_MS);

    console.error("soak: SIGKILL and restart");
    phase = "restart";
    const kill = await restartServer(server, "SIGKILL", dataDir, env);
    server = kill.server;
    phase = "after";
    await sleep(SETTLE_MS);

    running = false;
    await Promise.all(clients);

    // Every session back, with time for the last crashed ones to come back.
    let connected = 0;
    const until = performance.now() + 20_000;
    while (performance.now() < until) {
      connected = await connectedCount(server.base, phones).catch(() => 0);
      if (connected === SESSIONS) break;
      await sleep(200);
    }
    if (connected !== SESSIONS) {
      broken.push(`${SESSIONS - connected} sessions not CONNECTED at the end`);
    }

    // Events: every accepted send must reach the webhook (retries included).
    let lost: number | null = null;
    if (webhooksWork) {
      const waitUntil = performance.now() + 20_000;
      let missing: string[] = [];
      while (performance.now() < waitUntil) {
        const all = seenBodies.join("\n");
        missing = [...acceptedTokens].filter((token) => !all.includes(token));
        if (missing.length === 0) break;
        await sleep(500);
      }
      lost = missing.length;
      if (lost > 0) {
        broken.push(`${lost} of ${acceptedTokens.size} accepted sends never reached the webhook`);
      }
    }

    // Errors by rule.
    const byStatus = new Map<string, number>();
    let unexpected = 0;
    for (const s of samples) {
      if (s.status >= 200 && s.status < 300) continue;
      const who = s.phone === "-" ? "list" : hurt.has(s.phone) ? "hurt" : "untouched";
      const key = `${s.status === 0 ? "connection refused/reset" : s.status} (${who}, ${s.phase})`;
      byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
      const allowed = s.phase === "restart"
        ? s.status === 0 || s.status === 409
        : who === "hurt" && (s.status === 409 || s.status === 504);
      if (!allowed) unexpected++;
    }
    if (unexpected > 0) {
      broken.push(`${unexpected} requests failed in a way the rules do not allow`);
    }

    const ok = samples.filter((s) => s.status >= 200 && s.status < 300).length;
    const isUntouched = (s: Sample) => untouched.includes(s.phone) && s.status === 200;
    report.push(
      `requests: ${samples.length} sent, ${ok} served with 2xx`,
      `fault requests answered: ${
        faultAnswers.join(", ")
      } (409 = the session died under the call, 504 = the hang)`,
      "errors by status (who, phase):",
      ...[...byStatus].sort().map(([key, count]) => `  ${key}: ${count}`),
      `p99 untouched sessions: before ${p99((s) => s.phase === "baseline" && isUntouched(s))}, ` +
        `during crashes ${p99((s) => s.phase === "faults" && isUntouched(s))}, ` +
        `after the restarts ${p99((s) => s.phase === "after" && isUntouched(s))}`,
      `SIGTERM: exit code ${term.code}, answering again after ${
        term.downMs.toFixed(0)
      } ms, all CONNECTED after ${term.backMs.toFixed(0)} ms`,
      `SIGKILL: answering again after ${kill.downMs.toFixed(0)} ms, all CONNECTED after ${
        kill.backMs.toFixed(0)
      } ms`,
      `sessions CONNECTED at the end: ${connected} of ${SESSIONS}`,
      `events lost: ${
        lost === null
          ? "not measured (webhooks do not deliver yet)"
          : `${lost} of ${acceptedTokens.size} accepted sends`
      }`,
      `duration: ${((performance.now() - began) / 1000).toFixed(0)} s`,
    );
  } catch (error) {
    broken.push(
      `the soak itself failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    report.push(server.tail());
  } finally {
    running = false;
    await server.stop().catch(() => {});
    await receiver.shutdown();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
  console.log(report.join("\n"));
  if (broken.length > 0) {
    console.log(`\nFAILED:\n${broken.map((b) => `- ${b}`).join("\n")}`);
    Deno.exit(1);
  }
  console.log("\nok: every rule held");
}
