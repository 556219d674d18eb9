/**
 * @module
 * The dashboard as HTTP: the page and its assets need no credential, carry a
 * Content-Security-Policy that runs only our own script and styles, and are cached by content
 * hash; the API's root and its document name the dashboard; `GET /me` tells the page who signed
 * in; `GET /events` is documented like every other route.
 */
import assert from "node:assert/strict";
import { startTestApp, type TestApp } from "./_helpers.ts";

const ACCOUNT_KEY = "account-a-key-0123456789abcdef";

async function withServer(work: (server: TestApp) => Promise<void>) {
  const server = await startTestApp({ API_KEYS: `${ACCOUNT_KEY}=org_a` });
  try {
    await work(server);
  } finally {
    await server.close();
  }
}

const get = (server: TestApp, path: string) => server.app.request(path);

Deno.test("GET /dashboard serves the page to anyone, with a CSP that runs only our own script and styles", async () => {
  await withServer(async (server) => {
    const page = await get(server, "/dashboard");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type")!, /^text\/html/);
    assert.equal(page.headers.get("cache-control"), "no-cache");
    const csp = page.headers.get("content-security-policy")!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe/);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    const html = await page.text();
    assert.match(html, /^<!doctype html><html lang="en">/);
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, "no inline script");
    assert.doesNotMatch(html, /<style|\sstyle="/, "no inline style");
    assert.match(html, /<label for="credential">/, "the credential field has a label");

    const script = /<script type="module" src="([^"]+)"/.exec(html)![1];
    const styles = /<link rel="stylesheet" href="([^"]+)"/.exec(html)![1];
    for (
      const [url, type] of [[script, /^text\/javascript/], [styles, /^text\/css/]] as const
    ) {
      assert.match(url, /^\/dashboard\/[a-z]+\.(js|css)\?v=[0-9a-f]{16}$/);
      const asset = await get(server, url);
      assert.equal(asset.status, 200);
      assert.match(asset.headers.get("content-type")!, type);
      assert.equal(asset.headers.get("cache-control"), "public, max-age=31536000, immutable");
      assert.equal(asset.headers.get("etag"), `"${url.slice(url.indexOf("=") + 1)}"`);
      assert.ok((await asset.text()).length > 0);
      const stale = await get(server, url.replace(/=.*/, "=0000000000000000"));
      assert.equal(stale.headers.get("cache-control"), "no-cache", "an old page's name");
      await stale.body?.cancel();
    }
    const unknown = await get(server, "/dashboard/secrets.js");
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
  });
});

Deno.test("GET /api/whatsapp and the OpenAPI document name the dashboard", async () => {
  await withServer(async (server) => {
    const root = await server.request("GET", "", { anonymous: true });
    assert.equal(root.status, 302);
    assert.match(root.headers.get("link")!, /^<\/dashboard>; rel="related"/);
    await root.body?.cancel();
    const { body: doc } = await server.json<{
      info: { description: string };
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    }>("GET", "/swagger/json");
    assert.match(doc.info.description, /\[Dashboard\]\(\/dashboard\)/);
    assert.ok(doc.paths["/api/whatsapp/events"].get.security, "GET /events is documented");
    assert.ok(doc.paths["/api/whatsapp/me"].get.security, "GET /me is documented");
  });
});

Deno.test("GET /me says whether the credential is the admin or which account", async () => {
  await withServer(async (server) => {
    assert.deepEqual((await server.json("GET", "/me")).body, {
      kind: "admin",
      accountId: null,
      via: "api_key",
    });
    const account = await server.json("GET", "/me", { headers: { "X-Api-Key": ACCOUNT_KEY } });
    assert.equal(account.status, 200);
    assert.deepEqual(account.body, { kind: "account", accountId: "org_a", via: "api_key" });
    assert.equal((await server.json("GET", "/me", { anonymous: true })).status, 401);
  });
});
