/**
 * @module
 * Tests of the address policy: a table of addresses of both families over every refused range,
 * the allow-list by IP, CIDR and host name, and host checks after (injected) resolution.
 */
import assert from "node:assert/strict";
import { ApiError } from "../errors.ts";
import {
  assertUrlAllowed,
  createAddressPolicy,
  HostNotAllowedError,
  type HostRefusal,
  type HostResolver,
  resolveAndCheck,
} from "./address_policy.ts";

const REFUSED: [string, string][] = [
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["::1", "loopback"],
  ["10.1.2.3", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["192.168.1.1", "private"],
  ["fc00::1", "uniqueLocal"],
  ["fd12:3456::1", "uniqueLocal"],
  ["169.254.1.1", "linkLocal"],
  ["fe80::1", "linkLocal"],
  ["fe80::1%eth0", "linkLocal"],
  ["100.64.0.1", "carrierGradeNat"],
  ["100.127.255.254", "carrierGradeNat"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["ff02::1", "multicast"],
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["::", "unspecified"],
  ["255.255.255.255", "broadcast"],
  ["240.0.0.1", "reserved"],
  ["192.0.2.10", "reserved"],
  ["198.51.100.7", "reserved"],
  ["203.0.113.9", "reserved"],
  ["198.18.0.1", "reserved"],
  ["2001:db8::1", "reserved"],
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["::ffff:10.0.0.1", "private"],
  ["::ffff:169.254.169.254", "metadata"],
  ["::7f00:1", "ipv4Compatible"],
  ["64:ff9b::7f00:1", "nat64 of loopback"],
  ["64:ff9b::a9fe:a9fe", "nat64 of metadata"],
  ["2002:7f00:1::1", "6to4 of loopback"],
  ["2002:c0a8:101::1", "6to4 of private"],
  ["2001::1", "teredo"],
  ["fec0::1", "deprecatedSiteLocal"],
  ["169.254.169.254", "metadata"],
  ["fd00:ec2::254", "metadata"],
  ["100.100.100.200", "metadata"],
  ["127.1", "loopback"],
  ["0x7f.1", "loopback"],
  ["2130706433", "loopback"],
];

const ALLOWED = [
  "93.184.216.34",
  "8.8.8.8",
  "1.1.1.1",
  "172.32.0.1",
  "100.128.0.1",
  "2606:4700:4700::1111",
  "2a00:1450:4001:80b::200e",
  "::ffff:8.8.8.8",
  "64:ff9b::808:808",
  "2002:808:808::1",
];

Deno.test("createAddressPolicy() without an allow-list refuses every special range", () => {
  const policy = createAddressPolicy([]);
  for (const [ip, reason] of REFUSED) {
    assert.deepEqual(policy.classify(ip), { allowed: false, reason }, ip);
    assert.equal(policy.isAllowedAddress(ip), false, ip);
  }
});

Deno.test("createAddressPolicy() without an allow-list allows global unicast of both families", () => {
  const policy = createAddressPolicy();
  for (const ip of ALLOWED) assert.equal(policy.isAllowedAddress(ip), true, ip);
});

Deno.test("isAllowedAddress() refuses what is not an IP address", () => {
  const policy = createAddressPolicy(["localhost"]);
  for (const text of ["", "localhost", "example.com", "1.2.3.4.5", "::g", "[::1"]) {
    assert.equal(policy.isAllowedAddress(text), false, text);
  }
});

Deno.test("an allow-listed IP opens that address only, in both of its IPv4 forms", () => {
  const policy = createAddressPolicy(["127.0.0.1", "::1"]);
  assert.equal(policy.isAllowedAddress("127.0.0.1"), true);
  assert.equal(policy.isAllowedAddress("::ffff:127.0.0.1"), true);
  assert.equal(policy.isAllowedAddress("::1"), true);
  assert.equal(policy.isAllowedAddress("127.0.0.2"), false);
  assert.equal(policy.isAllowedAddress("10.0.0.1"), false);
  assert.equal(policy.isAllowedAddress("0.0.0.0"), false);
});

Deno.test("an allow-listed CIDR range opens its addresses but never the metadata endpoints", () => {
  const policy = createAddressPolicy([
    "10.0.0.0/8",
    "169.254.0.0/16",
    "fd00::/8",
    "::ffff:192.168.0.0/112",
  ]);
  assert.equal(policy.isAllowedAddress("10.20.30.40"), true);
  assert.equal(policy.isAllowedAddress("::ffff:10.20.30.40"), true);
  assert.equal(policy.isAllowedAddress("169.254.1.1"), true);
  assert.equal(policy.isAllowedAddress("fd12::1"), true);
  assert.equal(policy.isAllowedAddress("192.168.5.5"), true);
  assert.equal(policy.isAllowedAddress("192.169.0.1"), true); // global unicast anyway
  assert.equal(policy.isAllowedAddress("172.16.0.1"), false);
  assert.deepEqual(policy.classify("169.254.169.254"), { allowed: false, reason: "metadata" });
  assert.deepEqual(policy.classify("fd00:ec2::254"), { allowed: false, reason: "metadata" });
});

Deno.test("an exact IP entry is the one way to open a metadata endpoint", () => {
  const policy = createAddressPolicy(["169.254.169.254"]);
  assert.equal(policy.isAllowedAddress("169.254.169.254"), true);
});

Deno.test("checkHost() lets an allow-listed name reach its private addresses, not metadata", () => {
  const policy = createAddressPolicy(["localhost", "Media.Internal.", "*.corp.example"]);
  assert.equal(policy.isAllowedHostName("media.internal"), true);
  assert.equal(policy.isAllowedHostName("cdn.corp.example"), true);
  assert.equal(policy.isAllowedHostName("corp.example"), false);
  assert.deepEqual(policy.checkHost("localhost", ["127.0.0.1", "::1"]), { allowed: true });
  assert.deepEqual(policy.checkHost("media.internal", ["10.0.0.5"]), { allowed: true });
  assert.deepEqual(policy.checkHost("a.corp.example", ["192.168.1.2"]), { allowed: true });
  assert.deepEqual(policy.checkHost("media.internal", ["169.254.169.254"]), {
    allowed: false,
    address: "169.254.169.254",
    reason: "metadata",
  });
  assert.deepEqual(policy.checkHost("other.internal", ["8.8.8.8", "10.0.0.5"]), {
    allowed: false,
    address: "10.0.0.5",
    reason: "private",
  });
});

Deno.test("createAddressPolicy() throws on an entry that is no IP, range or host name", () => {
  assert.throws(
    () => createAddressPolicy(["10.0.0.0/33"]),
    /Invalid allow-list entry "10.0.0.0\/33"/,
  );
  assert.throws(() => createAddressPolicy(["http://x"]), /Invalid allow-list entry/);
  assert.throws(() => createAddressPolicy(["a b"]), /Invalid allow-list entry/);
});

const fakeDns: HostResolver = (hostname) => {
  const table: Record<string, string[]> = {
    "public.test": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "mixed.test": ["93.184.216.34", "10.0.0.7"],
    "media.internal": ["10.0.0.5"],
  };
  const found = table[hostname];
  if (!found) return Promise.reject(new Error("ENOTFOUND"));
  return Promise.resolve(
    found.map((address) => ({ address, family: address.includes(":") ? 6 as const : 4 as const })),
  );
};

async function rejectsWith(promise: Promise<unknown>, status: number, pattern: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, status);
    assert.match(error.message, pattern);
    return true;
  });
}

/** Rejects with the generic 400 that names nothing, carrying this detail for the log. */
async function refusedWith(promise: Promise<unknown>, refusal: Partial<HostRefusal>) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof HostNotAllowedError, String(error));
    assert.equal(error.status, 400);
    assert.equal(error.message, "The URL's host is not allowed");
    for (const [key, value] of Object.entries(refusal)) {
      assert.deepEqual(error.refusal[key as keyof HostRefusal], value, key);
    }
    return true;
  });
}

Deno.test("resolveAndCheck() refuses a name if any one of its addresses is refused", async () => {
  const policy = createAddressPolicy();
  const options = { label: "imageUrl", resolver: fakeDns };
  assert.equal((await resolveAndCheck("public.test", policy, options)).length, 2);
  await refusedWith(resolveAndCheck("mixed.test", policy, options), {
    host: "mixed.test",
    addresses: ["93.184.216.34", "10.0.0.7"],
    address: "10.0.0.7",
    reason: "private",
  });
  await refusedWith(resolveAndCheck("nowhere.test", policy, options), {
    host: "nowhere.test",
    addresses: [],
    reason: "unresolvable",
  });
  await refusedWith(resolveAndCheck("[::1]", policy, options), {
    host: "::1",
    address: "::1",
    reason: "loopback",
  });
});

Deno.test("resolveAndCheck() lets an allow-listed host name through to its private address", async () => {
  const policy = createAddressPolicy(["media.internal"]);
  const addresses = await resolveAndCheck("media.internal", policy, { resolver: fakeDns });
  assert.deepEqual(addresses, [{ address: "10.0.0.5", family: 4 }]);
});

Deno.test("resolveAndCheck() resolves localhost with the system resolver and refuses it", async () => {
  await refusedWith(resolveAndCheck("localhost", createAddressPolicy()), {
    host: "localhost",
    reason: "loopback",
  });
});

Deno.test("assertUrlAllowed() accepts only http and https URLs without credentials", async () => {
  const policy = createAddressPolicy();
  const options = { label: "webhook URL", resolver: fakeDns };
  const { url, addresses } = await assertUrlAllowed("https://public.test/hook", policy, options);
  assert.equal(url.hostname, "public.test");
  assert.equal(addresses.length, 2);
  await rejectsWith(assertUrlAllowed("ftp://public.test/x", policy, options), 400, /scheme "ftp:"/);
  await rejectsWith(assertUrlAllowed("file:///etc/passwd", policy, options), 400, /scheme "file:"/);
  await rejectsWith(
    assertUrlAllowed("http://u:p@public.test/", policy, options),
    400,
    /credentials/,
  );
  await rejectsWith(assertUrlAllowed("not a url", policy, options), 400, /^Invalid webhook URL/);
  await refusedWith(assertUrlAllowed("http://169.254.169.254/latest/meta-data", policy, options), {
    address: "169.254.169.254",
    reason: "metadata",
  });
});
