/**
 * @module
 * The simulator's channels (newsletters): a small directory of public channels (one followed
 * from the start, one verified), the channels the account creates, and what it may do to each as
 * WhatsApp lets it: follow and unfollow a channel it does not own, mute and unmute one it follows
 * or owns, delete and post to one it owns. A channel is found by its id or its invite code. The
 * state file keeps them across restarts.
 */
import {
  type ChannelCapabilities,
  type ChannelDto,
  type ChannelRole,
  type ChannelSearchInput,
  EngineError,
  notFound,
  type SentMessage,
} from "../../engine.ts";
import { randomHex, unixNow } from "./data.ts";

export interface SimChannel extends Omit<ChannelDto, "invite"> {
  inviteCode: string;
  createdAt: number;
  /** How many posts it has had. */
  posts: number;
}

/** Channels the simulator's WhatsApp knows: followed, verified, and one of neither. */
export const SIMULATOR_CHANNELS: readonly SimChannel[] = [
  {
    id: "120363000000000101@newsletter",
    name: "WhatsApp",
    description: "Official channel",
    inviteCode: "0029VaSimWhatsApp00000000",
    picture: "https://pps.example.invalid/channels/whatsapp.jpg",
    verified: true,
    role: "SUBSCRIBER",
    subscribersCount: 200_000_000,
    muted: false,
    createdAt: 1_690_000_000,
    posts: 12,
  },
  {
    id: "120363000000000102@newsletter",
    name: "Simulator News",
    description: "What happens in the simulator",
    inviteCode: "0029VaSimNews000000000000",
    picture: null,
    verified: false,
    role: "GUEST",
    subscribersCount: 1_234,
    muted: false,
    createdAt: 1_700_000_000,
    posts: 3,
  },
  {
    id: "120363000000000103@newsletter",
    name: "Daily Recipes",
    description: "A recipe a day",
    inviteCode: "0029VaSimRecipes000000000",
    picture: null,
    verified: false,
    role: "GUEST",
    subscribersCount: 56_789,
    muted: false,
    createdAt: 1_710_000_000,
    posts: 40,
  },
];

const INVITE_BASE = "https://whatsapp.com/channel/";

function refuse(message: string): EngineError {
  return new EngineError("BAD_REQUEST", message);
}

/** The channels, and what the state file keeps of them. */
export interface SimulatorChannels {
  calls: ChannelCapabilities;
  /** Every channel the phone knows now, as the state file keeps them. */
  saved(): SimChannel[];
  /** The channels of an earlier run, in place of the seed. */
  restore(saved: SimChannel[]): void;
}

export function createSimulatorChannels(): SimulatorChannels {
  const channels = new Map(SIMULATOR_CHANNELS.map((c) => [c.id, structuredClone(c)]));
  let created = 0;

  function dto(channel: SimChannel): ChannelDto {
    const { inviteCode, createdAt: _c, posts: _p, ...rest } = channel;
    return { ...structuredClone(rest), invite: INVITE_BASE + inviteCode };
  }

  function find(idOrCode: string): SimChannel {
    const code = idOrCode.replace(/^https?:\/\/(?:www\.)?whatsapp\.com\/channel\//, "");
    const channel = channels.get(idOrCode) ??
      [...channels.values()].find((c) => c.inviteCode === code);
    if (!channel) throw notFound(`Channel "${idOrCode}" not found`);
    return channel;
  }

  const follows = (c: SimChannel) => c.role !== "GUEST";

  function act(channelId: string, change: (channel: SimChannel) => void): Promise<void> {
    try {
      change(find(channelId));
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function notOwned(channel: SimChannel, what: string): void {
    if (channel.role === "OWNER") {
      throw refuse(`You own channel "${channel.id}": you cannot ${what} it`);
    }
  }

  const calls: ChannelCapabilities = {
    listChannels(role?: ChannelRole) {
      const list = [...channels.values()]
        .filter((c) => follows(c) && (role === undefined || c.role === role))
        .map(dto);
      return Promise.resolve(list);
    },
    getChannel(idOrCode) {
      try {
        return Promise.resolve(dto(find(idOrCode)));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    createChannel({ name, description }) {
      let id: string;
      do id = `120363000000000${200 + ++created}@newsletter`; while (channels.has(id));
      const channel: SimChannel = {
        id,
        name,
        description: description ?? "",
        inviteCode: `0029Va${randomHex(10)}`,
        picture: null,
        verified: false,
        role: "OWNER",
        subscribersCount: 0,
        muted: false,
        createdAt: unixNow(),
        posts: 0,
      };
      channels.set(channel.id, channel);
      return Promise.resolve(dto(channel));
    },
    updateChannel({ channelId, name, description }) {
      try {
        const channel = find(channelId);
        if (channel.role !== "OWNER" && channel.role !== "ADMIN") {
          throw refuse(`Only the owner and admins can change channel "${channelId}"`);
        }
        if (name !== undefined) channel.name = name;
        if (description !== undefined) channel.description = description;
        return Promise.resolve(dto(channel));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    deleteChannel(channelId) {
      return act(channelId, (channel) => {
        if (channel.role !== "OWNER") {
          throw refuse(`Only the owner can delete channel "${channelId}"`);
        }
        channels.delete(channel.id);
      });
    },
    followChannel(channelId) {
      return act(channelId, (channel) => {
        notOwned(channel, "follow");
        if (channel.role === "GUEST") {
          channel.role = "SUBSCRIBER";
          channel.subscribersCount = (channel.subscribersCount ?? 0) + 1;
        }
      });
    },
    unfollowChannel(channelId) {
      return act(channelId, (channel) => {
        notOwned(channel, "unfollow");
        if (channel.role === "GUEST") return;
        channel.role = "GUEST";
        channel.muted = false;
        channel.subscribersCount = Math.max(0, (channel.subscribersCount ?? 1) - 1);
      });
    },
    muteChannel(channelId) {
      return act(channelId, (channel) => {
        if (!follows(channel)) throw refuse(`Follow channel "${channelId}" before muting it`);
        channel.muted = true;
      });
    },
    unmuteChannel(channelId) {
      return act(channelId, (channel) => {
        if (!follows(channel)) throw refuse(`Channel "${channelId}" is not followed`);
        channel.muted = false;
      });
    },
    searchChannels(input: ChannelSearchInput) {
      let found = [...channels.values()].filter((c) => c.role !== "OWNER");
      if ("text" in input) {
        const text = input.text.toLowerCase();
        found = found.filter((c) =>
          c.name.toLowerCase().includes(text) || c.description.toLowerCase().includes(text)
        );
      } else if (input.view === "NEW") {
        found.sort((a, b) => b.createdAt - a.createdAt);
      } else {
        found.sort((a, b) => (b.subscribersCount ?? 0) - (a.subscribersCount ?? 0));
      }
      return Promise.resolve(found.slice(0, input.limit).map(dto));
    },
    sendChannelText({ channelId }): Promise<SentMessage> {
      try {
        const channel = find(channelId);
        if (channel.role !== "OWNER" && channel.role !== "ADMIN") {
          throw refuse(`Only the owner and admins can post to channel "${channelId}"`);
        }
        channel.posts++;
        return Promise.resolve({
          messageId: `true_${channel.id}_${channel.posts + 100}`,
          timestamp: unixNow(),
        });
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
  return {
    calls,
    saved: () => [...channels.values()],
    restore(saved) {
      channels.clear();
      for (const channel of saved) channels.set(channel.id, channel);
    },
  };
}
