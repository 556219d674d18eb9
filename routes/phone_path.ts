/**
 * @module
 * `/api/whatsapp/+4915550001234/state` is the same number as `/api/whatsapp/4915550001234/state`:
 * people write numbers with a `+`. The router is given the path without it (Hono's `getPath`), so
 * every guard, which reads `:phoneNumber` before any validation, and every route see one spelling
 * of the number: ownership is checked on the number that is acted on.
 */
import { getPath } from "hono/utils/url";

/** `getPath` for an app whose routes start with `/{phoneNumber}` under `base`. */
export function pathWithoutPlus(base: string): (request: Request) => string {
  const escaped = base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  // `%2B` too: a client that encodes the `+` means the same.
  const plus = new RegExp(`^(${escaped}/)(?:\\+|%2B)(?=\\d)`, "i");
  return function pathOf(request: Request): string {
    return getPath(request).replace(plus, "$1");
  };
}
