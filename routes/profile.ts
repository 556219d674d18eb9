/**
 * @module
 * Profile routes: the linked account's number, name, about status and picture URL, and changing
 * the name, the status and the picture. Each change answers the profile as it is afterwards. The
 * picture takes the same media field as the messaging routes (URL, data: URL or base64).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { MediaResolver } from "../media/media_input.ts";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  jsonBody,
  jsonResponse,
  PhoneParams,
  SECURED,
  SESSION_CALL_ERRORS,
} from "./schemas.ts";

const ProfileSchema = z.object({
  id: z.string().openapi({ example: "4915550001234@c.us" }),
  number: z.string().openapi({ example: "4915550001234" }),
  name: z.string().openapi({ example: "Simulator 4915550001234" }),
  status: z.string().openapi({ example: "Hey there! I am using WhatsApp." }),
  pictureUrl: z.string().nullable().openapi({ example: null }),
}).openapi("Profile");

const NameSchema = z.object({
  name: z.string().trim().min(1).max(25).openapi({ example: "Support desk" }),
}).openapi("ProfileName");

const StatusSchema = z.object({
  status: z.string().max(139).openapi({ example: "Available 9-5" }),
}).openapi("ProfileStatus");

const PictureSchema = z.object({
  imageUrl: z.string().min(1).openapi({
    description: "The picture: an http(s) URL (fetched by the server), a data: URL or bare base64",
    example:
      "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  }),
}).openapi("ProfilePictureChange");

export function createProfileRoutes(
  deps: { manager: SessionManager; guards: AuthGuards; media: MediaResolver },
) {
  const { manager, guards, media } = deps;
  const owned = guards.requireSingleAccountProtected();
  const ownedMedia = guards.requireSingleAccountProtected({ media: true });
  const common = { tags: ["Profile"], security: SECURED };

  const getRoute = createRoute({
    ...common,
    method: "get",
    path: "/{phoneNumber}/profile",
    middleware: [owned] as const,
    summary: "The linked account's profile",
    request: { params: PhoneParams },
    responses: {
      200: jsonResponse(ProfileSchema, "The profile"),
      ...errorResponses(...SESSION_CALL_ERRORS),
    },
  });

  const change = <T extends z.ZodType>(what: string, schema: T, withMedia = false) =>
    createRoute({
      ...common,
      method: "put",
      path: `/{phoneNumber}/profile/${what}`,
      summary: `Change the profile ${what}`,
      middleware: [withMedia ? ownedMedia : owned] as const,
      request: { params: PhoneParams, ...jsonBody(schema) },
      responses: {
        200: jsonResponse(ProfileSchema, "The profile afterwards"),
        ...errorResponses(
          ...SESSION_CALL_ERRORS,
          ...(withMedia ? (["PAYLOAD_TOO_LARGE"] as const) : []),
        ),
      },
    });

  return createRouter()
    .openapi(getRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      return c.json(await manager.session(phoneNumber, c.get("principal")).getProfile(), 200);
    })
    .openapi(change("name", NameSchema), async (c) => {
      const { phoneNumber } = c.req.valid("param");
      await manager.session(phoneNumber, c.get("principal")).setProfileName(
        c.req.valid("json").name,
      );
      return c.json(await manager.session(phoneNumber, c.get("principal")).getProfile(), 200);
    })
    .openapi(change("status", StatusSchema), async (c) => {
      const { phoneNumber } = c.req.valid("param");
      await manager.session(phoneNumber, c.get("principal")).setProfileStatus(
        c.req.valid("json").status,
      );
      return c.json(await manager.session(phoneNumber, c.get("principal")).getProfile(), 200);
    })
    .openapi(change("picture", PictureSchema, true), async (c) => {
      const { phoneNumber } = c.req.valid("param");
      manager.session(phoneNumber, c.get("principal")).assertReady();
      const picture = await media(c.req.valid("json").imageUrl, {
        field: "imageUrl",
        kind: "image",
        signal: c.req.raw.signal,
        requestId: c.get("requestId"),
      });
      await manager.session(phoneNumber, c.get("principal")).setProfilePicture(picture);
      return c.json(await manager.session(phoneNumber, c.get("principal")).getProfile(), 200);
    });
}
