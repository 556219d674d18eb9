/**
 * @module
 * Channels on the waha engine through our HTTP API, against the fake WAHA: the account's channels
 * (by role), one by id or invite code, creating and deleting one, following and muting, the
 * directory search and a post are WAHA's channel calls (and its `sendText`), with the bodies
 * WAHA's DTOs take, answering in our contract's shapes; renaming one, which WAHA cannot do, is 501.
 */
import assert from "node:assert/strict";
import { WORLD_NEWS } from "./fake_waha/channels.ts";
import { linkWahaSession, startWahaGateway } from "./fake_waha/gateway.ts";

const PHONE = "4915550022601";

interface Channel {
  id: string;
  name: string;
  role: string;
  verified: boolean;
  subscribersCount: number | null;
}

Deno.test("channels on the waha engine are WAHA's channel calls", async (t) => {
  const gateway = await startWahaGateway();
  const { server, fake } = gateway;
  const api = (suffix: string) => `/api/${PHONE}${suffix}`;
  const lastBody = (path: string) => fake.callsTo(path, "POST").at(-1)?.body;
  try {
    await linkWahaSession(gateway, PHONE);
    let ours = "";

    await t.step("a channel created is the account's own, and listed by role", async () => {
      const created = await server.json<Channel>("POST", `/${PHONE}/channels`, {
        body: { name: "Our news", description: "What we post about" },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.deepEqual(lastBody(api("/channels")), {
        name: "Our news",
        description: "What we post about",
      });
      ours = created.body.id;
      assert.match(ours, /@newsletter$/);
      assert.equal(created.body.role, "OWNER");
      const owned = await server.json<{ channels: Channel[] }>(
        "GET",
        `/${PHONE}/channels?role=OWNER`,
      );
      assert.equal(owned.status, 200, JSON.stringify(owned.body));
      assert.deepEqual(owned.body.channels.map((c) => c.id), [ours]);
      assert.deepEqual(fake.callsTo(api("/channels"), "GET").at(-1)?.query, { role: "OWNER" });
    });

    await t.step("the directory is WAHA's search by text and by view", async () => {
      const byText = await server.json<{ channels: Channel[] }>(
        "POST",
        `/${PHONE}/channels/search/by-text`,
        { body: { text: "world" } },
      );
      assert.equal(byText.status, 200, JSON.stringify(byText.body));
      assert.deepEqual(lastBody(api("/channels/search/by-text")), {
        text: "world",
        limit: 50,
        startCursor: "",
        categories: [],
      });
      assert.deepEqual(
        byText.body.channels.map((c) => [c.id, c.role, c.verified, c.subscribersCount]),
        [[WORLD_NEWS, "GUEST", true, 120_000]],
      );
      const byView = await server.json<{ channels: Channel[] }>(
        "POST",
        `/${PHONE}/channels/search/by-view`,
        { body: { view: "TRENDING", countries: ["DE"], limit: 1 } },
      );
      assert.equal(byView.status, 200, JSON.stringify(byView.body));
      assert.deepEqual(lastBody(api("/channels/search/by-view")), {
        view: "TRENDING",
        limit: 1,
        startCursor: "",
        categories: [],
        countries: ["DE"],
      });
      assert.equal(byView.body.channels.length, 1);
    });

    await t.step("follow and mute are WAHA's channel actions", async () => {
      for (const action of ["follow", "mute", "unmute"]) {
        const done = await server.json("POST", `/${PHONE}/channels/${WORLD_NEWS}/${action}`);
        assert.equal(done.status, 200, `${action}: ${JSON.stringify(done.body)}`);
        assert.equal(fake.callsTo(api(`/channels/${WORLD_NEWS}/${action}`), "POST").length, 1);
      }
      const news = await server.json<Channel>("GET", `/${PHONE}/channels/${WORLD_NEWS}`);
      assert.equal(news.status, 200, JSON.stringify(news.body));
      assert.equal(news.body.role, "SUBSCRIBER");
      const byCode = await server.json<Channel>(
        "GET",
        `/${PHONE}/channels/${WORLD_NEWS.split("@")[0]}CODE`,
      );
      assert.equal(byCode.status, 200, JSON.stringify(byCode.body));
      assert.equal(byCode.body.id, WORLD_NEWS);
      const unfollowed = await server.json("POST", `/${PHONE}/channels/${WORLD_NEWS}/unfollow`);
      assert.equal(unfollowed.status, 200, JSON.stringify(unfollowed.body));
      const all = await server.json<{ channels: Channel[] }>("GET", `/${PHONE}/channels`);
      assert.deepEqual(all.body.channels.map((c) => c.id), [ours]);
    });

    await t.step("a post is WAHA's sendText to the channel", async () => {
      const posted = await server.json("POST", `/${PHONE}/channels/${ours}/messages`, {
        body: { text: "Our first post" },
      });
      assert.equal(posted.status, 200, JSON.stringify(posted.body));
      assert.deepEqual(lastBody("/api/sendText"), {
        session: PHONE,
        chatId: ours,
        text: "Our first post",
      });
      assert.match(String(posted.body.messageId), new RegExp(`^true_${ours}_`));
    });

    await t.step("renaming is 501; deleting is WAHA's DELETE", async () => {
      const renamed = await server.json("PUT", `/${PHONE}/channels/${ours}`, {
        body: { name: "New name" },
      });
      assert.equal(renamed.status, 501, JSON.stringify(renamed.body));
      const removed = await server.json("DELETE", `/${PHONE}/channels/${ours}`);
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.equal(fake.callsTo(api(`/channels/${ours}`), "DELETE").length, 1);
      const gone = await server.json("GET", `/${PHONE}/channels/${ours}`);
      assert.equal(gone.status, 404, JSON.stringify(gone.body));
    });
  } finally {
    await gateway.close();
  }
});
