import assert from "node:assert/strict";
import { buildVCard } from "./vcard.ts";

Deno.test("buildVCard() writes a vCard 3.0 with the number as waid", () => {
  const card = buildVCard({ name: "Alice", phone: "+1 555 000 0001" });
  assert.equal(
    card,
    [
      "BEGIN:VCARD",
      "VERSION:3.0",
      "FN:Alice",
      "N:;Alice;;;",
      "TEL;type=CELL;type=VOICE;waid=15550000001:+15550000001",
      "END:VCARD",
    ].join("\r\n"),
  );
});

Deno.test("buildVCard() escapes commas, semicolons and newlines and adds the organisation", () => {
  const card = buildVCard({ name: "Doe, Jane;\nJr", phone: "49170", organization: "ACME; Inc" });
  assert.match(card, /\r\nFN:Doe\\, Jane\\;\\nJr\r\n/);
  assert.match(card, /\r\nORG:ACME\\; Inc\r\n/);
});
