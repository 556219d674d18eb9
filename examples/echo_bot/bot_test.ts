/**
 * @module
 * The echo bot, tested the way a team tests its own bot: the gateway in-process with the kit
 * (`mod.ts`), a simulated phone whose contacts write, and what the bot sent read back from the
 * chat. The first test is the README's "Testing your bot".
 */
import assert from "node:assert/strict";
import { startGateway } from "../../mod.ts";
import { startEchoBot } from "./bot.ts";

Deno.test("the echo bot answers a text with the same text", async () => {
  await using gateway = await startGateway();
  await using bot = startEchoBot({ gatewayUrl: gateway.url, apiKey: gateway.apiKey });
  const phone = await gateway.linkPhone("4915550001234", { webhookUrl: bot.webhookUrl });

  await phone.write({ chatId: "15550000003", text: "ping" });

  const reply = await phone.nextMessageTo("15550000003", { timeoutMs: 10_000 });
  assert.equal(reply.body, "ping");
  assert.equal(reply.chatId, "15550000003@c.us");
});

Deno.test("the echo bot answers a group member in the group", async () => {
  await using gateway = await startGateway();
  await using bot = startEchoBot({ gatewayUrl: gateway.url, apiKey: gateway.apiKey });
  const phone = await gateway.linkPhone("4915550001235", { webhookUrl: bot.webhookUrl });
  const group = "120363000000000001@g.us";

  await phone.write({ chatId: group, from: "15550000002@c.us", text: "hello all" });

  const reply = await phone.nextMessageTo(group, { timeoutMs: 10_000 });
  assert.equal(reply.body, "hello all");
  assert.equal(reply.to, group);
});
