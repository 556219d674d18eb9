/**
 * @module
 * The ceilings of this stack, run as their own Deno process so they compare with the server
 * subprocess: a bare Hono `GET /hello`, and a bare Hono `POST /send-text` that parses the same JSON
 * body as the real route and answers a body of the same size and shape (`{ messageId, timestamp }`).
 * No auth, no validation, no logging, no Worker. Also `GET /:phoneNumber/state`, the least a state
 * route must do, written by hand: compare the `X-Api-Key` header, look the session up in a `Map`,
 * answer the same JSON as the real route with an `X-Request-Id`. `PORT` picks the port.
 */
import { Hono } from "hono";

const app = new Hono();
app.get("/hello", (c) => c.text("Hello Hono!"));
app.post("/send-text", async (c) => {
  const { chatId } = await c.req.json<{ chatId: string; text: string }>();
  const hex = crypto.getRandomValues(new Uint8Array(8)).reduce(
    (text, byte) => text + byte.toString(16).padStart(2, "0"),
    "",
  );
  return c.json({
    messageId: `true_${chatId}_3EB0${hex.toUpperCase()}`,
    timestamp: Math.floor(Date.now() / 1000),
  }, 200);
});

const API_KEY = "bench-admin-key-0123456789abcdef";
const sessions = new Map<string, Record<string, unknown>>();
app.get("/:phoneNumber/state", (c) => {
  if (c.req.header("x-api-key") !== API_KEY) return c.json({ error: "UNAUTHORIZED" }, 401);
  const phoneNumber = c.req.param("phoneNumber");
  let info = sessions.get(phoneNumber);
  if (!info) {
    const me = { id: `${phoneNumber}@c.us`, pushName: `Simulator ${phoneNumber}` };
    info = { state: "CONNECTED", status: "WORKING", reason: null, engine: "simulator", me };
    sessions.set(phoneNumber, info);
  }
  return c.json(info, 200, { "X-Request-Id": crypto.randomUUID() });
});

Deno.serve({
  hostname: "127.0.0.1",
  port: Number(Deno.env.get("PORT") ?? 8787),
  onListen: () => {},
}, app.fetch);
