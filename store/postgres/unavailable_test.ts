import assert from "node:assert/strict";
import { startPostgres } from "../../tests/_postgres.ts";
import { StoreUnavailableError } from "../errors.ts";
import { openPostgresStore } from "./store.ts";
import { isConnectionError } from "./unavailable.ts";

Deno.test("the PostgreSQL store rejects with StoreUnavailableError while the server is down, and works again once it is back", async () => {
  await using pg = await startPostgres();
  const store = await openPostgresStore(await pg.createDatabase(), {
    poolSize: 2,
    connectTimeoutS: 2,
  });
  try {
    await store.sessions.save({ phoneNumber: "4915550001", engine: "simulator" });
    await pg.kill();
    for (
      const work of [
        () => store.sessions.get("4915550001"),
        () => store.outbox.listWebhooks("4915550001"),
        () => store.idempotency.begin("admin", "k", "h", { ttlMs: 1_000, abandonedMs: 1_000 }),
        () => store.now(),
      ]
    ) {
      await assert.rejects(work(), (error: unknown) => {
        assert.ok(error instanceof StoreUnavailableError, String(error));
        assert.doesNotMatch(error.message, /127\.0\.0\.1|postgres:/);
        return true;
      });
    }
    await pg.restart();
    assert.equal((await store.sessions.get("4915550001"))?.engine, "simulator");
  } finally {
    await store.close();
  }
});

Deno.test("isConnectionError() tells an unreachable database from a statement that failed", () => {
  const coded = (code: string) => Object.assign(new Error(code), { code });
  assert.ok(isConnectionError(coded("ECONNREFUSED")));
  assert.ok(isConnectionError(coded("CONNECTION_CLOSED")));
  assert.ok(isConnectionError(coded("57P01")), "admin shutdown");
  assert.ok(isConnectionError(coded("08006")), "connection failure");
  assert.ok(!isConnectionError(coded("23505")), "a unique violation is the statement's");
  assert.ok(!isConnectionError(new Error("syntax error")));
  assert.ok(!isConnectionError("ECONNREFUSED"));
});
