/**
 * Tests of `createJwtVerifier`: WorkOS defaults, key rotation and the slow-JWKS timeout against a
 * real JWKS on 127.0.0.1, static keys (PEM, JWK, JWKS), clock skew, and the settings it refuses.
 */
import assert from "node:assert/strict";
import { ConfigError } from "../config.ts";
import { openSqliteStore } from "../store/sqlite/store.ts";
import { createJwtVerifier, type JwtConfig, principalFromClaims, workosJwksUrl } from "./jwt.ts";
import { createAuthenticator } from "./auth.ts";
import {
  createAuthTestApp,
  createTestSigner,
  hs256Token,
  startJwksServer,
  TEST_CLIENT_ID,
  TEST_ISSUER,
  workosClaims,
} from "../tests/_auth_helpers.ts";

const base: JwtConfig = {
  issuers: [],
  audiences: [],
  algorithms: ["RS256", "ES256"],
  jwksTimeoutMs: 2_000,
};
const now = () => Math.floor(Date.now() / 1000);

async function rejects(promise: Promise<unknown>, code?: string): Promise<void> {
  await assert.rejects(promise, (error: { code?: string }) => {
    if (code !== undefined) assert.equal(error.code, code);
    return true;
  });
}

Deno.test("createJwtVerifier with only WORKOS_CLIENT_ID uses WorkOS's JWKS and both AuthKit issuers", async () => {
  const signer = await createTestSigner();
  const fetched: string[] = [];
  const verifier = (await createJwtVerifier({ ...base, workosClientId: TEST_CLIENT_ID }, {
    fetchJwks: (url) => {
      fetched.push(url);
      return Promise.resolve(Response.json({ keys: [signer.publicJwk] }));
    },
  }))!;
  const org = await verifier.verify(await signer.sign(workosClaims({ iss: TEST_ISSUER })));
  assert.equal(org.accountId, "org_01JTESTORG00000000000000A");
  await verifier.verify(await signer.sign(workosClaims({ iss: "https://api.workos.com" })));
  await rejects(
    verifier.verify(
      await signer.sign(
        workosClaims({ iss: "https://api.workos.com/user_management/client_other" }),
      ),
    ),
    "ERR_JWT_CLAIM_VALIDATION_FAILED",
  );
  assert.deepEqual(fetched, [`https://api.workos.com/sso/jwks/${TEST_CLIENT_ID}`]);
  assert.equal(workosJwksUrl(TEST_CLIENT_ID), fetched[0]);
});

Deno.test("createJwtVerifier lets JWT_ISSUER override the WorkOS issuers", async () => {
  const signer = await createTestSigner();
  const verifier = (await createJwtVerifier({
    ...base,
    workosClientId: TEST_CLIENT_ID,
    issuers: ["https://auth.example.com"],
  }, { fetchJwks: () => Promise.resolve(Response.json({ keys: [signer.publicJwk] })) }))!;
  await verifier.verify(await signer.sign(workosClaims({ iss: "https://auth.example.com" })));
  await rejects(
    verifier.verify(await signer.sign(workosClaims())),
    "ERR_JWT_CLAIM_VALIDATION_FAILED",
  );
});

Deno.test("createJwtVerifier accepts a rotated key without a restart: an unknown kid refetches the JWKS", async () => {
  const oldKey = await createTestSigner();
  const newKey = await createTestSigner({ alg: "ES256" });
  await using jwks = await startJwksServer([oldKey.publicJwk]);
  const verifier =
    (await createJwtVerifier({ ...base, jwksUrl: jwks.url, issuers: [TEST_ISSUER] }, {
      jwksCooldownMs: 0,
    }))!;
  await verifier.verify(await oldKey.sign(workosClaims()));
  assert.equal(jwks.fetches, 1);
  await verifier.verify(await oldKey.sign(workosClaims()));
  assert.equal(jwks.fetches, 1, "known keys come from the cache");

  jwks.setKeys([newKey.publicJwk]);
  const principal = await verifier.verify(await newKey.sign(workosClaims()));
  assert.equal(principal.userId, "user_01JTESTUSER0000000000000A");
  assert.equal(jwks.fetches, 2);
  await rejects(verifier.verify(await oldKey.sign(workosClaims())), "ERR_JWKS_NO_MATCHING_KEY");
});

Deno.test("createJwtVerifier does not refetch the JWKS for unknown kids within the cooldown", async () => {
  const signer = await createTestSigner();
  await using jwks = await startJwksServer([signer.publicJwk]);
  const verifier =
    (await createJwtVerifier({ ...base, jwksUrl: jwks.url, issuers: [TEST_ISSUER] }))!;
  await verifier.verify(await signer.sign(workosClaims()));
  for (let i = 0; i < 5; i++) {
    const token = await signer.sign(workosClaims(), { kid: `key_random_${i}` });
    await rejects(verifier.verify(token), "ERR_JWKS_NO_MATCHING_KEY");
  }
  assert.equal(jwks.fetches, 1, "a flood of made-up kids cannot hammer the identity provider");
});

Deno.test("a slow JWKS makes the request fail with 401 within the timeout instead of hanging", async () => {
  const signer = await createTestSigner();
  await using jwks = await startJwksServer([signer.publicJwk]);
  jwks.setDelayMs(30_000);
  const store = openSqliteStore(":memory:");
  try {
    const authenticator = await createAuthenticator(
      { ...base, jwksUrl: jwks.url, issuers: [TEST_ISSUER], jwksTimeoutMs: 300, accountKeys: [] },
      { adminKey: "admin-key-0123456789abcdef" },
    );
    const logs: Record<string, unknown>[] = [];
    const app = createAuthTestApp({
      authenticator,
      sessions: store.sessions,
      log: (entry) => logs.push(entry as Record<string, unknown>),
    });
    const token = await signer.sign(workosClaims());
    const started = performance.now();
    const response = await app.request("http://localhost/api/whatsapp/sessions", {
      headers: { authorization: `Bearer ${token}` },
    });
    const elapsed = performance.now() - started;
    assert.equal(response.status, 401);
    assert.ok(elapsed >= 250 && elapsed < 2_000, `answered after ${Math.round(elapsed)} ms`);
    assert.equal(logs[0].reason, "ERR_JWKS_TIMEOUT");

    jwks.setDelayMs(0);
    const recovered = await app.request("http://localhost/api/whatsapp/sessions", {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(recovered.status, 200, "the next request fetches again once the JWKS answers");
  } finally {
    await store.close();
  }
});

Deno.test("createJwtVerifier takes JWT_PUBLIC_KEY as PEM, also with escaped newlines from an env file", async () => {
  const signer = await createTestSigner();
  for (const publicKey of [signer.publicPem, signer.publicPem.replaceAll("\n", "\\n")]) {
    const verifier = (await createJwtVerifier({ ...base, publicKey, issuers: [TEST_ISSUER] }))!;
    const principal = await verifier.verify(await signer.sign(workosClaims()));
    assert.equal(principal.via, "jwt");
    await rejects(
      verifier.verify(await hs256Token(workosClaims(), signer.publicPem)),
      "ERR_JOSE_ALG_NOT_ALLOWED",
    );
  }
});

Deno.test("createJwtVerifier takes JWT_PUBLIC_KEY as one JWK or as a JWKS document", async () => {
  const ec = await createTestSigner({ alg: "ES256" });
  const rsa = await createTestSigner();
  const single = (await createJwtVerifier({
    ...base,
    publicKey: JSON.stringify(ec.publicJwk),
    issuers: [TEST_ISSUER],
  }))!;
  await single.verify(await ec.sign(workosClaims()));
  await rejects(single.verify(await rsa.sign(workosClaims())), "ERR_JWKS_NO_MATCHING_KEY");

  const set = (await createJwtVerifier({
    ...base,
    publicKey: JSON.stringify({ keys: [ec.publicJwk, rsa.publicJwk] }),
    issuers: [TEST_ISSUER],
  }))!;
  await set.verify(await ec.sign(workosClaims()));
  await set.verify(await rsa.sign(workosClaims()));
});

Deno.test("createJwtVerifier allows 30 s of clock skew and no more", async () => {
  const signer = await createTestSigner();
  const verifier = (await createJwtVerifier({
    ...base,
    publicKey: signer.publicPem,
    issuers: [TEST_ISSUER],
  }))!;
  await verifier.verify(await signer.sign(workosClaims({ iat: now() - 300, exp: now() - 10 })));
  await verifier.verify(await signer.sign(workosClaims({ nbf: now() + 10 })));
  await rejects(
    verifier.verify(await signer.sign(workosClaims({ iat: now() - 300, exp: now() - 45 }))),
    "ERR_JWT_EXPIRED",
  );
  await rejects(
    verifier.verify(await signer.sign(workosClaims({ nbf: now() + 45 }))),
    "ERR_JWT_CLAIM_VALIDATION_FAILED",
  );
});

Deno.test("createJwtVerifier requires exp and sub", async () => {
  const signer = await createTestSigner();
  const verifier = (await createJwtVerifier({
    ...base,
    publicKey: signer.publicPem,
    issuers: [TEST_ISSUER],
  }))!;
  const { exp: _exp, ...noExp } = workosClaims();
  await rejects(verifier.verify(await signer.sign(noExp)), "ERR_JWT_CLAIM_VALIDATION_FAILED");
  const { sub: _sub, ...noSub } = workosClaims();
  await rejects(verifier.verify(await signer.sign(noSub)), "ERR_JWT_CLAIM_VALIDATION_FAILED");
});

Deno.test("createJwtVerifier checks the audience only when JWT_AUDIENCE is set", async () => {
  const signer = await createTestSigner();
  const open =
    (await createJwtVerifier({ ...base, publicKey: signer.publicPem, issuers: [TEST_ISSUER] }))!;
  await open.verify(await signer.sign(workosClaims({ aud: "anything" })));
  const strict = (await createJwtVerifier({
    ...base,
    publicKey: signer.publicPem,
    issuers: [TEST_ISSUER],
    audiences: ["api-a", "api-b"],
  }))!;
  await strict.verify(await signer.sign(workosClaims({ aud: "api-b" })));
  await rejects(
    strict.verify(await signer.sign(workosClaims())),
    "ERR_JWT_CLAIM_VALIDATION_FAILED",
  );
});

Deno.test("createJwtVerifier returns null when no key source is configured", async () => {
  assert.equal(await createJwtVerifier(base), null);
});

Deno.test("createJwtVerifier refuses settings that cannot work or would be unsafe, naming the variable", async (t) => {
  const rsa = await createTestSigner();
  const { d: _d, ...rest } = { d: "x", ...rsa.publicJwk };
  const rows: [string, Partial<JwtConfig>, RegExp][] = [
    ["HS256 allowed", { algorithms: ["RS256", "HS256"] }, /JWT_ALGORITHMS: "HS256"/],
    ["none allowed", { algorithms: ["none"] }, /JWT_ALGORITHMS: "none"/],
    ["no algorithm", { algorithms: [] }, /JWT_ALGORITHMS/],
    ["no issuer", { issuers: [] }, /JWT_ISSUER/],
    ["both a URL and a key", { jwksUrl: "https://idp.example.com/jwks" }, /JWT_PUBLIC_KEY/],
    [
      "a key that fits no allowed algorithm",
      { algorithms: ["ES256"] },
      /JWT_PUBLIC_KEY.*fits none/,
    ],
    ["a private JWK", { publicKey: JSON.stringify({ ...rest, d: "AQAB" }) }, /JWT_PUBLIC_KEY/],
    [
      "a secret JWK",
      { publicKey: JSON.stringify({ kty: "oct", k: "c2VjcmV0" }) },
      /JWT_PUBLIC_KEY/,
    ],
    ["not a key", { publicKey: "hello" }, /JWT_PUBLIC_KEY/],
  ];
  for (const [name, override, message] of rows) {
    await t.step(name, async () => {
      await assert.rejects(
        createJwtVerifier({
          ...base,
          publicKey: rsa.publicPem,
          issuers: [TEST_ISSUER],
          ...override,
        }),
        (error: Error) => error instanceof ConfigError && message.test(error.message),
      );
    });
  }
  await t.step("a JWKS over plain http to another host", async () => {
    await assert.rejects(
      createJwtVerifier({ ...base, jwksUrl: "http://idp.example.com/jwks", issuers: ["x"] }),
      (error: Error) => error instanceof ConfigError && /JWT_JWKS_URL/.test(error.message),
    );
  });
});

Deno.test("principalFromClaims uses org_id when it is a non-empty string, else sub", () => {
  assert.equal(principalFromClaims({ sub: "user_1", org_id: "org_1" }).accountId, "org_1");
  assert.equal(principalFromClaims({ sub: "user_1", org_id: "" }).accountId, "user_1");
  assert.equal(principalFromClaims({ sub: "user_1", org_id: 42 }).accountId, "user_1");
  assert.equal(principalFromClaims({ sub: "user_1", role: 7 }).role, null);
  assert.throws(() => principalFromClaims({ sub: "" }));
});
