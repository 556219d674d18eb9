import assert from "node:assert/strict";
import type { NodeRecord, VacantSession } from "../store/store.ts";
import { bestNode, shareVacant } from "./placement.ts";

const node = (id: string, sessions: number, extra: Partial<NodeRecord> = {}): NodeRecord => ({
  id,
  url: `http://${id}.test`,
  role: "worker",
  capacity: 10,
  sessions,
  draining: false,
  version: "test",
  startedAt: 0,
  heartbeatAt: 0,
  live: true,
  ...extra,
});

const vacant = (phoneNumber: string, extra: Partial<VacantSession> = {}): VacantSession => ({
  phoneNumber,
  engine: "simulator",
  nodeId: null,
  epoch: 0,
  placedNode: null,
  expiredMs: null,
  ...extra,
});

const share = { myFree: 10, holderGraceMs: 3_000, patient: false };

Deno.test("bestNode() picks the live, non-draining worker with the most free capacity, this node on a tie", () => {
  const nodes = [
    node("a", 3),
    node("b", 1),
    node("c", 0, { draining: true }),
    node("d", 0, { live: false }),
    node("e", 0, { role: "edge" }),
  ];
  assert.equal(bestNode(nodes, "a")?.id, "b");
  assert.equal(bestNode([node("a", 1), node("b", 1)], "b")?.id, "b");
  assert.equal(bestNode([node("a", 10), node("b", 10)], "a"), null, "no room anywhere");
});

Deno.test("shareVacant() spreads vacant numbers by free capacity, the same way on every node", () => {
  const nodes = [node("a", 2), node("b", 0), node("c", 1)];
  const numbers = ["1", "2", "3", "4", "5", "6"].map((n) => vacant(n));
  const taken = ["a", "b", "c"].map((me) =>
    shareVacant(numbers, nodes, {
      ...share,
      me,
      myFree: nodes.find((n) => n.id === me)!.capacity - nodes.find((n) => n.id === me)!.sessions,
    }).map((v) => v.phoneNumber)
  );
  assert.deepEqual(taken.flat().sort(), ["1", "2", "3", "4", "5", "6"], "each once");
  assert.deepEqual(taken.map((t) => t.length), [1, 3, 2], "the emptiest takes the most");
});

Deno.test("shareVacant() leaves a live holder's run-out lease to it for a while, and takes its own back first", () => {
  const nodes = [node("a", 0), node("b", 5)];
  const theirs = vacant("1", { nodeId: "b", epoch: 3, expiredMs: 1_000 });
  const mine = vacant("2", { nodeId: "b", epoch: 4, expiredMs: 1_000 });
  assert.deepEqual(shareVacant([theirs], nodes, { ...share, me: "a" }), [], "b is live");
  assert.deepEqual(
    shareVacant([{ ...theirs, expiredMs: 5_000 }], nodes, { ...share, me: "a" }).length,
    1,
    "after the grace it is anyone's",
  );
  assert.deepEqual(
    shareVacant([{ ...theirs, expiredMs: 5_000 }], nodes, { ...share, me: "a", patient: true }),
    [],
    "not while the database just came back",
  );
  assert.deepEqual(shareVacant([mine], nodes, { ...share, me: "b", myFree: 5 }), [mine]);
});

Deno.test("shareVacant() gives a number placed on a node to that node while it has room", () => {
  const nodes = [node("a", 0), node("b", 9)];
  const placed = vacant("1", { placedNode: "b" });
  assert.deepEqual(shareVacant([placed], nodes, { ...share, me: "a" }), []);
  assert.deepEqual(shareVacant([placed], nodes, { ...share, me: "b", myFree: 1 }), [placed]);
  const full = [node("a", 0), node("b", 10)];
  assert.deepEqual(shareVacant([placed], full, { ...share, me: "a" }), [placed], "b is full");
});
