/**
 * @module
 * Status (stories), channels (newsletters) and contact details through our HTTP API and the real
 * whatsapp-web.js against the fake WhatsApp Web. A text status reaches WhatsApp (the fake cloud)
 * with its colour and font as the library hands them to WhatsApp Web's status action, an image
 * status with its bytes and caption, and `GET /status` lists the contacts' statuses and the
 * account's own (the library's `getBroadcasts`), and one of its own is taken back
 * (`revokeStatusMessage`). Channels are listed, read by id and by invite
 * code, searched, followed, muted, unfollowed, created, renamed, posted to and deleted through the
 * library's
 * `Client` and `Channel` calls. Numbers are checked in bulk, and a contact's about text and a
 * business account's profile are read (`Contact.getAbout`, `BusinessContact.businessProfile`).
 */
import assert from "node:assert/strict";
import type { FakeCloudOptions } from "./fake_whatsapp/fake_cloud.ts";
import { withLinkedServer } from "./fake_whatsapp/http_harness.ts";
import { ALICE, BOB, CAROL, ME, NOBODY, PIXEL_PNG } from "./fake_whatsapp/cast.ts";

const FOLLOWED = "120363000000000101@newsletter";
const OTHER = "120363000000000102@newsletter";
const OTHER_CODE = "0029VaFakeNews0000000000";
const SHOP = "4915550006@c.us";

const world: FakeCloudOptions = {
  me: ME,
  chats: [{ id: ALICE, name: "Alice" }],
  contacts: [
    { id: ALICE, name: "Alice", isMyContact: true, about: "Available" },
    { id: BOB, name: "Bob", isMyContact: true, aboutHidden: true },
    {
      id: SHOP,
      name: "Shop",
      isBusiness: true,
      businessProfile: {
        description: "We sell things",
        categories: [{ id: "1", localized_display_name: "Shopping & retail" }],
        email: "shop@example.com",
        website: [{ url: "https://shop.example.com" }],
        address: "1 Main Street",
        profileOptions: { commerceExperience: "none" },
      },
    },
  ],
  registered: [CAROL],
  channels: [
    {
      id: FOLLOWED,
      name: "WhatsApp",
      description: "Official",
      inviteCode: "0029VaFakeWhatsApp000000",
      verified: true,
      subscribers: 1000,
      role: "subscriber",
    },
    {
      id: OTHER,
      name: "Fake News",
      description: "Nothing true",
      inviteCode: OTHER_CODE,
      subscribers: 10,
      role: "guest",
    },
  ],
  statuses: [
    {
      contactId: ALICE,
      id: "3EB0STATUS0001",
      body: "At the beach",
      t: 1_764_000_000,
      viewed: true,
    },
    { contactId: BOB, id: "3EB0STATUS0002", body: "Back on Monday", t: 1_764_000_100 },
  ],
};

type Json = Record<string, unknown>;
type Channel = { id: string; name: string; role: string; muted: boolean; invite: string };

Deno.test("statuses are posted and read through whatsapp-web.js; numbers, about texts and business profiles are looked up", () =>
  withLinkedServer(world, async ({ server, cloud, phone }) => {
    const text = await server.json<Json>("POST", `/${phone}/status/text`, {
      body: { text: "Have a look!", backgroundColor: "#38b42f", font: 2 },
    });
    assert.equal(text.status, 200, JSON.stringify(text.body));
    assert.match(String(text.body.messageId), /^true_status@broadcast_3EB0/);
    const textPost = await cloud.waitFor(() => cloud.statusPosts.find((p) => p.type === "text"));
    assert.deepEqual(textPost, {
      type: "text",
      text: "Have a look!",
      color: 0xff38b42f,
      font: 2,
      media: null,
    });

    const image = await server.json<Json>("POST", `/${phone}/status/image`, {
      body: { imageUrl: `data:image/png;base64,${PIXEL_PNG}`, caption: "A dot" },
    });
    assert.equal(image.status, 200, JSON.stringify(image.body));
    const imagePost = await cloud.waitFor(() => cloud.statusPosts.find((p) => p.type === "image"));
    assert.equal(imagePost.caption, "A dot");
    assert.equal(imagePost.id, image.body.messageId);
    assert.deepEqual(imagePost.media, { mimetype: "image/png", data: PIXEL_PNG });

    const list = await server.json<{ statuses: Json[] }>("GET", `/${phone}/status`);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    const by = (id: string) => list.body.statuses.find((s) => s.contactId === id);
    const bob = by(BOB)!;
    assert.equal(bob.unreadCount, 1);
    assert.deepEqual((bob.statuses as Json[]).map((s) => [s.body, s.chatId, s.author, s.fromMe]), [
      ["Back on Monday", "status@broadcast", BOB, false],
    ]);
    assert.equal(by(ALICE)!.unreadCount, 0);
    assert.deepEqual((by(ME)!.statuses as Json[]).map((s) => [s.type, s.body]), [
      ["chat", "Have a look!"],
      ["image", "A dot"],
    ]);

    const gone = await server.json<Json>("POST", `/${phone}/status/delete`, {
      body: { id: image.body.messageId },
    });
    assert.equal(gone.status, 200, JSON.stringify(gone.body));
    assert.deepEqual(cloud.revokedStatuses, [image.body.messageId]);
    const left = await server.json<{ statuses: Json[] }>("GET", `/${phone}/status`);
    const mine = left.body.statuses.find((s) => s.contactId === ME)!;
    assert.deepEqual((mine.statuses as Json[]).map((s) => s.body), ["Have a look!"]);
    const theirs = (bob.statuses as Json[])[0].id;
    const notOurs = await server.json<Json>("POST", `/${phone}/status/delete`, {
      body: { id: theirs },
    });
    assert.equal(notOurs.status, 404);
    assert.deepEqual(cloud.revokedStatuses, [image.body.messageId]);

    const checks = await server.json<{ results: Json[] }>("POST", `/${phone}/contacts/check`, {
      body: { numbers: [ALICE.split("@")[0], `+${CAROL.split("@")[0]}`, NOBODY, "no number"] },
    });
    assert.equal(checks.status, 200, JSON.stringify(checks.body));
    assert.deepEqual(checks.body.results.map((r) => [r.exists, r.chatId ?? null]), [
      [true, ALICE],
      [true, CAROL],
      [false, null],
      [false, null],
    ]);
    assert.match(String(checks.body.results[3].error), /expected a phone number/);

    assert.deepEqual((await server.json("GET", `/${phone}/contacts/${ALICE}/about`)).body, {
      about: "Available",
    });
    assert.deepEqual((await server.json("GET", `/${phone}/contacts/${BOB}/about`)).body, {
      about: null,
    });
    const shop = await server.json<Json>("GET", `/${phone}/contacts/${SHOP}/business-profile`);
    assert.equal(shop.status, 200, JSON.stringify(shop.body));
    assert.deepEqual(shop.body, {
      id: SHOP,
      description: "We sell things",
      categories: ["Shopping & retail"],
      email: "shop@example.com",
      websites: ["https://shop.example.com"],
      address: "1 Main Street",
    });
    const alice = await server.json<Json>("GET", `/${phone}/contacts/${ALICE}/business-profile`);
    assert.equal(alice.status, 404);
    assert.match(String(alice.body.error), /not a business account/);
  }));

Deno.test("channels are listed, read, searched, followed, muted, created, renamed, posted to and deleted through whatsapp-web.js", () =>
  withLinkedServer(world, async ({ server, cloud, phone }) => {
    const listed = async (role = "") =>
      (await server.json<{ channels: Channel[] }>("GET", `/${phone}/channels${role}`)).body
        .channels;
    assert.deepEqual((await listed()).map((c) => [c.id, c.name, c.role]), [
      [FOLLOWED, "WhatsApp", "SUBSCRIBER"],
    ]);

    const byCode = await server.json<Channel & Json>("GET", `/${phone}/channels/${OTHER_CODE}`);
    assert.equal(byCode.status, 200, JSON.stringify(byCode.body));
    assert.deepEqual(
      [byCode.body.id, byCode.body.name, byCode.body.role, byCode.body.invite],
      [OTHER, "Fake News", "GUEST", `https://whatsapp.com/channel/${OTHER_CODE}`],
    );
    const byId = await server.json<Json>("GET", `/${phone}/channels/${FOLLOWED}`);
    assert.deepEqual(
      [byId.body.verified, byId.body.subscribersCount, byId.body.muted],
      [true, 1000, false],
    );
    const missing = await server.json("GET", `/${phone}/channels/0029VaNoSuchChannel00000`);
    assert.equal(missing.status, 404);

    const found = await server.json<{ channels: Channel[] }>(
      "POST",
      `/${phone}/channels/search/by-text`,
      { body: { text: "news", limit: 5 } },
    );
    assert.equal(found.status, 200, JSON.stringify(found.body));
    assert.deepEqual(found.body.channels.map((c) => c.id), [OTHER]);
    const search = cloud.actions.find((a) => a.action === "channel-search")!;
    assert.deepEqual([search.searchText, search.limit], ["news", 5]);
    const popular = await server.json<{ channels: Channel[] }>(
      "POST",
      `/${phone}/channels/search/by-view`,
      { body: { view: "POPULAR", countries: ["DE"] } },
    );
    assert.deepEqual(popular.body.channels.map((c) => c.id), [FOLLOWED, OTHER]);

    const act = (action: string, id = OTHER) =>
      server.json<Json>("POST", `/${phone}/channels/${id}/${action}`);
    assert.equal((await act("mute")).status, 400);
    assert.equal((await act("follow")).status, 200);
    assert.equal(cloud.channels.get(OTHER)!.role, "subscriber");
    assert.equal((await act("mute")).status, 200);
    assert.equal(cloud.channels.get(OTHER)!.muted, true);
    assert.equal((await listed()).find((c) => c.id === OTHER)?.muted, true);
    assert.equal((await act("unmute")).status, 200);
    assert.equal(cloud.channels.get(OTHER)!.muted, false);
    assert.equal((await act("unfollow")).status, 200);
    assert.equal(cloud.channels.get(OTHER)!.role, "guest");
    assert.deepEqual((await listed()).map((c) => c.id), [FOLLOWED]);

    const created = await server.json<Channel & Json>("POST", `/${phone}/channels`, {
      body: { name: "Our news", description: "What we post about" },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.deepEqual([created.body.name, created.body.description, created.body.role], [
      "Our news",
      "What we post about",
      "OWNER",
    ]);
    assert.ok(cloud.channels.has(created.body.id));
    assert.deepEqual((await listed("?role=OWNER")).map((c) => c.id), [created.body.id]);
    assert.equal((await act("follow", created.body.id)).status, 400);

    const renamed = await server.json<Channel & Json>(
      "PUT",
      `/${phone}/channels/${created.body.id}`,
      {
        body: { name: "Our daily news", description: "Every day" },
      },
    );
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.deepEqual([renamed.body.name, renamed.body.description], [
      "Our daily news",
      "Every day",
    ]);
    assert.deepEqual(
      [cloud.channels.get(created.body.id)!.name, cloud.channels.get(created.body.id)!.description],
      ["Our daily news", "Every day"],
    );
    const renameTheirs = await server.json("PUT", `/${phone}/channels/${FOLLOWED}`, {
      body: { name: "Mine now" },
    });
    assert.equal(renameTheirs.status, 400);

    const post = await server.json<Json>("POST", `/${phone}/channels/${created.body.id}/messages`, {
      body: { text: "Our first post" },
    });
    assert.equal(post.status, 200, JSON.stringify(post.body));
    assert.deepEqual(cloud.channelPosts.map((p) => [p.channelId, p.type, p.body, p.id]), [
      [created.body.id, "text", "Our first post", post.body.messageId],
    ]);
    const notOurs = await server.json<Json>("POST", `/${phone}/channels/${FOLLOWED}/messages`, {
      body: { text: "Hello" },
    });
    assert.equal(notOurs.status, 400);

    assert.equal((await server.json("DELETE", `/${phone}/channels/${FOLLOWED}`)).status, 400);
    const deleted = await server.json("DELETE", `/${phone}/channels/${created.body.id}`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal(cloud.channels.has(created.body.id), false);
    assert.equal((await server.json("GET", `/${phone}/channels/${created.body.id}`)).status, 404);
  }));
