/**
 * @module
 * Chromium gets no secret from the server's environment. The real whatsapp-web.js engine starts
 * a real Chromium against the fake WhatsApp Web with a sentinel secret in the process
 * environment; every process of Chromium's process group (the engine reports the group leader's
 * pid) is then read from `/proc/<pid>/environ`: the sentinel is absent everywhere, and the
 * wrapper script and the browser have `PATH` and the session's own `HOME`.
 */
import assert from "node:assert/strict";
import { createWwebjsEngine } from "../sessions/engines/wwebjs/engine.ts";
import { startFakeCloud } from "./fake_whatsapp/fake_cloud.ts";
import { EventRecorder, fakeEngineOptions, killGroup } from "./fake_whatsapp/engine_harness.ts";
import { ME } from "./fake_whatsapp/cast.ts";
import { groupMembers } from "./processes.ts";

const SENTINEL = "WA_GATEWAY_TEST_SENTINEL_SECRET";

function environOf(pid: number): Map<string, string> {
  const text = Deno.readTextFileSync(`/proc/${pid}/environ`);
  return new Map(
    text.split("\0").filter(Boolean).map((entry) => {
      const at = entry.indexOf("=");
      return [entry.slice(0, at), entry.slice(at + 1)] as [string, string];
    }),
  );
}

Deno.test("Chromium is started without the server's secrets: only PATH, its own HOME and the variables it uses", async () => {
  const cloud = await startFakeCloud({ me: ME, pushName: "Env Test" });
  const sessionDir = await Deno.makeTempDir({ prefix: "chromium_env_test_" });
  const recorder = new EventRecorder();
  const engine = createWwebjsEngine(fakeEngineOptions(cloud, sessionDir));
  Deno.env.set(SENTINEL, "sentinel-value-0123456789abcdef");
  let leader = 0;
  try {
    await engine.start(recorder.sink);
    await recorder.type("qr");
    leader = recorder.of("child_process")[0].pid;
    const group = groupMembers(leader);
    // The wrapper script, the browser and its helpers (zygote, renderer, ...).
    assert.ok(group.length >= 3, `Chromium's process group: ${group.join(", ")}`);
    const started: number[] = [];
    for (const pid of group) {
      const env = environOf(pid);
      const args = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
      assert.equal(env.has(SENTINEL), false, `${SENTINEL} reached ${pid} (${args[0]})`);
      // Helpers (`--type=zygote`, `renderer`, ...) clear their environment or write their
      // process title over it; the wrapper script and the browser show what they were given.
      if (args.join(" ").includes(" --type=")) continue;
      started.push(pid);
      assert.ok(env.get("PATH"), `PATH in ${pid} (${args[0]})`);
      assert.equal(env.get("HOME"), `${sessionDir}/chromium-home`, `HOME of ${pid} (${args[0]})`);
    }
    assert.ok(started.length >= 1, "the browser process was read");
    // What the engine used to hand Chromium whole.
    assert.ok(Deno.env.toObject()[SENTINEL], "the sentinel is in the server's environment");
  } finally {
    Deno.env.delete(SENTINEL);
    await engine.stop().catch(() => {});
    if (leader) killGroup(leader);
    await cloud.close();
    await Deno.remove(sessionDir, { recursive: true }).catch(() => {});
  }
});
