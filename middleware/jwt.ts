/**
 * @module
 * Bearer-token verification with `jose`: the signature against a remote JWKS (cached by jose,
 * refetched when a token names an unknown key id, fetched with a timeout so a slow identity provider
 * cannot stall requests) or against one static public key (PEM or JWK), then `iss`, `aud` (when
 * configured), `exp`/`nbf` with 30 s of clock skew, and an allow-list of asymmetric algorithms only.
 * `WORKOS_CLIENT_ID` alone configures WorkOS AuthKit: its JWKS URL and the issuers of its access
 * tokens. The principal is `{ accountId: org_id ?? sub, userId: sub, role }`.
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type FetchImplementation,
  importJWK,
  importSPKI,
  importX509,
  type JWK,
  type JWSHeaderParameters,
  jwtVerify,
  type JWTVerifyGetKey,
} from "jose";
import { ConfigError } from "../config.ts";
import type { Principal } from "./principal.ts";

/** Asymmetric signature algorithms only: never `none`, never HS* (a public key is no secret). */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];

export const CLOCK_TOLERANCE_SECONDS = 30;
export const WORKOS_API_URL = "https://api.workos.com";

/** The part of `config.auth` that concerns tokens. */
export interface JwtConfig {
  jwksUrl?: string;
  publicKey?: string;
  issuers: readonly string[];
  audiences: readonly string[];
  algorithms: readonly string[];
  jwksTimeoutMs: number;
  workosClientId?: string;
}

export interface JwtOptions {
  /** Replaces `fetch` for the JWKS (jose's `customFetch`). */
  fetchJwks?: FetchImplementation;
  /** How long after a fetch an unknown `kid` may not trigger another one; jose's default, 30 s. */
  jwksCooldownMs?: number;
  /** How long fetched keys are trusted before they are fetched again; 10 minutes. */
  jwksMaxAgeMs?: number;
}

export interface JwtVerifier {
  /** The principal the token stands for; rejects with jose's error when it is not acceptable. */
  verify(token: string): Promise<Principal>;
}

/** WorkOS AuthKit's JWKS for a client id. */
export function workosJwksUrl(clientId: string): string {
  return `${WORKOS_API_URL}/sso/jwks/${encodeURIComponent(clientId)}`;
}

/** The `iss` values WorkOS AuthKit access tokens carry for a client id. */
export function workosIssuers(clientId: string): string[] {
  return [WORKOS_API_URL, `${WORKOS_API_URL}/user_management/${clientId}`];
}

/** The principal of a verified token's claims. */
export function principalFromClaims(claims: Record<string, unknown>): Principal {
  const sub = claims.sub;
  if (typeof sub !== "string" || sub.length === 0) {
    throw new errors.JWTClaimValidationFailed('"sub" claim must be a string', claims, "sub");
  }
  const orgId = typeof claims.org_id === "string" && claims.org_id.length > 0
    ? claims.org_id
    : null;
  const role = typeof claims.role === "string" ? claims.role : null;
  return { kind: "account", accountId: orgId ?? sub, userId: sub, role, via: "jwt" };
}

/**
 * Builds the verifier, or null when no key source is configured (then bearer tokens are refused).
 * Fails fast, naming the variable, on settings that cannot work or would be unsafe.
 */
export async function createJwtVerifier(
  config: JwtConfig,
  options: JwtOptions = {},
): Promise<JwtVerifier | null> {
  const workos = config.workosClientId;
  if (config.jwksUrl && config.publicKey) {
    throw new ConfigError("Invalid JWT_PUBLIC_KEY: set either JWT_JWKS_URL or JWT_PUBLIC_KEY");
  }
  const jwksUrl = config.jwksUrl ??
    (config.publicKey || !workos ? undefined : workosJwksUrl(workos));
  if (!jwksUrl && !config.publicKey) return null;

  const algorithms = checkAlgorithms(config.algorithms);
  const issuers = config.issuers.length > 0
    ? [...config.issuers]
    : workos
    ? workosIssuers(workos)
    : [];
  if (issuers.length === 0) {
    throw new ConfigError(
      "Invalid JWT_ISSUER: required with JWT_JWKS_URL or JWT_PUBLIC_KEY (WORKOS_CLIENT_ID sets it)",
    );
  }
  const audience = config.audiences.length > 0 ? [...config.audiences] : undefined;
  const key: JWTVerifyGetKey = jwksUrl
    ? createRemoteJWKSet(checkJwksUrl(jwksUrl), {
      timeoutDuration: config.jwksTimeoutMs,
      cooldownDuration: options.jwksCooldownMs,
      cacheMaxAge: options.jwksMaxAgeMs,
      ...(options.fetchJwks ? { [customFetch]: options.fetchJwks } : {}),
    })
    : await staticKey(config.publicKey!, algorithms);

  return {
    async verify(token) {
      const { payload } = await jwtVerify(token, key, {
        algorithms,
        issuer: issuers,
        audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ["exp", "sub"],
      });
      return principalFromClaims(payload);
    },
  };
}

function checkAlgorithms(algorithms: readonly string[]): string[] {
  if (algorithms.length === 0) throw new ConfigError("Invalid JWT_ALGORITHMS: the list is empty");
  for (const alg of algorithms) {
    if (!ASYMMETRIC_ALGORITHMS.includes(alg)) {
      throw new ConfigError(
        `Invalid JWT_ALGORITHMS: "${alg}" is not allowed (use ${ASYMMETRIC_ALGORITHMS.join(", ")})`,
      );
    }
  }
  return [...algorithms];
}

/** Keys fetched over plain HTTP could be swapped by anyone on the path: HTTPS unless loopback. */
function checkJwksUrl(raw: string): URL {
  const url = new URL(raw);
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new ConfigError("Invalid JWT_JWKS_URL: must be https (http only for loopback)");
  }
  return url;
}

/**
 * A resolver for `JWT_PUBLIC_KEY`: a JWKS document (`{"keys": [...]}`, matched by `kid`), one public
 * JWK, a PEM public key (SPKI) or a PEM certificate. A lone key is imported once for every allowed
 * algorithm it fits; a key that fits none of them is a configuration error.
 */
async function staticKey(raw: string, algorithms: string[]): Promise<JWTVerifyGetKey> {
  const text = raw.replaceAll("\\n", "\n").trim();
  if (text.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ConfigError("Invalid JWT_PUBLIC_KEY: not valid JSON");
    }
    const json = parsed as JWK & { keys?: JWK[] };
    if (Array.isArray(json.keys)) {
      json.keys.forEach(assertPublicJwk);
      return createLocalJWKSet({ keys: json.keys });
    }
    assertPublicJwk(json);
    return await byAlgorithm(algorithms, (alg) => {
      if (json.alg !== undefined && json.alg !== alg) throw new Error("other algorithm");
      return importJWK(json, alg);
    });
  }
  if (text.includes("-----BEGIN PUBLIC KEY-----")) {
    return await byAlgorithm(algorithms, (alg) => importSPKI(text, alg));
  }
  if (text.includes("-----BEGIN CERTIFICATE-----")) {
    return await byAlgorithm(algorithms, (alg) => importX509(text, alg));
  }
  throw new ConfigError(
    "Invalid JWT_PUBLIC_KEY: expected a PEM public key (SPKI), a PEM certificate, a JWK or a JWKS",
  );
}

function assertPublicJwk(jwk: JWK): void {
  if (typeof jwk !== "object" || jwk === null || typeof jwk.kty !== "string") {
    throw new ConfigError('Invalid JWT_PUBLIC_KEY: a JWK needs a "kty"');
  }
  if (jwk.kty === "oct" || "d" in jwk) {
    throw new ConfigError(
      "Invalid JWT_PUBLIC_KEY: give the public key, not a secret or private key",
    );
  }
}

async function byAlgorithm(
  algorithms: string[],
  importFor: (alg: string) => Promise<CryptoKey | Uint8Array>,
): Promise<JWTVerifyGetKey> {
  const keys = new Map<string, CryptoKey>();
  for (const alg of algorithms) {
    try {
      const key = await importFor(alg);
      if (key instanceof CryptoKey && key.type === "public") keys.set(alg, key);
    } catch {
      // This key does not fit that algorithm; another one may.
    }
  }
  if (keys.size === 0) {
    throw new ConfigError(
      `Invalid JWT_PUBLIC_KEY: the key fits none of JWT_ALGORITHMS (${algorithms.join(", ")})`,
    );
  }
  return (header: JWSHeaderParameters) => {
    const key = keys.get(header.alg ?? "");
    if (!key) throw new errors.JWKSNoMatchingKey();
    return key;
  };
}
