import assert from "node:assert/strict";
import { createHeartbeat, type HeartbeatOptions, readRunnable } from "./heartbeat.ts";

/** A heartbeat on a hand-turned clock: `tick()` runs the armed timer and returns its delay. */
function handTurned(options: HeartbeatOptions = {}) {
  let armed: { run: () => void; ms: number } | undefined;
  const heartbeat = createHeartbeat({
    perWorkerMs: 2,
    cores: 2,
    runnable: () => undefined,
    ...options,
    schedule: (run, ms) => {
      armed = { run, ms };
      return 1;
    },
    cancel: () => armed = undefined,
  });
  return {
    heartbeat,
    get armed() {
      return armed;
    },
    tick(): number {
      const timer = armed!;
      armed = undefined;
      timer.run();
      return timer.ms;
    },
  };
}

Deno.test("a few Workers are pulsed every period, and each check is told no stretch", () => {
  const clock = handTurned();
  const stretches: number[] = [];
  const unwatch = clock.heartbeat.watch(500, (stretch) => stretches.push(stretch));
  const pulse = new Int32Array(clock.heartbeat.pulseOf(500));
  assert.equal(clock.tick(), 500);
  assert.equal(clock.tick(), 500);
  assert.deepEqual(stretches, [1, 1]);
  assert.equal(Atomics.load(pulse, 0), 2, "one pulse per check");
  unwatch();
  assert.equal(clock.armed, undefined, "the last one unwatched stops the timer");
});

Deno.test("a thousand Workers are pulsed every 2 s, and their deadline grows with the interval", () => {
  const clock = handTurned();
  const stretches: number[] = [];
  const unwatches = [clock.heartbeat.watch(500, (stretch) => stretches.push(stretch))];
  for (let i = 1; i < 1_000; i++) unwatches.push(clock.heartbeat.watch(500, () => {}));
  assert.equal(clock.tick(), 500, "armed before the others came");
  assert.equal(clock.tick(), 2_000);
  assert.equal(clock.tick(), 2_000);
  assert.deepEqual(stretches, [1, 4, 4]);
  for (const unwatch of unwatches.slice(1)) unwatch();
  assert.equal(clock.tick(), 2_000, "armed before the others went");
  assert.equal(clock.tick(), 500, "then back to the period");
  assert.equal(stretches.at(-1), 4, "a Worker last pulsed 2 s before is still judged by that");
  clock.tick();
  assert.equal(stretches.at(-1), 1);
  unwatches[0]();
});

Deno.test("a loaded machine stretches the deadline by its runnable threads per core, within bounds", () => {
  const readings = [1, 8, 2, 100];
  const clock = handTurned({ runnable: () => readings.shift() });
  const stretches: number[] = [];
  const unwatch = clock.heartbeat.watch(500, (stretch) => stretches.push(stretch));
  for (let i = 0; i < 5; i++) clock.tick();
  assert.deepEqual(stretches, [1, 4, 4, 10, 10], "never below 1, the highest recent, at most 10");
  unwatch();
});

Deno.test("the machine's runnable threads are read from /proc where there is one", () => {
  const runnable = readRunnable();
  if (Deno.build.os !== "linux") return assert.equal(runnable, undefined);
  assert.ok(runnable !== undefined && runnable >= 1, `this test itself runs: ${runnable}`);
});
