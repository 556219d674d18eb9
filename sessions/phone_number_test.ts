import assert from "node:assert/strict";
import { assertPhoneNumber, isPhoneNumber } from "./phone_number.ts";

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
