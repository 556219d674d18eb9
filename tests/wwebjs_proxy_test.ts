/**
 * @module
 * A proxy per number (issue 20), through the real server process, the real whatsapp-web.js in a
 * real Chromium, and forward proxies on 127.0.0.1 that count what passes through them: the
 * number's WhatsApp traffic (here the fake WhatsApp Web's, on loopback) goes through its own proxy
 * with its credentials, keeps doing so after the server restarts, and goes through `PROXY_URL`
 * once its own is removed; its password is never shown or logged.
 */
import assert from "node:assert/strict";
import { PIXEL_PNG } from "./fake_whatsapp/cast.ts";
import { startFakeCloud } from "./fake_whatsapp/fake_cloud.ts";
import { wwebjsEnv } from "./fake_whatsapp/http_harness.ts";
import { startForwardProxy } from "./_forward_proxy.ts";
import { type ServerProcess, startServerProcess, waitFor } from "./_helpers.ts";

const PASSWORD = "pr0xy-s3cret-pa55word";

async function waitForStatus(server: ServerProcess, phone: string, status: string) {
  await waitFor(`the session to be ${status}`, async () => {
    const { body } = await server.call("GET", `/${phone}/state`);
    return body?.status === status;
  }, 45_000);
}

Deno.test({
  name:
    "a number's own proxy carries its WhatsApp traffic with its credentials, across a server restart, and PROXY_URL takes over once it is removed",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const own = await startForwardProxy({ user: "proxy-user", password: PASSWORD });
    const fallback = await startForwardProxy();
    const cloud = await startFakeCloud({ registered: ["4915550007777@c.us"] });
    const phone = cloud.me.split("@")[0];
    const cloudTarget = new URL(cloud.url).host;
    const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-proxy-" });
    // A media URL the server fetches itself, directly: never through the number's proxy.
    let mediaFetches = 0;
    const media = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
      mediaFetches++;
      return new Response(Uint8Array.fromBase64(PIXEL_PNG), {
        headers: { "Content-Type": "image/png" },
      });
    });
    const mediaTarget = `127.0.0.1:${media.addr.port}`;
    const env = wwebjsEnv(cloud, {
      DATA_DIR: dataDir,
      PROXY_URL: fallback.url,
      LOG_LEVEL: "debug",
      MEDIA_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
    });
    const logs: Promise<string>[] = [];
    const start = async () => {
      const server = await startServerProcess(env, { stdout: "piped", stderr: "piped" });
      logs.push(new Response(server.child.stdout).text(), new Response(server.child.stderr).text());
      return server;
    };
    let server = await start();
    try {
      const started = await server.call("POST", `/${phone}/start`, { proxy: own.url });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      cloud.scanQr(await waitFor("the QR", () => cloud.currentQr(), 45_000));
      await waitForStatus(server, phone, "WORKING");
      assert.ok(own.countTo(cloudTarget) > 0, "the page reached WhatsApp through its proxy");
      assert.ok(own.challenged > 0, "the proxy asked for credentials, and was given them");
      assert.equal(fallback.passed.length, 0, "PROXY_URL is only for numbers without a proxy");

      const shown = `http://proxy-user:***@127.0.0.1:${own.port}`;
      const { body: state } = await server.call("GET", `/${phone}/state`);
      assert.equal(state?.proxy, shown);
      const { body: list } = await server.call("GET", "/sessions");
      const listed = (list?.sessions as Record<string, unknown>[]).find((s) =>
        s.phoneNumber === phone
      );
      assert.equal(listed?.proxy, shown);

      const sent = await server.call("POST", `/${phone}/send-text`, {
        chatId: "4915550007777@c.us",
        text: "through the proxy",
      });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      const image = await server.call("POST", `/${phone}/send-image`, {
        chatId: "4915550007777@c.us",
        imageUrl: `http://${mediaTarget}/pixel.png`,
      });
      assert.equal(image.status, 200, JSON.stringify(image.body));
      assert.equal(mediaFetches, 1, "the server fetched the media itself");
      assert.equal(own.countTo(mediaTarget), 0, "not through the number's proxy");
      assert.equal(fallback.countTo(mediaTarget), 0);

      // The server restarts: the session comes back with its proxy, from the store.
      assert.equal(await server.stop(), 0);
      const before = own.countTo(cloudTarget);
      server = await start();
      await waitForStatus(server, phone, "WORKING");
      assert.ok(own.countTo(cloudTarget) > before, "after the restart, still through its proxy");
      assert.equal(fallback.passed.length, 0);

      // Its own proxy removed: from its next start, PROXY_URL's.
      const removed = await server.call("POST", `/${phone}/start`, { proxy: null });
      assert.equal(removed.status, 200);
      assert.match(String(removed.body?.message), /its new settings apply from its next restart/);
      assert.equal((await server.call("GET", `/${phone}/state`)).body?.proxy, null);
      assert.equal((await server.call("POST", `/${phone}/restart`)).status, 200);
      await waitForStatus(server, phone, "WORKING");
      assert.ok(fallback.countTo(cloudTarget) > 0, "now through PROXY_URL");
    } finally {
      await server.stop();
      await cloud.close();
      await media.shutdown();
      await own.close();
      await fallback.close();
      const output = (await Promise.all(logs)).join("\n");
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      assert.ok(output.length > 0, "the server logged (at debug)");
      assert.ok(!output.includes(PASSWORD), "the proxy's password is never logged");
    }
  },
});
