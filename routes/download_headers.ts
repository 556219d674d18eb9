/**
 * @module
 * The headers for serving a message's media: bytes a sender chose, served from the API's own
 * origin. A browser that opened them inline could run a sender's HTML or SVG with the API's
 * cookies and storage, so they are always a download (`Content-Disposition: attachment`), never
 * sniffed into another type (`nosniff`), and sandboxed if rendered anyway (`CSP: sandbox`). The
 * file name is the sender's too: it is given as an ASCII fallback and exactly, RFC 5987-encoded
 * (RFC 6266), with nothing that could end the header or the parameter.
 */

const MAX_NAME_CHARACTERS = 200;
const MIME_TYPE =
  /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(\s*;\s*[a-z0-9_.-]+=("[^"\\\r\n]*"|[a-z0-9!#$&^_.+-]+))*$/i;

/** RFC 5987 `value-chars`: percent-encode everything but `attr-char`. */
function encodeExtValue(text: string): string {
  return encodeURIComponent(text).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * `attachment` with the name twice: `filename` in printable ASCII without quotes, backslashes
 * or percent signs (which some browsers would decode), and `filename*` with the exact name in
 * UTF-8. Control characters are dropped and the name is cut to 200 characters.
 */
export function attachmentDisposition(filename: string): string {
  const cleaned = Array.from(
    // deno-lint-ignore no-control-regex
    filename.toWellFormed().replace(/[\u0000-\u001f\u007f-\u009f]/g, "").trim(),
  ).slice(0, MAX_NAME_CHARACTERS).join("");
  const name = cleaned === "" ? "media" : cleaned;
  const fallback = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\%]/g, "_");
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeExtValue(name)}`;
}

/** The response headers for a media download; a malformed type becomes `octet-stream`. */
export function downloadHeaders(media: { mimetype: string; filename?: string | null }) {
  const type = media.mimetype.trim();
  return {
    "Content-Type": MIME_TYPE.test(type) ? type : "application/octet-stream",
    "Content-Disposition": attachmentDisposition(media.filename || "media"),
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox",
  };
}
