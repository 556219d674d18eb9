import assert from "node:assert/strict";
import { ApiError } from "../errors.ts";
import { parseProxy, proxyProblem, redactProxy, resolveProxy } from "./proxy.ts";

const resolveTo = (address: string) => () => Promise.resolve([{ address, family: 4 as const }]);

function refused(fn: () => unknown, status: number, message: RegExp) {
  return assert.rejects(async () => await fn(), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, status);
    assert.match(error.message, message);
    return true;
  });
}

Deno.test("parseProxy() reads http, https and socks5 proxies, with default ports and decoded credentials", () => {
  assert.deepEqual(parseProxy("http://us%40er:p%3Ass@proxy.example.com:3128"), {
    scheme: "http",
    host: "proxy.example.com",
    port: 3128,
    username: "us@er",
    password: "p:ss",
  });
  assert.equal(parseProxy("https://proxy.example.com").port, 443);
  assert.equal(parseProxy("http://[2001:db8::1]").host, "2001:db8::1");
  assert.deepEqual(parseProxy("socks5://10.0.0.1:1080"), {
    scheme: "socks5",
    host: "10.0.0.1",
    port: 1080,
    username: null,
    password: null,
  });
});

Deno.test("parseProxy() refuses other schemes, SOCKS credentials, paths and a password without a user", async () => {
  await refused(() => parseProxy("ftp://proxy.example.com"), 400, /scheme "ftp:"/);
  await refused(() => parseProxy("socks4://proxy.example.com"), 400, /use http, https or socks5/);
  await refused(() => parseProxy("socks5://u:p@proxy.example.com"), 400, /cannot authenticate/);
  await refused(() => parseProxy("http://proxy.example.com/path"), 400, /no path/);
  await refused(() => parseProxy("http://:secret@proxy.example.com"), 400, /needs a user/);
  await refused(() => parseProxy("not a url"), 400, /not a URL/);
  assert.equal(proxyProblem("http://proxy.example.com:8080"), null);
  assert.match(proxyProblem("socks5://u:p@h")!, /^Chromium cannot/);
});

Deno.test("redactProxy() hides the password and keeps the rest", () => {
  assert.equal(
    redactProxy("http://user:secret@proxy.example.com:3128"),
    "http://user:***@proxy.example.com:3128",
  );
  assert.equal(redactProxy("socks5://10.0.0.1:1080"), "socks5://10.0.0.1:1080");
  assert.equal(redactProxy("::"), "(invalid)");
});

Deno.test("resolveProxy() hands Chromium the address it checked, by IP, and keeps an https proxy's name for its TLS", async () => {
  const http = await resolveProxy(parseProxy("http://u:p@proxy.example.com:3128"), {
    byAdmin: false,
    resolver: resolveTo("198.51.99.7"),
  });
  assert.deepEqual(http, {
    server: "http://198.51.99.7:3128",
    credentials: { username: "u", password: "p" },
  });
  const https = await resolveProxy(parseProxy("https://proxy.example.com:8443"), {
    byAdmin: false,
    resolver: resolveTo("198.51.99.7"),
  });
  assert.deepEqual(https, {
    server: "https://proxy.example.com:8443",
    hostResolverRules: "MAP proxy.example.com 198.51.99.7",
    credentials: undefined,
  });
});

Deno.test("resolveProxy() refuses a tenant's private or loopback proxy host (403) and lets the admin's through", async () => {
  for (const address of ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1"]) {
    await refused(
      () =>
        resolveProxy(parseProxy("http://proxy.example.com:3128"), {
          byAdmin: false,
          resolver: () => Promise.resolve([{ address, family: address.includes(":") ? 6 : 4 }]),
        }),
      403,
      /^This proxy's host is not allowed: a private host, or one that does not resolve, may be set by the admin only$/,
    );
  }
  const admin = await resolveProxy(parseProxy("socks5://proxy.internal:1080"), {
    byAdmin: true,
    resolver: resolveTo("10.1.2.3"),
  });
  assert.equal(admin.server, "socks5://10.1.2.3:1080");
});

Deno.test("resolveProxy() answers a tenant the same for a host that does not resolve as for a private one, and the admin 400", async () => {
  const unresolvable = () =>
    Promise.reject(Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" }));
  await refused(
    () =>
      resolveProxy(parseProxy("http://intranet.corp:3128"), {
        byAdmin: false,
        resolver: unresolvable,
      }),
    403,
    /^This proxy's host is not allowed/,
  );
  await refused(
    () =>
      resolveProxy(parseProxy("http://nowhere.invalid:3128"), {
        byAdmin: true,
        resolver: () =>
          Promise.reject(Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" })),
      }),
    400,
    /^Invalid proxy: its host does not resolve$/,
  );
});
