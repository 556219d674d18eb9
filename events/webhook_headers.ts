/**
 * @module
 * The rules for the headers a number's webhook adds to its deliveries. They go out with every
 * attempt, so they are bounded (an account must not make each event cost megabytes); a name may
 * not override what frames or routes the request (hop-by-hop headers, `Host`, `Content-Length`,
 * `Content-Type`) or what the server signs it with (`X-Webhook-*`); a value may not hold a CR, LF
 * or other control character, which would split the request. The API validates with these rules,
 * and the dispatcher drops a header that breaks them (a configuration saved before they existed).
 */
import { HOP_BY_HOP_HEADERS } from "../http_headers.ts";

/** Webhooks a number may have. */
export const MAX_WEBHOOKS = 10;
/** Headers one webhook may set. */
export const MAX_HEADERS = 20;
/** Bytes of header names and values one webhook may set, in all (8 KiB). */
export const MAX_HEADER_BYTES = 8 * 1024;

/** RFC 9110's `token`: what a header name is made of. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HOP_BY_HOP = new Set(HOP_BY_HOP_HEADERS);
const SET_BY_SERVER = new Set(["host", "content-length", "content-type"]);

/** Why a header name may not be set, or null when it may. */
function nameProblem(name: string): string | null {
  if (!TOKEN.test(name)) return `"${name}" is not an HTTP header name`;
  const lower = name.toLowerCase();
  if (HOP_BY_HOP.has(lower)) return `header "${name}" cannot be set: it is a hop-by-hop header`;
  if (SET_BY_SERVER.has(lower) || lower.startsWith("x-webhook-")) {
    return `header "${name}" cannot be set: the server sets it`;
  }
  return null;
}

function valueProblem(name: string, value: string): string | null {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    // Control characters but tab (0x09); DEL (0x7f) is one too.
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) {
      return `the value of header "${name}" contains a control character (CR, LF or another; ` +
        "tab is allowed)";
    }
    // A header carries bytes, one per character: nothing beyond Latin-1.
    if (code > 0xff) {
      return `the value of header "${name}" contains characters beyond Latin-1, which a ` +
        "header cannot carry";
    }
  }
  return null;
}

/** The first problem of a webhook's headers as a sentence naming the limit or header, or null. */
export function headersProblem(headers: Readonly<Record<string, string>>): string | null {
  const entries = Object.entries(headers);
  if (entries.length > MAX_HEADERS) return `at most ${MAX_HEADERS} headers per webhook`;
  let bytes = 0;
  const seen = new Set<string>();
  for (const [name, value] of entries) {
    const problem = nameProblem(name) ?? valueProblem(name, value);
    if (problem) return problem;
    if (seen.has(name.toLowerCase())) return `header "${name}" is listed twice`;
    seen.add(name.toLowerCase());
    bytes += name.length + value.length;
  }
  if (bytes > MAX_HEADER_BYTES) {
    return `at most ${MAX_HEADER_BYTES} bytes (8 KiB) of header names and values per webhook`;
  }
  return null;
}

/** Whether the dispatcher may send this header (the same rules, one header at a time). */
export function isSendableHeader(name: string, value: string): boolean {
  return nameProblem(name) === null && valueProblem(name, value) === null;
}
