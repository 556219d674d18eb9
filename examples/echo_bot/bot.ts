/**
 * @module
 * A tiny bot on wa-gateway: a webhook receiver that answers every text it is sent with the same
 * text, in the same chat. It is what a team's own bot looks like to the gateway: events arrive as
 * POSTs in WAHA's envelope, answers leave through `POST /{phoneNumber}/send-text` with the API
 * key. `bot_test.ts` tests it with the kit (`mod.ts`), as a team would test theirs.
 *
 * Run it against a gateway: `GATEWAY_URL=http://127.0.0.1:3000/api/whatsapp API_KEY=… deno run
 * -A examples/echo_bot/bot.ts`, then register `http://127.0.0.1:8000/` as the number's webhook.
 */

/** Where the bot answers, and how it listens. */
export interface EchoBotOptions {
  /** The gateway's API base URL, `http://<host>:<port>/api/whatsapp`. */
  gatewayUrl: string;
  /** The gateway's API key (sent as `X-Api-Key`). */
  apiKey: string;
  /** The port to listen on, on 127.0.0.1 (default 0: a free one). */
  port?: number;
}

/** A running bot; `close` (or `await using`) stops it. */
export interface EchoBot extends AsyncDisposable {
  /** The URL to register as the number's webhook. */
  webhookUrl: string;
  close(): Promise<void>;
}

/** The part of a `message` event the bot reads. */
interface MessageEvent {
  event: string;
  session: string;
  payload: { from: string; fromMe: boolean; body: string; _data?: { type?: string } };
}

/** Starts the bot on 127.0.0.1; it answers each text of a `message` event in its chat. */
export function startEchoBot(options: EchoBotOptions): EchoBot {
  const answer = async (event: MessageEvent) => {
    const response = await fetch(`${options.gatewayUrl}/${event.session}/send-text`, {
      method: "POST",
      headers: { "X-Api-Key": options.apiKey, "Content-Type": "application/json" },
      body: JSON.stringify({ chatId: event.payload.from, text: event.payload.body }),
    });
    await response.body?.cancel();
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: options.port ?? 0, onListen: () => {} },
    async (request) => {
      const event = await request.json() as MessageEvent;
      // `message` is what others write; texts only (a photo's caption is not a text).
      if (event.event === "message" && event.payload._data?.type === "chat") await answer(event);
      return new Response(null, { status: 204 });
    },
  );
  const close = () => server.shutdown();
  return {
    webhookUrl: `http://127.0.0.1:${server.addr.port}/`,
    close,
    [Symbol.asyncDispose]: close,
  };
}

if (import.meta.main) {
  const gatewayUrl = Deno.env.get("GATEWAY_URL") ?? "http://127.0.0.1:3000/api/whatsapp";
  const apiKey = Deno.env.get("API_KEY") ?? "";
  const bot = startEchoBot({ gatewayUrl, apiKey, port: Number(Deno.env.get("PORT") ?? 8000) });
  console.log(`Echo bot listening: register ${bot.webhookUrl} as the number's webhook`);
}
