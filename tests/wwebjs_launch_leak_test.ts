/**
 * @module
 * No Chromium outlives its session's Worker when the Worker ends while Chromium is still launching
 * (found by `deno task soak --long`: a restart loop left two running for good). Through our HTTP
 * API with the real engine on the fake WhatsApp Web: a session stopped the moment its Chromium
 * exists, before whatsapp-web.js has it, leaves nothing on its profile folder; and a process left on
 * the folder by an earlier Worker is ended when the session starts again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeCloud } from "./fake_whatsapp/fake_cloud.ts";
import { wwebjsEnv } from "./fake_whatsapp/http_harness.ts";
import { startTestApp, type TestApp, waitFor } from "./_helpers.ts";
import { chromiumGroupsOn } from "../sessions/engines/wwebjs/launch_watch.ts";

const PHONE = "4915550001";

Deno.test("a wwebjs session stopped while its Chromium launches leaves no Chromium behind, and a leftover on its profile is ended at the next start", async (t) => {
  const cloud = await startFakeCloud({});
  const dataDir = await Deno.makeTempDir({ prefix: "wwebjs_launch_leak_test_" });
  const profile = join(dataDir, "sessions", PHONE, "auth", "session-session");
  let server: TestApp | null = null;
  let leftover: Deno.ChildProcess | null = null;
  try {
    // The launch itself is what is tested: a busy machine's slow heartbeat must not restart it.
    server = await startTestApp(
      wwebjsEnv(cloud, { DATA_DIR: dataDir, HEARTBEAT_TIMEOUT_MS: "30000" }),
    );
    const app = server;

    await t.step("stopped the moment Chromium exists: nothing left on the profile", async () => {
      assert.equal((await app.json("POST", `/${PHONE}/start`)).status, 200);
      await waitFor(
        "Chromium to be spawned",
        () => chromiumGroupsOn(profile).length > 0,
        90_000,
        5,
      );
      const { body } = await app.json("GET", `/${PHONE}/state`);
      assert.equal(body.status, "STARTING", "whatsapp-web.js has not got the browser yet");
      assert.equal((await app.json("POST", `/${PHONE}/stop`)).status, 200);
      await waitFor(
        "every Chromium process on the profile to end",
        () => chromiumGroupsOn(profile).length === 0,
        15_000,
      );
    });

    await t.step("a process left on the profile by an earlier Worker is ended", async () => {
      // Its own process group, holding the profile the way a Chromium left by a Worker would.
      leftover = new Deno.Command("setsid", {
        args: ["sh", "-c", "sleep 300", "sh", `--user-data-dir=${profile}`],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      await waitFor("the leftover to run", () => chromiumGroupsOn(profile).length === 1);
      const [group] = chromiumGroupsOn(profile);
      assert.equal((await app.json("POST", `/${PHONE}/start`)).status, 200);
      await waitFor(
        "the leftover to be ended",
        () => !chromiumGroupsOn(profile).includes(group),
        15_000,
      );
      assert.equal((await leftover.status).signal, "SIGKILL");
      leftover = null;
      assert.equal((await app.json("POST", `/${PHONE}/stop`)).status, 200);
    });
  } finally {
    (leftover as Deno.ChildProcess | null)?.kill("SIGKILL");
    await server?.close();
    await cloud.close();
    for (const group of chromiumGroupsOn(profile)) Deno.kill(-group, "SIGKILL");
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
