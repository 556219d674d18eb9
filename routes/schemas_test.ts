import assert from "node:assert/strict";
import { toJid } from "./schemas.ts";

Deno.test("toJid() turns bare numbers and the protocol's user ids into <digits>@c.us", () => {
  assert.equal(toJid("+49 170"), "+49 170", "not a number: left for validation to refuse");
  assert.equal(toJid("+491701234567"), "491701234567@c.us");
  assert.equal(toJid(" 491701234567 "), "491701234567@c.us");
  assert.equal(toJid("491701234567@s.whatsapp.net"), "491701234567@c.us");
  assert.equal(toJid("491701234567@c.us"), "491701234567@c.us");
  assert.equal(toJid("120363000000000001@g.us"), "120363000000000001@g.us");
  assert.equal(toJid("12345@lid"), "12345@lid");
});
