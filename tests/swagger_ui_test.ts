/**
 * @module
 * Swagger UI must work on closed networks: the page is opened in a real headless Chromium that
 * can reach nothing but our server, and it must list the API's operations.
 */
import assert from "node:assert/strict";
import puppeteer from "puppeteer";
import { findChromium, lowMemoryArgs } from "../sessions/engines/wwebjs/chromium.ts";
import { startTestApp } from "./_helpers.ts";

Deno.test("Swagger UI renders every operation offline in headless Chromium", async () => {
  const server = await startTestApp();
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    server.app.fetch,
  );
  const home = await Deno.makeTempDir({ prefix: "wa-gateway-chromium-" });
  const chromium = findChromium();
  const browser = await puppeteer.launch({
    executablePath: chromium.path,
    headless: chromium.headless,
    userDataDir: home,
    args: lowMemoryArgs(chromium),
    env: { ...Deno.env.toObject(), HOME: home },
  });
  try {
    const page = await browser.newPage();
    const outside: string[] = [];
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.protocol !== "data:" && url.hostname !== "127.0.0.1") {
        outside.push(request.url());
        void request.abort();
      } else {
        void request.continue();
      }
    });
    await page.goto(`http://127.0.0.1:${http.addr.port}/api/whatsapp/swagger`, {
      waitUntil: "load",
    });
    await page.waitForSelector(".opblock", { timeout: 15_000 });
    const operations = await page.$$eval(
      ".opblock-summary-path",
      (nodes) => nodes.map((node) => node.getAttribute("data-path") ?? node.textContent ?? ""),
    );
    const doc = await (await server.request("GET", "/swagger/json")).json();
    const documented = Object.values(doc.paths as Record<string, object>)
      .reduce((n, ops) => n + Object.keys(ops).length, 0);
    assert.equal(operations.length, documented, "every documented operation is listed");
    assert.ok(operations.some((path) => path.includes("/send-text")));
    assert.deepEqual(outside, [], "the page asked for nothing outside our server");
  } finally {
    await browser.close();
    await http.shutdown();
    await server.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});
