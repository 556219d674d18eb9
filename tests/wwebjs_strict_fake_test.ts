/**
 * @module
 * The fake WhatsApp Web is as strict as the real one: its `window.require` throws for a module it
 * does not define, with WhatsApp Web's own message, and a module's missing export reads as
 * undefined. Both are reported to the fake cloud, whose `close()` then fails the test, so a module
 * whatsapp-web.js reads that the fake lacks cannot pass unseen (WhatsApp Web's ErrorUtils swallows
 * the error and the library's hook silently does nothing). The page is opened in a real Chromium,
 * served for `https://web.whatsapp.com/` the way whatsapp-web.js serves a cached version.
 */
import assert from "node:assert/strict";
import puppeteer from "puppeteer";
import { findChromium, lowMemoryArgs } from "../sessions/engines/wwebjs/chromium.ts";
import { startFakeCloud } from "./fake_whatsapp/fake_cloud.ts";
import { ME } from "./fake_whatsapp/cast.ts";

Deno.test("the fake WhatsApp Web throws for a module it does not define, and a test that read one fails at close()", async () => {
  const cloud = await startFakeCloud({ me: ME });
  const home = await Deno.makeTempDir({ prefix: "wwebjs_strict_fake_test_" });
  const chromium = findChromium();
  const browser = await puppeteer.launch({
    executablePath: chromium.path,
    headless: chromium.headless,
    userDataDir: home,
    args: [...lowMemoryArgs(chromium), "--disable-features=LocalNetworkAccessChecks"],
    env: { ...Deno.env.toObject(), HOME: home },
  });
  let closed = false;
  try {
    const html = await Deno.readTextFile(
      `${cloud.webVersionCachePath}/${cloud.webVersion}.html`,
    );
    const page = (await browser.pages())[0];
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      if (request.url() === "https://web.whatsapp.com/") {
        void request.respond({ status: 200, contentType: "text/html", body: html });
      } else {
        void request.continue();
      }
    });
    await page.goto("https://web.whatsapp.com/", { waitUntil: "load" });
    const seen = await page.evaluate(() => {
      const page = globalThis as unknown as { require: (name: string) => Record<string, unknown> };
      let thrown = "";
      try {
        page.require("WAWebNoSuchModule");
      } catch (error) {
        thrown = (error as Error).message;
      }
      const l10n = page.require("WAWebL10N");
      return {
        thrown,
        region: (l10n.getRegion as () => string)(),
        missingExport: typeof l10n.noSuchExport,
      };
    });
    assert.deepEqual(seen, {
      thrown: 'Requiring unknown module "WAWebNoSuchModule"',
      region: "US",
      missingExport: "undefined",
    });
    await cloud.waitFor(() => cloud.strictness.length >= 2);
    closed = true;
    await assert.rejects(
      cloud.close(),
      (error: Error) => {
        assert.match(error.message, /missing-module: WAWebNoSuchModule/);
        assert.match(error.message, /missing-export: WAWebL10N\.noSuchExport/);
        return true;
      },
    );
  } finally {
    await browser.close();
    if (!closed) await cloud.close().catch(() => {});
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});
