/**
 * @module
 * `LOG_QR=terminal`: a self-hoster can scan the QR from the server's log. The real entry point
 * runs as a subprocess and its standard output is read back.
 */
import assert from "node:assert/strict";
import { ADMIN_KEY, freePort, waitFor } from "./_helpers.ts";

Deno.test("with LOG_QR=terminal the server draws each session's QR in its log", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-qrlog-" });
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
    env: {
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      WA_ENGINE: "simulator",
      SIMULATOR_SCAN_MS: "60000",
      API_KEY: ADMIN_KEY,
      LOG_QR: "terminal",
      LOG_LEVEL: "warn",
    },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stdout) output += decoder.decode(chunk);
  })();
  try {
    const base = `http://127.0.0.1:${port}/api/whatsapp`;
    await waitFor("the server", async () => {
      const response = await fetch(`${base}/health`).catch(() => null);
      await response?.body?.cancel();
      return response?.ok;
    }, 20_000);
    const start = await fetch(`${base}/4915550006001/start`, {
      method: "POST",
      headers: { "X-Api-Key": ADMIN_KEY },
    });
    await start.body?.cancel();
    await waitFor("the QR in the log", () => output.includes("Scan this QR code"), 10_000);
    const drawing = output.slice(output.indexOf("Scan this QR code"));
    assert.match(drawing, /4915550006001/);
    // Half-block characters draw two QR rows per line: a real drawing has dozens of them.
    assert.ok(
      (drawing.match(/[▀▄█]/g) ?? []).length > 100,
      "the QR is drawn with block characters",
    );
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await reading;
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
