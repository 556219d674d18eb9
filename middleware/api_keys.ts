/**
 * @module
 * API keys: the admin key, which may act on any number, and account-scoped keys (`API_KEYS`), which
 * let an integration call with a key and still be held to one account's numbers. Keys are kept only
 * as SHA-256 digests, compared in constant time against every configured key (no early exit), and
 * never logged.
 */
import { ConfigError } from "../config.ts";
import type { Principal } from "./principal.ts";
import { equalBytes, sha256 } from "./constant_time.ts";

export interface ApiKeyOptions {
  /** The admin key: `API_KEY`, or the one generated at first start. */
  adminKey: string;
  /** Account-scoped keys from `API_KEYS`. */
  accountKeys?: readonly { key: string; accountId: string }[];
}

export interface ApiKeyVerifier {
  /** The principal a key stands for, or null when it is no configured key. */
  verify(key: string): Promise<Principal | null>;
}

interface KeyEntry {
  digest: Uint8Array;
  principal: Principal;
}

/** Builds the verifier; fails when a key is empty or used twice. */
export async function createApiKeyVerifier(options: ApiKeyOptions): Promise<ApiKeyVerifier> {
  const { adminKey, accountKeys = [] } = options;
  if (adminKey.length === 0) throw new ConfigError("Invalid API_KEY: the admin key is empty");
  const seen = new Set<string>([adminKey]);
  for (const { key, accountId } of accountKeys) {
    if (key.length === 0 || accountId.length === 0) {
      throw new ConfigError('Invalid API_KEYS: expected comma-separated "key=accountId" pairs');
    }
    if (seen.has(key)) {
      throw new ConfigError(`Invalid API_KEYS: the key of account "${accountId}" is used twice`);
    }
    seen.add(key);
  }
  const entries: KeyEntry[] = [
    {
      digest: await sha256(adminKey),
      principal: { kind: "admin", accountId: null, userId: null, role: null, via: "api_key" },
    },
    ...await Promise.all(accountKeys.map(async ({ key, accountId }) => ({
      digest: await sha256(key),
      principal: {
        kind: "account" as const,
        accountId,
        userId: null,
        role: null,
        via: "api_key" as const,
      },
    }))),
  ];

  return {
    async verify(key) {
      const digest = await sha256(key);
      let found: Principal | null = null;
      // Look at every entry, so the time taken does not say which key (if any) matched.
      for (const entry of entries) {
        if (equalBytes(entry.digest, digest) && found === null) found = entry.principal;
      }
      return found === null ? null : { ...found };
    },
  };
}
