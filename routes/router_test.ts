import assert from "node:assert/strict";
import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { unauthorized } from "../errors.ts";
import type { AuthGuards } from "../middleware/guards.ts";
import type { AppEnv } from "../middleware/principal.ts";
import type { MessageListQuery } from "../sessions/engine.ts";
import { ADMIN_PRINCIPAL, createTestApp, stubManager } from "../tests/_helpers.ts";
import { createChatRoutes } from "./chats.ts";
import { createMessageEditRoutes } from "./message_edits.ts";
import { createRouter } from "./router.ts";
import { SECURED } from "./schemas.ts";

const BASE = "/api/whatsapp/4915550001234";

/** Guards that count their runs and let in only a request with `X-Pass`. */
function countingGuards() {
  const counter = { runs: 0 };
  const guard: MiddlewareHandler<AppEnv> = async (c, next) => {
    counter.runs++;
    if (!c.req.header("x-pass")) throw unauthorized();
    c.set("principal", ADMIN_PRINCIPAL);
    await next();
  };
  const guards: AuthGuards = {
    requireAuth: guard,
    requireSingleAccountProtected: () => guard,
    requireSessionInBody: () => guard,
    requireWahaProtected: guard,
    requireAdmin: guard,
  };
  return { guards, counter };
}

Deno.test("router.guard() runs a group's guard once on each of its routes and never on another method of their paths, whose 405 comes unauthenticated", async () => {
  const { guards, counter } = countingGuards();
  const manager = stubManager({}, {
    listMessages: () => Promise.resolve({ messages: [], hasMore: false }),
    editMessage: ({ messageId }) => Promise.resolve({ messageId, timestamp: 1 }),
  });
  // Two groups with routes of one shape: /{phoneNumber}/messages/{chatId} and …/{messageId}.
  const app = createTestApp(
    createRouter()
      .route("/", createChatRoutes({ manager, guards }))
      .route("/", createMessageEditRoutes({ manager, guards })),
  );
  const pass = { "X-Pass": "1" };

  const refused = await app.request(`${BASE}/messages/15550000001@c.us`);
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
  assert.equal(counter.runs, 1);

  const read = await app.request(`${BASE}/messages/15550000001@c.us`, { headers: pass });
  assert.equal(read.status, 200);
  await read.body?.cancel();
  assert.equal(counter.runs, 2, "once, though the other group has routes of the same shape");

  const edited = await app.request(`${BASE}/messages/true_1@c.us_A`, {
    method: "PUT",
    headers: { ...pass, "Content-Type": "application/json" },
    body: JSON.stringify({ text: "fixed" }),
  });
  assert.deepEqual(await edited.json(), { messageId: "true_1@c.us_A", timestamp: 1 });
  assert.equal(counter.runs, 3);

  const patch = await app.request(`${BASE}/messages/true_1@c.us_A`, { method: "PATCH" });
  assert.equal(patch.status, 405);
  assert.equal(patch.headers.get("Allow"), "DELETE, GET, HEAD, PUT");
  assert.equal((await patch.json()).code, "METHOD_NOT_ALLOWED");
  assert.equal(counter.runs, 3, "no guard ran for the 405");

  const unknown = await app.request(`${BASE}/nothing-here`);
  assert.deepEqual(await unknown.json(), {
    error: `No route for GET ${BASE}/nothing-here`,
    code: "NOT_FOUND",
    statusCode: 404,
  });
  assert.equal(counter.runs, 3, "nor for the 404");
});

Deno.test("GET …/messages/{chatId} hands the engine one DTO, page included: one call, whatever the page", async () => {
  const calls: MessageListQuery[] = [];
  const manager = stubManager({}, {
    listMessages: (query) => {
      calls.push(query);
      return Promise.resolve({ messages: [], hasMore: false });
    },
  });
  const app = createTestApp(createChatRoutes({ manager, guards: countingGuards().guards }));
  const headers = { "X-Pass": "1" };
  for (const query of ["", "?limit=30&page=3", "?before=true_1%40c.us_A&page=2"]) {
    const response = await app.request(`${BASE}/messages/15550000001${query}`, { headers });
    assert.equal(response.status, 200, query);
    await response.body?.cancel();
  }
  assert.deepEqual(calls, [
    { chatId: "15550000001@c.us", limit: 50, page: 1 },
    { chatId: "15550000001@c.us", limit: 30, page: 3 },
    { chatId: "15550000001@c.us", limit: 50, before: "true_1@c.us_A", page: 2 },
  ]);
});

Deno.test("a route that declares security without a guard, or a guard without security, is refused when it is registered", () => {
  const route = (security?: typeof SECURED) =>
    createRoute({
      method: "get",
      path: "/{phoneNumber}/thing",
      ...(security ? { security } : {}),
      request: { params: z.object({ phoneNumber: z.string() }) },
      responses: { 200: { description: "A thing" } },
    });
  const handler = (c: { json: (body: unknown, status: 200) => Response }) => c.json({}, 200);
  assert.throws(
    () => createRouter().openapi(route(SECURED), handler),
    /"GET \/\{phoneNumber\}\/thing" declares security but has no guard/,
  );
  const pass: MiddlewareHandler<AppEnv> = (_c, next) => next();
  assert.throws(
    () => createRouter().guard(pass, route()).openapi(route(), handler),
    /"GET \/\{phoneNumber\}\/thing" has a guard but declares no security/,
  );
  createRouter().guard(pass, route(SECURED)).openapi(route(SECURED), handler);
  createRouter().openapi(route(), handler);
});
