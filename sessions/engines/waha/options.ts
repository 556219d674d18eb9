/**
 * @module
 * On the main thread: which WAHA server runs a waha-engine number (`WAHA_URL`, or one of
 * `WAHA_URLS` by the name its start chose: never a URL from a request), and where WAHA posts its
 * events (our inbound endpoints under `WEBHOOK_PUBLIC_URL`, with our webhook key and HMAC secret).
 */
import type { Config } from "../../../config.ts";
import { badRequest } from "../../../errors.ts";
import type { WahaEngineOptions } from "../../engine.ts";

/** Where the inbound endpoints are under the server's base URL (`routes/app.ts`' `API_BASE`). */
export const INBOUND_BASE = "/api/whatsapp/webhook";

/** Throws 400 unless `name` (or, absent, `WAHA_URL`) names a WAHA server of the configuration. */
export function checkWahaServer(
  config: Partial<Pick<Config, "waha">>,
  name: string | undefined,
): void {
  if (name !== undefined && !config.waha?.servers.some((s) => s.name === name)) {
    throw badRequest(`Invalid body field "wahaServer": no WAHA server is named "${name}"`);
  }
  if (name === undefined && !config.waha?.url) {
    throw badRequest(
      'The waha engine needs a WAHA server: give "wahaServer" (one of WAHA_URLS\' names)',
    );
  }
}

export function wahaOptionsFor(
  config: Partial<Pick<Config, "waha" | "auth">>,
  serverName: string | undefined,
): WahaEngineOptions {
  const waha = config.waha;
  if (!waha) throw new Error("No WAHA server is configured");
  const url = serverName === undefined
    ? waha.url
    : waha.servers.find((s) => s.name === serverName)?.url;
  if (!url) throw new Error(`No WAHA server for this session (${serverName ?? "WAHA_URL"} unset)`);
  const publicUrl = waha.webhookPublicUrl?.replace(/\/+$/, "");
  const apiKey = config.auth?.webhookApiKey ?? config.auth?.apiKey;
  return {
    url,
    apiKey: waha.apiKey,
    pollMs: waha.pollMs,
    webhook: publicUrl && apiKey
      ? {
        messageUrl: `${publicUrl}${INBOUND_BASE}/message`,
        statusUrl: `${publicUrl}${INBOUND_BASE}/state-change`,
        apiKey,
        hmacKey: config.auth?.webhookHmacSecret,
      }
      : undefined,
  };
}
