/**
 * @module
 * Slow and broken starts, through our HTTP API and the real whatsapp-web.js against the fake
 * WhatsApp Web: a restored login whose page syncs before whatsapp-web.js listens (`ready` never
 * fires), a page that never finishes loading, a renderer that crashes, a saved login WhatsApp no
 * longer accepts (`auth_failure`) and a pinned web version missing from the cache. None leaves a
 * session in STARTING: the ready watchdog (`WWEBJS_READY_TIMEOUT_MS`) and the crash watch restart
 * it under the restart policy with a reason that says which, and it is FAILED once the policy
 * gives up; the two that no restart can fix are FAILED at once, saying why.
 */
import assert from "node:assert/strict";
import { type FakeCloudOptions, startFakeCloud } from "./fake_whatsapp/fake_cloud.ts";
import { startReceiver, withLinkedServer, wwebjsEnv } from "./fake_whatsapp/http_harness.ts";
import { ALICE, ME } from "./fake_whatsapp/cast.ts";
import { startTestApp, type TestApp, waitFor, waitForState } from "./_helpers.ts";
import { isBrowser, isChromiumOn, type Proc, processes } from "./processes.ts";

const PHONE = ME.split("@")[0];
// Long enough for Chromium to start and show its QR on a loaded machine.
const READY_TIMEOUT_MS = 12_000;

/** A fast watchdog; two crashes within the window and the policy gives up. */
function watchdogEnv(backoffMs = 300): Record<string, string> {
  return {
    WWEBJS_READY_TIMEOUT_MS: String(READY_TIMEOUT_MS),
    RESTART_BACKOFF_MIN_MS: String(backoffMs),
    RESTART_BACKOFF_MAX_MS: String(backoffMs),
    RESTART_MAX_CRASHES: "2",
  };
}

const world: FakeCloudOptions = {
  me: ME,
  pushName: "Watchdog",
  chats: [{ id: ALICE, name: "Alice" }],
  contacts: [{ id: ALICE, name: "Alice", isMyContact: true }],
};

interface State {
  state: string;
  status: string;
  reason: string | null;
}

function state(server: TestApp): Promise<State> {
  return server.json<State>("GET", `/${PHONE}/state`).then((r) => r.body);
}

/** Waits for a status whose reason matches; returns it. */
function statusWith(server: TestApp, status: string, reason: RegExp, timeoutMs = 60_000) {
  return waitFor(`status ${status} with reason ${reason}`, async () => {
    const s = await state(server);
    return s.status === status && reason.test(s.reason ?? "") ? s : null;
  }, timeoutMs);
}

/** The statuses the webhook saw, in order. */
function statuses(received: Record<string, unknown>[]): string[] {
  return received.filter((e) => e.event === "session.status")
    .map((e) => String((e.payload as { status: string }).status));
}

/** The renderer of the Chromium whose profile is under `dir` (same process group). */
function rendererUnder(dir: string): Proc | undefined {
  const all = processes();
  const browser = all.find((p) => isChromiumOn(p, dir) && isBrowser(p));
  if (!browser) return undefined;
  // A helper writes its title over its arguments: one string with spaces.
  return all.find((p) => p.group === browser.group && p.args.join(" ").includes("--type=renderer"));
}

Deno.test("a restored session whose WhatsApp Web syncs before whatsapp-web.js listens is restarted, saying so, and works once the page behaves", () =>
  withLinkedServer(world, async ({ server, cloud, receiver }) => {
    cloud.syncBeforeListen = true;
    // The page's early sync races the library's listener: now and then the library still sees it
    // and the session comes up WORKING, so the case under test did not happen; start it again.
    let restarting: State | null = null;
    for (let attempt = 1; attempt <= 3 && !restarting; attempt++) {
      assert.equal((await server.json("POST", `/${PHONE}/stop`)).status, 200);
      assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
      const seen = await waitFor("the watchdog's restart, or WORKING", async () => {
        const s = await state(server);
        if (s.status === "WORKING") return s;
        return s.status === "STARTING" && /did not become ready/.test(s.reason ?? "") ? s : null;
      }, 60_000);
      if (seen.status === "STARTING") restarting = seen;
    }
    assert.ok(restarting, "the page synced before the library listened in one of three starts");
    assert.match(
      restarting.reason!,
      new RegExp(
        `^WhatsApp Web loaded but did not become ready within ${READY_TIMEOUT_MS} ms ` +
          `\\(it never reported its sync\\); restarting in \\d+ ms$`,
      ),
    );
    cloud.syncBeforeListen = false;
    await waitForState(server, PHONE, "CONNECTED", 30_000);
    assert.equal((await state(server)).status, "WORKING");
    await waitFor("the webhook's WORKING", () => statuses(receiver.received).at(-1) === "WORKING");
  }, { env: watchdogEnv(3_000) }));

Deno.test("a session whose WhatsApp Web never becomes ready is FAILED once the restart policy gives up, never left STARTING", () =>
  withLinkedServer(world, async ({ server, cloud }) => {
    assert.equal((await server.json("POST", `/${PHONE}/stop`)).status, 200);
    cloud.syncBeforeListen = true;
    assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
    const failed = await statusWith(server, "FAILED", /did not become ready/, 90_000);
    assert.match(
      failed.reason!,
      new RegExp(`did not become ready within ${READY_TIMEOUT_MS} ms .*; crashed 2 times in`),
    );
    assert.equal(failed.state, "DISCONNECTED");
  }, { env: watchdogEnv() }));

Deno.test("a WhatsApp Web that never finishes loading is restarted, then FAILED, saying it did not load", async () => {
  const cloud = await startFakeCloud(world);
  const receiver = startReceiver();
  cloud.hangLoad = true;
  const server = await startTestApp(
    wwebjsEnv(cloud, { ...watchdogEnv(), WEBHOOK_URL: receiver.url }),
  );
  try {
    assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
    const restarting = await statusWith(server, "STARTING", /did not finish loading/);
    assert.match(
      restarting.reason!,
      new RegExp(`^WhatsApp Web did not finish loading within ${READY_TIMEOUT_MS} ms;`),
    );
    const failed = await statusWith(server, "FAILED", /did not finish loading/, 90_000);
    assert.match(failed.reason!, /crashed 2 times/);
    assert.ok(!statuses(receiver.received).includes("SCAN_QR_CODE"), "no QR was ever shown");
  } finally {
    await server.close();
    await receiver.close();
    await cloud.close();
  }
});

Deno.test("a renderer that crashes is restarted with the reason, and the restored login works again", () =>
  withLinkedServer(world, async ({ server, cloud, receiver }) => {
    const renderer = await waitFor("Chromium's renderer", () => rendererUnder(server.dataDir));
    Deno.kill(renderer.pid, "SIGKILL");
    await waitFor(
      "a restart that says the page crashed",
      () =>
        receiver.received.find((e) =>
          e.event === "session.status" &&
          /The WhatsApp page crashed/.test(
            String((e.payload as { data?: { reason?: string } }).data?.reason ?? ""),
          )
        ),
      20_000,
    );
    await waitForState(server, PHONE, "CONNECTED", 30_000);
    // Working again, without a new scan.
    const id = cloud.deliverIncoming({ from: ALICE, body: "still there?" });
    await receiver.waitFor(
      (e) => e.event === "message" && (e.payload as { id: string }).id === id,
      "a message after the restart",
    );
    assert.equal(cloud.refsIssued.length, 1, "one QR, at the first link");
  }));

Deno.test("a saved login WhatsApp no longer accepts is an authentication failure: FAILED saying so, the login removed, the next start shows a QR", () =>
  withLinkedServer(world, async ({ server, cloud }) => {
    assert.equal((await server.json("POST", `/${PHONE}/stop`)).status, 200);
    // Unlinked on the phone while the session was down.
    cloud.logoutFromPhone();
    assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
    const failed = await statusWith(server, "FAILED", /Authentication failed/);
    assert.equal(
      failed.reason,
      "Authentication failed: WhatsApp no longer accepts the saved login (unlinked on the phone?)",
    );
    assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
    await waitForState(server, PHONE, "AUTHENTICATING", 30_000);
    await waitFor(
      "a QR for a new scan",
      async () => (await state(server)).status === "SCAN_QR_CODE",
    );
    const qr = await server.json("GET", `/${PHONE}/qr`);
    assert.equal(qr.status, 200);
  }, { env: watchdogEnv() }));

Deno.test("a pinned WhatsApp Web version missing from the cache folder is FAILED at once, saying which", async () => {
  const cloud = await startFakeCloud(world);
  const server = await startTestApp(
    wwebjsEnv(cloud, { ...watchdogEnv(), WWEBJS_WEB_VERSION: "2.3000.1000000000" }),
  );
  try {
    assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
    const failed = await statusWith(server, "FAILED", /2\.3000\.1000000000/, 20_000);
    assert.equal(
      failed.reason,
      "Failed to start: WhatsApp Web 2.3000.1000000000 is not in WWEBJS_WEB_CACHE_PATH (no " +
        "2.3000.1000000000.html there): add the file or unset WWEBJS_WEB_VERSION",
    );
    assert.doesNotMatch(failed.reason!, new RegExp(cloud.webVersionCachePath), "no server path");
  } finally {
    await server.close();
    await cloud.close();
  }
});
