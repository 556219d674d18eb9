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
import { PNG_DATA_URL } from "./engine_inputs.ts";
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

export const NameSchema = z.object({
  name: z.string().trim().min(1).max(25).openapi({ example: "Support desk" }),
}).openapi("ProfileName");

export const StatusSchema = z.object({
  status: z.string().max(139).openapi({ example: "Available 9-5" }),
}).openapi("ProfileStatus");

const PictureSchema = z.object({
  imageUrl: z.string().min(1).openapi({
    description: "The picture: an http(s) URL (fetched by the server), a data: URL or bare base64",
    example: PNG_DATA_URL,
  }),
}).openapi("ProfilePictureChange");

const common = { tags: ["Profile"], security: SECURED };

const getRoute = createRoute({
  ...common,
  method: "get",
  path: "/{phoneNumber}/profile",
  summary: "The linked account's profile",
  request: { params: PhoneParams },
  responses: {
    200: jsonResponse(ProfileSchema, "The profile"),
    ...errorResponses(...SESSION_CALL_ERRORS),
  },
});

const changeRoute = <T extends z.ZodType>(what: string, schema: T, withMedia = false) =>
  createRoute({
    ...common,
    method: "put",
    path: `/{phoneNumber}/profile/${what}`,
    summary: `Change the profile ${what}`,
    request: { params: PhoneParams, ...jsonBody(schema) },
    responses: {
      200: jsonResponse(ProfileSchema, "The profile afterwards"),
      ...errorResponses(
        ...SESSION_CALL_ERRORS,
        ...(withMedia ? (["PAYLOAD_TOO_LARGE"] as const) : []),
      ),
    },
  });

const nameRoute = changeRoute("name", NameSchema);
const statusRoute = changeRoute("status", StatusSchema);
const pictureRoute = changeRoute("picture", PictureSchema, true);

export function createProfileRoutes(
  deps: { manager: SessionManager; guards: AuthGuards; media: MediaResolver },
) {
  const { manager, guards, media } = deps;

  return createRouter()
    .guard(guards.requireSingleAccountProtected(), getRoute, nameRoute, statusRoute)
    .guard(guards.requireSingleAccountProtected({ media: true }), pictureRoute)
    .openapi(getRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      return c.json(await manager.session(phoneNumber, c.get("principal")).getProfile(), 200);
    })
    .openapi(nameRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      await session.setProfileName(c.req.valid("json").name);
      return c.json(await session.getProfile(), 200);
    })
    .openapi(statusRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      await session.setProfileStatus(c.req.valid("json").status);
      return c.json(await session.getProfile(), 200);
    })
    .openapi(pictureRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      await manager.session(phoneNumber, c.get("principal")).assertReady();
      const picture = await media(c.req.valid("json").imageUrl, {
        field: "imageUrl",
        kind: "image",
        signal: c.req.raw.signal,
        requestId: c.get("requestId"),
      });
      const session = manager.session(phoneNumber, c.get("principal"));
      await session.setProfilePicture(picture);
      return c.json(await session.getProfile(), 200);
    });
}
