/**
 * @module
 * Tests for finding Chromium and its launch flags.
 */
import assert from "node:assert/strict";
import { chromiumEnv, findChromium, lowMemoryArgs } from "./chromium.ts";
import { createWwebjsEngine } from "./engine.ts";
import type { EngineEvent } from "../../engine.ts";

Deno.test("findChromium() rejects a CHROME_PATH that does not exist", () => {
  assert.throws(() => findChromium("/nonexistent/chrome"), /Chromium not found at CHROME_PATH/);
});

Deno.test("findChromium() names what it looked for when no candidate exists", () => {
  assert.throws(() => findChromium(undefined, ["/nonexistent/a", "/nonexistent/b"]), /CHROME_PATH/);
});

Deno.test("findChromium() returns the first existing candidate, with old headless only for the shell", () => {
  assert.deepEqual(findChromium(undefined, ["/nonexistent/a", "/bin/sh"]), {
    path: "/bin/sh",
    headless: true,
  });
  assert.equal(findChromium("/bin/sh").headless, true);
  const shell = "/usr/bin/chromium-headless-shell";
  if (Deno.statSync(shell).isFile) assert.equal(findChromium(shell).headless, "shell");
});

Deno.test("chromiumEnv() keeps PATH, locale, time zone, display, font and proxy variables and sets its own HOME", () => {
  const env = chromiumEnv({
    PATH: "/usr/bin:/bin",
    HOME: "/home/server",
    TMPDIR: "/var/tmp",
    LANG: "de_DE.UTF-8",
    LC_TIME: "en_GB.UTF-8",
    TZ: "Europe/Berlin",
    DISPLAY: ":1",
    FONTCONFIG_PATH: "/etc/fonts",
    HTTPS_PROXY: "http://proxy.internal:3128",
    API_KEY: "account-a-key-0123456789abcdef",
    API_KEYS: "k=a",
    WEBHOOK_API_KEY: "webhook-key-0123456789abcdef",
    WEBHOOK_SECRET: "hush",
    DATABASE_URL: "postgres://user:pass@db/wa",
    XDG_CONFIG_HOME: "/home/server/.config",
    LD_PRELOAD: "/tmp/evil.so",
  }, "/data/sessions/1/chromium-home");
  assert.deepEqual(env, {
    PATH: "/usr/bin:/bin",
    HOME: "/data/sessions/1/chromium-home",
    TMPDIR: "/var/tmp",
    LANG: "de_DE.UTF-8",
    LC_TIME: "en_GB.UTF-8",
    TZ: "Europe/Berlin",
    DISPLAY: ":1",
    FONTCONFIG_PATH: "/etc/fonts",
    HTTPS_PROXY: "http://proxy.internal:3128",
  });
});

Deno.test("chromiumEnv() gives a PATH when the server has none", () => {
  assert.deepEqual(chromiumEnv({}, "/h"), { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/h" });
});

Deno.test("lowMemoryArgs() adds --no-sandbox only as root and returns a fresh array", () => {
  const shell = { path: "/usr/bin/chromium-headless-shell", headless: "shell" as const };
  assert.ok(lowMemoryArgs(shell, true).includes("--no-sandbox"));
  assert.ok(!lowMemoryArgs(shell, false).includes("--no-sandbox"));
  assert.ok(lowMemoryArgs(shell, false).includes("--in-process-gpu"));
  assert.notEqual(lowMemoryArgs(shell, false), lowMemoryArgs(shell, false));
});

Deno.test("lowMemoryArgs() drops the zygote processes only when the sandbox is off (Chromium refuses it otherwise)", () => {
  const shell = { path: "/usr/bin/chromium-headless-shell", headless: "shell" as const };
  assert.ok(lowMemoryArgs(shell, true).includes("--no-zygote"));
  assert.ok(!lowMemoryArgs(shell, false).includes("--no-zygote"));
});

Deno.test("createWwebjsEngine() start fails with a clear reason when Chromium is missing", async () => {
  const sessionDir = await Deno.makeTempDir();
  const events: EngineEvent[] = [];
  try {
    const engine = createWwebjsEngine({
      phoneNumber: "4915550001",
      sessionDir,
      qrMaxRetries: 0,
      simulatorScanMs: 0,
      chromePath: "/nonexistent/chrome",
    });
    await assert.rejects(engine.start((e) => events.push(e)), /Chromium not found/);
    assert.deepEqual(events, [{ type: "status", status: "STARTING" }]);
  } finally {
    await Deno.remove(sessionDir, { recursive: true });
  }
});
