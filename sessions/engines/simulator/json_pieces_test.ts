import assert from "node:assert/strict";
import { jsonPieces } from "./json_pieces.ts";

/** A state shaped like the simulator's: chats holding many messages. */
function chatState(messages: number) {
  return {
    chats: [{
      id: "15550000000@c.us",
      name: "Echo «bot» ☎",
      archived: false,
      muteExpiration: undefined,
      messages: Array.from({ length: messages }, (_, i) => ({
        id: `false_15550000000@c.us_${i}`,
        body: i % 7 === 0 ? `line\nwith "quotes" and ü ${i}` : `incoming ${i}`,
        fromMe: i % 2 === 0,
        author: null,
        ack: undefined,
        media: i % 50 === 0 ? { mimetype: "image/png", size: i } : undefined,
        reactions: i % 9 === 0 ? [{ emoji: "👍", from: "a" }] : [],
      })),
    }, { id: "g@g.us", name: "", messages: [], group: { participants: ["a", "b"] } }],
    blocked: ["1@c.us"],
    profile: { name: "Sim", status: "", picture: null },
    labels: undefined,
    nothing: () => 1,
  };
}

Deno.test("jsonPieces() joined is exactly JSON.stringify of the same value", () => {
  for (
    const value of [chatState(0), chatState(1), chatState(2_000), [1, undefined, "x"], "text", 3]
  ) {
    assert.equal([...jsonPieces(value, { maxChars: 1_000 })].join(""), JSON.stringify(value));
  }
});

Deno.test("jsonPieces() cuts a large state into pieces no longer than the limit and one message", () => {
  const state = chatState(5_000);
  const whole = JSON.stringify(state);
  const longestMessage = Math.max(...state.chats[0].messages.map((m) => JSON.stringify(m).length));
  const pieces = [...jsonPieces(state, { maxChars: 4_096 })];
  assert.ok(whole.length > 100 * 4_096, "the state is far larger than a piece");
  assert.ok(pieces.length > 100);
  for (const piece of pieces) {
    assert.ok(piece.length <= 4_096 + longestMessage + 1, `${piece.length}`);
  }
});

Deno.test("jsonPieces() stringifies values below its depth whole, and walks those above", () => {
  const value = { a: [[["deep", "deeper"]]] };
  const shallow = [...jsonPieces(value, { maxChars: 1, maxDepth: 2 })];
  const deep = [...jsonPieces(value, { maxChars: 1, maxDepth: 4 })];
  assert.equal(shallow.join(""), JSON.stringify(value));
  assert.equal(deep.join(""), JSON.stringify(value));
  assert.ok(shallow.some((p) => p.includes(`[["deep","deeper"]]`)), JSON.stringify(shallow));
  assert.ok(!deep.some((p) => p.includes(`"deep","deeper"`)), JSON.stringify(deep));
});
