import assert from "node:assert/strict";
import { createLogger } from "../logger.ts";
import type { SessionRecord } from "../store/store.ts";
import { startClaimSweeper } from "./claim_sweeper.ts";

function claim(phoneNumber: string, createdAt: number): SessionRecord {
  return {
    phoneNumber,
    engine: "simulator",
    shouldRun: true,
    ownerAccountId: "org_a",
    createdAt,
    updatedAt: createdAt,
    linkedAt: null,
    settings: {},
  };
}

Deno.test("startClaimSweeper() releases expired claims at once, the next when it expires, and nothing after stop()", async () => {
  const ttlMs = 200;
  const young = claim("4915550002", Date.now());
  let claims = [claim("4915550001", Date.now() - 60_000), young];
  const released: { phoneNumber: string; createdBefore: number }[] = [];
  let wake = () => {};
  const sweeper = startClaimSweeper({
    ttlMs,
    sessions: { listUnlinkedClaims: () => Promise.resolve(claims) },
    release(phoneNumber, createdBefore) {
      released.push({ phoneNumber, createdBefore });
      claims = claims.filter((c) => c.phoneNumber !== phoneNumber);
      wake();
      return Promise.resolve(true);
    },
    log: createLogger("silent"),
  });
  try {
    const until = (count: number) =>
      new Promise<void>((resolve) => {
        wake = () => released.length >= count && resolve();
        wake();
      });
    await until(1);
    assert.equal(released[0].phoneNumber, "4915550001", "the claim that expired while down");
    await until(2);
    assert.equal(released[1].phoneNumber, "4915550002");
    assert.ok(young.createdAt <= released[1].createdBefore, "not before it expired");
  } finally {
    sweeper.stop();
  }
  claims = [claim("4915550003", 0)];
  await sweeper.sweep();
  assert.equal(released.length, 2, "a stopped sweeper releases nothing");
});
