/**
 * @module
 * The dashboard in a real headless Chromium against a real server (`main.ts`, simulator engine):
 * sign in with the admin key, start a number, see its QR (a readable one) and then "Connected"
 * without reloading, send a text to the simulator's echo contact and see the echo arrive in the
 * number's live feed, over the one stream of every number; the number's failing webhook shows its
 * dead letter, retried from the page. The key must never be in a cookie or
 * in a URL the page asked for, the page must reach nothing but our server, and its
 * Content-Security-Policy must not have had to refuse anything. A screenshot is saved in the
 * test's temporary folder (and copied to `DASHBOARD_SCREENSHOT`, when set: how the README's
 * `dashboard/screenshot.png` is made).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import jsQRModule from "jsqr";
import puppeteer from "puppeteer";
import { findChromium, lowMemoryArgs } from "../sessions/engines/wwebjs/chromium.ts";
import { startReceiver } from "../events/test_receivers.ts";
import { ADMIN_KEY, startServerProcess, waitFor } from "./_helpers.ts";

const PHONE = "4915550004242";
const jsQR = jsQRModule as unknown as (
  data: Uint8ClampedArray,
  width: number,
  height: number,
) => { data: string } | null;

Deno.test("the dashboard links a simulator number by QR, turns to Connected by itself, shows the echo of a text it sent and retries a dead letter", async () => {
  // The scan comes after 4 s: long enough for the page to show the QR first.
  let failing = true;
  const receiver = startReceiver(() => new Response("down", { status: failing ? 500 : 200 }));
  const server = await startServerProcess({
    SIMULATOR_SCAN_MS: "4000",
    SSE_HEARTBEAT_MS: "1000",
    WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
    WEBHOOK_MAX_ATTEMPTS: "1",
  });
  const home = await Deno.makeTempDir({ prefix: "wa-gateway-dashboard-" });
  const chromium = findChromium();
  const browser = await puppeteer.launch({
    executablePath: chromium.path,
    headless: chromium.headless,
    userDataDir: join(home, "profile"),
    args: lowMemoryArgs(chromium),
    env: { ...Deno.env.toObject(), HOME: home },
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 760 });
    const requested: { url: string; headers: Record<string, string> }[] = [];
    const outside: string[] = [];
    const problems: string[] = [];
    page.on("request", (request) => {
      requested.push({ url: request.url(), headers: request.headers() });
      const url = new URL(request.url());
      if (!["data:", "blob:"].includes(url.protocol) && url.hostname !== "127.0.0.1") {
        outside.push(request.url());
      }
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });

    await page.goto(`http://127.0.0.1:${server.port}/dashboard`, { waitUntil: "load" });
    await page.evaluate("window.sameDocument = true");
    await page.type("#credential", ADMIN_KEY);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#signed-in:not([hidden])");
    await page.waitForFunction(`document.getElementById("who").textContent.includes("admin")`);

    await page.type("#start-number", PHONE);
    await page.select("#start-engine", "simulator");
    await page.click("#start-form button[type=submit]");

    // The QR: an image that is there, loaded, and says something when read.
    await page.waitForSelector("#qr:not([hidden])", { timeout: 15_000 });
    await page.waitForFunction(`document.getElementById("qr").complete &&
      document.getElementById("qr").naturalWidth > 0`);
    // Its pixels, read back through a canvas (the CSP lets no script fetch the blob).
    const pixels = await page.evaluate(`(() => {
      const img = document.getElementById("qr");
      const canvas = document.createElement("canvas");
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const context = canvas.getContext("2d");
      context.drawImage(img, 0, 0);
      const { data, width, height } = context.getImageData(0, 0, canvas.width, canvas.height);
      return { data: Array.from(data), width, height };
    })()`) as { data: number[]; width: number; height: number };
    const qr = jsQR(new Uint8ClampedArray(pixels.data), pixels.width, pixels.height);
    assert.ok(qr && qr.data.length > 0, "the image is a readable QR code");

    // The phone "scans": the page says so by itself, from the stream.
    await page.waitForFunction(
      `document.getElementById("link-status").textContent === "Connected"`,
      { timeout: 20_000 },
    );
    assert.equal(await page.$eval("#qr", (img) => img.hasAttribute("hidden")), true);
    await page.waitForFunction(
      `document.querySelector('tr[data-phone="${PHONE}"] .status')?.textContent === "WORKING"`,
    );

    // A webhook that fails: its delivery of the echo becomes a dead letter (one attempt).
    const hook = await server.call("PUT", `/${PHONE}/webhooks`, {
      webhooks: [{ url: receiver.url, events: ["message"] }],
    });
    assert.equal(hook.status, 200);

    await page.type("#send-chat", "15550000000@c.us");
    await page.type("#send-text", "hello from the dashboard");
    await page.click("#send-form button[type=submit]");
    await page.waitForFunction(
      `[...document.querySelectorAll("#feed li[data-event=message] .summary")]
        .some((node) => node.textContent.includes("echo: hello from the dashboard"))`,
      { timeout: 15_000 },
    );
    const feedJson = await page.$eval(
      "#feed li[data-event=message] pre",
      (pre) => JSON.parse(pre.textContent ?? "{}"),
    );
    assert.equal(feedJson.session, PHONE, "each event shows its JSON");

    // The dead letter, retried from the page once the receiver is back.
    const showsDelivery = (status: string) => async () => {
      await page.click("#webhooks-refresh");
      return await page.$(`#deliveries tr[data-status=${status}]`);
    };
    await waitFor("the dead letter on the page", showsDelivery("failed"), 15_000, 200);
    assert.match(await page.$eval("#webhooks", (list) => list.textContent ?? ""), /127\.0\.0\.1/);
    failing = false;
    // Clicked in the page, in one step: a refresh still under way may replace the rows.
    await page.evaluate(
      `document.querySelector("#deliveries tr[data-status=failed] button").click()`,
    );
    await waitFor("the retried delivery on the page", showsDelivery("delivered"), 15_000, 200);
    assert.ok(receiver.received.some((r) => r.json.event === "message"), "the receiver has it");

    assert.equal(await page.evaluate("window.sameDocument"), true, "all of it without a reload");
    const screenshot = join(home, "dashboard.png");
    await page.screenshot({ path: screenshot as `${string}.png`, fullPage: true });
    assert.ok((await Deno.stat(screenshot)).size > 0);
    const keep = Deno.env.get("DASHBOARD_SCREENSHOT");
    if (keep) await Deno.copyFile(screenshot, keep);

    // The key went out as a header, and nowhere else.
    const calls = requested.filter((r) => new URL(r.url).pathname.startsWith("/api/whatsapp/"));
    assert.ok(calls.some((r) => r.headers["x-api-key"] === ADMIN_KEY), "sent as X-Api-Key");
    for (const { url, headers } of requested) {
      assert.ok(!url.includes(ADMIN_KEY) && !url.includes(encodeURIComponent(ADMIN_KEY)), url);
      assert.ok(!(headers.cookie ?? "").includes(ADMIN_KEY), `no cookie with the key: ${url}`);
    }
    assert.deepEqual(await browser.cookies(), [], "the page sets no cookie");
    assert.equal(await page.evaluate("document.cookie"), "");
    assert.deepEqual(outside, [], "the page asked for nothing outside our server");
    assert.deepEqual(problems, [], "no script error, no refusal by the CSP");
  } finally {
    await browser.close();
    await server.stop();
    await receiver.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});
