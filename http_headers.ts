/**
 * @module
 * HTTP header names more than one part needs: the hop-by-hop headers of RFC 9110 §7.6.1, which
 * belong to one connection, never to the message (a webhook may not set them; a forwarded request
 * or answer does not carry them on).
 */
export const HOP_BY_HOP_HEADERS: readonly string[] = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];
