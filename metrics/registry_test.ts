import assert from "node:assert/strict";
import { createMetrics } from "./registry.ts";

Deno.test("createMetrics() labels every series with the node, and each registry counts apart", async () => {
  const one = createMetrics({ node: "node-a", sampleMs: 60_000, version: "test" });
  const two = createMetrics({ sampleMs: 60_000, version: "test" });
  try {
    one.events.stored([{ event: "message" }, { event: "message" }, { event: "no.such.event" }]);
    const text = await one.registry.metrics();
    assert.match(text, /^wa_gateway_events_total\{event="message",node="node-a"\} 2$/m);
    // A name outside the vocabulary (inbound events may carry any) makes no series of its own.
    assert.match(text, /^wa_gateway_events_total\{event="other",node="node-a"\} 1$/m);
    assert.match(text, /^wa_gateway_process_resident_memory_bytes\{node="node-a"\} \d+$/m);
    const other = await two.registry.metrics();
    assert.doesNotMatch(other, /wa_gateway_events_total\{/);
    assert.doesNotMatch(other, /node=/);
  } finally {
    one.close();
    two.close();
  }
});

Deno.test("createMetrics() keeps only the default metrics Deno fills", async () => {
  const metrics = createMetrics({ sampleMs: 60_000, version: "test" });
  try {
    const text = await metrics.registry.metrics();
    for (
      const name of [
        "process_cpu_seconds_total",
        "process_start_time_seconds",
        "process_open_fds",
        "nodejs_heap_size_used_bytes",
      ]
    ) {
      const value = Number(new RegExp(`^wa_gateway_${name} (\\S+)$`, "m").exec(text)?.[1]);
      assert.ok(value > 0, `${name} is ${value}`);
    }
    for (const name of ["gc_duration", "eventloop_lag", "active_handles", "version_info"]) {
      assert.doesNotMatch(text, new RegExp(`wa_gateway_nodejs_${name}`), name);
    }
    assert.match(text, /^# TYPE wa_gateway_event_loop_lag_seconds histogram$/m);
  } finally {
    metrics.close();
  }
});
