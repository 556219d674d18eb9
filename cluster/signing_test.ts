import assert from "node:assert/strict";
import { createHopSigner } from "./signing.ts";

const SECRET = "cluster-secret-0123456789abcdef";
const PATH = "/api/whatsapp/4915550001/send-text?x=1";

async function signed(
  signer = createHopSigner(SECRET, "node-1"),
  options: { method?: string; path?: string; hops?: number; clientIp?: string | null } = {},
) {
  const headers = await signer.sign(options.method ?? "POST", options.path ?? PATH, {
    hops: options.hops ?? 1,
    clientIp: options.clientIp === undefined ? "192.0.2.7" : options.clientIp,
  });
  return (init: { method?: string; path?: string; headers?: Record<string, string> } = {}) =>
    new Request(`http://node-2.internal${init.path ?? PATH}`, {
      method: init.method ?? "POST",
      headers: { ...headers, ...init.headers },
    });
}

Deno.test("verify() accepts a request signed with the cluster's secret and says where it came from", async () => {
  const request = (await signed())();
  assert.deepEqual(await createHopSigner(SECRET, "node-2").verify(request), {
    from: "node-1",
    hops: 1,
    clientIp: "192.0.2.7",
  });
});

Deno.test("verify() refuses another secret, another method or another path and query", async () => {
  const verifier = createHopSigner(SECRET, "node-2");
  const other = await signed(createHopSigner("another-secret-0123456789abcdef", "node-1"));
  assert.equal(await verifier.verify(other()), null);
  const request = await signed();
  assert.equal(await verifier.verify(request({ method: "GET" })), null);
  assert.equal(
    await verifier.verify(request({ path: "/api/whatsapp/4915550002/send-text?x=1" })),
    null,
  );
  assert.equal(
    await verifier.verify(request({ path: "/api/whatsapp/4915550001/send-text?x=2" })),
    null,
  );
});

Deno.test("verify() refuses a changed hop count, client address or node", async () => {
  const verifier = createHopSigner(SECRET, "node-2");
  const request = await signed();
  assert.equal(await verifier.verify(request({ headers: { "x-cluster-hops": "0" } })), null);
  assert.equal(
    await verifier.verify(request({ headers: { "x-cluster-client-ip": "198.51.100.1" } })),
    null,
  );
  assert.equal(await verifier.verify(request({ headers: { "x-cluster-node": "node-3" } })), null);
});

Deno.test("verify() refuses a timestamp too far from its clock, either way", async () => {
  const verifier = createHopSigner(SECRET, "node-2");
  for (const skew of [-60_000, 60_000]) {
    const signer = createHopSigner(SECRET, "node-1", { now: () => Date.now() + skew });
    assert.equal(await verifier.verify((await signed(signer))()), null);
  }
});

Deno.test("verify() finds nothing in a request without a signature", async () => {
  const request = new Request(`http://node-2.internal${PATH}`, {
    method: "POST",
    headers: { "x-cluster-node": "node-1", "x-cluster-hops": "3" },
  });
  assert.equal(await createHopSigner(SECRET, "node-2").verify(request), null);
});
