/**
 * @module
 * A message's media is a sender's content served from the API's origin: through HTTP on a
 * session of each engine of `_engines.ts` (the waha engine downloading WAHA's file of it), a
 * sent image and a sent HTML file come back as downloads (`Content-Disposition: attachment`),
 * unsniffed and sandboxed, with file names holding quotes, a semicolon, a percent sign and
 * non-ASCII letters given exactly (RFC 5987) and as a safe ASCII fallback.
 */
import assert from "node:assert/strict";
import { fileNameFromContentDisposition } from "../ssrf_guard/safe_fetch.ts";
import { tinyPng } from "../media/test_fixtures.ts";
import { answersNotImplemented, ENGINES, notImplementedOn, startEngine } from "./_engines.ts";

const PHONE = "4915550003101";
const ALICE = "15550000001@c.us";

const MEDIA = "GET /{phoneNumber}/messages/{chatId}/{messageId}/media";

for (const engine of ENGINES) {
  Deno.test(`on the ${engine} engine, GET …/media answers a sent image and a sent HTML file as sandboxed, unsniffed attachments with their exact names`, async () => {
    const { server, connect, close } = await startEngine(engine);
    try {
      await connect(PHONE);
      const cases = [
        {
          action: "send-image",
          body: {
            imageUrl: `data:image/png;name=${
              encodeURIComponent("Urlaub „Strand“ '22; 100% ü.png")
            };base64,${tinyPng().toBase64()}`,
          },
          name: "Urlaub „Strand“ '22; 100% ü.png",
          fallback: `Urlaub _Strand_ '22; 100_ _.png`,
          type: "image/png",
          bytes: tinyPng(),
        },
        {
          action: "send-file",
          body: {
            fileUrl: `data:text/html;base64,${
              new TextEncoder().encode("<script>alert(document.cookie)</script>").toBase64()
            }`,
            filename: "Rechnung (März) 'final'.html",
          },
          name: "Rechnung (März) 'final'.html",
          fallback: `Rechnung (M_rz) 'final'.html`,
          type: "text/html",
          bytes: new TextEncoder().encode("<script>alert(document.cookie)</script>"),
        },
      ];
      for (const item of cases) {
        const sent = await server.json<{ messageId: string }>("POST", `/${PHONE}/${item.action}`, {
          body: { chatId: ALICE, ...item.body },
        });
        assert.equal(sent.status, 200, JSON.stringify(sent.body));
        const path = `/${PHONE}/messages/${ALICE}/${sent.body.messageId}/media`;
        if (notImplementedOn(engine, MEDIA)) {
          answersNotImplemented(engine, MEDIA, await server.json("GET", path));
          continue;
        }
        const download = await server.request("GET", path);
        assert.equal(download.status, 200);
        const disposition = download.headers.get("content-disposition") ?? "";
        assert.ok(
          disposition.startsWith(`attachment; filename="${item.fallback}"; filename*=UTF-8''`),
          disposition,
        );
        assert.equal(fileNameFromContentDisposition(disposition), item.name);
        assert.equal(download.headers.get("content-type"), item.type);
        assert.equal(download.headers.get("x-content-type-options"), "nosniff");
        assert.equal(download.headers.get("content-security-policy"), "sandbox");
        assert.deepEqual(new Uint8Array(await download.arrayBuffer()), item.bytes);
      }
    } finally {
      await close();
    }
  });
}
