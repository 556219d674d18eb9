/**
 * @module
 * A refused destination tells a tenant nothing about the server's network. Through HTTP on a real
 * server: webhook URLs and media URLs on loopback, private, link-local and metadata addresses, a
 * name that does not resolve and a redirect to a private host all get one message that names no
 * host and no address, while the server's log gets the host, what it resolved to and why, with the
 * request id. A webhook refused at delivery time (the allow-list changed) shows the same message
 * as its `lastError`.
 *
 * The redirecting media server listens on 127.0.0.2 (Linux routes all of 127.0.0.0/8 to the
 * loopback device), so `MEDIA_ALLOW_PRIVATE_HOSTS=127.0.0.2` lets it through while 127.0.0.1 stays
 * refused.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { createLogger } from "../logger.ts";
import { compose } from "../main.ts";
import { tinyPng } from "../media/test_fixtures.ts";
import { ADMIN_KEY, waitFor, waitForState } from "./_helpers.ts";

const PHONE = "4915550003001";
const ALICE = "15550000001@c.us";

const WEBHOOK_REFUSED = (field: string) =>
  `Invalid body field "${field}": the URL's host is not allowed (private and loopback hosts ` +
  `need WEBHOOK_ALLOW_PRIVATE_HOSTS on the server)`;
const MEDIA_REFUSED = (field: string) =>
  `Invalid body field "${field}": the URL's host is not allowed (private and loopback hosts ` +
  `need MEDIA_ALLOW_PRIVATE_HOSTS on the server)`;

type LogLine = Record<string, unknown>;

/** `main.ts`'s composition on 127.0.0.1 with a logger whose lines the test reads. */
async function startServer(env: Record<string, string>) {
  const dataDir = env.DATA_DIR ?? await Deno.makeTempDir({ prefix: "wa-gateway-refusal-" });
  const config = loadConfig({
    WA_ENGINE: "simulator",
    SIMULATOR_SCAN_MS: "50",
    API_KEY: ADMIN_KEY,
    WEBHOOK_RETRY_BASE_MS: "20",
    ...env,
    DATA_DIR: dataDir,
  });
  const lines: LogLine[] = [];
  const server = await compose(
    config,
    createLogger("warn", { sink: (_level, line) => lines.push(line) }),
  );
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, server.app.fetch);
  const base = `http://127.0.0.1:${http.addr.port}/api/whatsapp`;
  const json = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { body?: unknown; requestId?: string } = {},
  ): Promise<{ status: number; body: T }> => {
    const headers: Record<string, string> = { "X-Api-Key": ADMIN_KEY };
    if (options.requestId) headers["X-Request-Id"] = options.requestId;
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    return { status: response.status, body: await response.json() as T };
  };
  return {
    dataDir,
    lines,
    json,
    /** Stops the server; its data folder is removed unless `keepData` (for a restart). */
    async close(keepData = false) {
      await http.shutdown();
      await server.close();
      if (!keepData) await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** A media server on 127.0.0.2: `/image.png`, and `/redirect?to=<url>` answering 302. */
function startRedirector() {
  const server = Deno.serve({ hostname: "127.0.0.2", port: 0, onListen: () => {} }, (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/image.png") {
      return new Response(tinyPng(), { headers: { "content-type": "image/png" } });
    }
    return new Response(null, { status: 302, headers: { location: url.searchParams.get("to")! } });
  });
  return {
    origin: `http://127.0.0.2:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

/** The refused destinations, each with what the log must say about it. */
const REFUSED: { url: string; host: string; reason: string; resolved?: string }[] = [
  { url: "http://localhost/hook", host: "localhost", reason: "loopback", resolved: "127.0.0.1" },
  { url: "http://127.0.0.1/hook", host: "127.0.0.1", reason: "loopback" },
  { url: "http://10.0.0.1/hook", host: "10.0.0.1", reason: "private" },
  { url: "http://169.254.169.254/latest/meta-data", host: "169.254.169.254", reason: "metadata" },
  { url: "http://[::1]/hook", host: "::1", reason: "loopback" },
  {
    url: "http://wa-gateway-nowhere.invalid/hook",
    host: "wa-gateway-nowhere.invalid",
    reason: "unresolvable",
  },
];

/** The one log line of a request, by its id. */
function lineOf(lines: LogLine[], requestId: string): LogLine {
  const found = lines.filter((line) => line.requestId === requestId);
  assert.equal(found.length, 1, `one log line for ${requestId}: ${JSON.stringify(lines)}`);
  return found[0];
}

function assertDetail(line: LogLine, expected: (typeof REFUSED)[number], msg: string): void {
  assert.equal(line.level, "warn");
  assert.equal(line.msg, msg);
  assert.equal(line.host, expected.host);
  assert.equal(line.reason, expected.reason);
  if (expected.resolved) {
    assert.ok((line.addresses as string[]).includes(expected.resolved), JSON.stringify(line));
  }
}

Deno.test("a refused webhook URL gets one message naming no host or address, and the log gets the detail with the request id", async () => {
  const server = await startServer({});
  try {
    assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
    for (const [i, refused] of REFUSED.entries()) {
      const requestId = `webhook-refusal-${i}`;
      const { status, body } = await server.json("PUT", `/${PHONE}/webhooks`, {
        requestId,
        body: { webhooks: [{ url: refused.url, events: ["*"] }] },
      });
      assert.equal(status, 400, refused.url);
      assert.deepEqual(body, {
        error: WEBHOOK_REFUSED("webhooks.0.url"),
        code: "BAD_REQUEST",
        statusCode: 400,
      });
      const line = lineOf(server.lines, requestId);
      assertDetail(line, refused, "webhook URL refused");
      assert.equal(line.field, "webhooks.0.url");
      assert.equal(line.session, PHONE);
    }
    const { body } = await server.json("GET", `/${PHONE}/webhooks`);
    assert.deepEqual(body.webhooks, [], "nothing was saved");
  } finally {
    await server.close();
  }
});

Deno.test("a refused media URL, or one redirecting to a private host, gets one message naming no host or address, and the log gets the detail", async () => {
  const media = startRedirector();
  const server = await startServer({ MEDIA_ALLOW_PRIVATE_HOSTS: "127.0.0.2" });
  try {
    assert.equal((await server.json("POST", `/${PHONE}/start`)).status, 200);
    await waitForState(server, PHONE, "CONNECTED");
    const allowed = await server.json("POST", `/${PHONE}/send-image`, {
      body: { chatId: ALICE, imageUrl: `${media.origin}/image.png` },
    });
    assert.equal(allowed.status, 200, "the allow-listed media server itself is reachable");

    const cases = [
      ...REFUSED.map((refused) => ({ ...refused, sent: refused.url, hop: 0 })),
      {
        sent: `${media.origin}/redirect?to=${encodeURIComponent("http://10.0.0.1/secret.png")}`,
        host: "10.0.0.1",
        reason: "private",
        hop: 1,
      },
      {
        sent: `${media.origin}/redirect?to=${encodeURIComponent("http://localhost:9/x.png")}`,
        host: "localhost",
        reason: "loopback",
        resolved: "127.0.0.1",
        hop: 1,
      },
    ];
    for (const [i, refused] of cases.entries()) {
      const requestId = `media-refusal-${i}`;
      const field = i % 2 === 0 ? "imageUrl" : "fileUrl";
      const { status, body } = await server.json(
        "POST",
        `/${PHONE}/${field === "imageUrl" ? "send-image" : "send-file"}`,
        { requestId, body: { chatId: ALICE, [field]: refused.sent } },
      );
      assert.equal(status, 400, refused.sent);
      assert.deepEqual(body, { error: MEDIA_REFUSED(field), code: "BAD_REQUEST", statusCode: 400 });
      const line = lineOf(server.lines, requestId);
      assertDetail(line, { url: refused.sent, ...refused }, "media URL refused");
      assert.equal(line.field, field);
      assert.equal(line.hop, refused.hop, refused.sent);
    }
  } finally {
    await server.close();
    await media.close();
  }
});

Deno.test("a webhook refused at delivery time shows the same message as its lastError and logs the detail", async () => {
  // Saved while the allow-list let loopback through; after a restart without it, the dispatcher's
  // own check before each attempt refuses it.
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    return new Response(null, { status: 204 });
  });
  const hook = `http://localhost:${receiver.addr.port}/hook`;
  const first = await startServer({ WEBHOOK_ALLOW_PRIVATE_HOSTS: "localhost" });
  const { dataDir } = first;
  try {
    assert.equal((await first.json("POST", `/${PHONE}/start`)).status, 200);
    const saved = await first.json("PUT", `/${PHONE}/webhooks`, {
      body: { webhooks: [{ url: hook, events: ["message.any"] }] },
    });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
  } finally {
    await first.close(true);
  }
  const second = await startServer({ DATA_DIR: dataDir });
  try {
    assert.equal((await second.json("POST", `/${PHONE}/start`)).status, 200);
    await waitForState(second, PHONE, "CONNECTED");
    const sent = await second.json("POST", `/${PHONE}/send-text`, {
      body: { chatId: ALICE, text: "to a hook that is no longer allowed" },
    });
    assert.equal(sent.status, 200);
    const failed = await waitFor("the dead letter", async () => {
      const { body } = await second.json("GET", `/${PHONE}/webhooks/deliveries?status=failed`);
      return (body.deliveries as Record<string, unknown>[])[0];
    });
    assert.equal(failed.url, hook);
    assert.equal(
      failed.lastError,
      "Not sent: the URL's host is not allowed (private and loopback hosts need " +
        "WEBHOOK_ALLOW_PRIVATE_HOSTS on the server)",
    );
    const line = second.lines.find((l) =>
      l.msg === "webhook URL refused" && l.delivery === failed.id
    );
    assert.ok(line, JSON.stringify(second.lines));
    assert.equal(line.host, "localhost");
    assert.equal(line.reason, "loopback");
  } finally {
    await second.close();
    await receiver.shutdown();
  }
});
