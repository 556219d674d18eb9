/**
 * @module
 * Several WhatsApp accounts behind one fake WhatsApp Web: one HTTP server and one page (so one
 * `WWEBJS_WEB_CACHE_PATH` serves every session of a server) in front of a {@link FakeCloud} per
 * account. A page that loads with a saved login belongs to the account whose credential it holds;
 * any other page waits in a lobby, showing a QR that belongs to no account, until a phone scans
 * it (`scanQr(qr, account)`): the device then moves to that phone's account, which links it as
 * its own. From there every request of the device (its long poll, its sends) is that account's,
 * so each account's messages reach its own devices only. Requests that name no device (media,
 * pictures) are answered by the first account that has what they ask for. Each account is driven
 * like a single cloud (`deliverIncoming`, `logoutFromPhone`…), and `close()` checks every one.
 */
import { FakeCloud, type FakeCloudOptions } from "./fake_cloud.ts";

const WEB_VERSION = "2.3000.1017054665";
const PAGE_TEMPLATE = new URL(`./page/${WEB_VERSION}.html`, import.meta.url);

export class FakeCloudHub {
  /** One cloud per account, in the order they were given. */
  readonly accounts: FakeCloud[];
  readonly webVersion = WEB_VERSION;
  url = "";
  webVersionCachePath = "";
  /** Where pages without a login wait for a phone to scan them (no account's). */
  readonly #lobby = new FakeCloud({ me: "0@c.us" });
  /** The cloud each device's requests go to, by the page's device id. */
  readonly #owner = new Map<string, FakeCloud>();
  #server?: Deno.HttpServer;

  constructor(accounts: FakeCloudOptions[]) {
    this.accounts = accounts.map((options) => new FakeCloud(options));
    const mes = new Set(this.accounts.map((c) => c.me));
    if (mes.size !== this.accounts.length) throw new Error("Two accounts share a number");
  }

  /** The account's cloud, by its number (`<digits>` or `<digits>@c.us`). */
  account(phone: string): FakeCloud {
    const me = phone.includes("@") ? phone : `${phone}@c.us`;
    const found = this.accounts.find((c) => c.me === me);
    if (!found) throw new Error(`No account "${me}" on the hub`);
    return found;
  }

  /** Every QR reference issued to a page without a login, oldest first. */
  get refsIssued(): readonly string[] {
    return this.#lobby.refsIssued;
  }

  /** The QR the newest page without a login shows, if any. */
  currentQr(): string | null {
    return this.#lobby.currentQr();
  }

  /** `account`'s phone (a cloud or its number) scans `qr`: the device becomes that account's. */
  scanQr(qr: string, account: FakeCloud | string): void {
    const cloud = typeof account === "string" ? this.account(account) : account;
    this.#owner.set(this.#lobby.transferWaitingDevice(qr, cloud), cloud);
    cloud.scanQr(qr);
  }

  async start(): Promise<void> {
    const server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: () => {} },
      (req) => this.#route(req),
    );
    this.#server = server;
    this.url = `http://127.0.0.1:${server.addr.port}`;
    this.webVersionCachePath = await Deno.makeTempDir({ prefix: "fake_wa_web_hub_" });
    const html = (await Deno.readTextFile(PAGE_TEMPLATE)).replaceAll(
      "__FAKE_CLOUD_URL__",
      this.url,
    );
    await Deno.writeTextFile(`${this.webVersionCachePath}/${WEB_VERSION}.html`, html);
    for (const cloud of [this.#lobby, ...this.accounts]) {
      // Their URLs (pictures, media) are the hub's; their page is the hub's.
      cloud.url = this.url;
      cloud.webVersionCachePath = this.webVersionCachePath;
    }
  }

  /**
   * Stops the hub and closes every account (and the lobby), each failing on what its pages could
   * not give whatsapp-web.js (see {@link FakeCloud.close}); the first such failure is thrown.
   */
  async close(allowed?: (record: { kind: string; what: string }) => boolean): Promise<void> {
    const failures: unknown[] = [];
    for (const cloud of [this.#lobby, ...this.accounts]) {
      await cloud.close(allowed).catch((error) => failures.push(error));
    }
    await this.#server?.shutdown();
    await Deno.remove(this.webVersionCachePath, { recursive: true }).catch(() => {});
    if (failures.length) throw failures[0];
  }

  async #route(req: Request): Promise<Response> {
    const url = new URL(req.url);
    let device = url.searchParams.get("device");
    let body: Record<string, unknown> | null = null;
    if (req.method === "POST" && url.pathname !== "/upload") {
      body = await req.clone().json().catch(() => null);
      if (!device && typeof body?.device === "string") device = body.device;
    }
    if (req.method === "POST" && url.pathname === "/hello" && device) {
      // A saved login names its account; a page without one waits for a scan.
      const cred = body?.cred;
      const owner = this.accounts.find((c) => !!cred && c.credential === cred) ?? this.#lobby;
      this.#owner.set(device, owner);
      return await owner.handle(req);
    }
    if (device) return await (this.#owner.get(device) ?? this.#lobby).handle(req);
    // No device named (media, pictures, the avatar, frames): the first account that has it.
    for (const cloud of this.accounts) {
      const response = await cloud.handle(req.clone());
      if (response.status !== 404) return response;
      await response.body?.cancel();
    }
    return await this.#lobby.handle(req);
  }
}

/** Starts a hub on a free port of 127.0.0.1 with one account per entry of `accounts`. */
export async function startFakeCloudHub(accounts: FakeCloudOptions[]): Promise<FakeCloudHub> {
  const hub = new FakeCloudHub(accounts);
  await hub.start();
  return hub;
}
