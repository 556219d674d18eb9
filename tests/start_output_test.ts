/**
 * @module
 * What a real server process prints, from its start to its exit: JSON lines only (no line of
 * Deno's own, such as its notice about `request.signal`, even after requests that read the
 * signal), and at start the version, the URL, Swagger UI's URL, the engine and where the admin
 * key comes from: `API_KEY`, generated now (then the key itself, once), or loaded from
 * `DATA_DIR/admin-api-key` on the next start. Opting in to Deno's new `request.signal` (it no longer
 * aborts after a successful response) keeps what the signal is for: a client that leaves stops
 * the media fetch of its request.
 */
import assert from "node:assert/strict";
import { ADMIN_KEY, freePort, waitFor } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const PHONE = "4915550008201";
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

type Line = Record<string, unknown>;

/**
 * Runs `main.ts` as a real process from the repository's folder (so `deno.json` applies) until
 * it listens, lets `work` use it, stops it with SIGTERM and returns every line it printed.
 */
async function runServer(
  env: Record<string, string>,
  work: (base: string, key: string | null) => Promise<void> = async () => {},
): Promise<{ lines: string[]; code: number }> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: ROOT,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "",
      PORT: String(port),
      HOST: "127.0.0.1",
      WA_ENGINE: "simulator",
      SIMULATOR_SCAN_MS: "0",
      NO_COLOR: "1",
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = Promise.all(
    [child.stdout, child.stderr].map((stream) => new Response(stream).text()),
  );
  try {
    const base = `http://127.0.0.1:${port}/api/whatsapp`;
    await waitFor("the server to answer", async () => {
      const response = await fetch(`${base}/health`).catch(() => null);
      await response?.body?.cancel();
      return response?.status === 200;
    }, 30_000);
    await work(base, env.API_KEY ?? null);
  } finally {
    child.kill("SIGTERM");
  }
  const { code } = await child.status;
  const lines = (await output).join("\n").split("\n").filter((line) => line.trim() !== "");
  return { lines, code };
}

function parseAll(lines: string[]): Line[] {
  return lines.map((line) => {
    try {
      return JSON.parse(line) as Line;
    } catch {
      throw new Error(`Not a JSON line: ${line}`);
    }
  });
}

Deno.test("a server prints only JSON lines, starting with its version, URLs, engine and admin key source", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-start-" });
  try {
    const { lines, code } = await runServer(
      { DATA_DIR: dataDir, API_KEY: ADMIN_KEY, LOG_LEVEL: "info" },
      async (base) => {
        const call = (method: string, path: string, body?: unknown) =>
          fetch(`${base}${path}`, {
            method,
            headers: { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json" },
            body: body === undefined ? undefined : JSON.stringify(body),
          }).then((r) => r.text());
        await call("POST", `/${PHONE}/start`);
        await waitFor(
          "CONNECTED",
          async () => (await call("GET", `/${PHONE}/state`)).includes("WORKING"),
        );
        // Media routes hand the request's signal to the media fetch.
        const sent = JSON.parse(
          await call("POST", `/${PHONE}/send-image`, { chatId: "15550000001", imageUrl: PNG }),
        );
        assert.match(String(sent.messageId), /^true_/);
        await call("POST", `/${PHONE}/send-text`, { chatId: "15550000001", text: "hi" });
      },
    );
    assert.equal(code, 0);
    const parsed = parseAll(lines);
    const listening = parsed.find((line) => line.msg === "listening")!;
    assert.ok(listening, lines.join("\n"));
    const port = String(listening.listen).split(":").at(-1);
    assert.equal(listening.version, "0.1.0");
    assert.equal(listening.url, `http://127.0.0.1:${port}/api/whatsapp`);
    assert.equal(listening.swagger, `http://127.0.0.1:${port}/api/whatsapp/swagger`);
    assert.equal(listening.engine, "simulator");
    assert.equal(listening.adminKey, "API_KEY");
    assert.ok(!lines.join("\n").includes(ADMIN_KEY), "a configured key is never printed");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a generated admin key is printed once, as JSON; the next start says it was loaded from DATA_DIR", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-start-" });
  try {
    const first = parseAll((await runServer({ DATA_DIR: dataDir, LOG_LEVEL: "warn" })).lines);
    const saved = (await Deno.readTextFile(`${dataDir}/admin-api-key`)).trim();
    const shown = first.filter((line) => line.adminKey === saved);
    assert.equal(shown.length, 1, JSON.stringify(first));
    assert.equal(shown[0].level, "warn", "shown at LOG_LEVEL=warn too");
    assert.equal(shown[0].savedIn, `${dataDir}/admin-api-key`);

    const info = parseAll((await runServer({ DATA_DIR: dataDir, LOG_LEVEL: "info" })).lines);
    assert.ok(!JSON.stringify(info).includes(saved), "not shown again");
    const listening = info.find((line) => line.msg === "listening")!;
    assert.equal(listening.adminKey, `loaded from ${dataDir}/admin-api-key`);

    const again = parseAll(
      (await runServer({ DATA_DIR: `${dataDir}/fresh`, LOG_LEVEL: "info" })).lines,
    );
    assert.equal(
      again.find((line) => line.msg === "listening")!.adminKey,
      `generated now, saved in ${dataDir}/fresh/admin-api-key`,
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a client that leaves a send stops its media fetch (request.signal)", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-start-" });
  const requested = Promise.withResolvers<void>();
  let cancelled = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  // Media that never ends, a byte every 50 ms: only an abort stops its fetch before the timeout.
  const media = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    requested.resolve();
    return new Response(
      new ReadableStream({
        start(controller) {
          timer = setInterval(() => controller.enqueue(new Uint8Array([0x89])), 50);
        },
        cancel() {
          clearInterval(timer);
          cancelled = true;
        },
      }),
      { headers: { "content-type": "image/png" } },
    );
  });
  try {
    await runServer({
      DATA_DIR: dataDir,
      API_KEY: ADMIN_KEY,
      LOG_LEVEL: "warn",
      MEDIA_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
      MEDIA_TIMEOUT_MS: "600000",
    }, async (base) => {
      const headers = { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json" };
      await fetch(`${base}/${PHONE}/start`, { method: "POST", headers }).then((r) => r.text());
      await waitFor(
        "CONNECTED",
        async () =>
          (await fetch(`${base}/${PHONE}/state`, { headers }).then((r) => r.text())).includes(
            "WORKING",
          ),
      );
      const client = new AbortController();
      const sending = fetch(`${base}/${PHONE}/send-image`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          chatId: "15550000001",
          imageUrl: `http://127.0.0.1:${media.addr.port}/endless.png`,
        }),
        signal: client.signal,
      }).catch(() => null);
      await requested.promise;
      client.abort();
      await sending;
      // The server's fetch of the media ends with its client, long before MEDIA_TIMEOUT_MS.
      await waitFor("the media fetch to be cancelled", () => cancelled, 20_000);
    });
  } finally {
    clearInterval(timer);
    await media.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});
