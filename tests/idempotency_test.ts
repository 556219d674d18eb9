/**
 * @module
 * `Idempotency-Key` through a real server (`main.ts` on 127.0.0.1, the simulator engine): a retried
 * send with the same key sends once and answers the first answer again, keys are per principal,
 * another request under a used key is 422, concurrent duplicates send once, and an answer that
 * means "not now" is not kept. What was sent is counted from the simulator's chat, through the API.
 */
import assert from "node:assert/strict";
import { ADMIN_KEY, startServerProcess, waitFor } from "./_helpers.ts";
import { startPostgres } from "./_postgres.ts";

const KEY_A = "account-a-key-0123456789abcdef";
const KEY_B = "account-b-key-0123456789abcdef";
const PHONE_A = "4915550008001";
const PHONE_B = "4915550008002";
const CHAT = "15550000001@c.us";

interface Answer {
  status: number;
  body: Record<string, unknown>;
  replayed: string | null;
}

Deno.test("Idempotency-Key: a retried request is answered once and done once, per principal", async (t) => {
  const server = await startServerProcess({
    API_KEYS: `${KEY_A}=org_a,${KEY_B}=org_b`,
    MAX_NUMBERS_PER_ACCOUNT: "1",
    SIMULATOR_SCAN_MS: "50",
  });
  const call = async (
    apiKey: string,
    path: string,
    body?: unknown,
    idempotencyKey?: string,
    method = "POST",
  ): Promise<Answer> => {
    const headers: Record<string, string> = { "X-Api-Key": apiKey };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (idempotencyKey !== undefined) headers["Idempotency-Key"] = idempotencyKey;
    const response = await fetch(`${server.base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: response.status,
      body: await response.json(),
      replayed: response.headers.get("Idempotent-Replayed"),
    };
  };
  /** How many messages with this text the number's chat holds (what the simulator sent). */
  const sent = async (apiKey: string, phone: string, text: string) => {
    const { body } = await call(
      apiKey,
      `/${phone}/messages/${CHAT}?limit=200`,
      undefined,
      undefined,
      "GET",
    )
      .catch(() => ({ body: {} as Record<string, unknown> }));
    const messages = (body.messages ?? []) as { body: string; fromMe: boolean }[];
    return messages.filter((m) => m.body === text).length;
  };
  const connected = (apiKey: string, phone: string) =>
    waitFor(`${phone} to be CONNECTED`, async () => {
      const { body } = await call(apiKey, `/${phone}/state`, undefined, undefined, "GET");
      return body.state === "CONNECTED";
    });

  try {
    await t.step("a start retried with the same key answers the first answer again", async () => {
      const first = await call(KEY_A, `/${PHONE_A}/start`, undefined, "start-a-1");
      assert.equal(first.status, 200);
      assert.equal(first.replayed, null);
      const again = await call(KEY_A, `/${PHONE_A}/start`, undefined, "start-a-1");
      assert.equal(again.status, 200);
      assert.equal(again.replayed, "true");
      assert.deepEqual(again.body, first.body);
      assert.match(String(again.body.message), /is starting/, "not 'is already started'");
      await connected(KEY_A, PHONE_A);
    });

    await t.step(
      "a send retried with the same key sends once and answers the same message id",
      async () => {
        const text = "idempotent hello";
        const first = await call(KEY_A, `/${PHONE_A}/send-text`, { chatId: CHAT, text }, "send-1");
        assert.equal(first.status, 200);
        for (let i = 0; i < 3; i++) {
          const retry = await call(
            KEY_A,
            `/${PHONE_A}/send-text`,
            { chatId: CHAT, text },
            "send-1",
          );
          assert.equal(retry.status, 200);
          assert.equal(retry.replayed, "true");
          assert.deepEqual(retry.body, first.body);
        }
        assert.equal(await sent(KEY_A, PHONE_A, text), 1);
        // Without a key, the same send twice is two messages: the count above can tell.
        for (let i = 0; i < 2; i++) {
          assert.equal(
            (await call(KEY_A, `/${PHONE_A}/send-text`, { chatId: CHAT, text })).status,
            200,
          );
        }
        assert.equal(await sent(KEY_A, PHONE_A, text), 3);
      },
    );

    await t.step("the same key with another body or path is 422 and sends nothing", async () => {
      const text = "first use of send-2";
      assert.equal(
        (await call(KEY_A, `/${PHONE_A}/send-text`, { chatId: CHAT, text }, "send-2")).status,
        200,
      );
      const other = await call(
        KEY_A,
        `/${PHONE_A}/send-text`,
        { chatId: CHAT, text: "another text" },
        "send-2",
      );
      assert.equal(other.status, 422);
      assert.equal(other.body.code, "IDEMPOTENCY_KEY_REUSED");
      const location = await call(
        KEY_A,
        `/${PHONE_A}/send-location`,
        { chatId: CHAT, latitude: 1, longitude: 2 },
        "send-2",
      );
      assert.equal(location.status, 422);
      assert.equal(await sent(KEY_A, PHONE_A, "another text"), 0);
    });

    await t.step(
      "another principal's same key is its own: it runs, and each replays only its own answer",
      async () => {
        // Account A used "start-a-1" (a start) and "send-1" (a send): for B they are new keys.
        const start = await call(KEY_B, `/${PHONE_B}/start`, undefined, "start-a-1");
        assert.equal(start.status, 200, "not 422: A's start-a-1 was another path");
        assert.equal(start.replayed, null);
        await connected(KEY_B, PHONE_B);
        const text = "idempotent hello";
        const own = await call(KEY_B, `/${PHONE_B}/send-text`, { chatId: CHAT, text }, "send-1");
        assert.equal(own.status, 200);
        assert.equal(own.replayed, null);
        assert.equal(await sent(KEY_B, PHONE_B, text), 1, "B's send ran");
        const replay = await call(KEY_B, `/${PHONE_B}/send-text`, { chatId: CHAT, text }, "send-1");
        assert.equal(replay.replayed, "true");
        assert.deepEqual(replay.body, own.body);
        const theirs = await call(KEY_A, `/${PHONE_A}/send-text`, { chatId: CHAT, text }, "send-1");
        assert.equal(theirs.replayed, "true");
        assert.notEqual(theirs.body.messageId, own.body.messageId, "A gets A's answer");
        assert.equal(await sent(KEY_B, PHONE_B, text), 1);
      },
    );

    await t.step("concurrent duplicates send once and all get the first answer", async () => {
      const text = "sent once by six requests at once";
      const answers = await Promise.all(
        Array.from(
          { length: 6 },
          () => call(KEY_A, `/${PHONE_A}/send-text`, { chatId: CHAT, text }, "burst-1"),
        ),
      );
      for (const answer of answers) {
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.deepEqual(answer.body, answers[0].body);
      }
      assert.equal(answers.filter((a) => a.replayed === "true").length, 5);
      assert.equal(await sent(KEY_A, PHONE_A, text), 1);
    });

    await t.step(
      "an answer that means 'not now' is not kept: the retry runs once the session is back",
      async () => {
        assert.equal((await call(KEY_A, `/${PHONE_A}/stop`)).status, 200);
        const text = "sent after the restart";
        const early = await call(KEY_A, `/${PHONE_A}/send-text`, { chatId: CHAT, text }, "late-1");
        assert.equal(early.status, 409);
        assert.equal(early.body.code, "CLIENT_NOT_READY");
        assert.equal((await call(KEY_A, `/${PHONE_A}/start`)).status, 200);
        await connected(KEY_A, PHONE_A);
        const retry = await call(KEY_A, `/${PHONE_A}/send-text`, { chatId: CHAT, text }, "late-1");
        assert.equal(retry.status, 200);
        assert.equal(retry.replayed, null);
        assert.equal(await sent(KEY_A, PHONE_A, text), 1);
      },
    );

    await t.step("a malformed key is 400 and sends nothing", async () => {
      const text = "never sent";
      const bad = await call(KEY_A, `/${PHONE_A}/send-text`, { chatId: CHAT, text }, "two words");
      assert.equal(bad.status, 400);
      assert.match(String(bad.body.error), /Idempotency-Key/);
      assert.equal(await sent(KEY_A, PHONE_A, text), 0);
    });
  } finally {
    await server.stop();
  }
});

Deno.test("Idempotency-Key holds across nodes: a retry that reaches another server on the same PostgreSQL gets the first answer", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase();
  // Both up before the number starts: the second one restores nothing and never runs it.
  const [first, second] = await Promise.all([
    startServerProcess({ DATABASE_URL: url, SIMULATOR_SCAN_MS: "50" }),
    startServerProcess({ DATABASE_URL: url, SIMULATOR_SCAN_MS: "50" }),
  ]);
  const send = async (server: typeof first, key: string) => {
    const response = await fetch(`${server.base}/${PHONE_A}/send-text`, {
      method: "POST",
      headers: {
        "X-Api-Key": ADMIN_KEY,
        "Content-Type": "application/json",
        "Idempotency-Key": key,
      },
      body: JSON.stringify({ chatId: CHAT, text: "once across nodes" }),
    });
    return {
      status: response.status,
      body: await response.json(),
      replayed: response.headers.get("Idempotent-Replayed"),
    };
  };
  try {
    assert.equal((await first.call("POST", `/${PHONE_A}/start`)).status, 200);
    await waitFor(
      "CONNECTED",
      async () => (await first.call("GET", `/${PHONE_A}/state`)).body?.state === "CONNECTED",
    );
    const sent = await send(first, "across-1");
    assert.equal(sent.status, 200);
    const retried = await send(second, "across-1");
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.replayed, "true");
    assert.deepEqual(retried.body, sent.body);
    const { body } = await first.call("GET", `/${PHONE_A}/messages/${CHAT}?limit=200`);
    const messages = (body?.messages ?? []) as { body: string }[];
    assert.equal(messages.filter((m) => m.body === "once across nodes").length, 1);
  } finally {
    await Promise.all([first.stop(), second.stop()]);
  }
});
