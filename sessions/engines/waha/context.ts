/**
 * @module
 * What the waha engine's modules by area (`groups.ts`, `profile.ts`, …) share: the WAHA client
 * of the number, WAHA's name for its session, the account's own id, and the session's paths.
 */
import type { WahaClient } from "./client.ts";

export interface WahaContext {
  client: WahaClient;
  /** WAHA's session name: the number. */
  session: string;
  /** The account's own id (`<number>@c.us`). */
  me: string;
  /** `/api/<session><suffix>`: a call under the session's own path. */
  path(suffix: string): string;
}

export function createWahaContext(client: WahaClient, session: string): WahaContext {
  return { client, session, me: `${session}@c.us`, path: (suffix) => `/api/${session}${suffix}` };
}

/** A path segment (a chat, group or message id), as WAHA's router reads it. */
export const segment = encodeURIComponent;
