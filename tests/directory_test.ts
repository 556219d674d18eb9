/**
 * @module
 * HTTP suite for contacts, groups and the profile on each engine of `_engines.ts`: listing and
 * reading contacts, profile pictures, blocking, creating and changing groups with a result per
 * participant, and reading and changing the linked account's profile. What the waha engine cannot
 * do answers its 501; where the two worlds differ (the seeded group, what WhatsApp says of a
 * participant it did not add) the suite reads the engine's `World`; what reads the simulator's
 * own profile runs on the simulator only, and a contact WhatsApp does not know is a 404 where the
 * engine says so (GAPS `unknownChats`).
 */
import assert from "node:assert/strict";
import { tinyPdf, tinyPng } from "../media/test_fixtures.ts";
import {
  answersNotImplemented,
  ENGINES,
  keepsContract,
  notImplementedOn,
  startEngine,
} from "./_engines.ts";

const PHONE = "4915550003001";
const STOPPED = "4915550003002";
const GROUP = "120363000000000001@g.us";

interface Contact {
  id: string;
  number: string;
  name: string | null;
  isBlocked: boolean;
  isMyContact: boolean;
}
interface Group {
  id: string;
  subject: string;
  description: string;
  owner: string | null;
  participants: { id: string; isAdmin: boolean; isSuperAdmin: boolean }[];
  settings: {
    messagesAdminsOnly: boolean;
    infoAdminsOnly: boolean;
    addMembersAdminsOnly: boolean;
    membershipApproval: boolean;
  };
  results?: { id: string; result: string; message?: string }[];
}

for (const engine of ENGINES) {
  Deno.test(`contact, group and profile routes on the ${engine} engine`, async (t) => {
    const { server, connect, world, close } = await startEngine(engine);
    /** Whether the engine cannot do `operation`, having asserted its 501 answer if so. */
    const lacks = (operation: string, answer: { status: number; body: unknown }) => {
      if (!notImplementedOn(engine, operation)) return false;
      answersNotImplemented(engine, operation, answer);
      return true;
    };
    try {
      await connect(PHONE);
      await connect(STOPPED);
      assert.equal((await server.json("POST", `/${STOPPED}/stop`)).status, 200);

      /** WAHA makes a contact of any number, so none is a 404 there (GAPS: unknownChats). */
      const knowsContacts = keepsContract(engine, "unknownChats");

      await t.step("GET /contacts lists the contacts", async () => {
        const { status, body } = await server.json<{ contacts: Contact[] }>(
          "GET",
          `/${PHONE}/contacts`,
        );
        assert.equal(status, 200);
        const alice = body.contacts.find((c) => c.id === "15550000001@c.us");
        assert.deepEqual(
          { number: alice?.number, name: alice?.name, isMyContact: alice?.isMyContact },
          { number: "15550000001", name: "Alice", isMyContact: true },
        );
      });

      await t.step(
        "GET /contact/:contactId answers one contact, 400 and 404 otherwise",
        async () => {
          const one = await server.json<Contact>("GET", `/${PHONE}/contact/15550000002`);
          assert.equal(one.status, 200);
          assert.equal(one.body.id, "15550000002@c.us");
          assert.equal(one.body.name, "Bob");
          const bad = await server.json("GET", `/${PHONE}/contact/bob`);
          assert.equal(bad.status, 400);
          assert.match(String(bad.body.error), /contactId/);
          if (!knowsContacts) return;
          const missing = await server.json("GET", `/${PHONE}/contact/15557777777`);
          assert.equal(missing.status, 404);
          assert.match(String(missing.body.error), /Contact "15557777777@c\.us" not found/);
        },
      );

      await t.step("GET …/profile-picture answers the URL, or null when hidden", async () => {
        const alice = await server.json("GET", `/${PHONE}/contact/15550000001/profile-picture`);
        assert.equal(alice.status, 200);
        assert.match(String(alice.body.url), /^https:\/\//);
        const bob = await server.json(
          "GET",
          `/${PHONE}/contact/15550000002@c.us/profile-picture`,
        );
        assert.deepEqual(bob, { status: 200, body: { url: null } });
        if (!knowsContacts) return;
        const missing = await server.json(
          "GET",
          `/${PHONE}/contact/15557777777/profile-picture`,
        );
        assert.equal(missing.status, 404);
      });

      await t.step({
        name: "contact/block and contact/unblock change isBlocked",
        fn: async () => {
          const blocked = await server.json("POST", `/${PHONE}/contact/block`, {
            body: { contactId: "15550000003" },
          });
          assert.equal(blocked.status, 200);
          assert.equal(blocked.body.success, true);
          const carol = () => server.json<Contact>("GET", `/${PHONE}/contact/15550000003@c.us`);
          assert.equal((await carol()).body.isBlocked, true);
          const unblocked = await server.json("POST", `/${PHONE}/contact/unblock`, {
            body: { contactId: "15550000003@c.us" },
          });
          assert.equal(unblocked.status, 200);
          assert.equal((await carol()).body.isBlocked, false);
          const invalid = await server.json("POST", `/${PHONE}/contact/block`, { body: {} });
          assert.equal(invalid.status, 400);
          assert.match(String(invalid.body.error), /contactId/);
          if (!knowsContacts) return;
          const missing = await server.json("POST", `/${PHONE}/contact/unblock`, {
            body: { contactId: "15557777777" },
          });
          assert.equal(missing.status, 404);
        },
      });

      let created = "";
      await t.step("group/create creates a group with a result per participant", async () => {
        const answer = await server.json<Group>("POST", `/${PHONE}/group/create`, {
          body: {
            name: "Project team",
            participants: ["15550000001", "15550000002@c.us", "15559999999", "15550000004"],
          },
        });
        if (lacks("POST /{phoneNumber}/group/create", answer)) return;
        const { status, body } = answer;
        assert.equal(status, 200, JSON.stringify(body));
        assert.match(body.id, /@g\.us$/);
        created = body.id;
        assert.equal(body.subject, "Project team");
        assert.equal(body.owner, `${PHONE}@c.us`);
        const { notOnWhatsApp, privacy } = world.addRefusals;
        assert.deepEqual(body.results, [
          { id: "15550000001@c.us", result: "added" },
          { id: "15550000002@c.us", result: "added" },
          {
            id: "15559999999@c.us",
            result: "not_on_whatsapp",
            ...(notOnWhatsApp === null ? {} : { message: notOnWhatsApp }),
          },
          { id: "15550000004@c.us", result: "not_allowed", message: privacy },
        ]);
        const { results: _, ...group } = body;
        const read = await server.json<Group>("GET", `/${PHONE}/group/${created}`);
        assert.deepEqual(read.body, group, "create answers the group as GET shows it");
        assert.deepEqual(
          read.body.participants.map((p) => [p.id, p.isAdmin]),
          [[`${PHONE}@c.us`, true], ["15550000001@c.us", false], ["15550000002@c.us", false]],
        );
      });

      await t.step(
        "group/create rejects a missing name and an empty participant list",
        async () => {
          const name = await server.json("POST", `/${PHONE}/group/create`, {
            body: { participants: ["15550000001"] },
          });
          assert.equal(name.status, 400);
          assert.match(String(name.body.error), /name/);
          const none = await server.json("POST", `/${PHONE}/group/create`, {
            body: { name: "x", participants: [] },
          });
          assert.equal(none.status, 400);
          assert.match(String(none.body.error), /participants/);
        },
      );

      await t.step("GET /group/:groupId answers the group, 400 and 404 otherwise", async () => {
        const bad = await server.json("GET", `/${PHONE}/group/15550000001@c.us`);
        assert.equal(bad.status, 400);
        assert.match(String(bad.body.error), /groupId/);
        const seeded = await server.json<Group>("GET", `/${PHONE}/group/${GROUP}`);
        if (lacks("GET /{phoneNumber}/group/{groupId}", seeded)) return;
        assert.equal(seeded.status, 200);
        assert.equal(seeded.body.subject, world.group.subject);
        // Whether the seeded group asks for approval is the world's; the rest is WhatsApp's default.
        const { membershipApproval, ...settings } = seeded.body.settings;
        assert.deepEqual(settings, {
          messagesAdminsOnly: false,
          infoAdminsOnly: false,
          addMembersAdminsOnly: false,
        });
        assert.equal(typeof membershipApproval, "boolean");
        const missing = await server.json("GET", `/${PHONE}/group/120363999@g.us`);
        assert.equal(missing.status, 404);
        assert.match(String(missing.body.error), /Group "120363999@g\.us" not found/);
      });

      await t.step("PUT /group/:groupId changes subject, description and settings", async () => {
        const empty = await server.json("PUT", `/${PHONE}/group/${GROUP}`, { body: {} });
        assert.equal(empty.status, 400);
        assert.match(String(empty.body.error), /at least one/);
        const answer = await server.json<Group>("PUT", `/${PHONE}/group/${created || GROUP}`, {
          body: {
            subject: "Renamed",
            description: "About us",
            messagesAdminsOnly: true,
            infoAdminsOnly: true,
          },
        });
        if (lacks("PUT /{phoneNumber}/group/{groupId}", answer)) return;
        const { status, body } = answer;
        assert.equal(status, 200);
        assert.equal(body.subject, "Renamed");
        assert.equal(body.description, "About us");
        assert.deepEqual(body.settings, {
          messagesAdminsOnly: true,
          infoAdminsOnly: true,
          addMembersAdminsOnly: false,
          membershipApproval: false,
        });
        const read = await server.json<Group>("GET", `/${PHONE}/group/${created}`);
        assert.deepEqual(read.body, body);
        const missing = await server.json("PUT", `/${PHONE}/group/120363999@g.us`, {
          body: { subject: "x" },
        });
        assert.equal(missing.status, 404);
      });

      await t.step("participants/add and participants/remove answer a result each", async () => {
        const invalid = await server.json("POST", `/${PHONE}/group/${GROUP}/participants/add`, {
          body: { participants: ["not a number"] },
        });
        assert.equal(invalid.status, 400);
        const added = await server.json(
          "POST",
          `/${PHONE}/group/${created || GROUP}/participants/add`,
          { body: { participants: ["15550000003", "15550000001", "15559999999", "15550000004"] } },
        );
        if (lacks("POST /{phoneNumber}/group/{groupId}/participants/add", added)) return;
        assert.equal(added.status, 200);
        assert.deepEqual(
          (added.body.results as { result: string }[]).map((r) => r.result),
          ["added", "already_in", "not_on_whatsapp", "not_allowed"],
        );
        const removed = await server.json(
          "POST",
          `/${PHONE}/group/${created}/participants/remove`,
          {
            body: { participants: ["15550000003", "15550000003", PHONE] },
          },
        );
        assert.equal(removed.status, 200);
        assert.deepEqual(
          (removed.body.results as { result: string }[]).map((r) => r.result),
          ["removed", "not_in_group", "not_allowed"],
        );
        const read = await server.json<Group>("GET", `/${PHONE}/group/${created}`);
        assert.ok(!read.body.participants.some((p) => p.id === "15550000003@c.us"));
        const missing = await server.json(
          "POST",
          `/${PHONE}/group/120363999@g.us/participants/add`,
          {
            body: { participants: ["15550000003"] },
          },
        );
        assert.equal(missing.status, 404);
      });

      await t.step("group/:groupId/leave leaves the group", async () => {
        const left = await server.json("POST", `/${PHONE}/group/${created}/leave`);
        assert.equal(left.status, 200);
        assert.equal(left.body.success, true);
        assert.equal((await server.json("GET", `/${PHONE}/group/${created}`)).status, 404);
        assert.equal((await server.json("POST", `/${PHONE}/group/${created}/leave`)).status, 404);
        assert.equal((await server.json("POST", `/${PHONE}/group/nope/leave`)).status, 400);
      });

      // The simulator's own profile; the fake WAHA's phone has another name and no status.
      await t.step({
        name: "GET /profile answers the number, name, status and picture",
        ignore: engine !== "simulator",
        fn: async () => {
          const { status, body } = await server.json("GET", `/${PHONE}/profile`);
          assert.equal(status, 200);
          assert.deepEqual(body, {
            id: `${PHONE}@c.us`,
            number: PHONE,
            name: `Simulator ${PHONE}`,
            status: "Hey there! I am using WhatsApp.",
            pictureUrl: null,
          });
        },
      });

      await t.step("PUT /profile/name and /profile/status change them", async () => {
        const long = await server.json("PUT", `/${PHONE}/profile/name`, {
          body: { name: "x".repeat(26) },
        });
        assert.equal(long.status, 400);
        assert.match(String(long.body.error), /name/);
        const missing = await server.json("PUT", `/${PHONE}/profile/status`, { body: {} });
        assert.equal(missing.status, 400);
        const name = await server.json("PUT", `/${PHONE}/profile/name`, { body: { name: "Desk" } });
        const status = await server.json("PUT", `/${PHONE}/profile/status`, {
          body: { status: "Available" },
        });
        if (lacks("PUT /{phoneNumber}/profile/status", status)) {
          return answersNotImplemented(engine, "PUT /{phoneNumber}/profile/name", name);
        }
        assert.equal(name.status, 200);
        assert.equal(name.body.name, "Desk");
        assert.equal(status.body.status, "Available");
        assert.equal((await server.json("GET", `/${PHONE}/profile`)).body.name, "Desk");
      });

      await t.step("PUT /profile/picture takes an image and refuses other files", async () => {
        const pdf = await server.json("PUT", `/${PHONE}/profile/picture`, {
          body: { imageUrl: tinyPdf().toBase64() },
        });
        assert.equal(pdf.status, 400);
        assert.match(String(pdf.body.error), /imageUrl/);
        const png = `data:image/png;base64,${tinyPng().toBase64()}`;
        const answer = await server.json("PUT", `/${PHONE}/profile/picture`, {
          body: { imageUrl: png },
        });
        if (lacks("PUT /{phoneNumber}/profile/picture", answer)) return;
        const { status, body } = answer;
        assert.equal(status, 200, JSON.stringify(body));
        assert.match(String(body.pictureUrl), /^https:\/\//);
        const own = await server.json("GET", `/${PHONE}/contact/${PHONE}/profile-picture`);
        assert.equal(own.body.url, body.pictureUrl);
      });

      await t.step(
        "the directory routes answer 409 when stopped and 404 without a session",
        async () => {
          const calls: [string, string, unknown?][] = [
            ["GET", "contacts"],
            ["GET", "contact/15550000001"],
            ["POST", "contact/block", { contactId: "15550000001" }],
            ["POST", "group/create", { name: "x", participants: ["15550000001"] }],
            ["GET", `group/${GROUP}`],
            ["GET", "profile"],
            ["PUT", "profile/picture", { imageUrl: tinyPng().toBase64() }],
          ];
          for (const [method, path, body] of calls) {
            const stopped = await server.json(method, `/${STOPPED}/${path}`, { body });
            assert.equal(stopped.status, 409, path);
            assert.equal(stopped.body.code, "CLIENT_NOT_READY");
            const none = await server.json(method, `/4915550009999/${path}`, { body });
            assert.equal(none.status, 404, path);
          }
        },
      );
    } finally {
      await close();
    }
  });
}
