/**
 * @module
 * The simulator's phone keeps what it holds, as a phone does: chats, messages, media, blocks and
 * the profile come back after a server restart on the same DATA_DIR and after a session restart,
 * and a logout forgets them; what it wrote before its server process was killed (SIGKILL) comes
 * back too. Its seed messages say who wrote them (`source`).
 */
import assert from "node:assert/strict";
import {
  startServerProcess,
  startTestApp,
  type TestApp,
  waitFor,
  waitForState,
} from "./_helpers.ts";

const PHONE = "4915550008001";
const ALICE = "15550000001@c.us";
const PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

interface Message {
  id: string;
  body: string;
  source?: string;
  fromMe: boolean;
}

async function bodiesWithAlice(server: TestApp): Promise<string[]> {
  const { status, body } = await server.json<{ messages: Message[] }>(
    "GET",
    `/${PHONE}/messages/${ALICE}?limit=200`,
  );
  assert.equal(status, 200);
  return body.messages.map((m) => m.body);
}

Deno.test("the simulator keeps chats, media, blocks and profile across a server restart and a session restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-simstate-" });
  try {
    const first = await startTestApp({ DATA_DIR: dataDir, SIMULATOR_SCAN_MS: "0" });
    let imageId: string;
    try {
      assert.equal((await first.json("POST", `/${PHONE}/start`)).status, 200);
      await waitForState(first, PHONE, "CONNECTED");
      const text = await first.json("POST", `/${PHONE}/send-text`, {
        body: { chatId: ALICE, text: "remember me" },
      });
      assert.equal(text.status, 200);
      const image = await first.json("POST", `/${PHONE}/send-image`, {
        body: { chatId: ALICE, imageUrl: PNG_BASE64, caption: "a pixel" },
      });
      assert.equal(image.status, 200);
      imageId = String(image.body.messageId);
      assert.equal(
        (await first.json("POST", `/${PHONE}/contact/block`, {
          body: { contactId: "15550000003" },
        })).status,
        200,
      );
      assert.equal(
        (await first.json("PUT", `/${PHONE}/profile/name`, { body: { name: "Kept" } })).status,
        200,
      );
    } finally {
      await first.close();
    }

    // A long scan time: the session comes back linked, not through a new QR.
    const second = await startTestApp({ DATA_DIR: dataDir, SIMULATOR_SCAN_MS: "60000" });
    try {
      await second.manager.restore();
      await waitForState(second, PHONE, "CONNECTED");
      const bodies = await bodiesWithAlice(second);
      assert.ok(bodies.includes("remember me"), `${bodies}`);
      assert.ok(bodies.includes("a pixel"));
      assert.equal(bodies.filter((b) => b === "Yes, 10am works").length, 1, "not seeded twice");
      const media = await second.request(
        "GET",
        `/${PHONE}/messages/${ALICE}/${encodeURIComponent(imageId)}/media`,
      );
      assert.equal(media.status, 200);
      assert.equal(media.headers.get("content-type"), "image/png");
      assert.deepEqual(
        new Uint8Array(await media.arrayBuffer()),
        Uint8Array.fromBase64(PNG_BASE64),
      );
      const carol = await second.json("GET", `/${PHONE}/contact/15550000003@c.us`);
      assert.equal(carol.body.isBlocked, true);
      const profile = await second.json("GET", `/${PHONE}/profile`);
      assert.equal(profile.body.name, "Kept");

      await second.json("POST", `/${PHONE}/send-text`, {
        body: { chatId: ALICE, text: "before the session restart" },
      });
      assert.equal((await second.json("POST", `/${PHONE}/restart`)).status, 200);
      await waitForState(second, PHONE, "CONNECTED");
      assert.ok((await bodiesWithAlice(second)).includes("before the session restart"));

      assert.equal((await second.json("POST", `/${PHONE}/logout`)).status, 200);
    } finally {
      await second.close();
    }

    const third = await startTestApp({ DATA_DIR: dataDir, SIMULATOR_SCAN_MS: "0" });
    try {
      await third.json("POST", `/${PHONE}/start`);
      await waitForState(third, PHONE, "CONNECTED");
      const bodies = await bodiesWithAlice(third);
      assert.ok(!bodies.includes("remember me"), "a logout forgets what the phone held");
      assert.ok(bodies.includes("Yes, 10am works"), "a new link starts from the seed");
    } finally {
      await third.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the simulator's seed messages say a person wrote them (source app)", async () => {
  const server = await startTestApp({ SIMULATOR_SCAN_MS: "0" });
  try {
    await server.json("POST", `/${PHONE}/start`);
    await waitForState(server, PHONE, "CONNECTED");
    const { body } = await server.json<{ messages: Message[] }>(
      "GET",
      `/${PHONE}/messages/${ALICE}`,
    );
    assert.equal(body.messages.length, 2);
    assert.deepEqual(body.messages.map((m) => [m.fromMe, m.source]), [[true, "app"], [
      false,
      "app",
    ]]);
  } finally {
    await server.close();
  }
});

/** A server process (`main.ts`) on `dataDir`, to be killed as a crash would kill it. */
async function startProcess(dataDir: string) {
  const server = await startServerProcess({ DATA_DIR: dataDir, SIMULATOR_SCAN_MS: "50" });
  return {
    async json(method: string, path: string, options: { body?: unknown } = {}) {
      const { status, body } = await server.call(method, path, options.body);
      // deno-lint-ignore no-explicit-any
      return { status, body: body as any };
    },
    kill: () => server.stop("SIGKILL"),
  };
}

Deno.test("the simulator keeps what it wrote before its server process was killed (SIGKILL)", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-simkill-" });
  const sessionDir = `${dataDir}/sessions/${PHONE}`;
  const read = (name: string) => {
    try {
      return Deno.readTextFileSync(`${sessionDir}/${name}`);
    } catch {
      return "";
    }
  };
  const journal = () => read("simulator-journal.jsonl");
  const snapshot = () => read("simulator-state.json");
  try {
    const first = await startProcess(dataDir);
    try {
      assert.equal((await first.json("POST", `/${PHONE}/start`)).status, 200);
      await waitForState(first, PHONE, "CONNECTED");
      const send = async (text: string) => {
        const sent = await first.json("POST", `/${PHONE}/send-text`, {
          body: { chatId: ALICE, text },
        });
        assert.equal(sent.status, 200);
      };
      // The state's first write is a snapshot, and what follows it goes to the journal.
      await send("first");
      await waitFor("the first write", () => `${snapshot()}${journal()}`.includes('"first"'));
      await send("/simulate incoming 30");
      await send("sent before the kill");
      await waitFor("the journal to hold the burst and the last send", () => {
        const text = journal();
        return text.includes("Incoming message 30 of 30") && text.includes("sent before the kill");
      });
      assert.ok(
        !snapshot().includes("sent before the kill"),
        "the journal alone holds the last send",
      );
    } finally {
      await first.kill();
    }

    const second = await startProcess(dataDir);
    try {
      await waitForState(second, PHONE, "CONNECTED");
      const { status, body } = await second.json("GET", `/${PHONE}/messages/${ALICE}?limit=200`);
      assert.equal(status, 200);
      const bodies = (body.messages as Message[]).map((m) => m.body);
      for (let i = 1; i <= 30; i++) {
        assert.ok(bodies.includes(`Incoming message ${i} of 30`), `message ${i}`);
      }
      assert.ok(bodies.includes("first"));
      assert.ok(bodies.includes("sent before the kill"));
      assert.equal(bodies.filter((b) => b === "Yes, 10am works").length, 1, "not seeded again");
    } finally {
      await second.kill();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
