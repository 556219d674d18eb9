/**
 * A testing kit for bots built on wa-gateway: start the real gateway inside `deno test`, link a
 * simulated phone, make its contacts write, and read back what the bot sent them. No WhatsApp
 * account, no browser, no server process to manage.
 *
 * `startGateway()` composes the same server as `deno task start`, with the simulator engine, on a
 * free port of 127.0.0.1, a temporary `DATA_DIR` and a generated API key. The phone's other side
 * is driven through the simulator's control API (`/{phoneNumber}/simulator/…`, tag "Simulator" in
 * Swagger UI); its effects reach the bot through the same webhooks and event streams as a real
 * phone's.
 *
 * @example A bot that answers every text (examples/echo_bot/)
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { startGateway } from "./mod.ts";
 * import { startEchoBot } from "./examples/echo_bot/bot.ts";
 *
 * Deno.test("the echo bot answers a text with the same text", async () => {
 *   await using gateway = await startGateway();
 *   await using bot = startEchoBot({ gatewayUrl: gateway.url, apiKey: gateway.apiKey });
 *   const phone = await gateway.linkPhone("4915550001234", { webhookUrl: bot.webhookUrl });
 *
 *   await phone.write({ chatId: "15550000003", text: "ping" });
 *
 *   const reply = await phone.nextMessageTo("15550000003", { timeoutMs: 10_000 });
 *   assert.equal(reply.body, "ping");
 * });
 * ```
 *
 * @module
 */
import { loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";
import { compose } from "./main.ts";

/** A message as the chat's messages endpoint (`GET /{phoneNumber}/messages/{chatId}`) shows it. */
export interface ChatMessage {
  /** The message id (`true_<chat>_<id>` for the phone's own). */
  id: string;
  /** The chat it is in. */
  chatId: string;
  /** The sender: the phone's account for its own messages, the group in a group. */
  from: string;
  /** The receiver. */
  to: string;
  /** The member who wrote it, in a group. */
  author: string | null;
  /** Sent by the phone's account (through the API or on the phone). */
  fromMe: boolean;
  /** `api` when sent through this API (by the bot), `app` when a person wrote it. */
  source?: "api" | "app";
  /** The text, or the media's caption. */
  body: string;
  /** WhatsApp's message type: `chat`, `image`, `document`, `location`, `vcard`, … */
  type: string;
  /** Unix seconds. */
  timestamp: number;
  /** Whether it carries media (`GET …/messages/{chatId}/{messageId}/media` serves it). */
  hasMedia: boolean;
  /** The media's type and file name. */
  media: { mimetype: string; filename: string | null } | null;
  /** -1 error, 0 pending, 1 server, 2 delivered, 3 read, 4 played. */
  ack: number;
  /** The message it replies to. */
  quotedMsgId: string | null;
}

/**
 * The gateway's settings, by the names of the environment variables the README lists
 * (`WEBHOOK_URL`, `ENGINE_CALL_TIMEOUT_MS`, `API_KEY`, …); numbers and booleans are written as
 * text. The kit's defaults: `WA_ENGINE=simulator`, `HOST=127.0.0.1`, `PORT=0` (a free port),
 * `DATA_DIR` a new temporary folder (removed by `close`), `API_KEY` generated,
 * `SIMULATOR_SCAN_MS=50`, `LOG_LEVEL=error`, and loopback allowed for webhooks and media
 * (`WEBHOOK_ALLOW_PRIVATE_HOSTS`, `MEDIA_ALLOW_PRIVATE_HOSTS`), where a test's bot listens.
 */
export type GatewaySettings = Record<string, string | number | boolean | undefined>;

/** How long to wait, at most. */
export interface WaitOptions {
  /** Milliseconds; past them the wait fails with an error saying what did not happen. */
  timeoutMs?: number;
}

/** What {@link Gateway.linkPhone} does beside starting the session. */
export interface LinkOptions extends WaitOptions {
  /** Where the number's events go: registered as its webhook (`PUT /{phoneNumber}/webhooks`). */
  webhookUrl?: string;
  /** The event names that webhook takes (default `["*"]`: all). */
  events?: string[];
}

/** A message a contact or group member writes to the phone (`POST …/simulator/messages`). */
export interface ContactMessage {
  /** The chat: a person's number or id (`15550000003`, `15550000003@c.us`) or a group id. */
  chatId: string;
  /** Who writes: required in a group (one of its members); in a person's chat, that person. */
  from?: string;
  /** The text, or the caption of the media. */
  text?: string;
  /** Media as a `data:` URL (its type is read from the bytes). */
  mediaUrl?: string;
  /** The name the media's file has. */
  filename?: string;
  /** The id of the message of this chat it answers. */
  replyTo?: string;
}

/** A linked, connected simulator session: its number, and what its contacts do. */
export interface SimulatedPhone {
  /** The session's phone number (digits). */
  readonly number: string;
  /**
   * A contact (or a group member) writes to the phone. Resolves with the id of the message that
   * arrived, once it is stored: its `message` event is then on its way to the webhooks.
   */
  write(message: ContactMessage): Promise<string>;
  /**
   * Waits for the next message sent through the API (by the bot) to `chatId`, as the chat shows
   * it. Each message is returned once, oldest first: the first call returns the first message the
   * API sent to the chat since the gateway started, whenever it was sent, so a bot that answers
   * before the test asks is not missed. Fails after `timeoutMs` (default 5000).
   */
  nextMessageTo(chatId: string, options?: WaitOptions): Promise<ChatMessage>;
}

/** A gateway running inside this process; `close` (or `await using`) stops it and cleans up. */
export interface Gateway extends AsyncDisposable {
  /** The API's base URL, `http://127.0.0.1:<port>/api/whatsapp`. */
  readonly url: string;
  /** The admin API key: send it as the `X-Api-Key` header. */
  readonly apiKey: string;
  /** The gateway's data folder. */
  readonly dataDir: string;
  /**
   * A request to the API with the admin key: `path` is below {@link Gateway.url} (`/health`),
   * `body` is sent as JSON. Read or cancel the response's body (`deno test` counts it open).
   */
  request(method: string, path: string, body?: unknown): Promise<Response>;
  /**
   * Starts a simulator session for `phoneNumber`, registers `webhookUrl` as its webhook when
   * given, and resolves once it is connected (default `timeoutMs` 10000).
   */
  linkPhone(phoneNumber: string, options?: LinkOptions): Promise<SimulatedPhone>;
  /** Stops the sessions and the server, then removes a temporary `DATA_DIR`. */
  close(): Promise<void>;
}

const POLL_MS = 50;

/** A key of 32 random hex characters: long enough for `API_KEY`'s minimum. */
function generatedKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `kit-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Polls `check` until it gives a value, or fails after `timeoutMs` naming `what`. */
async function poll<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | null>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Starts the gateway in this process: the real server (`compose()` of `main.ts`) with the
 * simulator engine, listening on a free port of 127.0.0.1, on a temporary `DATA_DIR`, with a
 * generated admin key. `settings` add to or override those (see {@link GatewaySettings}); an
 * invalid one rejects with the same one-line message as `deno task start`.
 *
 * @example
 * ```ts ignore
 * await using gateway = await startGateway({ ENGINE_CALL_TIMEOUT_MS: 5_000 });
 * const health = await gateway.request("GET", "/health");
 * ```
 */
export async function startGateway(settings: GatewaySettings = {}): Promise<Gateway> {
  const given = Object.fromEntries(
    Object.entries(settings).filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, String(value)]),
  );
  const ownDataDir = given.DATA_DIR ? null : await Deno.makeTempDir({ prefix: "wa-gateway-kit-" });
  const removeDataDir = async () => {
    if (ownDataDir) await Deno.remove(ownDataDir, { recursive: true }).catch(() => {});
  };
  let config, server;
  try {
    config = loadConfig({
      WA_ENGINE: "simulator",
      HOST: "127.0.0.1",
      PORT: "0",
      SIMULATOR_SCAN_MS: "50",
      LOG_LEVEL: "error",
      WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1,::1",
      MEDIA_ALLOW_PRIVATE_HOSTS: "127.0.0.1,::1",
      API_KEY: generatedKey(),
      ...(ownDataDir ? { DATA_DIR: ownDataDir } : {}),
      ...given,
    });
    const composing = await compose(config, createLogger(config.logLevel));
    await composing.guards.ready.catch(async (error) => {
      await composing.close();
      throw error;
    });
    server = composing;
  } catch (error) {
    await removeDataDir();
    throw error;
  }
  const composed = server;
  let http: Deno.HttpServer<Deno.NetAddr>;
  try {
    http = Deno.serve({
      hostname: config.host,
      port: config.port,
      onListen: () => {},
    }, composed.app.fetch);
  } catch (error) {
    // The port is taken, say: nothing of this start may outlive it.
    await composed.close();
    await removeDataDir();
    throw error;
  }
  const { hostname, port } = http.addr;
  const url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}/api/whatsapp`;
  const apiKey = composed.adminKey;
  // Sessions of an earlier run on a given DATA_DIR come back, as after `deno task start`.
  await composed.manager.restore();

  function request(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${url}${path}`, {
      method,
      headers: body === undefined
        ? { "X-Api-Key": apiKey }
        : { "X-Api-Key": apiKey, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** The JSON answer of a request that must succeed; else an error with the API's message. */
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await request(method, path, body);
    const answer = await response.json();
    if (!response.ok) {
      throw new Error(`${method} ${path} answered ${response.status}: ${answer.error}`);
    }
    return answer as T;
  }

  function phone(number: string): SimulatedPhone {
    /** The messages `nextMessageTo` returned (ids are unique over all chats). */
    const returned = new Set<string>();
    return {
      number,
      async write(message) {
        const sent = await call<{ messageId: string }>(
          "POST",
          `/${number}/simulator/messages`,
          message,
        );
        return sent.messageId;
      },
      nextMessageTo(chatId, options = {}) {
        const timeoutMs = options.timeoutMs ?? 5_000;
        const path = `/${number}/messages/${encodeURIComponent(chatId)}?limit=200`;
        return poll(`for a message to "${chatId}" sent through the API`, timeoutMs, async () => {
          const response = await request("GET", path);
          // No chat yet: nothing was sent to it so far.
          if (response.status === 404) {
            await response.body?.cancel();
            return null;
          }
          if (!response.ok) {
            throw new Error(`GET ${path} answered ${response.status}: ${await response.text()}`);
          }
          const { messages } = await response.json() as { messages: ChatMessage[] };
          // Newest first: the last one not returned yet is the oldest.
          const next = messages.findLast((m) =>
            m.fromMe && m.source === "api" && !returned.has(m.id)
          );
          if (!next) return null;
          returned.add(next.id);
          return next;
        });
      },
    };
  }

  let closing: Promise<void> | null = null;
  const close = () =>
    closing ??= (async () => {
      composed.events.closeStreams();
      await http.shutdown();
      await composed.close();
      await removeDataDir();
    })();

  return {
    url,
    apiKey,
    dataDir: config.dataDir,
    request,
    async linkPhone(phoneNumber, options = {}) {
      const number = phoneNumber.replace(/^\+/, "");
      const timeoutMs = options.timeoutMs ?? 10_000;
      await call("POST", `/${number}/start`);
      if (options.webhookUrl) {
        await call("PUT", `/${number}/webhooks`, {
          webhooks: [{ url: options.webhookUrl, events: options.events ?? ["*"] }],
        });
      }
      await poll(`for session "${number}" to be connected`, timeoutMs, async () => {
        const { state } = await call<{ state: string }>("GET", `/${number}/state`);
        return state === "CONNECTED" ? true : null;
      });
      return phone(number);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
