import assert from "node:assert/strict";
import { assertPhoneNumber, isPhoneNumber, parsePhone } from "./phone_number.ts";

Deno.test("isPhoneNumber() takes 7 to 15 digits and nothing else", () => {
  for (const good of ["4915550", "491555000123456"]) assert.ok(isPhoneNumber(good), good);
  const bad = ["491555", "4915550001234567", "+4915550001", "49155a0001", "", " 4915550001"];
  for (const value of bad) assert.equal(isPhoneNumber(value), false, value);
});

Deno.test("assertPhoneNumber() throws 400 naming the field and the rule", () => {
  assert.throws(() => assertPhoneNumber("12ab"), {
    status: 400,
    message: 'Invalid phoneNumber "12ab": expected 7 to 15 digits',
  });
  assertPhoneNumber("4915550001");
});

Deno.test("parsePhone() drops the formatting and the + or 00 prefix people write", () => {
  for (
    const written of [
      "491701234567",
      "+491701234567",
      "00491701234567",
      "+49 170 123-4567",
      "+49 (170) 1234567",
      "0049.170.123.45.67",
      "\u00a0+49 170 1234567 ",
    ]
  ) {
    assert.deepEqual(parsePhone(written), { ok: true, digits: "491701234567" }, written);
  }
});

Deno.test("parsePhone() refuses what no phone number looks like", () => {
  assert.equal(parsePhone("1234567890123456").ok, false, "16 digits");
  assert.equal((parsePhone("1234567890123456") as { tooLong?: boolean }).tooLong, true);
  assert.equal(parsePhone("1234").ok, false, "4 digits");
  assert.equal(parsePhone("01701234567").ok, false, "a national number");
  assert.equal(parsePhone("+49 170 CALL").ok, false);
  assert.equal(parsePhone("++491701234567").ok, false);
  assert.equal(parsePhone("").ok, false);
});
