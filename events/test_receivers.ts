/**
 * @module
 * Webhook receivers for tests: real HTTP servers on 127.0.0.1 that record what arrives (raw body
 * bytes and headers) and answer as the test says (fail N times, be slow, send `Retry-After`).
 */

export interface Received {
  body: string;
  json: { id: string; event: string; session: string; payload: Record<string, unknown> };
  headers: Headers;
  at: number;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** How many requests arrived, answered or not. */
  hits: number;
  close(): Promise<void>;
}

/** Answers each request; `attempt` counts from 1 over all requests. */
export type Answer = (attempt: number, received: Received) => Response | Promise<Response>;

export function startReceiver(answer: Answer = () => new Response("ok"), port = 0): Receiver {
  const received: Received[] = [];
  const receiver: Receiver = {
    url: "",
    port: 0,
    received,
    hits: 0,
    close: () => server.shutdown(),
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
    const body = await req.text();
    const item: Received = { body, json: JSON.parse(body), headers: req.headers, at: Date.now() };
    const attempt = ++receiver.hits;
    const response = await answer(attempt, item);
    if (response.ok) received.push(item);
    return response;
  });
  receiver.port = (server.addr as Deno.NetAddr).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hook`;
  return receiver;
}

/** Signs `body` as WAHA does: hex HMAC-SHA512 of its bytes with `secret`. */
export async function signHmac(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-512" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
  return [...mac].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Verifies WAHA's signature: hex HMAC-SHA512 of the exact body bytes. */
export async function verifyHmac(secret: string, body: string, hex: string): Promise<boolean> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-512" },
    false,
    ["verify"],
  );
  const signature = new Uint8Array(hex.match(/../g)!.map((byte) => parseInt(byte, 16)));
  return crypto.subtle.verify("HMAC", key, signature, new TextEncoder().encode(body));
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
