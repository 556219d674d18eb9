import assert from "node:assert/strict";
import { after, every } from "./worker_timers.ts";

const TIMERS = new URL("./worker_timers.ts", import.meta.url).href;

/** Runs `body` (a module's text, with `after`, `every` and `report` in scope) in a Worker. */
function inWorker(body: string): { messages: unknown[]; ended: Promise<string | null> } {
  const script = `import { after, every } from ${JSON.stringify(TIMERS)};
const report = (message) => postMessage(message);
${body}`;
  const url = URL.createObjectURL(new Blob([script], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const messages: unknown[] = [];
  const ended = new Promise<string | null>((resolve) => {
    worker.onmessage = (event) => {
      messages.push(event.data);
      if (event.data === "done") {
        worker.terminate();
        resolve(null);
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      resolve(event.message);
    };
  });
  return { messages, ended };
}

Deno.test("in a Worker, timers fire in the order of their deadlines, not of their making", async () => {
  const run = inWorker(`
    const started = performance.now();
    after(40, () => { report(["forty", performance.now() - started]); report("done"); });
    after(10, () => report(["ten", performance.now() - started]));
    after(0, () => report(["zero", performance.now() - started]));
    report("made");`);
  assert.equal(await run.ended, null);
  assert.deepEqual(run.messages.map((m) => Array.isArray(m) ? m[0] : m), [
    "made",
    "zero",
    "ten",
    "forty",
    "done",
  ]);
  const at = Object.fromEntries(run.messages.filter(Array.isArray) as [string, number][]);
  assert.ok(at.ten >= 9, `ten fired at ${at.ten} ms`);
  assert.ok(at.forty >= 39, `forty fired at ${at.forty} ms`);
});

Deno.test("in a Worker, a cancelled timer never fires, and cancelling twice or after it fired is harmless", async () => {
  const run = inWorker(`
    const cancelled = after(10, () => report("cancelled one fired"));
    cancelled.cancel();
    cancelled.cancel();
    const fired = after(5, () => report("fired"));
    after(40, () => { fired.cancel(); report("done"); });`);
  assert.equal(await run.ended, null);
  assert.deepEqual(run.messages, ["fired", "done"]);
});

Deno.test("in a Worker, every repeats until cancelled, also from inside its own callback", async () => {
  const run = inWorker(`
    let ticks = 0;
    const timer = every(5, () => {
      ticks++;
      if (ticks === 3) timer.cancel();
    });
    after(80, () => { report(ticks); report("done"); });`);
  assert.equal(await run.ended, null);
  assert.deepEqual(run.messages, [3, "done"]);
});

Deno.test("in a Worker, a timer's callback that throws ends the Worker as an uncaught error does, though rejections are only logged", async () => {
  // A session's Worker keeps running after an unhandled rejection (worker_runtime.ts); an error
  // thrown by a timer must still end it, as one thrown from setTimeout does.
  const run = inWorker(`
    self.addEventListener("unhandledrejection", (event) => event.preventDefault());
    after(5, () => { throw new Error("a bug in a timer"); });
    after(60, () => { report("still alive"); report("done"); });`);
  const error = await run.ended;
  assert.match(error ?? "", /a bug in a timer/);
  assert.deepEqual(run.messages, [], "the Worker ended before its next timer");
});

Deno.test("on the main thread, a timer keeps the event loop alive until it fires, and cancel works", async () => {
  const fired: string[] = [];
  after(5, () => fired.push("cancelled")).cancel();
  let beats = 0;
  const beat = every(5, () => beats++);
  await new Promise<void>((resolve) => after(30, () => resolve()));
  beat.cancel();
  const seen = beats;
  await new Promise<void>((resolve) => after(20, () => resolve()));
  assert.deepEqual(fired, []);
  assert.ok(seen >= 2, `every fired ${seen} times in 30 ms`);
  assert.equal(beats, seen, "no tick after cancel");
});
