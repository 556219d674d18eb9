/**
 * @module
 * `startGateway()`: the real server, composed as `main.ts` composes it, running inside the test's
 * process with the simulator engine on a free loopback port, a temporary `DATA_DIR` and a generated
 * key, and what a test does with it (its API, linking a simulated phone, closing it).
 */
import { loadConfig } from "../config.ts";
import { createLogger } from "../logger.ts";
import { compose } from "../main.ts";
import { createApiClient, poll } from "./api_client.ts";
import { createSimulatedPhone, type SimulatedPhone, type WaitOptions } from "./simulated_phone.ts";

/**
 * The gateway's settings, by the names of the environment variables the README lists
 * (`WEBHOOK_URL`, `ENGINE_CALL_TIMEOUT_MS`, `API_KEY`, …); numbers and booleans are written as
 * text. The kit's defaults: `WA_ENGINE=simulator`, `HOST=127.0.0.1`, `PORT=0` (a free port),
 * `DATA_DIR` a new temporary folder (removed by `close`), `API_KEY` generated,
 * `SIMULATOR_SCAN_MS=50`, `LOG_LEVEL=error`, and loopback allowed for webhooks and media
 * (`WEBHOOK_ALLOW_PRIVATE_HOSTS`, `MEDIA_ALLOW_PRIVATE_HOSTS`), where a test's bot listens.
 */
export type GatewaySettings = Record<string, string | number | boolean | undefined>;

/** What {@link Gateway.linkPhone} does beside starting the session. */
export interface LinkOptions extends WaitOptions {
  /** Where the number's events go: registered as its webhook (`PUT /{phoneNumber}/webhooks`). */
  webhookUrl?: string;
  /** The event names that webhook takes (default `["*"]`: all). */
  events?: string[];
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
   * given, and resolves once it is connected (default `timeoutMs` 30000: a busy CI machine may take
   * seconds to start the session's Worker).
   */
  linkPhone(phoneNumber: string, options?: LinkOptions): Promise<SimulatedPhone>;
  /** Stops the sessions and the server, then removes a temporary `DATA_DIR`. */
  close(): Promise<void>;
}

/** A key of 32 random hex characters: long enough for `API_KEY`'s minimum. */
function generatedKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `kit-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
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

  const api = createApiClient(url, apiKey);

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
    request: api.request,
    async linkPhone(phoneNumber, options = {}) {
      const number = phoneNumber.replace(/^\+/, "");
      const timeoutMs = options.timeoutMs ?? 30_000;
      await api.call("POST", `/${number}/start`);
      if (options.webhookUrl) {
        await api.call("PUT", `/${number}/webhooks`, {
          webhooks: [{ url: options.webhookUrl, events: options.events ?? ["*"] }],
        });
      }
      await poll(`for session "${number}" to be connected`, timeoutMs, async () => {
        const { state } = await api.call<{ state: string }>("GET", `/${number}/state`);
        return state === "CONNECTED" ? true : null;
      });
      return createSimulatedPhone(number, api);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
