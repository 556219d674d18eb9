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
    // Swagger UI renders a long list of operations virtualized (only what is near the viewport):
    // scroll through the page as a reader would, and collect every operation shown on the way.
    const seen = new Set<string>();
    for (let step = 0; step < 400; step++) {
      const shown = await page.$$eval(".opblock", (nodes) =>
        nodes.map((node) => {
          const method = node.querySelector(".opblock-summary-method")?.textContent ?? "";
          const path = node.querySelector(".opblock-summary-path")?.getAttribute("data-path");
          return `${method} ${path}`;
        }));
      for (const operation of shown) seen.add(operation);
      const atEnd = await page.evaluate(
        "window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2",
      );
      if (atEnd) break;
      await page.evaluate("window.scrollBy(0, Math.floor(window.innerHeight / 2))");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const operations = [...seen];
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
