/**
 * @module
 * The real whatsapp-web.js engine, unmodified, in a real headless Chromium, against the fake
 * WhatsApp Web (`tests/fake_whatsapp/`): linking by QR and by pairing code, sending, reading,
 * receiving, a killed browser, restoring a login, logging out from the phone, QR retries.
 */
import assert from "node:assert/strict";
import { createWwebjsEngine } from "../sessions/engines/wwebjs/engine.ts";
import type { Engine, MessagePage } from "../sessions/engine.ts";
import { type FakeCloud, startFakeCloud } from "./fake_whatsapp/fake_cloud.ts";
import {
  dependentSteps,
  EventRecorder,
  fakeEngineOptions,
  killGroup,
} from "./fake_whatsapp/engine_harness.ts";
import { ALICE, BOB, CAROL, expectEngineError, ME, PIXEL_PNG, TEAM } from "./fake_whatsapp/cast.ts";

const GROUP = TEAM;

function seededCloud(): Promise<FakeCloud> {
  return startFakeCloud({
    me: ME,
    pushName: "Test Me",
    chats: [
      { id: ALICE, name: "Alice" },
      { id: BOB, name: "Bob", archived: true },
      {
        id: GROUP,
        name: "Team",
        group: {
          subject: "Team",
          desc: "The team",
          owner: ME,
          creation: 1_700_000_000,
          participants: [
            { id: ME, isAdmin: true, isSuperAdmin: true },
            { id: ALICE },
          ],
        },
      },
    ],
    contacts: [
      {
        id: ALICE,
        name: "Alice",
        pushname: "ali",
        isMyContact: true,
        profilePicUrl: "https://pps.example/alice.jpg",
      },
      { id: BOB, name: "Bob", isMyContact: true, isBusiness: true },
    ],
    registered: [CAROL],
  });
}

Deno.test("wwebjs engine links, sends, reads, receives, survives a browser kill and logs out against the fake WhatsApp Web", async (t) => {
  const cloud = await seededCloud();
  // Alice's chat holds 12 messages; the page gets the newest 5 at link time and pages back for more.
  const aliceIds: string[] = [];
  for (let i = 1; i <= 12; i++) {
    aliceIds.push(cloud.seedMessage({ chatId: ALICE, body: `alice ${i}`, fromMe: i % 3 === 0 }));
  }
  cloud.seedMessage({ chatId: BOB, body: "old bob" });
  cloud.seedMessage({ chatId: GROUP, body: "hi team", author: ALICE, from: GROUP });
  const sessionDir = await Deno.makeTempDir({ prefix: "wwebjs_engine_test_" });
  const engines: Engine[] = [];
  const pids: number[] = [];
  let rec = new EventRecorder();
  const start = async (recorder: EventRecorder): Promise<Engine> => {
    rec = recorder;
    const engine = createWwebjsEngine(fakeEngineOptions(cloud, sessionDir));
    engines.push(engine);
    await engine.start((e) => {
      if (e.type === "child_process") pids.push(e.pid);
      recorder.sink(e);
    });
    return engine;
  };
  try {
    let engine!: Engine;
    const step = dependentSteps(t);

    await step(
      "start() shows the cloud's QR and a scan makes it WORKING",
      async () => {
        engine = await start(new EventRecorder());
        assert.deepEqual(rec.events[0], { type: "status", status: "STARTING" });
        assert.ok(rec.of("child_process")[0].pid > 0);
        const qr = await rec.type("qr");
        assert.equal(qr.value, cloud.currentQr());
        assert.equal(qr.value.split(",")[0], cloud.refsIssued.at(-1));
        await rec.status("SCAN_QR_CODE");
        cloud.scanQr(qr.value);
        const working = await rec.status("WORKING");
        assert.deepEqual(working.me, { id: ME, pushName: "Test Me" });
      },
    );

    await step("sendText() reaches the cloud with and without a quoted message", async () => {
      const plain = await engine.sendText({ chatId: ALICE, text: "hello alice" });
      assert.match(plain.messageId, new RegExp(`^true_${ALICE}_`));
      assert.ok(plain.timestamp > 0);
      const quoted = aliceIds[11];
      const reply = await engine.sendText({ chatId: ALICE, text: "a reply", quotedMsgId: quoted });
      const sent = await cloud.waitFor(() => cloud.sent.length >= 2 && cloud.sent);
      assert.deepEqual(
        sent.map((s) => [s.id, s.chatId, s.type, s.body, s.quotedMsgId]),
        [
          [plain.messageId, ALICE, "chat", "hello alice", null],
          [reply.messageId, ALICE, "chat", "a reply", quoted],
        ],
      );
      await expectEngineError(
        engine.sendText({ chatId: ALICE, text: "x", quotedMsgId: `false_${ALICE}_NOPE` }),
        "NOT_FOUND",
      );
    });

    await step("sendMedia() uploads an image with its caption", async () => {
      const sent = await engine.sendMedia({
        chatId: BOB,
        kind: "image",
        media: { mimetype: "image/png", data: PIXEL_PNG, filename: "pixel.png" },
        caption: "a pixel",
      });
      const record = await cloud.waitFor(() => cloud.sent.find((s) => s.id === sent.messageId));
      assert.equal(record.chatId, BOB);
      assert.equal(record.type, "image");
      assert.equal(record.caption, "a pixel");
      assert.deepEqual(record.media, {
        mimetype: "image/png",
        filename: "pixel.png",
        data: PIXEL_PNG,
      });
    });

    await step("message_create of our own sends comes out as message.any", async () => {
      const any = await rec.waitFor((e): e is Extract<typeof e, { type: "message.any" }> =>
        e.type === "message.any" && e.message.body === "a reply"
      );
      assert.equal(any.message.fromMe, true);
      assert.equal(any.message.chatId, ALICE);
      assert.equal(any.message.quotedMsgId, aliceIds[11]);
      assert.equal(rec.of("message").length, 0);
    });

    await step(
      "listChats() pages by newest activity with exact totals and the archived filter",
      async () => {
        const all = await engine.listChats({ page: 1, limit: 10 });
        assert.equal(all.total, 3);
        assert.equal(all.hasMore, false);
        // Alice and Bob were written to in the same second; the group long before.
        assert.deepEqual(all.chats.map((c) => c.id).slice(0, 2).sort(), [ALICE, BOB]);
        assert.equal(all.chats[2].id, GROUP);
        assert.equal(all.chats.find((c) => c.id === BOB)?.lastMessage?.body, "a pixel");
        const group = all.chats.find((c) => c.id === GROUP)!;
        assert.equal(group.isGroup, true);
        assert.equal(group.name, "Team");
        const first = await engine.listChats({ page: 1, limit: 2 });
        assert.deepEqual([first.chats.length, first.total, first.hasMore], [2, 3, true]);
        const second = await engine.listChats({ page: 2, limit: 2 });
        assert.deepEqual([second.chats.map((c) => c.id), second.hasMore], [[GROUP], false]);
        const archived = await engine.listChats({ page: 1, limit: 10, archived: true });
        assert.deepEqual(archived.chats.map((c) => c.id), [BOB]);
        const active = await engine.listChats({ page: 1, limit: 10, archived: false });
        assert.deepEqual(active.chats.map((c) => c.id), [ALICE, GROUP]);
      },
    );

    await step("getChat() returns the detail and NOT_FOUND for an unknown chat", async () => {
      const chat = await engine.getChat(BOB);
      assert.deepEqual(
        { ...chat, timestamp: chat.timestamp > 0, lastMessage: chat.lastMessage?.body },
        {
          id: BOB,
          name: "Bob",
          isGroup: false,
          unreadCount: 0,
          lastMessage: "a pixel",
          archived: true,
          pinned: false,
          muted: false,
          markedUnread: false,
          timestamp: true,
          muteExpiration: 0,
        },
      );
      await expectEngineError(engine.getChat("4915559999@c.us"), "NOT_FOUND");
    });

    await step(
      "listMessages() returns newest first and pages back with the before cursor",
      async () => {
        const first = await engine.listMessages({ chatId: ALICE, page: 1, limit: 4 });
        assert.deepEqual(first.messages.map((m) => m.body), [
          "a reply",
          "hello alice",
          "alice 12",
          "alice 11",
        ]);
        assert.equal(first.hasMore, true);
        assert.equal(first.nextCursor, aliceIds[10]);
        const m12 = first.messages[2];
        assert.deepEqual(
          { ...m12, timestamp: m12.timestamp > 0 },
          {
            id: aliceIds[11],
            chatId: ALICE,
            from: ME,
            to: ALICE,
            author: null,
            fromMe: true,
            body: "alice 12",
            type: "chat",
            timestamp: true,
            hasMedia: false,
            media: null,
            ack: 3,
            quotedMsgId: null,
          },
        );
        // Beyond what the page loaded at link time: whatsapp-web.js loads earlier messages.
        const second = await engine.listMessages({
          chatId: ALICE,
          page: 1,
          limit: 6,
          before: first.nextCursor,
        });
        assert.deepEqual(second.messages.map((m) => m.body), [
          "alice 10",
          "alice 9",
          "alice 8",
          "alice 7",
          "alice 6",
          "alice 5",
        ]);
        assert.equal(second.hasMore, true);
        const last = await engine.listMessages({
          chatId: ALICE,
          page: 1,
          limit: 10,
          before: second.nextCursor,
        });
        assert.deepEqual(last.messages.map((m) => m.body), [
          "alice 4",
          "alice 3",
          "alice 2",
          "alice 1",
        ]);
        assert.equal(last.hasMore, false);
        assert.equal(last.nextCursor, undefined);
        await expectEngineError(
          engine.listMessages({ chatId: ALICE, page: 1, limit: 5, before: `false_${ALICE}_NOPE` }),
          "NOT_FOUND",
        );
      },
    );

    await step("listContacts() and getContact() return what the phone holds", async () => {
      const contacts = await engine.listContacts();
      const alice = contacts.find((c) => c.id === ALICE);
      assert.deepEqual(alice, {
        id: ALICE,
        number: "4915550002",
        name: "Alice",
        pushname: "ali",
        isMyContact: true,
        isBusiness: false,
        isBlocked: false,
        isGroup: false,
        isUser: true,
      });
      const bob = await engine.getContact(BOB);
      assert.equal(bob.name, "Bob");
      assert.equal(bob.isBusiness, true);
      await expectEngineError(engine.getContact("4915559999@c.us"), "NOT_FOUND");
    });

    await step(
      "an incoming message comes out as message and message.any, its ack as message.ack",
      async () => {
        const from = rec.events.length;
        const id = cloud.deliverIncoming({ from: CAROL, body: "hi from carol" });
        const msg = await rec.type("message", from);
        assert.equal(msg.message.id, id);
        assert.equal(msg.message.body, "hi from carol");
        assert.equal(msg.message.fromMe, false);
        assert.equal(msg.message.chatId, CAROL);
        assert.equal(msg.message.from, CAROL);
        const any = await rec.type("message.any", from);
        assert.equal(any.message.id, id);
        const mine = cloud.sent[0].id;
        const ackFrom = rec.events.length;
        cloud.ack(mine, 3);
        const ack = await rec.type("message.ack", ackFrom);
        assert.deepEqual(ack, { type: "message.ack", messageId: mine, chatId: ALICE, ack: 3 });
      },
    );

    await step("getMessageMedia() downloads the media of an incoming message", async () => {
      const from = rec.events.length;
      const bytes = Uint8Array.from(atob(PIXEL_PNG), (c) => c.charCodeAt(0));
      const id = cloud.deliverIncoming({
        from: ALICE,
        caption: "look",
        media: { mimetype: "image/png", data: bytes, filename: "look.png" },
      });
      const msg = await rec.type("message", from);
      assert.equal(msg.message.hasMedia, true);
      assert.equal(msg.message.type, "image");
      assert.equal(msg.message.body, "look");
      assert.deepEqual(msg.message.media, { mimetype: "image/png", filename: "look.png" });
      const media = await engine.getMessageMedia({ chatId: ALICE, messageId: id });
      assert.deepEqual(media, { mimetype: "image/png", data: PIXEL_PNG, filename: "look.png" });
    });

    await step(
      "checkNumber, sendSeen, setTyping, sendReaction, profile pictures and blocking reach the cloud",
      async () => {
        assert.deepEqual(await engine.checkNumber("4915550004"), { exists: true, chatId: CAROL });
        assert.deepEqual(await engine.checkNumber("4915559999"), { exists: false });
        await engine.sendSeen(ALICE);
        await engine.setTyping({ chatId: ALICE, state: "typing" });
        await engine.sendReaction({ messageId: aliceIds[0], emoji: "👍" });
        assert.equal(await engine.getProfilePictureUrl(ALICE), "https://pps.example/alice.jpg");
        assert.equal(await engine.getProfilePictureUrl(BOB), null);
        await engine.blockContact(BOB);
        assert.equal((await engine.getContact(BOB)).isBlocked, true);
        await engine.unblockContact(BOB);
        const actions = await cloud.waitFor(() => cloud.actions.length >= 5 && cloud.actions);
        assert.deepEqual(actions.find((a) => a.action === "react"), {
          action: "react",
          id: aliceIds[0],
          reaction: "👍",
        });
        assert.ok(actions.some((a) => a.action === "seen" && a.chatId === ALICE));
        assert.ok(actions.some((a) => a.action === "presence" && a.state === "typing"));
        assert.deepEqual(
          actions.filter((a) => a.action === "block").map((a) => a.blocked),
          [true, false],
        );
      },
    );

    await step("getGroup() maps the group chat", async () => {
      const group = await engine.getGroup(GROUP);
      assert.deepEqual(group, {
        id: GROUP,
        subject: "Team",
        description: "The team",
        owner: ME,
        createdAt: 1_700_000_000,
        participants: [
          { id: ME, isAdmin: true, isSuperAdmin: true },
          { id: ALICE, isAdmin: false, isSuperAdmin: false },
        ],
        settings: {
          messagesAdminsOnly: false,
          infoAdminsOnly: false,
          addMembersAdminsOnly: false,
          membershipApproval: false,
        },
      });
      await expectEngineError(engine.getGroup(ALICE), "NOT_FOUND");
    });

    await step(
      "stop() and a new engine on the same sessionDir restore the login without a QR",
      async () => {
        await engine.stop();
        assert.equal(rec.events.at(-1)?.type, "status");
        const rec2 = new EventRecorder();
        engine = await start(rec2);
        await rec2.status("WORKING");
        assert.equal(rec2.of("qr").length, 0);
        const page = await engine.listMessages({ chatId: ALICE, page: 1, limit: 1 });
        assert.equal(page.messages.length, 1);
      },
    );

    await step(
      "a SIGKILLed Chromium makes the engine emit fatal, and the next engine restores without a QR",
      async () => {
        const pid = pids.at(-1)!;
        const dying = rec;
        const killedAt = Date.now();
        Deno.kill(pid, "SIGKILL");
        const fatal = await dying.type("fatal", 0, 10_000);
        assert.match(fatal.reason, /Chromium/);
        assert.ok(Date.now() - killedAt < 5_000, "fatal came too late");
        killGroup(pid);
        const rec3 = new EventRecorder();
        engine = await start(rec3);
        await rec3.status("WORKING");
        assert.equal(rec3.of("qr").length, 0);
      },
    );

    await step("logout from the phone emits logged_out and removes the auth data", async () => {
      cloud.logoutFromPhone();
      const out = await rec.type("logged_out");
      assert.match(out.reason, /phone/);
      await assert.rejects(Deno.stat(`${sessionDir}/auth`), Deno.errors.NotFound);
      assert.equal(cloud.credential, null);
    });
  } finally {
    for (const engine of engines) await engine.stop().catch(() => {});
    for (const pid of pids) killGroup(pid);
    await cloud.close();
    await Deno.remove(sessionDir, { recursive: true }).catch(() => {});
  }
});

async function withEngine(
  cloud: FakeCloud,
  overrides: Partial<Parameters<typeof fakeEngineOptions>[2]>,
  fn: (engine: Engine, rec: EventRecorder) => Promise<void>,
): Promise<void> {
  const sessionDir = await Deno.makeTempDir({ prefix: "wwebjs_engine_test_" });
  const rec = new EventRecorder();
  const engine = createWwebjsEngine(fakeEngineOptions(cloud, sessionDir, overrides));
  try {
    await engine.start(rec.sink);
    await fn(engine, rec);
  } finally {
    await engine.stop().catch(() => {});
    for (const e of rec.of("child_process")) killGroup(e.pid);
    await cloud.close();
    await Deno.remove(sessionDir, { recursive: true }).catch(() => {});
  }
}

Deno.test("wwebjs engine requestPairingCode() returns the code the cloud issued, and typing it on the phone links", async () => {
  const cloud = await startFakeCloud({ me: ME });
  await withEngine(cloud, {}, async (engine, rec) => {
    await rec.status("SCAN_QR_CODE");
    const code = await engine.requestPairingCode("+49 1555 0001");
    assert.match(code, /^[A-Z0-9]{8}$/);
    assert.deepEqual(cloud.pairingCodes.map((p) => [p.phone, p.code]), [["4915550001", code]]);
    assert.equal((await rec.type("pairing_code")).code, code);
    cloud.enterPairingCode(code);
    const working = await rec.status("WORKING");
    assert.equal(working.me?.id, ME);
    await expectEngineError(engine.requestPairingCode("4915550001"), "BAD_REQUEST");
  });
});

Deno.test("wwebjs engine stops with a reason after qrMaxRetries unscanned QR codes", async () => {
  const cloud = await startFakeCloud({ qrRotateMs: 250 });
  await withEngine(cloud, { qrMaxRetries: 2 }, async (_engine, rec) => {
    const stopped = await rec.status("STOPPED");
    assert.equal(stopped.reason, "QR code not scanned after 2 attempts");
    assert.equal(rec.of("qr").length, 2);
    assert.equal(rec.of("fatal").length, 0);
    const pid = rec.of("child_process")[0].pid;
    await cloud.waitFor(() => {
      try {
        Deno.kill(pid, "SIGCONT");
        return false;
      } catch {
        return true;
      }
    });
  });
});

Deno.test("wwebjs engine reports CONFLICT when WhatsApp Web is opened elsewhere", async () => {
  const cloud = await startFakeCloud({ me: ME });
  await withEngine(cloud, {}, async (_engine, rec) => {
    cloud.scanQr((await rec.type("qr")).value);
    await rec.status("WORKING");
    cloud.openElsewhere();
    const conflict = await rec.status("CONFLICT");
    assert.match(conflict.reason ?? "", /another/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rec.of("fatal").length, 0);
  });
});

Deno.test("wwebjs engine runs inside the session Worker under its supervisor: QR, link, send", async () => {
  const { createWorkerHost } = await import("../sessions/worker_host.ts");
  // Registered: a send first asks whether the number is on WhatsApp.
  const cloud = await startFakeCloud({
    me: ME,
    chats: [{ id: ALICE, name: "Alice" }],
    registered: [ALICE],
  });
  const sessionDir = await Deno.makeTempDir({ prefix: "wwebjs_engine_test_" });
  const rec = new EventRecorder();
  const deaths: string[] = [];
  const host = createWorkerHost({
    engine: "wwebjs",
    name: "wwebjs engine test",
    heartbeatIntervalMs: 500,
    heartbeatTimeoutMs: 5_000,
    onEvent: rec.sink,
    onDeath: (reason) => deaths.push(reason),
  });
  try {
    await host.init("wwebjs", fakeEngineOptions(cloud, sessionDir), 60_000);
    const qr = await rec.type("qr");
    assert.equal(qr.value, cloud.currentQr());
    cloud.scanQr(qr.value);
    await rec.status("WORKING");
    const sent = await host.call<{ messageId: string }>(
      "sendText",
      [{ chatId: ALICE, text: "from the worker" }],
      30_000,
    );
    const record = await cloud.waitFor(() => cloud.sent.find((s) => s.id === sent.messageId));
    assert.equal(record.body, "from the worker");
    await host.stop(10_000);
    assert.deepEqual(deaths, []);
  } finally {
    host.terminate("test over");
    for (const e of rec.of("child_process")) killGroup(e.pid);
    await cloud.close();
    await Deno.remove(sessionDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("wwebjs engine pages through messages that share a second without repeats or gaps, by cursor or by page number", async () => {
  const cloud = await startFakeCloud({ me: ME, chats: [{ id: ALICE, name: "Alice" }] });
  // Bursts: 20 messages a second, as albums and bots make them. whatsapp-web.js's own sort leaves
  // a second's messages in an order that changes with the limit asked for.
  for (let i = 0; i < 60; i++) {
    cloud.seedMessage({ chatId: ALICE, body: `m${i}`, t: 1_700_000_000 + Math.floor(i / 20) });
  }
  const sessionDir = await Deno.makeTempDir({ prefix: "wwebjs_engine_test_" });
  const rec = new EventRecorder();
  const engine = createWwebjsEngine(fakeEngineOptions(cloud, sessionDir));
  try {
    await engine.start(rec.sink);
    cloud.scanQr((await rec.type("qr")).value);
    await rec.status("WORKING");
    const pages: MessagePage[] = [];
    let before: string | undefined;
    for (let count = 0; count < 20; count++) {
      const page = await engine.listMessages({
        chatId: ALICE,
        page: 1,
        limit: 10,
        ...(before ? { before } : {}),
      });
      pages.push(page);
      if (!page.hasMore) break;
      before = page.nextCursor;
    }
    const seen = pages.flatMap((page) => page.messages.map((m) => m.body));
    assert.equal(seen.length, 60);
    assert.equal(new Set(seen).size, 60, "no message twice, none missing");
    const second = (body: string) => Math.floor(Number(body.slice(1)) / 20);
    assert.deepEqual(seen.map(second), [...seen.map(second)].sort((a, b) => b - a), "newest first");

    // Page n is the page the cursor reaches after n - 1 pages, from the newest or from a cursor.
    for (const n of [2, 4, 6]) {
      const byNumber = await engine.listMessages({ chatId: ALICE, page: n, limit: 10 });
      assert.deepEqual(byNumber, pages[n - 1], `page ${n}`);
    }
    const afterFirst = await engine.listMessages({
      chatId: ALICE,
      page: 3,
      limit: 10,
      before: pages[0].nextCursor,
    });
    assert.deepEqual(afterFirst, pages[3], "page 3 after the first page's cursor");
    const beyond = await engine.listMessages({ chatId: ALICE, page: 7, limit: 10 });
    assert.deepEqual(beyond, { messages: [], hasMore: false });
  } finally {
    await engine.stop().catch(() => {});
    for (const e of rec.of("child_process")) killGroup(e.pid);
    await cloud.close();
    await Deno.remove(sessionDir, { recursive: true }).catch(() => {});
  }
});
