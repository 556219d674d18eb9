/**
 * @module
 * Tests of `safeFetch` against a real server on 127.0.0.1: what arrives, the size cap, the
 * deadline, redirects, the address policy with and without an allow-list, pinning and TLS.
 */
import assert from "node:assert/strict";
import { ApiError } from "../errors.ts";
import { createAddressPolicy, HostNotAllowedError, type HostResolver } from "./address_policy.ts";
import {
  fileNameFromContentDisposition,
  pinnedLookup,
  safeFetch,
  type SafeFetchOptions,
} from "./safe_fetch.ts";
import { startMediaServer, TEST_CERT, tinyPdf, tinyPng } from "../media/test_fixtures.ts";

const LOCAL = createAddressPolicy(["127.0.0.1"]);

function options(extra: Partial<SafeFetchOptions> = {}): SafeFetchOptions {
  return { policy: LOCAL, timeoutMs: 2_000, maxBytes: 16 * 1024, label: "imageUrl", ...extra };
}

async function rejectsWith(promise: Promise<unknown>, status: number, pattern: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApiError, String(error));
    assert.equal(error.status, status);
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("safeFetch() returns the bytes, type and name of an allow-listed local file", async () => {
  await using server = startMediaServer();
  const image = await safeFetch(`${server.origin}/image.png`, options());
  assert.deepEqual(image.bytes, tinyPng());
  assert.equal(image.contentType, "image/png");
  assert.equal(image.finalUrl, `${server.origin}/image.png`);
  assert.equal(image.fileNameFromHeader, undefined);
  const doc = await safeFetch(`${server.origin}/doc`, options());
  assert.deepEqual(doc.bytes, tinyPdf());
  assert.equal(doc.fileNameFromHeader, "report.pdf");
});

Deno.test("safeFetch() refuses a body whose Content-Length is over the cap with 413", async () => {
  await using server = startMediaServer();
  await rejectsWith(
    safeFetch(`${server.origin}/big`, options({ maxBytes: 1024 })),
    413,
    /^imageUrl is larger than the limit of 1024 bytes$/,
  );
});

Deno.test("safeFetch() cuts a streamed body without Content-Length at the cap with 413", async () => {
  await using server = startMediaServer();
  await rejectsWith(safeFetch(`${server.origin}/big-stream`, options()), 413, /larger than/);
});

Deno.test("safeFetch() cuts a server that trickles bytes forever at the deadline", async () => {
  await using server = startMediaServer();
  const started = Date.now();
  await rejectsWith(
    safeFetch(`${server.origin}/endless`, options({ timeoutMs: 300, maxBytes: 1024 * 1024 })),
    400,
    /^Cannot fetch imageUrl: no complete answer within 300 ms$/,
  );
  assert.ok(Date.now() - started < 2_000);
});

Deno.test("safeFetch() gives up on headers that never come at the deadline", async () => {
  await using server = startMediaServer();
  await rejectsWith(
    safeFetch(`${server.origin}/slow-headers`, options({ timeoutMs: 200 })),
    400,
    /within 200 ms/,
  );
});

Deno.test("safeFetch() follows a chain of 3 redirects and re-checks every hop", async () => {
  await using server = startMediaServer();
  const result = await safeFetch(`${server.origin}/redirect/3`, options());
  assert.equal(result.finalUrl, `${server.origin}/image.png`);
  assert.deepEqual(server.hits, [
    "/redirect/3",
    "/redirect/2",
    "/redirect/1",
    "/redirect/0",
    "/image.png",
  ]);
});

Deno.test("safeFetch() refuses a sixth redirect", async () => {
  await using server = startMediaServer();
  await rejectsWith(
    safeFetch(`${server.origin}/redirect/6`, options()),
    400,
    /^Cannot fetch imageUrl: more than 5 redirects$/,
  );
  assert.equal(server.hits.length, 6);
  assert.ok(!server.hits.includes("/image.png"));
});

Deno.test("safeFetch() refuses a redirect to the metadata endpoint before connecting, naming the hop", async () => {
  await using server = startMediaServer();
  const started = Date.now();
  await assert.rejects(safeFetch(`${server.origin}/to-metadata`, options()), (error) => {
    assert.ok(error instanceof HostNotAllowedError, String(error));
    assert.equal(error.message, "The URL's host is not allowed");
    assert.deepEqual(error.refusal, {
      host: "169.254.169.254",
      addresses: ["169.254.169.254"],
      address: "169.254.169.254",
      reason: "metadata",
      hop: 1,
    });
    return true;
  });
  assert.ok(Date.now() - started < 1_000);
});

Deno.test("safeFetch() refuses every loopback form when nothing is allow-listed", async () => {
  await using server = startMediaServer();
  const policy = createAddressPolicy([]);
  const port = server.port;
  const forms = [
    `http://127.0.0.1:${port}/image.png`,
    `http://localhost:${port}/image.png`,
    `http://[::1]:${port}/image.png`,
    `http://0.0.0.0:${port}/image.png`,
    `http://127.1:${port}/image.png`,
    `http://0x7f.1:${port}/image.png`,
    `http://2130706433:${port}/image.png`,
    `http://017700000001:${port}/image.png`,
    `http://[::ffff:127.0.0.1]:${port}/image.png`,
    `http://LOCALHOST.:${port}/image.png`,
  ];
  for (const url of forms) {
    await assert.rejects(safeFetch(url, options({ policy })), (error) => {
      assert.ok(error instanceof HostNotAllowedError, `${url}: ${error}`);
      assert.match(error.refusal.reason, /^(loopback|unspecified)$/, url);
      assert.equal(error.refusal.hop, 0, url);
      return true;
    });
  }
  assert.deepEqual(server.hits, []);
});

Deno.test("safeFetch() refuses schemes other than http and https", async () => {
  for (const url of ["ftp://example.com/a.png", "file:///etc/passwd", "javascript:alert(1)"]) {
    await rejectsWith(
      safeFetch(url, options()),
      400,
      /^Invalid imageUrl: scheme ".+" is not allowed/,
    );
  }
});

Deno.test("safeFetch() turns an error status and a refused connection into 400", async () => {
  await using server = startMediaServer();
  await rejectsWith(
    safeFetch(`${server.origin}/missing`, options()),
    400,
    /^Cannot fetch imageUrl: the server answered 404$/,
  );
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  await rejectsWith(
    safeFetch(`http://127.0.0.1:${port}/`, options()),
    400,
    /^Cannot fetch imageUrl: the connection was refused$/,
  );
});

Deno.test("safeFetch() refuses a compressed answer it did not ask for", async () => {
  await using server = startMediaServer();
  await rejectsWith(
    safeFetch(`${server.origin}/gzip`, options()),
    400,
    /compressed answers \("gzip"\)/,
  );
});

Deno.test("safeFetch() connects to the address it checked, with no second lookup", async () => {
  await using server = startMediaServer();
  const lookups: string[] = [];
  // `pinned.test` exists only in this resolver: reaching the server proves the socket used it.
  const resolver: HostResolver = (hostname) => {
    lookups.push(hostname);
    return Promise.resolve([{ address: "127.0.0.1", family: 4 }]);
  };
  const policy = createAddressPolicy(["pinned.test"]);
  const result = await safeFetch(
    `http://pinned.test:${server.port}/redirect/1`,
    options({ policy, resolver }),
  );
  assert.equal(result.finalUrl, `http://pinned.test:${server.port}/image.png`);
  assert.deepEqual(lookups, ["pinned.test", "pinned.test", "pinned.test"]);
});

Deno.test("safeFetch() over https pins the address and still checks the certificate's name", async () => {
  await using server = startMediaServer({ tls: true });
  const resolver: HostResolver = () => Promise.resolve([{ address: "127.0.0.1", family: 4 }]);
  const policy = createAddressPolicy(["media.test", "other.test"]);
  const good = await safeFetch(
    `https://media.test:${server.port}/image.png`,
    options({ policy, resolver, ca: [TEST_CERT] }),
  );
  assert.deepEqual(good.bytes, tinyPng());
  await rejectsWith(
    safeFetch(
      `https://other.test:${server.port}/image.png`,
      options({ policy, resolver, ca: [TEST_CERT] }),
    ),
    400,
    /^Cannot fetch imageUrl: TLS failed/,
  );
  await rejectsWith(
    safeFetch(`https://media.test:${server.port}/image.png`, options({ policy, resolver })),
    400,
    /^Cannot fetch imageUrl: TLS failed/,
  );
});

Deno.test("safeFetch() stops when the caller's signal aborts", async () => {
  await using server = startMediaServer();
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("client went away")), 100);
  await assert.rejects(
    safeFetch(
      `${server.origin}/endless`,
      options({ signal: controller.signal, maxBytes: 1 << 20 }),
    ),
    /client went away/,
  );
});

Deno.test("fileNameFromContentDisposition() prefers filename* and unquotes filename", () => {
  assert.equal(fileNameFromContentDisposition(`attachment; filename="a \\"b\\".pdf"`), `a "b".pdf`);
  assert.equal(fileNameFromContentDisposition("inline; filename=plain.txt"), "plain.txt");
  assert.equal(
    fileNameFromContentDisposition(
      `attachment; filename="fallback.pdf"; filename*=UTF-8''%E2%82%AC%20rates.pdf`,
    ),
    "€ rates.pdf",
  );
  assert.equal(
    fileNameFromContentDisposition("attachment; filename*=iso-8859-1''caf%E9.txt"),
    "café.txt",
  );
  assert.equal(fileNameFromContentDisposition("attachment"), undefined);
});

Deno.test("pinnedLookup() answers only with the checked addresses, by family when asked", () => {
  const lookup = pinnedLookup([{ address: "93.184.216.34", family: 4 }, {
    address: "2606:2800:220:1::1",
    family: 6,
  }]);
  const answers: unknown[] = [];
  lookup("anything.test", { all: true }, (_e, address) => answers.push(address));
  lookup("anything.test", {}, (_e, address, family) => answers.push([address, family]));
  lookup("anything.test", { family: 6 }, (_e, address, family) => answers.push([address, family]));
  assert.deepEqual(answers, [
    [{ address: "93.184.216.34", family: 4 }, { address: "2606:2800:220:1::1", family: 6 }],
    ["93.184.216.34", 4],
    ["2606:2800:220:1::1", 6],
  ]);
});
