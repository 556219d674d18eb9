import assert from "node:assert/strict";
import { linkProblem, numberOf, sameNumber } from "./linked_number.ts";

Deno.test("numberOf() reads phone-number ids and nothing else", () => {
  assert.equal(numberOf("4915550001234@c.us"), "4915550001234");
  assert.equal(numberOf("4915550001234:7@s.whatsapp.net"), "4915550001234");
  assert.equal(numberOf("123456789012345@lid"), null);
  assert.equal(numberOf("120363000000000001@g.us"), null);
  assert.equal(numberOf("4915550001234"), null);
});

Deno.test("sameNumber() matches a line's older WhatsApp ids in Brazil and Mexico, and no other number", () => {
  assert.ok(sameNumber("5511987654321", "551187654321"), "Brazil's added 9");
  assert.ok(sameNumber("551187654321", "5511987654321"));
  assert.ok(sameNumber("5215512345678", "525512345678"), "Mexico's old 1");
  assert.ok(!sameNumber("5511987654321", "551187654320"));
  assert.ok(!sameNumber("4915550001234", "4915550009999"));
  assert.ok(!sameNumber("4915550001234", "491555000123"), "no digit dropped elsewhere");
});

Deno.test("linkProblem() says which number linked and what to do, and refuses an account it cannot check", () => {
  const me = (id: string) => ({ id, pushName: "x" });
  assert.equal(linkProblem("4915550001234", me("4915550001234@c.us")), null);
  assert.equal(
    linkProblem("4915550001234", me("4915550009999@c.us")),
    "Linked as 4915550009999, not 4915550001234: scan with the phone of 4915550001234",
  );
  assert.match(
    linkProblem("4915550001234", me("123456789012345@lid"))!,
    /^Could not tell which number linked \(WhatsApp reported "123456789012345@lid"\)/,
  );
  assert.match(linkProblem("4915550001234", null)!, /no account/);
});
