/**
 * A testing kit for bots built on wa-gateway: start the real gateway inside `deno test`, link a
 * simulated phone, make its contacts write, and read back what the bot sent them. No WhatsApp
 * account, no browser, no server process to manage.
 *
 * `startGateway()` composes the same server as `deno task start`, with the simulator engine, on a
 * free port of 127.0.0.1, a temporary `DATA_DIR` and a generated API key. The phone's other side
 * is driven through the simulator's control API (`/{phoneNumber}/simulator/…`, tag "Simulator" in
 * Swagger UI); its effects reach the bot through the same webhooks and event streams as a real
 * phone's.
 *
 * @example A bot that answers every text (examples/echo_bot/)
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { startGateway } from "./mod.ts";
 * import { startEchoBot } from "./examples/echo_bot/bot.ts";
 *
 * Deno.test("the echo bot answers a text with the same text", async () => {
 *   await using gateway = await startGateway();
 *   await using bot = startEchoBot({ gatewayUrl: gateway.url, apiKey: gateway.apiKey });
 *   const phone = await gateway.linkPhone("4915550001234", { webhookUrl: bot.webhookUrl });
 *
 *   await phone.write({ chatId: "15550000003", text: "ping" });
 *
 *   const reply = await phone.nextMessageTo("15550000003", { timeoutMs: 10_000 });
 *   assert.equal(reply.body, "ping");
 * });
 * ```
 *
 * @module
 */
export {
  type Gateway,
  type GatewaySettings,
  type LinkOptions,
  startGateway,
} from "./kit/gateway.ts";
export type {
  ChatMessage,
  ContactMessage,
  SimulatedPhone,
  SimulatorControl,
  WaitOptions,
} from "./kit/simulated_phone.ts";
