/**
 * @module
 * `LOG_QR=terminal`: a self-hoster can scan the QR from the server's log. The real entry point
 * runs as a subprocess and its standard output is read back.
 */
import assert from "node:assert/strict";
import { startServerProcess, waitFor } from "./_helpers.ts";

Deno.test("with LOG_QR=terminal the server draws each session's QR in its log", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-qrlog-" });
  const server = await startServerProcess(
    { DATA_DIR: dataDir, SIMULATOR_SCAN_MS: "60000", LOG_QR: "terminal" },
    { stdout: "piped" },
  );
  let output = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of server.child.stdout) output += decoder.decode(chunk);
  })();
  try {
    assert.equal((await server.call("POST", "/4915550006001/start")).status, 200);
    await waitFor("the QR in the log", () => output.includes("Scan this QR code"), 10_000);
    const drawing = output.slice(output.indexOf("Scan this QR code"));
    assert.match(drawing, /4915550006001/);
    // Half-block characters draw two QR rows per line: a real drawing has dozens of them.
    assert.ok(
      (drawing.match(/[▀▄█]/g) ?? []).length > 100,
      "the QR is drawn with block characters",
    );
  } finally {
    await server.stop();
    await reading;
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
