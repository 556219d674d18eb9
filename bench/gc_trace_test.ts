import assert from "node:assert/strict";
import { createGcTrace, parseGcLine } from "./gc_trace.ts";

// Lines as Deno 2.9.6 (V8 15.0) prints them with `--v8-flags=--trace-gc`.
const SCAVENGE =
  "[22360:0x7f70a4060000]       24 ms: Scavenge 4.1 (4.9) -> 3.6 (5.6) MB, pooled: 0.0 MB, " +
  "1.48 / 0.00 ms (average mu = 1.000, current mu = 1.000) allocation failure; ";
const MARK_COMPACT =
  "[5535:0x7f8688060000]     1000 ms: Incremental Mark-Compact 67.5 (102.2) -> 3.7 (49.4) MB, " +
  "pooled: 40.2 MB, 5.37 / 0.00 ms (+ 3.5 ms in 43 steps since start of marking, biggest step " +
  "0.3 ms, walltime since start of marking 10 ms) (average mu = 0.959, current mu = 0.987) " +
  "finalize incremental marking via task; GC in old space requested";

Deno.test("parseGcLine() reads the isolate, the kind and the heap after a GC", () => {
  assert.deepEqual(parseGcLine(SCAVENGE), {
    address: "0x7f70a4060000",
    isolateMs: 24,
    kind: "Scavenge",
    beforeMb: 4.1,
    afterMb: 3.6,
    committedMb: 5.6,
    pooledMb: 0,
  });
  const full = parseGcLine(MARK_COMPACT);
  assert.equal(full?.kind, "Incremental Mark-Compact");
  assert.equal(full?.afterMb, 3.7);
  assert.equal(full?.pooledMb, 40.2);
  assert.equal(parseGcLine("soak --long: 1.0 min: server 117 MB"), null);
});

Deno.test("createGcTrace() keeps mark-compacts apart and tells a reused address by its clock", () => {
  const trace = createGcTrace();
  assert.equal(trace.onLine(SCAVENGE, 1), true);
  assert.equal(trace.onLine(SCAVENGE.replace("      24 ms", "    9000 ms"), 2), true);
  // The same address, its clock back near zero: a new isolate (a Worker made after one ended).
  assert.equal(trace.onLine(SCAVENGE.replace("      24 ms", "       5 ms"), 3), true);
  assert.equal(trace.onLine(MARK_COMPACT, 4), true);
  assert.equal(trace.onLine("not a GC line", 5), false);
  const isolates = trace.isolates();
  assert.deepEqual(isolates.map((i) => [i.id, i.gcs, i.marks.length]), [
    ["0x7f70a4060000", 2, 0],
    ["0x7f70a4060000#1", 1, 0],
    ["0x7f8688060000", 1, 1],
  ]);
  assert.deepEqual(isolates[2].marks, [{ t: 4, mb: 3.7 }]);
});
