import assert from "node:assert/strict";
import { createSimulatorStateFile, type SimulatorState, textDigest } from "./state_file.ts";
import type { MessageDto } from "../../engine.ts";

function stateWith(messages: number): SimulatorState {
  return {
    chats: [{
      id: "15550000000@c.us",
      name: "Echo",
      archived: false,
      pinned: false,
      muted: false,
      unreadCount: 0,
      messages: Array.from({ length: messages }, (_, i) =>
        ({
          id: `m${i}`,
          chatId: "15550000000@c.us",
          body: `incoming ${i} ☎`,
        }) as unknown as MessageDto),
    }],
    blocked: [],
    profile: { name: "Sim", status: "", picture: null },
  };
}

Deno.test("the simulator state file writes a large state that reads back whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const state = stateWith(3_000);
    const file = createSimulatorStateFile(dir, () => state);
    file.flush();
    const text = await Deno.readTextFile(`${dir}/simulator-state.json`);
    assert.equal(text, JSON.stringify(state));
    assert.deepEqual(createSimulatorStateFile(dir, () => state).load(), JSON.parse(text));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the simulator state file writes again only when the state changed", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/simulator-state.json`;
  try {
    const state = stateWith(10);
    const file = createSimulatorStateFile(dir, () => state);
    file.flush();
    await Deno.remove(path);
    file.flush();
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound, "unchanged: not written again");
    state.chats[0].messages.push({ id: "m10", body: "new" } as unknown as MessageDto);
    file.flush();
    assert.equal(await Deno.readTextFile(path), JSON.stringify(state));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the simulator state file does not rewrite the state it loaded", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/simulator-state.json`;
  try {
    const state = stateWith(5);
    createSimulatorStateFile(dir, () => state).flush();
    const again = createSimulatorStateFile(dir, () => loaded!);
    const loaded = again.load();
    await Deno.remove(path);
    again.flush();
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("textDigest() is the same whatever the cut and differs for a changed text", () => {
  const text = JSON.stringify(stateWith(200));
  const cut = [text.slice(0, 7), text.slice(7, 4_000), text.slice(4_000)];
  assert.equal(textDigest(cut), textDigest([text]));
  assert.notEqual(textDigest([text.replace("incoming 5 ", "incoming 6 ")]), textDigest([text]));
  assert.notEqual(textDigest([text + " "]), textDigest([text]));
});
