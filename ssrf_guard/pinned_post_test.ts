/**
 * @module
 * Tests of `pinnedPost` against real servers on 127.0.0.1 reached under names that exist only in
 * the checked addresses: what arrives, the answer's status and headers, a body that never ends,
 * the abort signal, a refused connection and TLS name checking.
 */
import assert from "node:assert/strict";
import { pinnedPost } from "./pinned_post.ts";
import { startMediaServer, TEST_CERT } from "../media/test_fixtures.ts";

const LOOPBACK = [{ address: "127.0.0.1", family: 4 as const }];

interface Arrived {
  method: string;
  url: string;
  host: string | null;
  headers: Headers;
  body: string;
}

function startServer(answer: (request: Request) => Response | Promise<Response>) {
  const arrived: Arrived[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    arrived.push({
      method: request.method,
      url: request.url,
      host: request.headers.get("host"),
      headers: request.headers,
      body: await request.text(),
    });
    return answer(request);
  });
  return { port: server.addr.port, arrived, close: () => server.shutdown() };
}

Deno.test("pinnedPost() sends the body and headers to the checked address under the URL's name", async () => {
  const server = startServer(() =>
    new Response("accepted", { status: 429, headers: { "Retry-After": "7" } })
  );
  try {
    const body = JSON.stringify({ event: "message", text: "grüße" });
    const result = await pinnedPost(`http://hook.invalid:${server.port}/in?x=1`, {
      headers: new Headers({ "Content-Type": "application/json", "X-Token": "t" }),
      body,
      signal: AbortSignal.timeout(2_000),
      addresses: LOOPBACK,
    });
    assert.equal(result.status, 429);
    assert.equal(result.headers.get("retry-after"), "7");
    assert.equal(server.arrived.length, 1);
    const [request] = server.arrived;
    assert.equal(request.method, "POST");
    assert.equal(request.host, `hook.invalid:${server.port}`);
    assert.equal(new URL(request.url).pathname + new URL(request.url).search, "/in?x=1");
    assert.equal(request.headers.get("x-token"), "t");
    assert.equal(request.headers.get("content-type"), "application/json");
    assert.equal(
      request.headers.get("content-length"),
      String(new TextEncoder().encode(body).length),
    );
    assert.equal(request.body, body);
  } finally {
    await server.close();
  }
});

Deno.test("pinnedPost() returns at the headers of an answer whose body never ends and closes it", async () => {
  let cancelled!: () => void;
  const streamClosed = new Promise<void>((resolve) => cancelled = resolve);
  const server = startServer(() => {
    let timer: ReturnType<typeof setInterval> | undefined;
    return new Response(
      new ReadableStream({
        start(controller) {
          timer = setInterval(() => controller.enqueue(new Uint8Array([0x41])), 10);
        },
        cancel() {
          clearInterval(timer);
          cancelled();
        },
      }),
    );
  });
  try {
    const result = await pinnedPost(`http://endless.invalid:${server.port}/`, {
      headers: {},
      body: "{}",
      signal: AbortSignal.timeout(2_000),
      addresses: LOOPBACK,
    });
    assert.equal(result.status, 200);
    await streamClosed;
  } finally {
    await server.close();
  }
});

Deno.test("pinnedPost() rejects with the signal's reason when the answer does not come in time", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const server = startServer(async () => {
    await released;
    return new Response("too late");
  });
  try {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("No answer within 100 ms")), 100);
    const started = Date.now();
    await assert.rejects(
      pinnedPost(`http://slow.invalid:${server.port}/`, {
        headers: {},
        body: "{}",
        signal: controller.signal,
        addresses: LOOPBACK,
      }),
      /No answer within 100 ms/,
    );
    assert.ok(Date.now() - started < 1_500);
  } finally {
    release();
    await server.close();
  }
});

Deno.test("pinnedPost() rejects a refused connection with the network error", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  await assert.rejects(
    pinnedPost(`http://gone.invalid:${port}/`, {
      headers: {},
      body: "{}",
      signal: AbortSignal.timeout(2_000),
      addresses: LOOPBACK,
    }),
    (error: NodeJS.ErrnoException) => error.code === "ECONNREFUSED",
  );
});

Deno.test("pinnedPost() over https pins the address and still checks the certificate's name", async () => {
  await using server = startMediaServer({ tls: true });
  const post = (host: string, ca?: string[]) =>
    pinnedPost(`https://${host}:${server.port}/image.png`, {
      headers: {},
      body: "{}",
      signal: AbortSignal.timeout(2_000),
      addresses: LOOPBACK,
      ca,
    });
  assert.equal((await post("media.test", [TEST_CERT])).status, 200);
  await assert.rejects(post("other.test", [TEST_CERT]), /cert|altname|tls/i);
  await assert.rejects(post("media.test"), /cert|tls|issuer|unknown/i);
});
