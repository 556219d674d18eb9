/**
 * @module
 * Tests of the media download headers: always an attachment, never sniffed, sandboxed, with a
 * file name that cannot break out of its parameter.
 */
import assert from "node:assert/strict";
import { fileNameFromContentDisposition } from "../ssrf_guard/safe_fetch.ts";
import { attachmentDisposition, downloadHeaders } from "./download_headers.ts";

Deno.test("attachmentDisposition() gives an ASCII fallback and the exact name RFC 5987-encoded", () => {
  const name = `Bericht "Q3" – Übersicht; 100% (final)'s \\ 📄.pdf`;
  const header = attachmentDisposition(name);
  assert.equal(
    header,
    `attachment; filename="Bericht _Q3_ _ _bersicht; 100_ (final)'s _ __.pdf"; ` +
      `filename*=UTF-8''Bericht%20%22Q3%22%20%E2%80%93%20%C3%9Cbersicht%3B%20100%25%20` +
      `%28final%29%27s%20%5C%20%F0%9F%93%84.pdf`,
  );
  assert.equal(fileNameFromContentDisposition(header), name);
});

Deno.test("attachmentDisposition() drops control characters, cuts long names and never leaves one empty", () => {
  const header = attachmentDisposition("evil\r\nSet-Cookie: a=b\u0000.html");
  assert.ok(!["\r", "\n", "\u0000"].some((c) => header.includes(c)), header);
  assert.equal(fileNameFromContentDisposition(header), "evilSet-Cookie: a=b.html");
  assert.equal(fileNameFromContentDisposition(attachmentDisposition("x".repeat(500)))?.length, 200);
  assert.equal(
    attachmentDisposition(" \u0007 "),
    `attachment; filename="media"; filename*=UTF-8''media`,
  );
  // A lone surrogate cannot be percent-encoded as UTF-8: it becomes U+FFFD instead of a 500.
  assert.equal(fileNameFromContentDisposition(attachmentDisposition("a\ud800.txt")), "a\ufffd.txt");
});

Deno.test("downloadHeaders() serves a sender's HTML as a sandboxed, unsniffed download", () => {
  assert.deepEqual(downloadHeaders({ mimetype: "text/html", filename: "page.html" }), {
    "Content-Type": "text/html",
    "Content-Disposition": `attachment; filename="page.html"; filename*=UTF-8''page.html`,
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox",
  });
  assert.equal(
    downloadHeaders({ mimetype: "audio/ogg; codecs=opus", filename: null })["Content-Type"],
    "audio/ogg; codecs=opus",
  );
  assert.equal(
    downloadHeaders({ mimetype: "text/html\r\nX-Evil: 1", filename: "a" })["Content-Type"],
    "application/octet-stream",
  );
});
