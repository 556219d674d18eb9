import assert from "node:assert/strict";
import { joinSimulatorCloud, STALE_MS } from "./cloud.ts";

const PHONE = "4915550004001";

function device(dir: string, sessionDir: string) {
  const seen: string[] = [];
  const cloud = joinSimulatorCloud(dir, { phoneNumber: PHONE, sessionDir }, {
    conflict: (reason) => seen.push(`conflict: ${reason}`),
    dropped: () => seen.push("dropped"),
  });
  return { cloud, seen };
}

const conflicts = (dir: string) => {
  try {
    return Deno.readTextFileSync(`${dir}/conflicts.log`).trim().split("\n").map((line) =>
      JSON.parse(line)
    );
  } catch {
    return [];
  }
};

Deno.test("the simulator cloud reports a second device online with one login as a conflict", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wa-gateway-cloud-" });
  const a = device(dir, "/node-a/sessions/4915550004001");
  const b = device(dir, "/node-b/sessions/4915550004001");
  try {
    assert.equal(a.cloud.online(), true);
    assert.equal(b.cloud.online(), false);
    assert.deepEqual(b.seen, ["conflict: Another device is online with this login"]);
    assert.deepEqual(conflicts(dir).map((c) => [c.phoneNumber, c.device, c.others]), [
      [PHONE, "/node-b/sessions/4915550004001", ["/node-a/sessions/4915550004001"]],
    ]);
  } finally {
    a.cloud.offline();
    b.cloud.offline();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the simulator cloud lets a device online once the other went offline or went stale", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wa-gateway-cloud-" });
  const a = device(dir, "/node-a/sessions/4915550004001");
  const b = device(dir, "/node-b/sessions/4915550004001");
  const c = device(dir, "/node-c/sessions/4915550004001");
  try {
    assert.equal(a.cloud.online(), true);
    a.cloud.offline();
    assert.equal(b.cloud.online(), true, "a went offline");
    // b's process dies without going offline: its presence goes stale.
    const presence = [...Deno.readDirSync(`${dir}/${PHONE}`)].map((e) => e.name);
    b.cloud.offline();
    Deno.writeTextFileSync(
      `${dir}/${PHONE}/${presence[0]}`,
      JSON.stringify({ device: "/node-b/sessions/4915550004001", at: Date.now() - STALE_MS }),
    );
    assert.equal(c.cloud.online(), true, "b's presence is stale");
    assert.deepEqual(conflicts(dir), []);
    // The same device (a restarted Worker on one node) reconnecting is no conflict.
    const again = device(dir, "/node-c/sessions/4915550004001");
    assert.equal(again.cloud.online(), true);
    again.cloud.offline();
  } finally {
    c.cloud.offline();
    await Deno.remove(dir, { recursive: true });
  }
});
