/**
 * @module
 * A linked phone follows its number across nodes (issue #17): real `main.ts` nodes on one
 * PostgreSQL, the whatsapp-web.js engine in real Chromiums on the fake WhatsApp Web, whose cloud
 * issues a new QR ref whenever a page comes up without a login it accepts. A number linked on one
 * node goes on elsewhere without a QR after a drain (everything, its messages included) and after
 * a SIGKILL (from the last save, restored over an older local copy); a node paused past its lease
 * does not overwrite the new owner's saved login; after a logout nothing is restored anywhere; the
 * stored blob is sealed. `deno task migrate-to-postgres` carries a single node's login too.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { type FakeCloud, startFakeCloud } from "./fake_whatsapp/fake_cloud.ts";
import { wwebjsEnv } from "./fake_whatsapp/http_harness.ts";
import { type ClusterNode, killNode, startNode, waitAllWorking } from "./_cluster.ts";
import { AUTH_ENCRYPTION_KEY, freePort, startServerProcess, waitFor } from "./_helpers.ts";
import { startPostgres } from "./_postgres.ts";
import { decodeQrDataUrl } from "./qr_decode.ts";
import { createLoginCipher } from "../sessions/login_cipher.ts";
import { listLogin, LoginArchiveError } from "../sessions/engines/wwebjs/login_archive.ts";

const ME = "4915550009001@c.us";
const PHONE = ME.split("@")[0];
const ALICE = "4915550009002@c.us";
const TTL_MS = 3_000;
const OTHER_KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));

function seededCloud(): Promise<FakeCloud> {
  return startFakeCloud({
    me: ME,
    pushName: "Follows Its Number",
    chats: [{ id: ALICE, name: "Alice" }],
    contacts: [{ id: ALICE, name: "Alice", isMyContact: true }],
  });
}

/**
 * Kills what is left of a node's Chromiums (a SIGKILLed node leaves them, a machine would not),
 * until none is left: a launch the node began just before it died can fork Chromium from its
 * shell wrapper while `pkill` reads the process list. The pattern follows `--`: it starts with
 * dashes, and `pkill` read it as an option of its own and killed nothing (they outlived the test).
 */
async function killChromiumsUnder(dir: string): Promise<void> {
  for (let quietRounds = 0, round = 0; quietRounds < 3 && round < 50; round++) {
    const { code } = await new Deno.Command("pkill", {
      args: ["-KILL", "-f", "--", `--user-data-dir=${dir}`],
    }).output();
    assert.ok(code === 0 || code === 1, `pkill exited with ${code}`); // 1: nothing matched
    quietRounds = code === 1 ? quietRounds + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface LoginRow {
  node_id: string | null;
  epoch: number;
  blob: Uint8Array;
  size: number;
  saved_at: number;
}

Deno.test("a linked whatsapp-web.js number follows its number across nodes without a new QR", async (t) => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase();
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const cloud = await seededCloud();
  const cloudDir = await Deno.makeTempDir({ prefix: "wa-gateway-login-cloud-" });
  const options = {
    databaseUrl: url,
    cloudDir,
    ttlMs: TTL_MS,
    env: wwebjsEnv(cloud, {
      AUTH_BACKUP_INTERVAL_MS: "1000",
      DRAIN_TIMEOUT_MS: "30000",
      LOG_LEVEL: "debug",
    }),
  };
  // Each node's place (port and DATA_DIR) outlives its process: a node comes back where it ran.
  const places = new Map<string, { port: number; dataDir: string }>();
  const place = async (id: string) => {
    if (!places.has(id)) {
      places.set(id, {
        port: freePort(),
        dataDir: await Deno.makeTempDir({ prefix: `wa-gateway-login-${id}-` }),
      });
    }
    return places.get(id)!;
  };
  const nodes: ClusterNode[] = [];
  const start = async (id: string) => {
    const node = await startNode(id, options, await place(id));
    nodes.push(node);
    return node;
  };
  const savedLogin = async () =>
    (await sql<LoginRow[]>`
      SELECT node_id, epoch, blob, size, saved_at FROM saved_logins WHERE phone_number = ${PHONE}
    `)[0] ?? null;
  const state = async (node: ClusterNode) => (await node.call("GET", `/${PHONE}/state`)).body!;
  const texts = async (node: ClusterNode) => {
    const { status, body } = await node.call("GET", `/${PHONE}/messages/${ALICE}?limit=20`);
    assert.equal(status, 200, JSON.stringify(body));
    return (body!.messages as { body: string }[]).map((m) => m.body);
  };
  let failed = false;
  try {
    let a = await start("a");
    let b = await start("b");

    await t.step(
      "a number linked on node A by its decoded QR sends, hears and saves its login",
      async () => {
        const started = await a.call("POST", `/${PHONE}/start`, { engine: "wwebjs", node: "a" });
        assert.equal(started.status, 200, JSON.stringify(started.body));
        const qr = await waitFor("the QR on node A", async () => {
          const { status, body } = await a.call("GET", `/${PHONE}/qr`);
          return status === 200 ? decodeQrDataUrl(body!.qrCode as string) : null;
        }, 60_000);
        assert.equal(qr, cloud.currentQr());
        cloud.scanQr(qr);
        await waitAllWorking(nodes, [PHONE], 60_000);
        assert.equal((await state(a)).node, "a");
        const sent = await a.call("POST", `/${PHONE}/send-text`, {
          chatId: ALICE,
          text: "sent from node A",
        });
        assert.equal(sent.status, 200, JSON.stringify(sent.body));
        cloud.deliverIncoming({ from: ALICE, body: "heard on node A" });
        await waitFor("both texts on node A", async () => {
          const seen = await texts(a);
          return seen.includes("sent from node A") && seen.includes("heard on node A");
        }, 20_000);
        const saved = await waitFor("the login saved", savedLogin, 20_000);
        assert.equal(saved.node_id, "a");
        const info = await state(a);
        assert.equal(typeof info.loginSavedAt, "string", JSON.stringify(info));
        assert.ok(Date.parse(info.loginSavedAt as string) >= saved.saved_at - 1);
      },
    );

    await t.step(
      "the stored login opens only with the key, and is no readable archive without it",
      async () => {
        const { blob } = (await savedLogin())!;
        await assert.rejects(
          (await createLoginCipher(OTHER_KEY)).open(PHONE, blob),
          /does not open with AUTH_ENCRYPTION_KEY/,
        );
        await assert.rejects(listLogin(blob), LoginArchiveError);
        const text = new TextDecoder().decode(blob);
        assert.ok(!text.includes("IndexedDB") && !text.includes("linked"), "nothing readable");
        const archive = await (await createLoginCipher(AUTH_ENCRYPTION_KEY)).open(PHONE, blob);
        const files = [...(await listLogin(archive)).keys()];
        assert.ok(files.includes("linked"));
        assert.ok(
          files.some((f) => f.startsWith("session-session/Default/IndexedDB/")),
          files.join(),
        );
        assert.ok(!files.some((f) => f.includes("Cache")), "no caches");
        // Never in a log, never in an answer.
        for (const node of nodes) {
          assert.ok(!node.log.join("\n").includes(AUTH_ENCRYPTION_KEY));
        }
        const list = JSON.stringify((await b.call("GET", "/sessions")).body);
        assert.ok(!list.includes("blob") && list.includes("loginSavedAt"));
      },
    );

    await t.step(
      "drained, node A hands the number to node B, WORKING there without a QR, its messages readable",
      async () => {
        const refs = cloud.refsIssued.length;
        a.signal("SIGTERM");
        assert.equal(await a.exited, 0);
        const on = await waitAllWorking([b], [PHONE], 60_000);
        assert.equal(on.get(PHONE), "b");
        assert.equal(cloud.refsIssued.length, refs, "no new QR was shown");
        const seen = await texts(b);
        assert.ok(seen.includes("sent from node A"), seen.join(" | "));
        assert.ok(seen.includes("heard on node A"), seen.join(" | "));
        assert.ok(b.log.some((line) => line.includes("restoring the saved login")));
        await waitFor(
          "node B's own save",
          async () => (await savedLogin())?.node_id === "b",
          20_000,
        );
      },
    );

    await t.step(
      "SIGKILLed, node B's number comes back on node A without a QR, from B's last save over A's older copy",
      async () => {
        a = await start("a");
        const refs = cloud.refsIssued.length;
        const beforeKill = (await savedLogin())!;
        b.signal("SIGKILL");
        await b.exited;
        await killChromiumsUnder((await place("b")).dataDir);
        const on = await waitAllWorking([a], [PHONE], 60_000);
        assert.equal(on.get(PHONE), "a");
        assert.equal(cloud.refsIssued.length, refs, "no new QR was shown");
        assert.ok(
          a.log.some((line) =>
            line.includes("restoring the saved login") &&
            line.includes(`"epoch":${beforeKill.epoch}`)
          ),
          "A restored B's save rather than keeping its own older login",
        );
      },
    );

    await t.step(
      "a node paused past its lease does not overwrite the login the new owner saved",
      async () => {
        b = await start("b");
        a.signal("SIGSTOP");
        try {
          await waitAllWorking([b], [PHONE], 60_000);
          await waitFor("node B's save", async () => (await savedLogin())?.node_id === "b", 20_000);
        } finally {
          a.signal("SIGCONT");
        }
        const owner = (await savedLogin())!;
        // A wakes with its session's backup timer overdue; B keeps saving meanwhile.
        const until = Date.now() + 5_000;
        while (Date.now() < until) {
          const row = (await savedLogin())!;
          assert.equal(row.node_id, "b", "the saved login stays the new owner's");
          assert.equal(row.epoch, owner.epoch);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        assert.ok(((await savedLogin())!).saved_at > owner.saved_at, "B went on saving");
        await waitAllWorking([a, b], [PHONE], 30_000);
      },
    );

    await t.step(
      "logged out on node B, the number asks for a QR on node A: nothing is restored",
      async () => {
        const out = await b.call("POST", `/${PHONE}/logout`);
        assert.equal(out.status, 200, JSON.stringify(out.body));
        assert.equal(await savedLogin(), null, "the saved login is gone");
        const refs = cloud.refsIssued.length;
        const started = await a.call("POST", `/${PHONE}/start`, { node: "a" });
        assert.equal(started.status, 200, JSON.stringify(started.body));
        await waitFor("a QR on node A", async () => {
          const { body } = await a.call("GET", `/${PHONE}/state`);
          return body?.status === "SCAN_QR_CODE";
        }, 60_000);
        assert.ok(cloud.refsIssued.length > refs, "the page asked for a new QR");
        assert.ok(a.log.some((line) => line.includes("its local login is not used")));
        assert.equal((await a.call("GET", `/${PHONE}/qr`)).status, 200);
      },
    );
  } catch (error) {
    failed = true;
    for (const node of nodes) console.error(`--- node ${node.id} ---\n${node.log.join("\n")}`);
    throw error;
  } finally {
    await Promise.all(nodes.map((node) => killNode(node)));
    for (const { dataDir } of places.values()) {
      await killChromiumsUnder(dataDir);
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
    await sql.end();
    await Deno.remove(cloudDir, { recursive: true }).catch(() => {});
    if (failed) await cloud.close().catch(() => {});
    else await cloud.close();
  }
});

Deno.test("migrate-to-postgres carries a single node's whatsapp-web.js login: a node on PostgreSQL starts it without a QR", async () => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase();
  const cloud = await seededCloud();
  const single = await Deno.makeTempDir({ prefix: "wa-gateway-login-single-" });
  const cloudDir = await Deno.makeTempDir({ prefix: "wa-gateway-login-cloud-" });
  const migrate = (env: Record<string, string>) =>
    new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "migrate-to-postgres"],
      cwd: new URL("..", import.meta.url).pathname,
      env: { NO_COLOR: "1", DATA_DIR: single, DATABASE_URL: url, ...env },
      stdin: "null",
    }).output();
  let node: ClusterNode | null = null;
  let failed = false;
  try {
    const server = await startServerProcess({ DATA_DIR: single, ...wwebjsEnv(cloud) });
    try {
      assert.equal((await server.call("POST", `/${PHONE}/start`)).status, 200);
      const qr = await waitFor("the QR", async () => {
        const { status, body } = await server.call("GET", `/${PHONE}/qr`);
        return status === 200 ? decodeQrDataUrl(String(body?.qrCode)) : null;
      }, 60_000);
      cloud.scanQr(qr);
      await waitFor(
        "CONNECTED",
        async () => (await server.call("GET", `/${PHONE}/state`)).body?.state === "CONNECTED",
        60_000,
      );
    } finally {
      assert.equal(await server.stop("SIGTERM"), 0);
    }

    const refused = await migrate({});
    assert.equal(refused.code, 1);
    assert.match(
      new TextDecoder().decode(refused.stderr),
      /^DATA_DIR holds 1 whatsapp-web\.js login\(s\): set AUTH_ENCRYPTION_KEY [^\n]+\n$/,
    );
    const moved = await migrate({ AUTH_ENCRYPTION_KEY });
    assert.equal(moved.code, 0, new TextDecoder().decode(moved.stderr));
    assert.match(new TextDecoder().decode(moved.stdout), /, 1 whatsapp-web\.js logins /);

    // Another machine: its own DATA_DIR, nothing of the single node's files.
    const refs = cloud.refsIssued.length;
    node = await startNode("c", {
      databaseUrl: url,
      cloudDir,
      ttlMs: TTL_MS,
      env: wwebjsEnv(cloud),
    });
    await waitAllWorking([node], [PHONE], 60_000);
    assert.equal(cloud.refsIssued.length, refs, "no new QR was shown");
  } catch (error) {
    failed = true;
    if (node) console.error(node.log.join("\n"));
    throw error;
  } finally {
    if (node) {
      await killNode(node);
      await killChromiumsUnder(node.dataDir);
    }
    await killChromiumsUnder(single);
    await Deno.remove(single, { recursive: true }).catch(() => {});
    await Deno.remove(cloudDir, { recursive: true }).catch(() => {});
    if (failed) await cloud.close().catch(() => {});
    else await cloud.close();
  }
});
