/**
 * @module
 * A gateway on the waha engine for the tests: a fake WAHA server (`server.ts`), a
 * webhook receiver of ours, and the server composed as `main.ts` does, listening on a free port
 * of 127.0.0.1 (WAHA posts its webhooks to it: `WEBHOOK_PUBLIC_URL`); and a number started on it
 * and linked, for the suites of one area each.
 */
import { type Receiver, startReceiver } from "../../events/test_receivers.ts";
import assert from "node:assert/strict";
import { freePort, startTestApp, type TestApp, waitFor, waitForState } from "../_helpers.ts";
import { type FakeWaha, startFakeWaha } from "./server.ts";

export const WAHA_API_KEY = "fake-waha-key-0123456789";
export const HMAC_SECRET = "waha-hmac-secret-for-tests";

export interface WahaGateway {
  server: TestApp;
  fake: FakeWaha;
  receiver: Receiver;
  /** The base URL WAHA posts to. */
  publicUrl: string;
  close(): Promise<void>;
}

export async function startWahaGateway(
  env: Record<string, string> = {},
  fake: FakeWaha = startFakeWaha({ apiKey: WAHA_API_KEY }),
): Promise<WahaGateway> {
  const receiver = startReceiver();
  const port = freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const server = await startTestApp({
    WA_ENGINE: "waha",
    WAHA_URL: fake.url,
    WAHA_API_KEY,
    WAHA_POLL_MS: "50",
    WEBHOOK_PUBLIC_URL: publicUrl,
    WEBHOOK_HMAC_SECRET: HMAC_SECRET,
    WEBHOOK_URL: receiver.url,
    WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
    WEBHOOK_RETRY_BASE_MS: "50",
    ENGINE_CALL_TIMEOUT_MS: "1500",
    RESTART_BACKOFF_MIN_MS: "50",
    RESTART_BACKOFF_MAX_MS: "100",
    RESTART_MAX_CRASHES: "2",
    ...env,
  });
  const http = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    (request) => server.app.fetch(request),
  );
  return {
    server,
    fake,
    receiver,
    publicUrl,
    async close() {
      await server.close();
      await http.shutdown();
      await fake.close();
      await receiver.close();
    },
  };
}

/** Starts `phone` on the waha engine and links it (the fake's phone scans): CONNECTED. */
export async function linkWahaSession(gateway: WahaGateway, phone: string): Promise<void> {
  const started = await gateway.server.json("POST", `/${phone}/start`);
  assert.equal(started.status, 200, JSON.stringify(started.body));
  await waitFor(
    "WAHA to wait for a scan",
    () => gateway.fake.sessions.get(phone)?.status === "SCAN_QR_CODE",
  );
  // The QR our API shows: WAHA's SCAN_QR_CODE post has arrived before the scan's WORKING one.
  await waitFor(
    "our API to show the QR",
    async () =>
      (await gateway.server.json("GET", `/${phone}/state`)).body.status === "SCAN_QR_CODE",
  );
  await gateway.fake.scan(phone);
  await waitForState(gateway.server, phone, "CONNECTED");
}

/** A gateway on a fresh fake WAHA with `phone` linked, handed to `test` and closed after it. */
export async function withLinkedWaha<T>(
  phone: string,
  test: (gateway: WahaGateway) => Promise<T>,
): Promise<T> {
  const gateway = await startWahaGateway();
  try {
    await linkWahaSession(gateway, phone);
    return await test(gateway);
  } finally {
    await gateway.close();
  }
}
