/**
 * @module
 * Bodies against a real server, as an attacker would send them from loopback: no body byte is read
 * before the caller is authenticated (on every operation of the OpenAPI document), a body of
 * unknown length is counted while it streams and cut at its route's cap, and a body that trickles
 * is cut at `BODY_TIMEOUT_MS`.
 */
import assert from "node:assert/strict";
import { ADMIN_KEY, startServerProcess, startSession, startTestApp } from "./_helpers.ts";
import { openRawRequest } from "./_raw_http.ts";
import { EMITTED_EVENTS, WAHA_ONLY_EVENTS } from "../events/event_names.ts";

const PHONE = "4915550007001";
/** The longest event names a webhook may subscribe to. */
const LONGEST_EVENTS = [...EMITTED_EVENTS, ...WAHA_ONLY_EVENTS].sort((a, b) => b.length - a.length)
  .slice(0, 10);

/** Every operation of the document, with its path parameters filled in plausibly. */
async function operations(base: string): Promise<{ method: string; path: string }[]> {
  const document = await (await fetch(`${base}/swagger/json`)).json();
  const values: Record<string, string> = {
    phoneNumber: PHONE,
    chatId: "15550000001@c.us",
    contactId: "15550000001@c.us",
    groupId: "120363000000000001@g.us",
    messageId: "true_15550000001@c.us_3EB0C0FFEE",
    id: "1",
    phone: "15550000001",
    lid: "100000000000001@lid",
    labelId: "1",
    channelId: "120363000000000101@newsletter",
  };
  const found = [];
  for (const [template, item] of Object.entries(document.paths as Record<string, object>)) {
    // The contract's routes; WAHA's dialect (`/api/…`) has its own suite (waha_dialect_*_test.ts).
    if (!template.startsWith("/api/whatsapp/")) continue;
    for (const method of Object.keys(item)) {
      const path = template.replace(/\{(\w+)\}/g, (_, name) => {
        assert.ok(values[name], `a value for the path parameter "${name}"`);
        return encodeURIComponent(values[name]);
      });
      found.push({ method: method.toUpperCase(), path });
    }
  }
  return found;
}

Deno.test("no operation reads a body byte before the caller is authenticated", async () => {
  // Each request from an address of its own (through TRUST_PROXY): the failed-login limit would
  // otherwise answer 429 after ten of them.
  const server = await startServerProcess({ BODY_TIMEOUT_MS: "60000", TRUST_PROXY: "true" });
  try {
    const all = await operations(server.base);
    assert.ok(all.length > 40, "the document lists every operation");
    for (const [i, { method, path }] of all.entries()) {
      if (path.endsWith("/health")) continue;
      // A chunked body that never comes: a server that read before authenticating would wait.
      const request = await openRawRequest(server.port, method, path, {
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
        "X-Forwarded-For": `203.0.113.${i + 1}`,
      });
      try {
        const response = await request.response(5_000);
        assert.equal(response.status, 401, `${method} ${path}`);
        assert.equal(JSON.parse(response.body).code, "UNAUTHORIZED");
      } finally {
        request.close();
      }
    }
  } finally {
    await server.stop();
  }
});

/** The resident memory of a process, from /proc. */
async function rssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

Deno.test("an unauthenticated 80 MiB chunked body is answered 401 at once and never buffered", async () => {
  const server = await startServerProcess({});
  try {
    const request = await openRawRequest(server.port, "POST", "/api/whatsapp/webhook/message", {
      "Content-Type": "application/json",
      "Transfer-Encoding": "chunked",
    });
    try {
      await request.chunk(new Uint8Array(64 * 1024).fill(0x20));
      const response = await request.response(5_000);
      assert.equal(response.status, 401, "answered while the body is still coming");
      assert.match(response.headers.get("connection") ?? "", /close/);
      const before = await rssBytes(server.child.pid);
      const chunk = new Uint8Array(1024 * 1024).fill(0x20);
      try {
        // Deno's HTTP server may discard what keeps arriving before it closes; nothing keeps it.
        for (let sent = 0; sent < 80 * 1024 * 1024; sent += chunk.length) {
          await request.chunk(chunk);
        }
      } catch {
        // The server closed the connection.
      }
      const grown = (await rssBytes(server.child.pid)) - before;
      assert.ok(grown < 32 * 1024 * 1024, `the server grew by ${grown} bytes`);
    } finally {
      request.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("a chunked body over 1 MiB on a route without media is cut with 413; media routes take BODY_MAX_BYTES", async () => {
  const server = await startServerProcess({ BODY_MAX_BYTES: String(3 * 1024 * 1024) });
  try {
    assert.equal((await server.call("POST", `/${PHONE}/start`)).status, 200);
    const post = async (action: string, field: string, size: number) => {
      const request = await openRawRequest(
        server.port,
        "POST",
        `/api/whatsapp/${PHONE}/${action}`,
        {
          "X-Api-Key": ADMIN_KEY,
          "Content-Type": "application/json",
          "Transfer-Encoding": "chunked",
        },
      );
      try {
        await request.chunk(`{"chatId":"15550000001@c.us","${field}":"`);
        const filler = "A".repeat(64 * 1024);
        for (let sent = 0; sent < size; sent += filler.length) {
          const done = await request.response(0).then(() => true, () => false);
          if (done) break;
          await request.chunk(filler).catch(() => {});
        }
        await request.chunk('"}').catch(() => {});
        await request.end().catch(() => {});
        return await request.response();
      } finally {
        request.close();
      }
    };
    const text = await post("send-text", "text", 1024 * 1024 + 1);
    assert.equal(text.status, 413);
    assert.match(JSON.parse(text.body).error, /over 1048576 bytes/);
    // 2 MiB of base64 is over the small cap but within BODY_MAX_BYTES: it reaches the route.
    const image = await post("send-image", "imageUrl", 2 * 1024 * 1024);
    assert.notEqual(image.status, 413, image.body);
    const tooBig = await post("send-image", "imageUrl", 3 * 1024 * 1024 + 1);
    assert.equal(tooBig.status, 413);
  } finally {
    await server.stop();
  }
});

Deno.test("a declared Content-Length over the cap is 413 before any of the body is sent", async () => {
  const server = await startServerProcess({});
  try {
    assert.equal((await server.call("POST", `/${PHONE}/start`)).status, 200);
    const request = await openRawRequest(server.port, "POST", `/api/whatsapp/${PHONE}/send-text`, {
      "X-Api-Key": ADMIN_KEY,
      "Content-Type": "application/json",
      "Content-Length": String(1024 * 1024 + 1),
    });
    try {
      const response = await request.response(5_000);
      assert.equal(response.status, 413);
      assert.equal(JSON.parse(response.body).code, "PAYLOAD_TOO_LARGE");
    } finally {
      request.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("a body that trickles is cut with 408 at BODY_TIMEOUT_MS, with or without a length", async () => {
  const server = await startServerProcess({ BODY_TIMEOUT_MS: "700" });
  try {
    assert.equal((await server.call("POST", `/${PHONE}/start`)).status, 200);
    const framings: Record<string, string>[] = [
      { "Content-Length": "200" },
      { "Transfer-Encoding": "chunked" },
    ];
    for (const framing of framings) {
      const request = await openRawRequest(
        server.port,
        "PUT",
        `/api/whatsapp/${PHONE}/profile/name`,
        { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json", ...framing },
      );
      try {
        const first = '{"name":';
        if ("Content-Length" in framing) await request.send(first);
        else await request.chunk(first);
        const dripping = setInterval(() => {
          const byte = " ";
          ("Content-Length" in framing ? request.send(byte) : request.chunk(byte)).catch(() => {});
        }, 100);
        try {
          const response = await request.response(5_000);
          assert.equal(response.status, 408, JSON.stringify(framing));
          assert.deepEqual(JSON.parse(response.body), {
            error: "The request body did not arrive within 700 ms",
            code: "REQUEST_TIMEOUT",
            statusCode: 408,
          });
        } finally {
          clearInterval(dripping);
        }
      } finally {
        request.close();
      }
    }
  } finally {
    await server.stop();
  }
});

Deno.test("the largest valid bodies fit under the 1 MiB cap: 65,536 characters of escaped emoji, ten full webhooks", async () => {
  const server = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1" });
  try {
    await startSession(server, PHONE);
    // JSON's longest spelling of the longest text: every UTF-16 unit escaped as \uXXXX.
    const text = "😀".repeat(32_768);
    const escaped = JSON.stringify({ chatId: "15550000001@c.us", text }).replace(
      /[\ud800-\udfff]/g,
      (unit) => `\\u${unit.charCodeAt(0).toString(16)}`,
    );
    assert.ok(escaped.length > 390_000);
    const sent = await server.request("POST", `/${PHONE}/send-text`, { body: escaped });
    assert.equal(sent.status, 200, await sent.clone().text());
    await sent.body?.cancel();

    const headers = Object.fromEntries(
      Array.from(
        { length: 20 },
        (_, i) => [`X-Header-${String(i).padStart(2, "0")}`, "v".repeat(390)],
      ),
    );
    const webhooks = Array.from({ length: 10 }, (_, i) => ({
      url: `http://127.0.0.1:9/${i}/${"p".repeat(2000)}`,
      // Names are checked against the known ones: the longest, repeated up to the cap of 50.
      events: Array.from({ length: 50 }, (_, j) => LONGEST_EVENTS[j % LONGEST_EVENTS.length]),
      secret: "s".repeat(512),
      headers,
    }));
    const body = JSON.stringify({ webhooks });
    assert.ok(body.length > 100_000);
    const put = await server.json("PUT", `/${PHONE}/webhooks`, { body });
    assert.equal(put.status, 200, JSON.stringify(put.body));
  } finally {
    await server.close();
  }
});
