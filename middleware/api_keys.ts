/**
 * @module
 * API keys: the admin key, which may act on any number, and account-scoped keys (`API_KEYS`), which
 * let an integration call with a key and still be held to one account's numbers. A key is compared
 * in constant time against every configured key (no early exit), synchronously (this runs on every
 * request; an async digest per request cost ~10% of a GET's throughput), and never logged.
 */
import { ConfigError, MIN_API_KEY_LENGTH } from "../config.ts";
import type { Principal } from "./principal.ts";
import { equalToSecret } from "./constant_time.ts";

export interface ApiKeyOptions {
  /** The admin key: `API_KEY`, or the one generated at first start. */
  adminKey: string;
  /** Account-scoped keys from `API_KEYS`. */
  accountKeys?: readonly { key: string; accountId: string }[];
}

export interface ApiKeyVerifier {
  /** The principal a key stands for, or null when it is no configured key. */
  verify(key: string): Principal | null;
}

interface KeyEntry {
  bytes: Uint8Array;
  principal: Principal;
}

const encoder = new TextEncoder();

/**
 * Builds the verifier; fails when a key is shorter than `MIN_API_KEY_LENGTH` (`loadConfig` already
 * refuses those; this holds for keys from anywhere else too) or used twice.
 */
export function createApiKeyVerifier(options: ApiKeyOptions): ApiKeyVerifier {
  const { adminKey, accountKeys = [] } = options;
  if (adminKey.length < MIN_API_KEY_LENGTH) {
    throw new ConfigError(`Invalid API_KEY: a key needs at least ${MIN_API_KEY_LENGTH} characters`);
  }
  const seen = new Set<string>([adminKey]);
  for (const { key, accountId } of accountKeys) {
    if (key.length === 0 || accountId.length === 0) {
      throw new ConfigError('Invalid API_KEYS: expected comma-separated "key=accountId" pairs');
    }
    if (key.length < MIN_API_KEY_LENGTH) {
      throw new ConfigError(
        `Invalid API_KEYS: the key of account "${accountId}" is too short: ` +
          `a key needs at least ${MIN_API_KEY_LENGTH} characters`,
      );
    }
    if (seen.has(key)) {
      throw new ConfigError(`Invalid API_KEYS: the key of account "${accountId}" is used twice`);
    }
    seen.add(key);
  }
  const entries: KeyEntry[] = [
    {
      bytes: encoder.encode(adminKey),
      principal: { kind: "admin", accountId: null, userId: null, role: null, via: "api_key" },
    },
    ...accountKeys.map(({ key, accountId }) => ({
      bytes: encoder.encode(key),
      principal: {
        kind: "account" as const,
        accountId,
        userId: null,
        role: null,
        via: "api_key" as const,
      },
    })),
  ];

  return {
    verify(key) {
      const given = encoder.encode(key);
      let found: Principal | null = null;
      // Look at every entry, so the time taken does not say which key (if any) matched.
      for (const entry of entries) {
        if (equalToSecret(given, entry.bytes) && found === null) found = entry.principal;
      }
      return found === null ? null : { ...found };
    },
  };
}
