/**
 * @module
 * `mountWahaRoutes(app, deps)`: WAHA's REST dialect, mounted under `/api` beside the contract's
 * `/api/whatsapp`: the WAHA endpoints this server covers, each a thin translation onto the same
 * session manager calls and guards as the contract's routes, and a `501` in WAHA's error shape for
 * the ones it does not. Listed in the OpenAPI document under the "WAHA-compatible" tag.
 */
import type { Hono } from "hono";
import type { EventsApi } from "../../events/pipeline.ts";
import type { MediaResolver } from "../../media/media_input.ts";
import type { AuthGuards } from "../../middleware/guards.ts";
import type { AppEnv } from "../../middleware/principal.ts";
import type { SessionManager } from "../../sessions/manager.ts";
import { createWahaChatRoutes } from "./chats.ts";
import { createWahaChattingRoutes } from "./chatting.ts";
import { createWahaContactRoutes } from "./contacts.ts";
import { createWahaGroupRoutes } from "./groups.ts";
import { createWahaLidRoutes } from "./lids.ts";
import { createWahaNotCoveredRoutes } from "./not_covered.ts";
import { createWahaPresenceRoutes } from "./presence.ts";
import { createWahaProfileRoutes } from "./profile.ts";
import { createWahaSessionRoutes } from "./sessions.ts";

/** Where WAHA's API lives: its paths are `/api/sessions`, `/api/sendText`, `/api/{session}/…`. */
export const WAHA_BASE = "/api";

/** Mounts WAHA's routes on the app, under `/api`. */
export function mountWahaRoutes(
  app: Hono<AppEnv>,
  deps: {
    manager: SessionManager;
    guards: AuthGuards;
    media: MediaResolver;
    events?: Pick<EventsApi, "forgetNumber">;
  },
): void {
  // Mounted as plain routers: their route types are too many for Hono to merge with the app's
  // (nothing uses them: the app is a fetch handler, the document comes from the registry).
  const mount = (router: unknown) => app.route(WAHA_BASE, router as Hono<AppEnv>);
  mount(createWahaSessionRoutes(deps));
  mount(createWahaChattingRoutes(deps));
  mount(createWahaChatRoutes(deps));
  mount(createWahaContactRoutes(deps));
  mount(createWahaPresenceRoutes(deps));
  mount(createWahaProfileRoutes(deps));
  mount(createWahaLidRoutes(deps));
  mount(createWahaGroupRoutes(deps));
  mount(createWahaNotCoveredRoutes(deps));
}
