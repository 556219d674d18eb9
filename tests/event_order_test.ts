/**
 * @module
 * A send answered 200 is durable: the `message.any` the engine emitted while sending is in the
 * outbox before the HTTP answer leaves, so a crash right after the answer cannot lose it.
 */
import assert from "node:assert/strict";
import { sqliteDatabase } from "../store/sqlite/store.ts";
import { startTestApp, waitForState } from "./_helpers.ts";

const PHONE = "4915550008001";

Deno.test("the message.any of an answered send is stored before the answer leaves", async () => {
  const server = await startTestApp({ SIMULATOR_SCAN_MS: "0" });
  try {
    await server.json("POST", `/${PHONE}/start`);
    await waitForState(server, PHONE, "CONNECTED");
    const sends = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) =>
          server.json<{ messageId: string }>("POST", `/${PHONE}/send-text`, {
            body: { chatId: "15550000001@c.us", text: `durable ${i}` },
          }).then(({ body }) => {
            // Read the outbox the moment the answer is in, before any timer of the pipeline runs.
            const stored = readOutbox(sqliteDatabase(server.store));
            return { id: body.messageId, stored };
          }),
      ),
    );
    for (const { id, stored } of sends) {
      assert.ok(stored.has(id), `the message.any of ${id} was stored before its answer`);
    }
  } finally {
    await server.close();
  }
});

function readOutbox(db: { prepare(sql: string): { all(): unknown[] } }): Set<string> {
  const rows = db.prepare("SELECT body FROM events WHERE event = 'message.any'").all() as {
    body: string;
  }[];
  return new Set(rows.map((row) => JSON.parse(row.body).payload.id as string));
}
