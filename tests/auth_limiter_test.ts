/**
 * @module
 * The failed-login limiter, attacked through HTTP against the real entry point (`main.ts` in its
 * own process, `TRUST_PROXY=true` so each request can name its client in `X-Forwarded-For`): a
 * flood of failures from other addresses cannot unblock a client, a valid credential is never
 * refused (API or inbound webhook), IPv6 clients are counted per /64, and a key under 24
 * characters stops the server at start.
 */
import assert from "node:assert/strict";
import { ADMIN_KEY, type ServerProcess, startServerProcess } from "./_helpers.ts";
import { signHmac } from "../events/test_receivers.ts";

const ACCOUNT_KEY = "account-a-key-0123456789abcdef";
const WEBHOOK_KEY = "webhook-key-0123456789abcdef";
const HMAC_SECRET = "hmac-secret-for-waha-0123456789";
const WRONG = "a-wrong-key-0123456789abcdef";
const NUMBER = "4915550012001";

/** The server with the limiter's defaults: 10 failures in 60 s block a client for 60 s. */
async function withServer(run: (server: ServerProcess) => Promise<void>): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-limiter-" });
  const server = await startServerProcess({
    DATA_DIR: dataDir,
    TRUST_PROXY: "true",
    API_KEYS: `${ACCOUNT_KEY}=org_a`,
    WEBHOOK_API_KEY: WEBHOOK_KEY,
    WEBHOOK_HMAC_SECRET: HMAC_SECRET,
    LOG_LEVEL: "error",
  });
  try {
    await run(server);
  } finally {
    assert.equal(await server.stop(), 0);
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** `GET /sessions` as the client at `address` with `key`; the status and `Retry-After`. */
async function fromClient(server: ServerProcess, address: string, key: string) {
  const response = await fetch(`${server.base}/sessions`, {
    headers: { "X-Api-Key": key, "X-Forwarded-For": address },
  });
  await response.body?.cancel();
  return { status: response.status, retryAfter: response.headers.get("retry-after") };
}

async function status(server: ServerProcess, address: string, key: string): Promise<number> {
  return (await fromClient(server, address, key)).status;
}

/** Fails 10 times from the address (the 10th blocks it), then checks that it is blocked. */
async function block(server: ServerProcess, address: string): Promise<void> {
  for (let i = 0; i < 10; i++) assert.equal(await status(server, address, WRONG), 401, address);
  assert.equal(await status(server, address, WRONG), 429, `${address} is blocked`);
}

/** Runs `task` for every item, `concurrency` at a time. */
async function inParallel<T, R>(
  items: T[],
  concurrency: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

Deno.test("failures from 10,000 other addresses do not unblock a blocked address", async () => {
  await withServer(async (server) => {
    await block(server, "203.0.113.7");
    // Half IPv4 addresses, half IPv6 addresses each in its own /64: 10,000 clients, more than
    // the table holds (10,000 with the blocked one).
    const others = Array.from(
      { length: 10_000 },
      (_, i) =>
        i % 2
          ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
          : `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`,
    );
    const started = Date.now();
    const statuses = await inParallel(others, 32, (address) => status(server, address, WRONG));
    const seconds = Math.round((Date.now() - started) / 1000);
    assert.equal(statuses.filter((s) => s === 401).length, 10_000, "each is a first failure");

    const after = await fromClient(server, "203.0.113.7", WRONG);
    assert.equal(after.status, 429, `still blocked after the flood (which took ${seconds} s)`);
    assert.ok(Number(after.retryAfter) > 0);
    assert.equal(await status(server, "203.0.113.7", ADMIN_KEY), 200);
  });
});

Deno.test("a valid key from a blocked address gets 200 while a wrong one gets 429", async () => {
  await withServer(async (server) => {
    await block(server, "198.51.100.20");
    const refused = await fromClient(server, "198.51.100.20", WRONG);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.retryAfter) > 0 && Number(refused.retryAfter) <= 60);
    assert.equal(await status(server, "198.51.100.20", ADMIN_KEY), 200, "the admin key");
    assert.equal(await status(server, "198.51.100.20", ACCOUNT_KEY), 200, "an account key");
    assert.equal(await status(server, "198.51.100.20", WRONG), 429, "a success does not unblock");
    assert.equal(await status(server, "198.51.100.21", WRONG), 401, "the next address is free");
  });
});

Deno.test("two addresses in one IPv6 /64 share one count, and addresses in different /64s do not", async () => {
  await withServer(async (server) => {
    for (let i = 0; i < 5; i++) {
      assert.equal(await status(server, "2001:db8:aa:1::1", WRONG), 401);
      assert.equal(await status(server, "2001:db8:aa:1:ffff:ffff:ffff:ffff", WRONG), 401);
    }
    assert.equal(await status(server, "2001:db8:aa:1::1234", WRONG), 429, "the /64 is blocked");
    assert.equal(await status(server, "2001:db8:aa:2::1", WRONG), 401, "the next /64 is not");
    assert.equal(await status(server, "2001:db8:aa:1::1", ADMIN_KEY), 200);

    for (let i = 0; i < 10; i++) {
      assert.equal(await status(server, "::ffff:192.0.2.44", WRONG), 401);
    }
    assert.equal(
      await status(server, "192.0.2.44", WRONG),
      429,
      "IPv4-mapped IPv6 counts as the IPv4 address",
    );
    assert.equal(await status(server, "192.0.2.45", WRONG), 401);
  });
});

Deno.test("the inbound webhook with the right key and HMAC is accepted from a blocked address", async () => {
  await withServer(async (server) => {
    assert.equal((await server.call("POST", `/${NUMBER}/start`)).status, 200);
    const body = JSON.stringify({
      event: "message",
      session: NUMBER,
      payload: {
        id: "false_15550000001@c.us_LIMITER0001",
        timestamp: 1_700_000_000,
        from: "15550000001@c.us",
        fromMe: false,
        body: "hello from WAHA",
      },
    });
    const signature = await signHmac(HMAC_SECRET, body);
    const post = async (address: string, key: string, hmac = signature) => {
      const response = await fetch(`${server.base}/webhook/message`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-Forwarded-For": address,
          "X-Api-Key": key,
          "X-Webhook-Hmac": hmac,
        },
        body,
      });
      return { status: response.status, body: await response.json() };
    };

    // A misconfigured client on WAHA's host fails on the API and on the webhook alike.
    for (let i = 0; i < 5; i++) assert.equal(await status(server, "172.17.0.5", WRONG), 401);
    for (let i = 0; i < 5; i++) assert.equal((await post("172.17.0.5", WRONG)).status, 401);
    assert.equal((await post("172.17.0.5", WRONG)).status, 429, "the address is blocked");
    assert.equal((await post("172.17.0.5", WEBHOOK_KEY, "0".repeat(128))).status, 429);

    const accepted = await post("172.17.0.5", WEBHOOK_KEY);
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.equal(accepted.body.success, true);
    assert.equal(accepted.body.ids.length, 1);
  });
});

Deno.test("main.ts exits 1 naming the variable when API_KEY, an API_KEYS key or WEBHOOK_API_KEY is under 24 characters", async () => {
  const short = "short-key-0123456789abc"; // 23 characters
  const cases: [Record<string, string>, string][] = [
    [{ API_KEY: short }, "Invalid API_KEY: a key needs at least 24 characters"],
    [
      { API_KEYS: `${ACCOUNT_KEY}=org_a,${short}=org_b` },
      'Invalid API_KEYS: the key of account "org_b" is too short: a key needs at least 24 characters',
    ],
    [{ WEBHOOK_API_KEY: short }, "Invalid WEBHOOK_API_KEY: a key needs at least 24 characters"],
  ];
  const dataDir = await Deno.makeTempDir({ prefix: "wa-gateway-short-key-" });
  try {
    for (const [env, line] of cases) {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
        env: {
          PORT: "0",
          HOST: "127.0.0.1",
          DATA_DIR: dataDir,
          WA_ENGINE: "simulator",
          API_KEY: ADMIN_KEY,
          NO_COLOR: "1",
          ...env,
        },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
        signal: AbortSignal.timeout(30_000),
      }).output();
      assert.equal(output.code, 1, JSON.stringify(env));
      assert.equal(new TextDecoder().decode(output.stderr), `${line}\n`);
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
