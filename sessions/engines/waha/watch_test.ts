import assert from "node:assert/strict";
import type { EngineEvent } from "../../engine.ts";
import type { WahaCall, WahaClient } from "./client.ts";
import { watchWahaSession, WORKING_POLL_FACTOR } from "./watch.ts";

const POLL_MS = 20;

/** A WAHA whose session waits for a scan for its first `scanAsks` asks, then is WORKING. */
function wahaLinkedAfter(scanAsks: number) {
  const asks: number[] = [];
  const client: WahaClient = {
    download: () => Promise.reject(new Error("the watch downloads nothing")),
    call<T>(request: WahaCall): Promise<T> {
      if (request.path.endsWith("/auth/qr")) return Promise.resolve({ value: "qr" } as T);
      asks.push(performance.now());
      const working = asks.length > scanAsks;
      return Promise.resolve(
        (working
          ? { name: "n", status: "WORKING", me: { id: "4915550001@c.us", pushName: "Me" } }
          : { name: "n", status: "SCAN_QR_CODE" }) as T,
      );
    },
  };
  return { client, asks };
}

Deno.test("the waha engine asks for the status every poll until WORKING, then that many times less often", async () => {
  const { client, asks } = wahaLinkedAfter(3);
  const events: EngineEvent[] = [];
  let linkedAt = Infinity;
  const watch = watchWahaSession(client, "n", POLL_MS, (event) => {
    events.push(event);
    if (event.type === "status") linkedAt = asks.length;
  });
  try {
    while (asks.length < linkedAt + 2) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    watch.stop();
  }
  assert.deepEqual(events.map((event) => event.type), ["qr", "status"], "the QR, then WORKING");
  const gapsOnceWorking = [1, 2].map((i) => asks[linkedAt - 1 + i] - asks[linkedAt - 2 + i]);
  for (const gap of gapsOnceWorking) {
    assert.ok(gap >= POLL_MS * WORKING_POLL_FACTOR - 1, `asked again after ${gap.toFixed(0)} ms`);
  }
});
