/**
 * @module
 * The fake WAHA refuses what WAHA refuses, so the engine's tests cannot pass on a request WAHA
 * would not take: a field WAHA's DTO does not name (at any depth), a missing or mistyped one, and
 * a session it does not have; the same request, well formed, is taken. Statuses (stories) go to
 * all contacts without an audience, as newer WAHA takes them.
 */
import assert from "node:assert/strict";
import { startFakeWaha } from "./fake_waha/server.ts";

const KEY = "fake-waha-key-0123456789";

Deno.test("the fake WAHA refuses unknown and malformed fields and unknown sessions, and takes a well-formed send", async () => {
  const waha = startFakeWaha({ apiKey: KEY });
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${waha.url}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Api-Key": KEY },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  try {
    const created = await post("/api/sessions", { name: "4915550001", start: true });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await waha.scan("4915550001");
    const text = { session: "4915550001", chatId: "4915550002@c.us", text: "hi" };

    const unknown = await post("/api/sendText", { ...text, linkPreviewHighQuality: 1 });
    assert.equal(unknown.status, 400);
    assert.match(JSON.stringify(unknown.body), /linkPreviewHighQuality/);
    const nested = await post("/api/sendImage", {
      session: text.session,
      chatId: text.chatId,
      file: { mimetype: "image/png", url: "https://example.com/a.png", size: 3 },
    });
    assert.equal(nested.status, 400, "an unknown field inside the file is refused too");
    const mistyped = await post("/api/sendText", { ...text, text: 42 });
    assert.equal(mistyped.status, 400);
    const missing = await post("/api/sendText", { session: text.session, chatId: text.chatId });
    assert.equal(missing.status, 400);
    const stranger = await post("/api/sendText", { ...text, session: "4915559999" });
    assert.equal(stranger.status, 404);

    const sent = await post("/api/sendText", text);
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    assert.equal(sent.body.fromMe, true);
    assert.equal(waha.callsTo("/api/sendText").length, 5);
  } finally {
    await waha.close();
  }
});

Deno.test("the fake WAHA takes a status for all contacts or for some, refuses one WAHA's DTO does not describe, and takes one back by its own id", async () => {
  const waha = startFakeWaha();
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${waha.url}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  try {
    await post("/api/sessions", { name: "4915550001", start: true });
    await waha.scan("4915550001");
    const statuses = waha.sessions.get("4915550001")!.statuses;

    const toAll = await post("/api/4915550001/status/text", { text: "hi", font: 1 });
    assert.equal(toAll.status, 201, JSON.stringify(toAll.body));
    assert.match(toAll.body.id, /^true_status@broadcast_/);
    const toSome = await post("/api/4915550001/status/text", {
      text: "hi",
      contacts: ["4915550002@c.us"],
    });
    assert.equal(toSome.status, 201);
    assert.deepEqual([...statuses.values()].map((s) => s.contacts), [null, ["4915550002@c.us"]]);

    const audience = await post("/api/4915550001/status/text", { text: "hi", audience: "all" });
    assert.equal(audience.status, 400);
    assert.match(JSON.stringify(audience.body), /audience/);
    const noFile = await post("/api/4915550001/status/image", { caption: "a dot" });
    assert.equal(noFile.status, 400);
    const noId = await post("/api/4915550001/status/delete", {});
    assert.equal(noId.status, 400);

    const own = toAll.body.id.split("_")[2];
    assert.equal((await post("/api/4915550001/status/delete", { id: own })).status, 201);
    assert.equal(statuses.has(own), false);
    assert.equal(statuses.size, 1);
  } finally {
    await waha.close();
  }
});
