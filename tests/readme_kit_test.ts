/**
 * @module
 * The README's "Testing your bot" shows a test that runs: the example's own, which `deno task test`
 * runs beside this check (`examples/echo_bot/bot_test.ts`). Only the import paths differ, since
 * the README's reader has the repository checked out as `wa-gateway/`.
 */
import assert from "node:assert/strict";

const README = new URL("../README.md", import.meta.url);
const EXAMPLE = new URL("../examples/echo_bot/bot_test.ts", import.meta.url);

/** The code of the README's section `heading`'s first `ts` block. */
function firstTsBlock(markdown: string, heading: string): string {
  const section = markdown.slice(markdown.indexOf(`\n## ${heading}\n`));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, `the README's "${heading}" has a ts block`);
  return block;
}

const withoutImports = (code: string) =>
  code.split("\n").filter((line) => !line.startsWith("import ")).join("\n").trim();

Deno.test("the README's Testing your bot shows the echo bot's test as the example runs it", async () => {
  const shown = firstTsBlock(await Deno.readTextFile(README), "Testing your bot");
  const example = await Deno.readTextFile(EXAMPLE);
  assert.ok(
    example.includes(withoutImports(shown)),
    "examples/echo_bot/bot_test.ts has the README's test, line for line",
  );
  for (const name of ["assert", "startGateway", "startEchoBot"]) {
    assert.match(shown, new RegExp(`^import .*\\b${name}\\b`, "m"), `the README imports ${name}`);
  }
  assert.ok(shown.split("\n").length <= 25, "the README's test stays about twenty lines");
});
