/**
 * @module
 * The wwebjs engine's channels (newsletters), through whatsapp-web.js's public API:
 * `Client.getChannels/getChatById/getChannelByInviteCode/searchChannels/createChannel/
 * deleteChannel/subscribeToChannel/unsubscribeFromChannel`, `Channel.mute/unmute`, and
 * `Client.sendMessage` to the channel, `Channel.setSubject/setDescription`. The library answers `false` (or nothing) where WhatsApp
 * declines; the engine says why instead, checking the account's role in the channel first.
 */
import {
  type ChannelCapabilities,
  type ChannelDto,
  type ChannelRole,
  type ChannelSearchInput,
  type ChannelTextInput,
  type CreateChannelInput,
  EngineError,
  notFound,
  type SentMessage,
  type UpdateChannelInput,
} from "../../engine.ts";
import { type Lib, serialized } from "./mappers.ts";
import type { WwebjsContext } from "./context.ts";
import { send } from "./messaging.ts";

/** whatsapp-web.js numbers the directory's views (a search's `view`) in this order. */
const VIEWS = ["RECOMMENDED", "TRENDING", "POPULAR", "NEW"];

const ROLES: Record<string, ChannelRole> = {
  owner: "OWNER",
  admin: "ADMIN",
  subscriber: "SUBSCRIBER",
};

/** A channel as whatsapp-web.js gives it (a `Channel`, or the plain model a search answers). */
export function toChannelDto(channel: Lib): ChannelDto {
  const meta = channel.channelMetadata ?? {};
  const size = Number(meta.size);
  return {
    id: serialized(channel.id),
    name: String(channel.name ?? meta.name ?? ""),
    description: String(meta.description ?? channel.description ?? ""),
    invite: meta.inviteCode ? `https://whatsapp.com/channel/${meta.inviteCode}` : "",
    picture: meta.pictureUrl ?? null,
    verified: meta.verified === true,
    role: ROLES[String(meta.membershipType)] ?? "GUEST",
    subscribersCount: Number.isFinite(size) ? size : null,
    muted: channel.isMuted === true,
  };
}

function refuse(message: string): EngineError {
  return new EngineError("BAD_REQUEST", message);
}

export function channelCapabilities(ctx: WwebjsContext): ChannelCapabilities {
  /** The library's `Channel`, by id or invite code; 404 when WhatsApp knows no such channel. */
  async function findChannel(idOrCode: string): Promise<Lib> {
    ctx.ready();
    const channel = idOrCode.endsWith("@newsletter")
      ? await ctx.call(() => ctx.client.getChatById(idOrCode))
      : await ctx.call(() => ctx.client.getChannelByInviteCode(idOrCode));
    if (!channel || !channel.isChannel) throw notFound(`Channel "${idOrCode}" not found`);
    return channel;
  }

  async function ownedOrNot(channelId: string, action: string): Promise<Lib> {
    const channel = await findChannel(channelId);
    if (toChannelDto(channel).role === "OWNER") {
      throw refuse(`You own channel "${channelId}": you cannot ${action} it`);
    }
    return channel;
  }

  /** Turns the library's `false` into a refusal that names the action. */
  function declined(done: boolean, what: string): void {
    if (!done) throw refuse(`WhatsApp declined to ${what}`);
  }

  return {
    async listChannels(role?: ChannelRole) {
      ctx.ready();
      const channels: Lib[] = await ctx.call(() => ctx.client.getChannels());
      return channels.map(toChannelDto).filter((c) =>
        c.role !== "GUEST" && (role === undefined || c.role === role)
      );
    },
    async getChannel(idOrCode) {
      return toChannelDto(await findChannel(idOrCode));
    },
    async createChannel({ name, description }: CreateChannelInput) {
      ctx.ready();
      const created = await ctx.call(() =>
        ctx.client.createChannel(name, { description: description ?? null })
      );
      // whatsapp-web.js answers a sentence instead of throwing.
      if (typeof created === "string") throw refuse(created.replace(/^CreateChannelError: /, ""));
      return toChannelDto(await findChannel(serialized(created.nid)));
    },
    async updateChannel({ channelId, name, description }: UpdateChannelInput) {
      const channel = await findChannel(channelId);
      const role = toChannelDto(channel).role;
      if (role !== "OWNER" && role !== "ADMIN") {
        throw refuse(`Only the owner and admins can change channel "${channelId}"`);
      }
      if (name !== undefined) {
        declined(await ctx.call(() => channel.setSubject(name)), `rename channel "${channelId}"`);
      }
      if (description !== undefined) {
        declined(
          await ctx.call(() => channel.setDescription(description)),
          `change the description of channel "${channelId}"`,
        );
      }
      return toChannelDto(await findChannel(channelId));
    },
    async deleteChannel(channelId) {
      const channel = await findChannel(channelId);
      if (toChannelDto(channel).role !== "OWNER") {
        throw refuse(`Only the owner can delete channel "${channelId}"`);
      }
      declined(
        await ctx.call(() => ctx.client.deleteChannel(channelId)),
        `delete channel "${channelId}"`,
      );
    },
    async followChannel(channelId) {
      const channel = await ownedOrNot(channelId, "follow");
      if (toChannelDto(channel).role !== "GUEST") return;
      declined(
        await ctx.call(() => ctx.client.subscribeToChannel(channelId)),
        `follow channel "${channelId}"`,
      );
    },
    async unfollowChannel(channelId) {
      const channel = await ownedOrNot(channelId, "unfollow");
      if (toChannelDto(channel).role === "GUEST") return;
      declined(
        await ctx.call(() => ctx.client.unsubscribeFromChannel(channelId)),
        `unfollow channel "${channelId}"`,
      );
    },
    async muteChannel(channelId) {
      const channel = await findChannel(channelId);
      if (toChannelDto(channel).role === "GUEST") {
        throw refuse(`Follow channel "${channelId}" before muting it`);
      }
      declined(await ctx.call(() => channel.mute()), `mute channel "${channelId}"`);
    },
    async unmuteChannel(channelId) {
      const channel = await findChannel(channelId);
      if (toChannelDto(channel).role === "GUEST") {
        throw refuse(`Channel "${channelId}" is not followed`);
      }
      declined(await ctx.call(() => channel.unmute()), `unmute channel "${channelId}"`);
    },
    async searchChannels(input: ChannelSearchInput) {
      ctx.ready();
      const options = "text" in input ? { searchText: input.text, limit: input.limit } : {
        view: VIEWS.indexOf(input.view),
        limit: input.limit,
        ...(input.countries ? { countryCodes: [...input.countries] } : {}),
      };
      const found: Lib[] = await ctx.call(() => ctx.client.searchChannels(options));
      return found.map(toChannelDto);
    },
    async sendChannelText({ channelId, text }: ChannelTextInput): Promise<SentMessage> {
      const role = toChannelDto(await findChannel(channelId)).role;
      if (role !== "OWNER" && role !== "ADMIN") {
        throw refuse(`Only the owner and admins can post to channel "${channelId}"`);
      }
      return await send(ctx, channelId, text, { sendSeen: false, linkPreview: false });
    },
  };
}
