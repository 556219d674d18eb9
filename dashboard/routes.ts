/**
 * @module
 * `/dashboard`: the operator's page (`page.tsx`), its script and its styles, served to anyone: they
 * hold nothing secret, and everything the page shows comes from the API, called by the script
 * with the credential the user typed. Every answer carries a Content-Security-Policy that lets the
 * page run only our own script and styles and talk only to this origin; the assets are named by
 * their content hash, so a browser keeps them until they change and the page (never cached) names
 * the new ones.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { notFound } from "../errors.ts";
import type { AppEnv } from "../middleware/principal.ts";
import { renderPage } from "./page.tsx";

export const DASHBOARD_PATH = "/dashboard";

/** What the page may do: our script and styles, calls to this origin, QR images as blobs. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "Content-Security-Policy": DASHBOARD_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

interface Asset {
  bytes: Uint8Array<ArrayBuffer>;
  type: string;
  hash: string;
}

const ASSET_TYPES: Record<string, string> = {
  "script.js": "text/javascript; charset=utf-8",
  "styles.css": "text/css; charset=utf-8",
};

/** Reads an asset beside this module (a `file:` URL: `fetch` reads it, no Deno API needed). */
async function loadAsset(name: string): Promise<Asset> {
  const response = await fetch(new URL(`./${name}`, import.meta.url));
  const bytes = new Uint8Array(await response.arrayBuffer());
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hash = Array.from(digest.slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  return { bytes, type: ASSET_TYPES[name], hash };
}

/** Adds the dashboard's routes to the app; `apiBase` is where the API is mounted. */
export function mountDashboard(app: OpenAPIHono<AppEnv>, apiBase: string): void {
  let loaded: Promise<{ assets: Map<string, Asset>; html: string }> | null = null;
  const load = () =>
    loaded ??= (async () => {
      const assets = new Map<string, Asset>();
      for (const name of Object.keys(ASSET_TYPES)) assets.set(name, await loadAsset(name));
      const url = (name: string) => `${DASHBOARD_PATH}/${name}?v=${assets.get(name)!.hash}`;
      const html = renderPage({ script: url("script.js"), styles: url("styles.css"), apiBase });
      return { assets, html };
    })().catch((error) => {
      loaded = null;
      throw error;
    });

  app.get(DASHBOARD_PATH, async (c) => {
    const { html } = await load();
    return c.html(html, 200, { ...SECURITY_HEADERS, "Cache-Control": "no-cache" });
  });
  app.get(`${DASHBOARD_PATH}/`, (c) => c.redirect(DASHBOARD_PATH, 301));
  app.get(`${DASHBOARD_PATH}/:file{[a-z]+\\.(?:js|css)}`, async (c) => {
    const asset = (await load()).assets.get(c.req.param("file"));
    if (!asset) throw notFound(`No route for GET ${c.req.path}`);
    // The hash the page names: kept for a year; any other (an old page): checked every time.
    const current = c.req.query("v") === asset.hash;
    return c.body(asset.bytes, 200, {
      ...SECURITY_HEADERS,
      "Content-Type": asset.type,
      "Cache-Control": current ? "public, max-age=31536000, immutable" : "no-cache",
      ETag: `"${asset.hash}"`,
    });
  });
}
