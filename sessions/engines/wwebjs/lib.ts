/**
 * @module
 * The parts of whatsapp-web.js the engine uses, each imported from its own file. The package's
 * index also loads every other structure and `RemoteAuth` with its archive libraries (archiver,
 * unzipper, fs-extra, lodash, bluebird, ...): ~7.5 MB more in every session Worker
 * (bench/README.md). The version is pinned in deno.json, so these paths do not move under us.
 */
import Client from "whatsapp-web.js/src/Client.js";
import LocalAuth from "whatsapp-web.js/src/authStrategies/LocalAuth.js";
import Location from "whatsapp-web.js/src/structures/Location.js";
import MessageMedia from "whatsapp-web.js/src/structures/MessageMedia.js";
import Poll from "whatsapp-web.js/src/structures/Poll.js";
import type { Lib } from "./mappers.ts";

export const wwebjs: Record<"Client" | "LocalAuth" | "Location" | "MessageMedia" | "Poll", Lib> = {
  Client,
  LocalAuth,
  Location,
  MessageMedia,
  Poll,
};
