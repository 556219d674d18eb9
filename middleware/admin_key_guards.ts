/**
 * @module
 * Interim guards that accept only the admin API key (`X-Api-Key`), compared in constant time.
 * Replaced by the JWT and account-key guards of `auth.ts`.
 */
import { createMiddleware } from "hono/factory";
import { unauthorized } from "../errors.ts";
import type { AuthGuards } from "./guards.ts";
import type { AppEnv } from "./principal.ts";

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Compares two secrets in time that does not depend on where they differ. */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([digest(a), digest(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

export function createAdminKeyGuards(adminKey: string): AuthGuards {
  const admin = createMiddleware<AppEnv>(async function requireAdminKey(c, next) {
    const given = c.req.header("X-Api-Key");
    if (!given || !(await constantTimeEqual(given, adminKey))) throw unauthorized();
    c.set("principal", {
      kind: "admin",
      accountId: null,
      userId: null,
      role: "admin",
      via: "api_key",
    });
    await next();
  });
  return {
    requireAuth: admin,
    requireSingleAccountProtected: () => admin,
    requireWahaProtected: admin,
    requireAdmin: admin,
  };
}
