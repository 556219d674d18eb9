/**
 * @module
 * The routes that take media, on a session that is not connected, on each engine of
 * `_engines.ts`: the manager's one readiness rule answers them 409 before any media is fetched (no
 * URL is downloaded for a send that cannot happen), while the same requests to a connected session
 * fetch their media and succeed, or answer the engine's 501 for what it cannot do.
 */
import assert from "node:assert/strict";
import { startMediaServer } from "../media/test_fixtures.ts";
import { answersNotImplemented, ENGINES, notImplementedOn, startEngine } from "./_engines.ts";

const PHONE = "4915550003001";
const ALICE = "15550000001@c.us";

for (const engine of ENGINES) {
  Deno.test(`media routes on the ${engine} engine fetch their media for a connected session, and none once it is stopped`, async () => {
    await using media = startMediaServer();
    const { server, connect, close } = await startEngine(engine, {
      MEDIA_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
    });
    const imageUrl = `${media.origin}/image.png`;
    const calls = [
      ["POST /{phoneNumber}/send-image", "POST", "send-image", { chatId: ALICE, imageUrl }],
      ["PUT /{phoneNumber}/profile/picture", "PUT", "profile/picture", { imageUrl }],
    ] as const;
    const requests = () =>
      calls.map(([_, method, path, body]) => server.json(method, `/${PHONE}/${path}`, { body }));
    try {
      await connect(PHONE);
      const answers = await Promise.all(requests());
      calls.forEach(([operation], i) => {
        if (notImplementedOn(engine, operation)) {
          answersNotImplemented(engine, operation, answers[i]);
        } else {
          assert.equal(answers[i].status, 200, JSON.stringify(answers[i].body));
        }
      });
      assert.deepEqual(media.hits, ["/image.png", "/image.png"]);

      assert.equal((await server.json("POST", `/${PHONE}/stop`)).status, 200);
      for (const answer of await Promise.all(requests())) {
        assert.equal(answer.status, 409, JSON.stringify(answer.body));
        assert.equal(answer.body.code, "CLIENT_NOT_READY");
        assert.match(String(answer.body.error), /not connected \(status STOPPED\)/);
      }
      assert.equal(media.hits.length, 2, "nothing more was fetched for a session that cannot send");
    } finally {
      await close();
    }
  });
}
