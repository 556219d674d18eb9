/**
 * @module
 * What the WAHA REST dialect (`routes/waha/`) needs of WAHA's API besides its DTOs
 * (`schemas.ts`): the error body WAHA's HTTP framework (NestJS) answers with, and the endpoints of
 * WAHA's controllers this server does not cover, which answer `501` in that shape.
 */
import { z } from "@hono/zod-openapi";

/**
 * NestJS's `HttpException` body, as WAHA answers every error: the status, the message (a list of
 * messages for a failed validation) and the status's reason phrase. Ours adds `code`.
 */
export const WahaErrorBody = z.object({
  statusCode: z.number().int(),
  message: z.union([z.string(), z.array(z.string())]),
  error: z.string().optional(),
});
export type WahaErrorBody = z.infer<typeof WahaErrorBody>;

/** A WAHA endpoint: its method and its path under `/api`, in Hono's spelling (`:session`). */
export interface WahaEndpoint {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
}

/**
 * The endpoints of WAHA's sessions, auth, chatting, chats, contacts, groups and presence
 * controllers (2024-10), and of its newer profile controller, that this server does not cover: each answers `501` in WAHA's error shape.
 */
export const UNCOVERED_WAHA_ENDPOINTS: readonly WahaEndpoint[] = [
  // sessions.controller.ts
  { method: "PUT", path: "/sessions/:session" },
  { method: "POST", path: "/sessions/start" },
  { method: "POST", path: "/sessions/stop" },
  { method: "POST", path: "/sessions/logout" },
  // auth.controller.ts
  { method: "POST", path: "/:session/auth/authorize-code" },
  { method: "GET", path: "/:session/auth/captcha" },
  { method: "POST", path: "/:session/auth/captcha" },
  // chatting.controller.ts
  { method: "POST", path: "/sendButtons" },
  { method: "POST", path: "/sendLinkPreview" },
  { method: "GET", path: "/messages" },
  { method: "GET", path: "/sendText" },
  { method: "GET", path: "/checkNumberStatus" },
  { method: "POST", path: "/reply" },
  // groups.controller.ts
  { method: "GET", path: "/:session/groups" },
  { method: "DELETE", path: "/:session/groups/:id" },
  // profile.controller.ts (newer WAHA)
  { method: "PUT", path: "/:session/profile/picture" },
  { method: "DELETE", path: "/:session/profile/picture" },
];
