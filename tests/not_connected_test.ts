/**
 * @module
 * The routes that take media, on a session that is not connected: the manager's one readiness
 * rule answers them 409 before any media is fetched (no URL is downloaded for a send that cannot
 * happen), while the same requests to a connected session fetch their media and succeed.
 */
import assert from "node:assert/strict";
import { startMediaServer } from "../media/test_fixtures.ts";
import { startSession, startTestApp } from "./_helpers.ts";

const PHONE = "4915550003001";
const ALICE = "15550000001@c.us";

Deno.test("media routes fetch their media for a connected session, and none once it is stopped", async () => {
  await using media = startMediaServer();
  const server = await startTestApp({ MEDIA_ALLOW_PRIVATE_HOSTS: "127.0.0.1" });
  const imageUrl = `${media.origin}/image.png`;
  const requests = () => [
    server.json("POST", `/${PHONE}/send-image`, { body: { chatId: ALICE, imageUrl } }),
    server.json("PUT", `/${PHONE}/profile/picture`, { body: { imageUrl } }),
  ];
  try {
    await startSession(server, PHONE);
    for (const answer of await Promise.all(requests())) {
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
    }
    assert.deepEqual(media.hits, ["/image.png", "/image.png"]);

    assert.equal((await server.json("POST", `/${PHONE}/stop`)).status, 200);
    for (const answer of await Promise.all(requests())) {
      assert.equal(answer.status, 409, JSON.stringify(answer.body));
      assert.equal(answer.body.code, "CLIENT_NOT_READY");
      assert.match(String(answer.body.error), /not connected \(status STOPPED\)/);
    }
    assert.equal(media.hits.length, 2, "nothing more was fetched for a session that cannot send");
  } finally {
    await server.close();
  }
});
