/**
 * @module
 * The waha engine's channels (newsletters): the account's channels (by role), one by its id or
 * invite code, creating and deleting one, following, unfollowing, muting and unmuting, the
 * directory search (by text or by view), over WAHA's `/api/{session}/channels…` calls; a post to
 * a channel is WAHA's `sendText` to its `…@newsletter` id. WAHA has no call to rename a channel
 * (501), and its channels do not say whether they are muted (`muted` is false).
 */
import type { ChannelDto, Engine } from "../../engine.ts";
import type {
  Channel,
  ChannelListResult,
  ChannelPublicInfo,
  ChannelSearchByText,
  ChannelSearchByView,
  CreateChannelRequest,
  MessageTextRequest,
} from "../../../waha/schemas.ts";
import { segment, type WahaContext } from "./context.ts";
import { toSentMessage } from "./mappers.ts";

export type WahaChannelCapabilities = Pick<
  Engine,
  | "listChannels"
  | "getChannel"
  | "createChannel"
  | "deleteChannel"
  | "followChannel"
  | "unfollowChannel"
  | "muteChannel"
  | "unmuteChannel"
  | "searchChannels"
  | "sendChannelText"
>;

/** WAHA's channel (or a directory entry, where the account is a guest) as ours. */
export function toChannelDto(raw: Channel | ChannelPublicInfo): ChannelDto {
  return {
    id: raw.id,
    name: raw.name,
    description: raw.description ?? "",
    invite: raw.invite ?? "",
    picture: raw.picture || raw.preview || null,
    verified: raw.verified === true,
    role: "role" in raw && raw.role ? raw.role : "GUEST",
    subscribersCount: typeof raw.subscribersCount === "number" ? raw.subscribersCount : null,
    muted: false,
  };
}

export function createWahaChannels(ctx: WahaContext): WahaChannelCapabilities {
  const { client, path } = ctx;
  const channelPath = (id: string, suffix = "") => path(`/channels/${segment(id)}${suffix}`);
  const action = (suffix: string) => async (channelId: string) => {
    await client.call({ method: "POST", path: channelPath(channelId, suffix) });
  };

  return {
    async listChannels(role) {
      const list = await client.call<Channel[] | null>({
        method: "GET",
        path: path("/channels"),
        // WAHA filters by any role but GUEST; a guest is in no list of the account's.
        query: role && role !== "GUEST" ? { role } : {},
      });
      const channels = (list ?? []).map(toChannelDto);
      return role === "GUEST" ? [] : channels;
    },

    async getChannel(idOrInviteCode) {
      return toChannelDto(
        await client.call<Channel>({ method: "GET", path: channelPath(idOrInviteCode) }),
      );
    },

    async createChannel({ name, description }) {
      const body: CreateChannelRequest = { name, ...(description ? { description } : {}) };
      return toChannelDto(
        await client.call<Channel>({ method: "POST", path: path("/channels"), body }),
      );
    },

    async deleteChannel(channelId) {
      await client.call({ method: "DELETE", path: channelPath(channelId) });
    },

    followChannel: action("/follow"),
    unfollowChannel: action("/unfollow"),
    muteChannel: action("/mute"),
    unmuteChannel: action("/unmute"),

    async searchChannels(input) {
      const [by, body]: [string, ChannelSearchByText | ChannelSearchByView] = "text" in input
        ? ["text", { text: input.text, limit: input.limit, startCursor: "", categories: [] }]
        : [
          "view",
          {
            view: input.view,
            limit: input.limit,
            startCursor: "",
            categories: [],
            ...(input.countries?.length ? { countries: input.countries } : {}),
          },
        ];
      const result = await client.call<ChannelListResult | null>({
        method: "POST",
        path: path(`/channels/search/by-${by}`),
        body,
      });
      return (result?.channels ?? []).map(toChannelDto);
    },

    async sendChannelText({ channelId, text }) {
      const body: MessageTextRequest = { session: ctx.session, chatId: channelId, text };
      return toSentMessage(await client.call({ method: "POST", path: "/api/sendText", body }));
    },
  };
}
