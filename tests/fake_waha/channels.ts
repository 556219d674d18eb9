/**
 * @module
 * The fake WAHA's channels (`/api/{session}/channels…`, newer WAHA): the account's channels by
 * role, one by its id or invite code, creating (the account owns it) and deleting one (its owner
 * only), following and unfollowing (subscriber, or guest again), muting and unmuting, and the
 * directory search by text or by view. The directory holds two public channels the account does
 * not follow: `120363000000000101@newsletter` ("World news", verified) and
 * `120363000000000102@newsletter` ("Tech notes").
 */
import {
  type Channel,
  type ChannelListResult,
  ChannelSearchByText,
  ChannelSearchByView,
  CreateChannelRequest,
  ListChannelsQuery,
} from "../../waha/schemas.ts";
import { json, nestError, validate } from "./http.ts";

export interface FakeChannel {
  channel: Omit<Channel, "role">;
  role: Channel["role"];
  muted: boolean;
}

export const WORLD_NEWS = "120363000000000101@newsletter";

const publicChannel = (id: string, name: string, verified: boolean): FakeChannel => ({
  channel: {
    id,
    name,
    description: `${name}, every day`,
    invite: `https://whatsapp.com/channel/${id.split("@")[0]}CODE`,
    verified,
    subscribersCount: verified ? 120_000 : 800,
  },
  role: "GUEST",
  muted: false,
});

export function seedChannels(): Map<string, FakeChannel> {
  return new Map([
    [WORLD_NEWS, publicChannel(WORLD_NEWS, "World news", true)],
    [
      "120363000000000102@newsletter",
      publicChannel("120363000000000102@newsletter", "Tech notes", false),
    ],
  ]);
}

export interface ChannelsRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The channels the (WORKING) session the path names knows. */
  channelsOf(session: string): Map<string, FakeChannel>;
  next(): number;
}

/** Answers a channels call, or null for a path that is not one. */
export function routeChannels(request: ChannelsRequest): Response | null {
  const { method, path, query, body } = request;
  const m = path.match(/^\/api\/([^/]+)\/channels(?:\/(.*))?$/);
  if (!m) return null;
  const channels = request.channelsOf(m[1]);
  const rest = (m[2] ?? "").split("/").map(decodeURIComponent);
  const asChannel = (c: FakeChannel): Channel => ({ ...c.channel, role: c.role });
  const page = (found: FakeChannel[], limit = 50): ChannelListResult => ({
    page: { startCursor: null, endCursor: null, hasNextPage: false, hasPreviousPage: false },
    channels: found.slice(0, limit).map((c) => c.channel),
  });
  const directory = () => [...channels.values()].filter((c) => c.role === "GUEST");

  if (m[2] === undefined || m[2] === "") {
    if (method === "GET") {
      const { role } = validate(ListChannelsQuery, query);
      const mine = [...channels.values()].filter((c) =>
        c.role !== "GUEST" && (!role || c.role === role)
      );
      return json(200, mine.map(asChannel));
    }
    if (method === "POST") {
      const input = validate(CreateChannelRequest, body);
      const id = `1203631${String(request.next()).padStart(11, "0")}@newsletter`;
      const created: FakeChannel = {
        channel: {
          id,
          name: input.name,
          description: input.description ?? "",
          invite: `https://whatsapp.com/channel/${id.split("@")[0]}CODE`,
          verified: false,
          subscribersCount: 0,
        },
        role: "OWNER",
        muted: false,
      };
      channels.set(id, created);
      return json(201, asChannel(created));
    }
  }
  if (rest[0] === "search" && method === "POST") {
    if (rest[1] === "by-text") {
      const input = validate(ChannelSearchByText, body);
      const found = directory().filter((c) =>
        c.channel.name.toLowerCase().includes(input.text.toLowerCase())
      );
      return json(200, page(found, input.limit));
    }
    if (rest[1] === "by-view") {
      const input = validate(ChannelSearchByView, body);
      return json(200, page(directory(), input.limit));
    }
  }
  const key = rest[0];
  const channel = channels.get(key) ??
    [...channels.values()].find((c) => c.channel.invite.endsWith(`/${key.split("/").pop()}`));
  if (!channel) return nestError(404, "Not Found", "Channel not found");
  switch (`${method} ${rest[1] ?? ""}`) {
    case "GET ":
      return json(200, asChannel(channel));
    case "DELETE ":
      if (channel.role !== "OWNER") {
        return nestError(400, "Bad Request", "Only the owner can delete a channel");
      }
      channels.delete(channel.channel.id);
      return json(200, undefined);
    case "POST follow":
      if (channel.role === "GUEST") channel.role = "SUBSCRIBER";
      return json(201, undefined);
    case "POST unfollow":
      if (channel.role === "SUBSCRIBER") channel.role = "GUEST";
      return json(201, undefined);
    case "POST mute":
    case "POST unmute":
      channel.muted = rest[1] === "mute";
      return json(201, undefined);
  }
  return nestError(404, "Not Found", `Cannot ${method} ${path}`);
}
