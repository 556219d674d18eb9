/**
 * @module
 * Every route of the API (read from the OpenAPI document, so a new route cannot slip through)
 * against every kind of credential: bad tokens are 401, another account is 403 on every endpoint
 * of a number it does not own (reads included) and never reaches the session, the owner and the
 * admin get through to the route's own answer (each route's exact status is listed). Real keys, a
 * real JWKS on 127.0.0.1, tokens shaped like WorkOS AuthKit's.
 */
import assert from "node:assert/strict";
import { createTestSigner, startJwksServer, TEST_ISSUER, workosTokens } from "./_auth_helpers.ts";
import { ADMIN_KEY, startTestApp, waitForState } from "./_helpers.ts";

const OWNED = "4915550004001";
const AUDIENCE = "https://wa-gateway.test";
/** Routes that end or unlink the session: run last, so the others meet a live session. */
const DESTRUCTIVE = /\/(stop|restart|logout|simulator\/unlink)$|^\/\{phoneNumber\}$/;
/** Among those, the one that needs the session connected runs first. */
const NEEDS_CONNECTED = /\/simulator\/unlink$/;

/**
 * What a caller who is let through gets on each of the other routes, with the body `{}` and the
 * ids below, for the owner's token, the owner's API key and the admin key in turn: the route ran.
 * 400 is a body that fails validation, 404 a message or delivery that does not exist, 409 a QR or
 * pairing code asked of a session already linked.
 */
const LET_THROUGH: Record<string, number | [number, number, number]> = {
  "POST /{phoneNumber}/start": 200,
  "GET /{phoneNumber}/qr": 409,
  "POST /{phoneNumber}/pairing-code": 409,
  "GET /{phoneNumber}/state": 200,
  "GET /sessions": 200,
  "GET /cluster": 200,
  "GET /events": 200,
  "GET /me": 200,
  "POST /{phoneNumber}/send-text": 400,
  "POST /{phoneNumber}/send-image": 400,
  "POST /{phoneNumber}/send-file": 400,
  "POST /{phoneNumber}/send-video": 400,
  "POST /{phoneNumber}/send-voice": 400,
  "POST /{phoneNumber}/send-audio": 400,
  "POST /{phoneNumber}/send-location": 400,
  "POST /{phoneNumber}/send-contact": 400,
  "POST /{phoneNumber}/send-reaction": 400,
  "POST /{phoneNumber}/send-seen": 400,
  "POST /{phoneNumber}/typing": 400,
  "DELETE /{phoneNumber}/messages/{messageId}": 404,
  "PUT /{phoneNumber}/messages/{messageId}": 400,
  "GET /{phoneNumber}/check-number/{phone}": 200,
  "GET /{phoneNumber}/messages/{chatId}/{messageId}/media": 404,
  "POST /{phoneNumber}/send-poll": 400,
  "GET /{phoneNumber}/polls/{messageId}/votes": 404,
  "GET /{phoneNumber}/chats": 200,
  "GET /{phoneNumber}/chat/{chatId}": 200,
  "GET /{phoneNumber}/messages/{chatId}": 200,
  "GET /{phoneNumber}/contacts": 200,
  "GET /{phoneNumber}/contact/{contactId}": 200,
  "GET /{phoneNumber}/contact/{contactId}/profile-picture": 200,
  "POST /{phoneNumber}/contact/block": 400,
  "POST /{phoneNumber}/contact/unblock": 400,
  "POST /{phoneNumber}/group/create": 400,
  "GET /{phoneNumber}/group/{groupId}": 200,
  "GET /{phoneNumber}/lids": 200,
  "GET /{phoneNumber}/lids/count": 200,
  "GET /{phoneNumber}/lids/pn/{phone}": 200,
  "GET /{phoneNumber}/lids/{lid}": 200,
  "PUT /{phoneNumber}/group/{groupId}": 400,
  // The first caller leaves the group; it is gone for the next.
  "POST /{phoneNumber}/group/{groupId}/leave": [200, 404, 404],
  "POST /{phoneNumber}/group/{groupId}/participants/add": 400,
  "POST /{phoneNumber}/group/{groupId}/participants/remove": 400,
  "GET /{phoneNumber}/profile": 200,
  "PUT /{phoneNumber}/profile/name": 400,
  "PUT /{phoneNumber}/profile/status": 400,
  "PUT /{phoneNumber}/profile/picture": 400,
  "POST /webhook/message": 400,
  "POST /webhook/state-change": 400,
  "GET /{phoneNumber}/webhooks": 200,
  "PUT /{phoneNumber}/webhooks": 400,
  "GET /{phoneNumber}/webhooks/deliveries": 200,
  "POST /{phoneNumber}/webhooks/deliveries/{id}/retry": 404,
  "GET /{phoneNumber}/events": 200,
  "POST /{phoneNumber}/simulator/messages": 400,
  "POST /{phoneNumber}/simulator/reactions": 400,
  "POST /{phoneNumber}/simulator/poll-votes": 400,
  "POST /{phoneNumber}/simulator/acks": 400,
  "POST /{phoneNumber}/simulator/typing": 400,
  "POST /{phoneNumber}/simulator/presence": 400,
  "POST /{phoneNumber}/simulator/group-leave": 400,
  "POST /{phoneNumber}/simulator/disconnect": 400,
  "POST /{phoneNumber}/simulator/chatter": 400,
  "POST /{phoneNumber}/messages/{messageId}/forward": 400,
  "PUT /{phoneNumber}/messages/{messageId}/star": 404,
  "DELETE /{phoneNumber}/messages/{messageId}/star": 404,
  "POST /{phoneNumber}/messages/{messageId}/pin": 400,
  "DELETE /{phoneNumber}/messages/{messageId}/pin": 404,
  "POST /{phoneNumber}/chats/{chatId}/mute": 200,
  "POST /{phoneNumber}/chats/{chatId}/archive": 200,
  "POST /{phoneNumber}/chats/{chatId}/unarchive": 200,
  "POST /{phoneNumber}/chats/{chatId}/unmute": 200,
  "POST /{phoneNumber}/chats/{chatId}/read": 200,
  "POST /{phoneNumber}/chats/{chatId}/unread": 200,
  "POST /{phoneNumber}/chats/{chatId}/pin": 200,
  "POST /{phoneNumber}/chats/{chatId}/unpin": 200,
  "DELETE /{phoneNumber}/chats/{chatId}/messages": 200,
  // The first caller deletes the chat; it is gone for the next.
  "DELETE /{phoneNumber}/chats/{chatId}": [200, 404, 404],
  "GET /{phoneNumber}/labels": 200,
  "GET /{phoneNumber}/labels/{labelId}/chats": 200,
  // The chat was deleted above.
  "GET /{phoneNumber}/labels/chats/{chatId}": 404,
  "PUT /{phoneNumber}/labels/chats/{chatId}": 400,
  "POST /{phoneNumber}/labels": 400,
  "PUT /{phoneNumber}/labels/{labelId}": 400,
  // The first caller deletes label 1; it is gone for the next.
  "DELETE /{phoneNumber}/labels/{labelId}": [200, 404, 404],
  "POST /{phoneNumber}/presence": 400,
  "GET /{phoneNumber}/presence": 200,
  "GET /{phoneNumber}/presence/{chatId}": 200,
  "POST /{phoneNumber}/presence/{chatId}/subscribe": 200,
  "POST /{phoneNumber}/calls/reject": 400,
  "POST /{phoneNumber}/simulator/calls": 400,
  "POST /{phoneNumber}/simulator/labels": 400,
  "POST /{phoneNumber}/simulator/label-delete": 400,
  "POST /{phoneNumber}/simulator/chat-labels": 400,
  // Group admin: these run after the group was left above (404), or fail their body first.
  "GET /{phoneNumber}/groups/{groupId}/invite-code": 404,
  "POST /{phoneNumber}/groups/{groupId}/invite-code/revoke": 404,
  "POST /{phoneNumber}/groups/join": 400,
  "GET /{phoneNumber}/groups/join-info": 400,
  "POST /{phoneNumber}/groups/{groupId}/admin/promote": 400,
  "POST /{phoneNumber}/groups/{groupId}/admin/demote": 400,
  "GET /{phoneNumber}/groups/{groupId}/settings/security/messages-admin-only": 404,
  "PUT /{phoneNumber}/groups/{groupId}/settings/security/messages-admin-only": 400,
  "GET /{phoneNumber}/groups/{groupId}/settings/security/info-admin-only": 404,
  "PUT /{phoneNumber}/groups/{groupId}/settings/security/info-admin-only": 400,
  "PUT /{phoneNumber}/groups/{groupId}/subject": 400,
  "PUT /{phoneNumber}/groups/{groupId}/description": 400,
  "GET /{phoneNumber}/groups/{groupId}/picture": 404,
  "PUT /{phoneNumber}/groups/{groupId}/picture": 400,
  "DELETE /{phoneNumber}/groups/{groupId}/picture": 404,
  "GET /{phoneNumber}/groups/{groupId}/participants/join-requests": 404,
  "POST /{phoneNumber}/groups/{groupId}/participants/join-requests/approve": 404,
  "POST /{phoneNumber}/groups/{groupId}/participants/join-requests/reject": 404,
  "POST /{phoneNumber}/simulator/group-admin": 400,
  "POST /{phoneNumber}/simulator/group-settings": 400,
  "POST /{phoneNumber}/simulator/group-join": 400,
  "POST /{phoneNumber}/simulator/group-request": 400,
  // Status, channels and contact details (issue 20); the channel is one the account does not
  // follow: following and unfollowing it work, muting it then does not.
  "GET /{phoneNumber}/status": 200,
  "POST /{phoneNumber}/status/text": 400,
  "POST /{phoneNumber}/status/image": 400,
  "POST /{phoneNumber}/status/video": 400,
  "POST /{phoneNumber}/status/delete": 400,
  "GET /{phoneNumber}/channels": 200,
  "POST /{phoneNumber}/channels": 400,
  "POST /{phoneNumber}/channels/search/by-text": 400,
  "POST /{phoneNumber}/channels/search/by-view": 400,
  "GET /{phoneNumber}/channels/{channelId}": 200,
  "DELETE /{phoneNumber}/channels/{channelId}": 400,
  "PUT /{phoneNumber}/channels/{channelId}": 400,
  "POST /{phoneNumber}/channels/{channelId}/messages": 400,
  "POST /{phoneNumber}/channels/{channelId}/follow": 200,
  "POST /{phoneNumber}/channels/{channelId}/unfollow": 200,
  "POST /{phoneNumber}/channels/{channelId}/mute": 400,
  "POST /{phoneNumber}/channels/{channelId}/unmute": 400,
  "POST /{phoneNumber}/contacts/check": 400,
  "GET /{phoneNumber}/contacts/{contactId}/about": 200,
  "GET /{phoneNumber}/contacts/{contactId}/business-profile": 404,
};

interface Route {
  method: string;
  path: string;
  url: string;
  scoped: boolean;
  adminOnly: boolean;
  webhook: boolean;
}

function routesOf(doc: { paths: Record<string, Record<string, { security?: unknown[] }>> }) {
  const routes: Route[] = [];
  for (const [fullPath, ops] of Object.entries(doc.paths)) {
    // The contract's routes; WAHA's dialect (`/api/…`) has its own suite (waha_dialect_*_test.ts).
    if (!fullPath.startsWith("/api/whatsapp/")) continue;
    const path = fullPath.replace("/api/whatsapp", "");
    if (path === "/health") continue;
    for (const [method, op] of Object.entries(ops)) {
      const url = path.replaceAll(/\{(\w+)\}/g, (_, name: string) =>
        ({
          phoneNumber: OWNED,
          chatId: "15550000001@c.us",
          contactId: "15550000001@c.us",
          groupId: "120363000000000001@g.us",
          messageId: "true_15550000001@c.us_3EB0AAAA",
          phone: "15550000002",
          channelId: "120363000000000102@newsletter",
        })[name] ?? "1");
      const securities = JSON.stringify(op.security ?? []);
      routes.push({
        method: method.toUpperCase(),
        path,
        url,
        scoped: path.includes("{phoneNumber}"),
        adminOnly: !securities.includes("bearerAuth") && !path.startsWith("/webhook/"),
        webhook: path.startsWith("/webhook/"),
      });
    }
  }
  const rank = (path: string) => DESTRUCTIVE.test(path) ? (NEEDS_CONNECTED.test(path) ? 1 : 2) : 0;
  return routes.sort((a, b) => rank(a.path) - rank(b.path));
}

Deno.test("every route answers every kind of credential with the contract's status", async () => {
  const signer = await createTestSigner();
  await using jwks = await startJwksServer([signer.publicJwk]);
  const server = await startTestApp({
    JWT_JWKS_URL: jwks.url,
    JWT_ISSUER: TEST_ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    API_KEYS:
      "owner-integration-key-0123456789=org_owner,other-integration-key-0123456789=org_other",
    MAX_NUMBERS_PER_ACCOUNT: "2",
    SIMULATOR_SCAN_MS: "0",
  });
  try {
    const owner = await workosTokens(signer, { orgId: "org_owner", aud: AUDIENCE });
    const other = await workosTokens(signer, {
      orgId: "org_other",
      sub: "user_01JOTHERUSER000000000000A",
      aud: AUDIENCE,
    });
    const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

    const start = await server.json("POST", `/${OWNED}/start`, {
      anonymous: true,
      headers: bearer(owner.good),
    });
    assert.equal(start.status, 200, "the owner's token starts (and claims) the number");
    await waitForState(server, OWNED, "CONNECTED");

    const doc = await (await server.request("GET", "/swagger/json")).json();
    const routes = routesOf(doc);
    assert.ok(routes.length >= 45, `${routes.length} routes`);
    assert.deepEqual(
      routes.filter((r) => !DESTRUCTIVE.test(r.path)).map((r) => `${r.method} ${r.path}`).sort(),
      Object.keys(LET_THROUGH).sort(),
      "every route has its expected status",
    );
    const letThrough = (route: Route, turn: 0 | 1 | 2) => {
      const expected = LET_THROUGH[`${route.method} ${route.path}`];
      return typeof expected === "number" ? expected : expected[turn];
    };

    // Count every call that reaches the session manager, to prove refused ones never do.
    let reached = 0;
    const manager = server.manager as unknown as Record<string, unknown>;
    for (const name of Object.keys(manager)) {
      const original = manager[name];
      if (typeof original !== "function") continue;
      manager[name] = (...args: unknown[]) => {
        reached++;
        return (original as (...a: unknown[]) => unknown).apply(server.manager, args);
      };
    }

    const refused: [string, Record<string, string>][] = [
      ["no credential", {}],
      ["a malformed header", { Authorization: "Basic dXNlcjpwYXNz" }],
      ["an empty bearer", { Authorization: "Bearer " }],
      ["a bad signature", bearer(owner.badSignature)],
      ["an expired token", bearer(owner.expired)],
      ["a token not yet valid", bearer(owner.notYetValid)],
      ["a wrong issuer", bearer(owner.wrongIssuer)],
      ["a wrong audience", bearer(owner.wrongAudience)],
      ["alg none", bearer(owner.none)],
      ["HS256 signed with the public key", bearer(owner.hs256WithPublicKey)],
      ["a key id the JWKS does not have", bearer(owner.unknownKid)],
      ["a wrong API key", { "X-Api-Key": "not-a-key" }],
    ];
    const strangers: [string, Record<string, string>][] = [
      ["another account's valid token", bearer(other.good)],
      ["another account's API key", { "X-Api-Key": "other-integration-key-0123456789" }],
    ];
    const owners: [string, Record<string, string>][] = [
      ["the owner's token", bearer(owner.good)],
      ["the owner's API key", { "X-Api-Key": "owner-integration-key-0123456789" }],
    ];

    const call = async (route: Route, headers: Record<string, string>) => {
      const response = await server.request(route.method, route.url, {
        anonymous: true,
        headers,
        body: {},
      });
      const isJson = response.headers.get("content-type")?.includes("application/json");
      const body = isJson ? await response.json() : (await response.body?.cancel(), null);
      return { status: response.status, body };
    };

    for (const route of routes.filter((r) => !DESTRUCTIVE.test(r.path))) {
      const name = `${route.method} ${route.path}`;
      for (const [what, headers] of refused) {
        const before = reached;
        const { status, body } = await call(route, headers);
        assert.equal(status, 401, `${name} with ${what}`);
        assert.equal(body.code, "UNAUTHORIZED");
        assert.equal(reached, before, `${name} with ${what} reached the sessions`);
      }
      for (const [what, headers] of strangers) {
        const before = reached;
        const { status, body } = await call(route, headers);
        const expected = route.webhook ? 401 : route.scoped || route.adminOnly ? 403 : 200;
        assert.equal(status, expected, `${name} with ${what}`);
        if (expected !== 200) assert.equal(reached, before, `${name} with ${what} reached`);
        if (route.path === "/sessions") assert.deepEqual(body.sessions, []);
      }
      for (const [turn, [what, headers]] of owners.entries()) {
        const { status } = await call(route, headers);
        const expected = route.webhook
          ? 401
          : route.adminOnly
          ? 403
          : letThrough(route, turn as 0 | 1);
        assert.equal(status, expected, `${name} with ${what}`);
      }
      const admin = await call(route, { "X-Api-Key": ADMIN_KEY });
      assert.equal(admin.status, letThrough(route, 2), `${name} as admin`);
    }

    // The owner's session is still whole: nobody else stopped, restarted or unlinked it.
    for (const route of routes.filter((r) => DESTRUCTIVE.test(r.path))) {
      for (const [expected, callers] of [[401, refused], [403, strangers]] as const) {
        for (const [what, headers] of callers) {
          const { status } = await call(route, headers);
          assert.equal(status, expected, `${route.method} ${route.path} with ${what}`);
        }
      }
    }
    assert.equal((await server.json("GET", `/${OWNED}/state`)).body.state, "CONNECTED");
    for (const route of routes.filter((r) => DESTRUCTIVE.test(r.path))) {
      const headers = route.adminOnly ? { "X-Api-Key": ADMIN_KEY } : bearer(owner.good);
      const { status } = await call(route, headers);
      assert.equal(status, 200, `${route.method} ${route.path} by its owner or the admin`);
    }
  } finally {
    await server.close();
  }
});

Deno.test("an account's numbers are its own: listed only to it and limited in number", async () => {
  const signer = await createTestSigner();
  await using jwks = await startJwksServer([signer.publicJwk]);
  const server = await startTestApp({ JWT_JWKS_URL: jwks.url, JWT_ISSUER: TEST_ISSUER });
  try {
    const a = await workosTokens(signer, { orgId: "org_a" });
    const b = await workosTokens(signer, { orgId: "org_b", sub: "user_b" });
    const as = (token: string) => ({
      anonymous: true,
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal((await server.json("POST", "/4915550004101/start", as(a.good))).status, 200);
    const second = await server.json("POST", "/4915550004102/start", as(a.good));
    assert.equal(second.status, 403);
    assert.match(String(second.body.error), /MAX_NUMBERS_PER_ACCOUNT=1/);
    const taken = await server.json("POST", "/4915550004101/start", as(b.good));
    assert.equal(taken.status, 403);
    assert.equal((await server.json("POST", "/4915550004102/start", as(b.good))).status, 200);
    const listA = await server.json<{ sessions: { phoneNumber: string }[] }>(
      "GET",
      "/sessions",
      as(a.good),
    );
    assert.deepEqual(listA.body.sessions.map((s) => s.phoneNumber), ["4915550004101"]);
    const all = await server.json<{ sessions: unknown[] }>("GET", "/sessions");
    assert.equal(all.body.sessions.length, 2, "the admin sees every number");
    const freed = await server.json("DELETE", "/4915550004101");
    assert.equal(freed.status, 200, "the admin deletes a number and frees it");
    assert.equal((await server.json("POST", "/4915550004101/start", as(b.good))).status, 403);
    assert.equal((await server.json("DELETE", "/4915550004102")).status, 200);
    assert.equal((await server.json("POST", "/4915550004101/start", as(b.good))).status, 200);
  } finally {
    await server.close();
  }
});
