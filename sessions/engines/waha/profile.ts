/**
 * @module
 * The waha engine's own profile: read from WAHA's `GET /api/{session}/profile` (newer WAHA; an
 * older one's `GET /api/sessions/{session}/me`, without the picture), and its name, status (about)
 * and picture changed by WAHA's `PUT /api/{session}/profile/…` calls, which answer `{ success }`
 * (a `false` is WhatsApp's refusal). WAHA cannot read the status back: the profile tells the one
 * this engine last set, else none.
 */
import { type Engine, EngineError } from "../../engine.ts";
import type {
  MeInfo,
  MyProfile,
  ProfileNameRequest,
  ProfilePictureRequest,
  ProfileStatusRequest,
  Result,
} from "../../../waha/schemas.ts";
import type { WahaContext } from "./context.ts";

export type WahaProfileCapabilities = Pick<
  Engine,
  "getProfile" | "setProfileName" | "setProfileStatus" | "setProfilePicture"
>;

export function createWahaProfile(ctx: WahaContext): WahaProfileCapabilities {
  let statusSet = "";

  /** WAHA's profile; an older WAHA without the call answers its session's `me`. */
  async function read(): Promise<MyProfile | null> {
    try {
      return await ctx.client.call<MyProfile | null>({ method: "GET", path: ctx.path("/profile") });
    } catch (error) {
      if (!(error instanceof EngineError) || error.kind !== "NOT_FOUND") throw error;
    }
    const me = await ctx.client.call<MeInfo | null>({
      method: "GET",
      path: `/api/sessions/${ctx.session}/me`,
    });
    return me ? { id: me.id, name: me.pushName, picture: null } : null;
  }

  async function change(what: string, body: object): Promise<void> {
    const answer = await ctx.client.call<Result | null>({
      method: "PUT",
      path: ctx.path(`/profile/${what}`),
      body,
    });
    if (answer?.success === false) {
      throw new EngineError("BAD_REQUEST", `WhatsApp did not change the profile's ${what}`);
    }
  }

  return {
    async getProfile() {
      const profile = await read();
      const id = profile?.id || ctx.me;
      return {
        id,
        number: id.split("@")[0],
        name: profile?.name ?? "",
        status: statusSet,
        pictureUrl: profile?.picture || null,
      };
    },

    setProfileName(name) {
      const body: ProfileNameRequest = { name };
      return change("name", body);
    },
    async setProfileStatus(status) {
      const body: ProfileStatusRequest = { status };
      await change("status", body);
      statusSet = status;
    },
    setProfilePicture(media) {
      if (!media.mimetype.startsWith("image/")) {
        return Promise.reject(new EngineError("BAD_REQUEST", "A profile picture must be an image"));
      }
      const body: ProfilePictureRequest = {
        file: { mimetype: media.mimetype, filename: media.filename, data: media.data },
      };
      return change("picture", body);
    },
  };
}
