/**
 * @module
 * What a newcomer's browser and tools meet first, through HTTP: `/` and `/api/whatsapp` lead to
 * Swagger UI, and the QR comes as the PNG itself for `?format=image` or `Accept: image/png` (as
 * WAHA serves it), as JSON with a data URL otherwise.
 */
import assert from "node:assert/strict";
import { ADMIN_KEY, startTestApp } from "./_helpers.ts";
import { decodeQrDataUrl } from "./qr_decode.ts";

const PHONE = "4915550008101";

Deno.test("GET / and GET /api/whatsapp redirect to Swagger UI, without credentials", async () => {
  const server = await startTestApp();
  try {
    for (const path of ["/", "/api/whatsapp", "/api/whatsapp/"]) {
      const response = await server.app.request(path);
      assert.equal(response.status, 302, path);
      assert.equal(response.headers.get("location"), "/api/whatsapp/swagger", path);
      await response.body?.cancel();
    }
    const ui = await server.app.request("/api/whatsapp/swagger");
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger-ui/);
  } finally {
    await server.close();
  }
});

Deno.test("GET qr answers the PNG itself for ?format=image or Accept: image/png, JSON otherwise", async () => {
  const server = await startTestApp({ SIMULATOR_SCAN_MS: "60000" });
  try {
    await server.json("POST", `/${PHONE}/start`);
    const json = await server.request("GET", `/${PHONE}/qr`);
    assert.equal(json.status, 200);
    assert.match(json.headers.get("content-type")!, /^application\/json/);
    assert.equal(json.headers.get("cache-control"), "no-store");
    const { qrCode } = await json.json();
    const value = decodeQrDataUrl(qrCode);

    const asked = [
      [`/${PHONE}/qr?format=image`, {}],
      [`/${PHONE}/qr`, { Accept: "image/png" }],
      [`/${PHONE}/qr`, { Accept: "image/*;q=0.9, application/json;q=0.5" }],
    ] as const;
    for (const [path, headers] of asked) {
      const png = await server.request("GET", path, { headers });
      assert.equal(png.status, 200);
      assert.equal(png.headers.get("content-type"), "image/png", path);
      assert.equal(png.headers.get("cache-control"), "no-store");
      assert.match(png.headers.get("vary") ?? "", /Accept/);
      const bytes = new Uint8Array(await png.arrayBuffer());
      assert.deepEqual([...bytes.slice(1, 4)], [0x50, 0x4e, 0x47], "PNG signature");
      assert.equal(decodeQrDataUrl(`data:image/png;base64,${bytes.toBase64()}`), value);
    }

    const jsonFirst = await server.request("GET", `/${PHONE}/qr`, {
      headers: { Accept: "application/json, image/png" },
    });
    assert.match(jsonFirst.headers.get("content-type")!, /^application\/json/);
    await jsonFirst.body?.cancel();
    const wrong = await server.json("GET", `/${PHONE}/qr?format=gif`);
    assert.equal(wrong.status, 400);

    // curl -o qr.png works as written: the key is the only header it needs.
    const curlLike = await server.app.request(`/api/whatsapp/${PHONE}/qr?format=image`, {
      headers: { "X-Api-Key": ADMIN_KEY, Accept: "*/*" },
    });
    assert.equal(curlLike.headers.get("content-type"), "image/png");
    await curlLike.body?.cancel();
  } finally {
    await server.close();
  }
});
