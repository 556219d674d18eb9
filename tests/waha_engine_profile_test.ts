/**
 * @module
 * The account's profile and the LIDs on the waha engine through our HTTP API, against the fake
 * WAHA: the profile is WAHA's `GET profile` (its picture included), a name, status or picture
 * change is WAHA's `PUT profile/…` with the body WAHA's DTO takes, and the LIDs are WAHA's `lids`
 * calls (every page of them), in our contract's shapes.
 */
import assert from "node:assert/strict";
import { PNG_DATA_URL } from "../routes/engine_inputs.ts";
import { linkWahaSession, startWahaGateway } from "./fake_waha/gateway.ts";
import { KNOWN_LIDS } from "./fake_waha/profile.ts";

const PHONE = "4915550022201";

interface Profile {
  id: string;
  number: string;
  name: string;
  status: string;
  pictureUrl: string | null;
}

Deno.test("the profile and LIDs on the waha engine are WAHA's profile and lids calls", async (t) => {
  const gateway = await startWahaGateway();
  const { server, fake } = gateway;
  const lastBody = (path: string) => fake.callsTo(path, "PUT").at(-1)?.body;
  try {
    await linkWahaSession(gateway, PHONE);

    await t.step("the profile is WAHA's", async () => {
      const profile = await server.json<Profile>("GET", `/${PHONE}/profile`);
      assert.equal(profile.status, 200, JSON.stringify(profile.body));
      assert.deepEqual(profile.body, {
        id: `${PHONE}@c.us`,
        number: PHONE,
        name: "Fake Phone",
        status: "",
        pictureUrl: null,
      });
      assert.equal(fake.callsTo(`/api/${PHONE}/profile`, "GET").length, 1);
    });

    await t.step("an older WAHA's profile is its session's me, without a picture", async () => {
      fake.olderWaha = true;
      try {
        const profile = await server.json<Profile>("GET", `/${PHONE}/profile`);
        assert.equal(profile.status, 200, JSON.stringify(profile.body));
        assert.deepEqual(profile.body, {
          id: `${PHONE}@c.us`,
          number: PHONE,
          name: "Fake Phone",
          status: "",
          pictureUrl: null,
        });
        assert.equal(fake.callsTo(`/api/${PHONE}/profile`, "GET").length, 2, "asked first");
        assert.ok(fake.callsTo(`/api/sessions/${PHONE}/me`, "GET").length > 0);
      } finally {
        fake.olderWaha = false;
      }
    });

    await t.step("name, status and picture are WAHA's PUT profile calls", async () => {
      const named = await server.json<Profile>("PUT", `/${PHONE}/profile/name`, {
        body: { name: "Support desk" },
      });
      assert.equal(named.status, 200, JSON.stringify(named.body));
      assert.deepEqual(lastBody(`/api/${PHONE}/profile/name`), { name: "Support desk" });
      assert.equal(named.body.name, "Support desk");
      const about = await server.json<Profile>("PUT", `/${PHONE}/profile/status`, {
        body: { status: "Open 9 to 5" },
      });
      assert.equal(about.status, 200, JSON.stringify(about.body));
      assert.deepEqual(lastBody(`/api/${PHONE}/profile/status`), { status: "Open 9 to 5" });
      assert.equal(about.body.status, "Open 9 to 5");
      assert.equal(fake.sessions.get(PHONE)?.profile.status, "Open 9 to 5");
      const pictured = await server.json<Profile>("PUT", `/${PHONE}/profile/picture`, {
        body: { imageUrl: PNG_DATA_URL },
      });
      assert.equal(pictured.status, 200, JSON.stringify(pictured.body));
      const { file } = lastBody(`/api/${PHONE}/profile/picture`) as {
        file: { mimetype: string; data: string };
      };
      assert.equal(file.mimetype, "image/png");
      assert.equal(file.data, PNG_DATA_URL.split(",")[1]);
      assert.match(pictured.body.pictureUrl ?? "", /^https:\/\/pps\.whatsapp\.net\/fake\//);
    });

    await t.step("the LIDs are every page of WAHA's lids", async () => {
      const listed = await server.json<{ lid: string; pn: string | null }[]>(
        "GET",
        `/${PHONE}/lids?limit=500`,
      );
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      assert.equal(listed.body.length, KNOWN_LIDS);
      assert.deepEqual(listed.body[0], { lid: "100000000000001@lid", pn: "15550000001@c.us" });
      assert.deepEqual(listed.body.at(-1), {
        lid: `${100000000000000 + KNOWN_LIDS}@lid`,
        pn: null,
      });
      const pages = fake.callsTo(`/api/${PHONE}/lids`, "GET").map((r) => r.query);
      assert.deepEqual(pages, [{ limit: "100", offset: "0" }, { limit: "100", offset: "100" }]);
    });

    await t.step("a LID's number and a number's LID are WAHA's lookups", async () => {
      const byLid = await server.json("GET", `/${PHONE}/lids/100000000000002`);
      assert.equal(byLid.status, 200, JSON.stringify(byLid.body));
      assert.deepEqual(byLid.body, { lid: "100000000000002@lid", pn: "15550000002@c.us" });
      assert.equal(fake.callsTo(`/api/${PHONE}/lids/100000000000002@lid`, "GET").length, 1);
      const byPn = await server.json("GET", `/${PHONE}/lids/pn/15550000003`);
      assert.equal(byPn.status, 200, JSON.stringify(byPn.body));
      assert.deepEqual(byPn.body, { lid: "100000000000003@lid", pn: "15550000003@c.us" });
      assert.equal(fake.callsTo(`/api/${PHONE}/lids/pn/15550000003@c.us`, "GET").length, 1);
      const unknown = await server.json("GET", `/${PHONE}/lids/pn/4930000000001`);
      assert.deepEqual(unknown.body, { lid: null, pn: "4930000000001@c.us" });
    });
  } finally {
    await gateway.close();
  }
});
