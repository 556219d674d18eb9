import assert from "node:assert/strict";
import type { EngineOptions } from "./engine.ts";
import { createWorkerHost } from "./worker_host.ts";

Deno.test("the session Worker answers a call made while its engine still loads, once it is up", async () => {
  const sessionDir = await Deno.makeTempDir({ prefix: "worker_test_" });
  const host = createWorkerHost({
    engine: "simulator",
    name: "worker test",
    heartbeatIntervalMs: 500,
    heartbeatTimeoutMs: 5_000,
    onEvent: () => {},
    onDeath: () => {},
  });
  try {
    const options: EngineOptions = {
      phoneNumber: "4915550001",
      sessionDir,
      qrMaxRetries: 0,
      simulatorScanMs: 60_000,
    };
    // Not awaited: the call leaves right behind `init`, while the Worker imports the engine.
    const init = host.init("simulator", options, 30_000);
    const code = await host.call<string>("requestPairingCode", ["4915550001"], 30_000);
    assert.match(code, /^[A-Z0-9]{8}$/);
    await init;
  } finally {
    await host.stop(5_000);
    await Deno.remove(sessionDir, { recursive: true });
  }
});
