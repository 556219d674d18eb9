/**
 * @module
 * What a real server process says at start about its configuration: without `WEBHOOK_API_KEY`
 * the inbound `/webhook/*` endpoints take the admin key, and the log says so once, as one JSON
 * line at level warn; with the variable set it says nothing of the kind.
 */
import assert from "node:assert/strict";
import { startServerProcess } from "./_helpers.ts";

/** The JSON log lines (stdout and stderr) a server process wrote from its start to its exit. */
async function logLinesOf(env: Record<string, string>): Promise<Record<string, unknown>[]> {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-warnings-" });
  try {
    const server = await startServerProcess({ DATA_DIR: dataDir, LOG_LEVEL: "info", ...env }, {
      stdout: "piped",
      stderr: "piped",
    });
    const texts = Promise.all(
      [server.child.stdout, server.child.stderr].map((stream) => new Response(stream).text()),
    );
    assert.equal(await server.stop(), 0);
    const lines = (await texts).join("\n").split("\n").filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(lines.some((line) => line.msg === "listening"), "the log was read");
    return lines;
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

const aboutWebhookKey = (line: Record<string, unknown>) =>
  String(line.msg).includes("WEBHOOK_API_KEY");

Deno.test("a server started without WEBHOOK_API_KEY warns once that /webhook/* accepts the admin key", async () => {
  const lines = await logLinesOf({});
  const warnings = lines.filter(aboutWebhookKey);
  assert.equal(warnings.length, 1, JSON.stringify(lines));
  assert.equal(warnings[0].level, "warn");
  assert.equal(
    warnings[0].msg,
    "WEBHOOK_API_KEY is not set: /api/whatsapp/webhook/* accepts the admin key",
  );
});

Deno.test("a server started with WEBHOOK_API_KEY gives no such warning", async () => {
  const lines = await logLinesOf({ WEBHOOK_API_KEY: "webhook-key-0123456789abcdef" });
  assert.deepEqual(lines.filter(aboutWebhookKey), []);
});
