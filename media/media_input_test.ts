/**
 * @module
 * Tests of `resolveMediaInput`: URLs against a real server on 127.0.0.1 (types, names, cap,
 * deadline, refused addresses), `data:` URLs, bare base64, garbage, and the MIME type rule.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { ApiError } from "../errors.ts";
import { createLogger } from "../logger.ts";
import { createAddressPolicy } from "../ssrf_guard/address_policy.ts";
import {
  chooseMimeType,
  cleanFileName,
  createMediaResolver,
  type MediaFetchDeps,
  resolveMediaInput,
  toBase64,
} from "./media_input.ts";
import { oggOpusHead, startMediaServer, tinyPdf, tinyPng } from "./test_fixtures.ts";

const NOW = 1_760_000_000_000;

function deps(extra: Partial<MediaFetchDeps> = {}): MediaFetchDeps {
  return {
    policy: createAddressPolicy(["127.0.0.1"]),
    timeoutMs: 2_000,
    maxBytes: 16 * 1024,
    now: () => NOW,
    ...extra,
  };
}

async function rejectsWith(promise: Promise<unknown>, status: number, pattern: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApiError, String(error));
    assert.equal(error.status, status);
    assert.match(error.message, pattern);
    return true;
  });
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

Deno.test("resolveMediaInput() fetches an image URL with its type and URL file name", async () => {
  await using server = startMediaServer();
  const media = await resolveMediaInput(
    `${server.origin}/image.png`,
    { field: "imageUrl", kind: "image" },
    deps(),
  );
  assert.deepEqual(media, { mimetype: "image/png", data: b64(tinyPng()), filename: "image.png" });
});

Deno.test("resolveMediaInput() names a PDF after Content-Disposition, else the URL path", async () => {
  await using server = startMediaServer();
  const field = { field: "fileUrl", kind: "file" as const };
  const doc = await resolveMediaInput(`${server.origin}/doc`, field, deps());
  assert.equal(doc.mimetype, "application/pdf");
  assert.equal(doc.filename, "report.pdf");
  assert.equal(doc.data, b64(tinyPdf()));
  const download = await resolveMediaInput(`${server.origin}/download?id=7`, field, deps());
  assert.equal(download.filename, "download.pdf");
  const given = await resolveMediaInput(
    `${server.origin}/doc`,
    { ...field, filename: "../../Q3 invoice" },
    deps(),
  );
  assert.equal(given.filename, "Q3 invoice");
});

Deno.test("resolveMediaInput() sniffs an Ogg Opus voice note", async () => {
  await using server = startMediaServer();
  const voice = await resolveMediaInput(
    `${server.origin}/voice.ogg`,
    { field: "audioUrl", kind: "voice" },
    deps(),
  );
  assert.equal(voice.mimetype, "audio/ogg; codecs=opus");
  assert.equal(voice.filename, "voice.ogg");
  assert.equal(voice.data, b64(oggOpusHead()));
});

Deno.test("resolveMediaInput() takes the type from the bytes when the header says octet-stream", async () => {
  await using server = startMediaServer();
  const media = await resolveMediaInput(
    `${server.origin}/octet`,
    { field: "imageUrl", kind: "image" },
    deps(),
  );
  assert.equal(media.mimetype, "image/png");
  assert.equal(media.filename, "octet.png");
});

Deno.test("resolveMediaInput() trusts the bytes over a header that lies", async () => {
  await using server = startMediaServer();
  const media = await resolveMediaInput(
    `${server.origin}/disguised.png`,
    { field: "fileUrl", kind: "file" },
    deps(),
  );
  assert.equal(media.mimetype, "application/pdf");
  assert.equal(media.filename, "disguised.pdf");
  await rejectsWith(
    resolveMediaInput(
      `${server.origin}/disguised.png`,
      { field: "imageUrl", kind: "image" },
      deps(),
    ),
    400,
    /^Invalid imageUrl: expected an image, got "application\/pdf"$/,
  );
});

Deno.test("resolveMediaInput() keeps a text type that cannot be sniffed", async () => {
  await using server = startMediaServer();
  const media = await resolveMediaInput(
    `${server.origin}/table.csv`,
    { field: "fileUrl", kind: "file" },
    deps(),
  );
  assert.equal(media.mimetype, "text/csv");
  assert.equal(media.filename, "table.csv");
  await rejectsWith(
    resolveMediaInput(`${server.origin}/html`, { field: "imageUrl", kind: "image" }, deps()),
    400,
    /expected an image, got "text\/html"/,
  );
});

Deno.test("resolveMediaInput() enforces the cap (413) and the deadline on URLs", async () => {
  await using server = startMediaServer();
  const field = { field: "fileUrl", kind: "file" as const };
  await rejectsWith(
    resolveMediaInput(`${server.origin}/big`, field, deps({ maxBytes: 1024 })),
    413,
    /^fileUrl is larger than the limit of 1024 bytes$/,
  );
  await rejectsWith(
    resolveMediaInput(
      `${server.origin}/endless`,
      field,
      deps({ timeoutMs: 250, maxBytes: 1 << 20 }),
    ),
    400,
    /^Cannot fetch fileUrl: no complete answer within 250 ms$/,
  );
  await rejectsWith(
    resolveMediaInput(`${server.origin}/empty`, { field: "imageUrl", kind: "image" }, deps()),
    400,
    /answered no bytes/,
  );
});

const REFUSED =
  /^Invalid body field "imageUrl": the URL's host is not allowed \(private and loopback hosts need MEDIA_ALLOW_PRIVATE_HOSTS on the server\)$/;

Deno.test("resolveMediaInput() refuses a redirect to the metadata endpoint and logs why", async () => {
  await using server = startMediaServer();
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("warn", { sink: (_level, line) => lines.push(line) });
  await rejectsWith(
    resolveMediaInput(
      `${server.origin}/to-metadata`,
      { field: "imageUrl", kind: "image", requestId: "req-media-1" },
      deps({ log }),
    ),
    400,
    REFUSED,
  );
  assert.equal(lines.length, 1);
  assert.equal(lines[0].level, "warn");
  assert.equal(lines[0].msg, "media URL refused");
  assert.equal(lines[0].requestId, "req-media-1");
  assert.equal(lines[0].field, "imageUrl");
  assert.equal(lines[0].host, "169.254.169.254");
  assert.equal(lines[0].reason, "metadata");
  assert.equal(lines[0].hop, 1);
});

Deno.test("resolveMediaInput() refuses loopback URLs without an allow-list", async () => {
  await using server = startMediaServer();
  const resolve = createMediaResolver({ allowPrivateHosts: [], timeoutMs: 1_000, maxBytes: 1024 });
  for (
    const host of ["127.0.0.1", "localhost", "[::1]", "0.0.0.0", "127.1", "[::ffff:127.0.0.1]"]
  ) {
    await rejectsWith(
      resolve(`http://${host}:${server.port}/image.png`, { field: "imageUrl", kind: "image" }),
      400,
      REFUSED,
    );
  }
  assert.deepEqual(server.hits, []);
});

Deno.test("resolveMediaInput() accepts a base64 data URL and keeps its name parameter", async () => {
  const png = tinyPng();
  const media = await resolveMediaInput(
    `data:image/png;name=avatar.png;base64,${b64(png)}`,
    { field: "imageUrl", kind: "image" },
    deps(),
  );
  assert.deepEqual(media, { mimetype: "image/png", data: b64(png), filename: "avatar.png" });
  const unnamed = await resolveMediaInput(
    `data:application/octet-stream;base64,${b64(tinyPdf())}`,
    { field: "fileUrl", kind: "file" },
    deps(),
  );
  assert.equal(unnamed.mimetype, "application/pdf");
  assert.equal(unnamed.filename, `file-${NOW}.pdf`);
});

Deno.test("resolveMediaInput() accepts a percent-encoded data URL as text", async () => {
  const media = await resolveMediaInput(
    "data:text/csv,a%2Cb%0A1%2C2%0A",
    { field: "fileUrl", kind: "file" },
    deps(),
  );
  assert.equal(media.mimetype, "text/csv");
  assert.equal(Buffer.from(media.data, "base64").toString(), "a,b\n1,2\n");
  assert.equal(media.filename, `file-${NOW}.csv`);
  const plain = await resolveMediaInput("data:,hello", { field: "fileUrl", kind: "file" }, deps());
  assert.equal(plain.mimetype, "text/plain");
  assert.equal(plain.filename, `file-${NOW}.txt`);
});

Deno.test("resolveMediaInput() accepts bare base64 and sniffs its type", async () => {
  const media = await resolveMediaInput(
    b64(oggOpusHead()),
    { field: "audioUrl", kind: "audio" },
    deps(),
  );
  assert.equal(media.mimetype, "audio/ogg; codecs=opus");
  assert.equal(media.filename, `audio-${NOW}.opus`);
  const unknown = await resolveMediaInput(b64(new Uint8Array([1, 2, 3, 4, 5])), {
    field: "fileUrl",
    kind: "file",
  }, deps());
  assert.equal(unknown.mimetype, "application/octet-stream");
  assert.equal(unknown.filename, `file-${NOW}.bin`);
});

Deno.test("resolveMediaInput() accepts base64 wrapped at 76 characters, as tools write it", async () => {
  const bytes = new Uint8Array([...oggOpusHead(), ...new Uint8Array(200).fill(7)]);
  const wrapped = b64(bytes).replace(/(.{76})/g, "$1\r\n");
  assert.ok(wrapped.includes("\n"), "the sample is long enough to wrap");
  const media = await resolveMediaInput(wrapped, { field: "audioUrl", kind: "audio" }, deps());
  assert.equal(media.mimetype, "audio/ogg; codecs=opus");
  assert.ok(!/\s/.test(media.data), "the engine gets the data without the line breaks");
});

Deno.test("resolveMediaInput() answers 413 for base64 over the cap without decoding it", async () => {
  const big = "A".repeat(4 * 1024 * 1024);
  await rejectsWith(
    resolveMediaInput(big, { field: "fileUrl", kind: "file" }, deps({ maxBytes: 1024 })),
    413,
    /^fileUrl is larger than the limit of 1024 bytes$/,
  );
  await rejectsWith(
    resolveMediaInput(
      `data:image/png;base64,${big}`,
      { field: "imageUrl", kind: "image" },
      deps({
        maxBytes: 1024,
      }),
    ),
    413,
    /^imageUrl is larger than/,
  );
});

Deno.test("resolveMediaInput() answers 400 naming the field for anything else", async () => {
  const cases: [string, RegExp][] = [
    ["", /^Invalid imageUrl: it is empty$/],
    ["   ", /^Invalid imageUrl: it is empty$/],
    ["ftp://example.com/a.png", /^Invalid imageUrl: scheme "ftp:" is not allowed/],
    ["file:///etc/passwd", /^Invalid imageUrl: scheme "file:" is not allowed/],
    ["javascript:alert(1)", /^Invalid imageUrl: scheme "javascript:" is not allowed/],
    [
      "hello world",
      /^Invalid imageUrl: expected an http\(s\) URL, a data: URL or standard padded base64$/,
    ],
    ["abc", /standard padded base64/],
    ["ab=c", /standard padded base64/],
    ["abc===", /standard padded base64/],
    ["ab-_", /standard padded base64/],
    ["====", /standard padded base64/],
    ["data:image/png;base64", /needs a comma/],
    ["data:image/png;base64,@@@@", /standard padded base64/],
    ["data:not a type;base64,AAAA", /is not a MIME type/],
    ["http://", /^Invalid imageUrl: not a valid URL$/],
  ];
  for (const [value, pattern] of cases) {
    await rejectsWith(
      resolveMediaInput(value, { field: "imageUrl", kind: "image" }, deps()),
      400,
      pattern,
    );
  }
});

Deno.test("chooseMimeType() lets the bytes win except for a refined container or unsniffable text", () => {
  assert.equal(chooseMimeType(null, null), "application/octet-stream");
  assert.equal(chooseMimeType("application/octet-stream", null), "application/octet-stream");
  assert.equal(chooseMimeType("application/octet-stream", "image/png"), "image/png");
  assert.equal(chooseMimeType(null, "image/jpeg"), "image/jpeg");
  assert.equal(chooseMimeType("image/png", "application/pdf"), "application/pdf");
  assert.equal(chooseMimeType("image/jpg", "image/jpeg"), "image/jpeg");
  assert.equal(chooseMimeType("text/plain", null), "text/plain");
  assert.equal(chooseMimeType("text/vcard", null), "text/vcard");
  const docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
  assert.equal(chooseMimeType(docx, "application/zip"), docx);
  assert.equal(chooseMimeType("image/png", "application/zip"), "application/zip");
  assert.equal(chooseMimeType("audio/ogg", "application/ogg"), "audio/ogg");
});

Deno.test("cleanFileName() keeps the last path part without control or reserved characters", () => {
  assert.equal(cleanFileName("../../etc/passwd"), "passwd");
  assert.equal(cleanFileName("C:\\Users\\me\\photo.jpg"), "photo.jpg");
  assert.equal(cleanFileName("a\u0000b<c>.pdf"), "abc.pdf");
  assert.equal(cleanFileName(".hidden"), "hidden");
  assert.equal(cleanFileName("///"), undefined);
});

Deno.test("toBase64() encodes 64 MiB exactly, from an offset into its buffer", () => {
  const bytes = new Uint8Array(64 * 1024 * 1024);
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i & 0xff;
  const text = toBase64(bytes.subarray(1));
  assert.equal(text.length, Math.ceil((bytes.length - 1) / 3) * 4);
  assert.ok(Buffer.from(text, "base64").equals(Buffer.from(bytes.subarray(1))));
});
