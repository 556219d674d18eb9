import assert from "node:assert/strict";
import { parseJid, toJid } from "./schemas.ts";

Deno.test("toJid() turns numbers as people write them and the protocol's user ids into <digits>@c.us", () => {
  assert.equal(toJid("+491701234567"), "491701234567@c.us");
  assert.equal(toJid(" 491701234567 "), "491701234567@c.us");
  assert.equal(toJid("+49 (170) 123-45.67"), "491701234567@c.us");
  assert.equal(toJid("00491701234567"), "491701234567@c.us");
  assert.equal(toJid("491701234567@s.whatsapp.net"), "491701234567@c.us");
  assert.equal(toJid("491701234567@c.us"), "491701234567@c.us");
  assert.equal(toJid("120363000000000001@g.us"), "120363000000000001@g.us");
  assert.equal(toJid("12345@lid"), "12345@lid");
  assert.equal(toJid("call me"), "call me", "not an id: left for validation to refuse");
});

Deno.test("parseJid() refuses ids too long for a number, national numbers and non-ids, saying why", () => {
  assert.deepEqual(parseJid("120363000000000001"), {
    ok: false,
    message: "18 digits are more than a phone number has (15): a group id ends in @g.us " +
      "(120363000000000001@g.us)",
  });
  assert.equal(parseJid("120363000000000001@c.us").ok, false);
  assert.match(
    (parseJid("0170 1234567") as { message: string }).message,
    /country code, not 0/,
  );
  assert.match((parseJid("x@y") as { message: string }).message, /491701234567@c\.us/);
});
