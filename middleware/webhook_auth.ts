/**
 * @module
 * `requireWahaProtected`: the inbound WAHA webhook endpoints. The caller sends the webhook key in
 * `X-Api-Key` (`WEBHOOK_API_KEY`, else the admin key), compared in constant time; when
 * `WEBHOOK_HMAC_SECRET` is set, WAHA's `X-Webhook-Hmac` (hex HMAC-SHA512 of the raw body) must match
 * too. The key is checked before the body is read, so unauthenticated callers cannot make us buffer
 * bodies; then the body is read within its limits (`body.ts`) into Hono's cache, where the HMAC and
 * the handler's validation both find it.
 */
import { createMiddleware } from "hono/factory";
import { MIN_API_KEY_LENGTH } from "../config.ts";
import type { AppEnv } from "./principal.ts";
import { authFailure, type AuthGuardDeps, recordFailure } from "./auth_failures.ts";
import { type BodyLimits, readBody } from "./body.ts";
import { equalBytes, equalToSecret } from "./constant_time.ts";

export interface WahaProtectedDeps extends AuthGuardDeps {
  /** `WEBHOOK_API_KEY`, or the admin key when it is unset. */
  apiKey: string;
  /** `WEBHOOK_HMAC_SECRET`: when set, `X-Webhook-Hmac` is required. */
  hmacSecret?: string;
  /** The body is read within these once the key is right (and before the HMAC is checked). */
  body: BodyLimits;
}

const HEX_SHA512 = /^[0-9a-f]{128}$/i;

function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** Guards the WAHA webhook routes; does not set a principal (the caller is no account). */
export function requireWahaProtected(deps: WahaProtectedDeps) {
  if (deps.apiKey.length < MIN_API_KEY_LENGTH) {
    throw new TypeError(
      `requireWahaProtected: the API key needs at least ${MIN_API_KEY_LENGTH} characters`,
    );
  }
  const encoder = new TextEncoder();
  const apiKeyBytes = encoder.encode(deps.apiKey);
  const hmacKey = deps.hmacSecret
    ? crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(deps.hmacSecret),
      { name: "HMAC", hash: "SHA-512" },
      false,
      ["sign"],
    )
    : null;

  return createMiddleware<AppEnv>(async function requireWahaProtected(c, next) {
    try {
      const key = c.req.header("x-api-key");
      if (!key) throw authFailure({ reason: "no_api_key", scheme: "webhook" }, "Missing X-Api-Key");
      if (!equalToSecret(encoder.encode(key), apiKeyBytes)) {
        throw authFailure({ reason: "bad_api_key", scheme: "webhook" }, "Invalid API key");
      }
      if (hmacKey) {
        const algorithm = c.req.header("x-webhook-hmac-algorithm");
        const signature = c.req.header("x-webhook-hmac")?.trim() ?? "";
        if (algorithm !== undefined && algorithm.toLowerCase() !== "sha512") {
          throw authFailure(
            { reason: "hmac_algorithm", scheme: "webhook" },
            `Unsupported X-Webhook-Hmac-Algorithm "${algorithm}": expected "sha512"`,
          );
        }
        if (!HEX_SHA512.test(signature)) {
          throw authFailure(
            { reason: signature ? "malformed_hmac" : "no_hmac", scheme: "webhook" },
            "Missing or malformed X-Webhook-Hmac",
          );
        }
        await readBody(c, deps.body);
        const body = await c.req.arrayBuffer();
        const expected = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey, body));
        if (!equalBytes(expected, hexToBytes(signature))) {
          throw authFailure({ reason: "bad_hmac", scheme: "webhook" }, "Invalid X-Webhook-Hmac");
        }
      } else {
        await readBody(c, deps.body);
      }
    } catch (error) {
      // Only a refused key or HMAC meets the limiter: WAHA with the right ones always gets in.
      throw recordFailure(c, deps, error);
    }
    return next();
  });
}
