import assert from "node:assert/strict";
import { EngineError } from "../../engine.ts";
import { unknownUserError } from "./context.ts";

Deno.test("unknownUserError() turns WhatsApp Web's unknown-user failures into NOT_FOUND", () => {
  for (const text of ["Error: No LID for user", "wid error: invalid user", "Invalid wid"]) {
    const mapped = unknownUserError(new Error(text), "15559999999@c.us");
    assert.ok(mapped instanceof EngineError, text);
    assert.equal(mapped.kind, "NOT_FOUND", text);
    assert.match(mapped!.message, /"15559999999@c\.us" is not on WhatsApp/);
  }
  assert.equal(unknownUserError(new Error("Protocol error: Target closed"), "x@c.us"), null);
});
