/**
 * @module
 * Test fixtures for the media tests: real small files (a PNG made with pngjs, a minimal PDF, an
 * Ogg Opus header) and a media server on 127.0.0.1 that serves them, oversized and endless
 * bodies, redirect chains and a redirect to the metadata endpoint. Optionally over TLS with a
 * test-only self-signed certificate for `media.test`. Used only by `*_test.ts`.
 */
import { PNG } from "pngjs";
import { Buffer } from "node:buffer";

/** A real 2×2 PNG. */
export function tinyPng(): Uint8Array<ArrayBuffer> {
  const png = new PNG({ width: 2, height: 2 });
  png.data.fill(0x80);
  return new Uint8Array(PNG.sync.write(png));
}

/** A minimal but well-formed PDF (one empty page). */
export function tinyPdf(): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(
    "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n" +
      "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
      "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>endobj\n" +
      "trailer<</Root 1 0 R>>\n%%EOF\n",
  );
}

/** The first Ogg page of an Opus stream: `OggS` page header and the 19-byte `OpusHead`. */
export function oggOpusHead(): Uint8Array<ArrayBuffer> {
  const head = new Uint8Array(28 + 19);
  head.set([0x4f, 0x67, 0x67, 0x53, 0, 2]); // "OggS", version 0, beginning of stream
  head.set([1, 0, 0, 0], 14); // stream serial number
  head[26] = 1; // one segment
  head[27] = 19; // of 19 bytes
  head.set(new TextEncoder().encode("OpusHead"), 28);
  head[36] = 1; // version
  head[37] = 1; // mono
  new DataView(head.buffer).setUint32(40, 48_000, true); // input sample rate
  return head;
}

/** Test-only self-signed certificate and key for `media.test` (valid until 2126). */
export const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmDCCAT6gAwIBAgIUPhYSKRY+bZH/6Kxls39Tfyj1FywwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKbWVkaWEudGVzdDAgFw0yNjExMjUxNzE0NTBaGA8yMTI2MTEw
MTE3MTQ1MFowFTETMBEGA1UEAwwKbWVkaWEudGVzdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABIGqwbi29J1TRgVbajZGIsyrQwM5sarKqkVFFdU/RpQfFXkZ+ieB
L3FWhw0q0zZtNpCNjc4h4qnSqG6iqIycycKjajBoMB0GA1UdDgQWBBRGPZeyyjjo
5ksNww4x+GnNg/nRaTAfBgNVHSMEGDAWgBRGPZeyyjjo5ksNww4x+GnNg/nRaTAP
BgNVHRMBAf8EBTADAQH/MBUGA1UdEQQOMAyCCm1lZGlhLnRlc3QwCgYIKoZIzj0E
AwIDSAAwRQIhANQkfhvGYPzlT+b5LFVduqoB8WmOJi5BQI1tVBtU9YFsAiB3zTRX
9v56X35JwdG83wXT0vE7A3mTiPH4dpogl1Jquw==
-----END CERTIFICATE-----
`;
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgGKQT3hxFD204LQrd
W/By9nEUAlrZfgp1vetbyL6R5MKhRANCAASBqsG4tvSdU0YFW2o2RiLMq0MDObGq
yqpFRRXVP0aUHxV5GfongS9xVocNKtM2bTaQjY3OIeKp0qhuoqiMnMnC
-----END PRIVATE KEY-----
`;

export interface MediaServer {
  /** `http://127.0.0.1:<port>` (or `https://media.test:<port>` with `tls`). */
  origin: string;
  port: number;
  /** Requests received, by path. */
  hits: string[];
  /** The bytes `/big` serves (more than any test cap). */
  bigSize: number;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts the fixture server on an ephemeral port of 127.0.0.1; dispose it to stop it. */
export function startMediaServer(options: { tls?: boolean } = {}): MediaServer {
  const png = tinyPng();
  const pdf = tinyPdf();
  const ogg = oggOpusHead();
  const bigSize = 64 * 1024;
  const hits: string[] = [];
  const controllers = new Set<AbortController>();

  const handler = (request: Request): Response => {
    const url = new URL(request.url);
    hits.push(url.pathname);
    const path = url.pathname;
    const redirect = /^\/redirect\/(\d+)$/.exec(path);
    if (redirect) {
      const left = Number(redirect[1]);
      const next = left === 0 ? "/image.png" : `/redirect/${left - 1}`;
      return new Response(null, { status: 302, headers: { location: next } });
    }
    switch (path) {
      case "/image.png":
        return new Response(png, { headers: { "content-type": "image/png" } });
      case "/octet":
        return new Response(png, { headers: { "content-type": "application/octet-stream" } });
      case "/disguised.png":
        return new Response(pdf, { headers: { "content-type": "image/png" } });
      case "/doc":
        return new Response(pdf, {
          headers: {
            "content-type": "application/pdf",
            "content-disposition": `attachment; filename="report.pdf"`,
          },
        });
      case "/download":
        return new Response(pdf, { headers: { "content-type": "application/pdf" } });
      case "/voice.ogg":
        return new Response(ogg, { headers: { "content-type": "audio/ogg" } });
      case "/table.csv":
        return new Response("a,b\n1,2\n", { headers: { "content-type": "text/csv" } });
      case "/html":
        return new Response("<!doctype html><p>login</p>", {
          headers: { "content-type": "text/html" },
        });
      case "/big":
        return new Response(new Uint8Array(bigSize), {
          headers: { "content-type": "application/octet-stream" },
        });
      case "/big-stream":
        return new Response(
          new ReadableStream({
            pull(controller) {
              controller.enqueue(new Uint8Array(8 * 1024));
            },
          }),
          { headers: { "content-type": "application/octet-stream" } },
        );
      case "/endless": {
        let timer: ReturnType<typeof setInterval> | undefined;
        return new Response(
          new ReadableStream({
            start(controller) {
              timer = setInterval(() => controller.enqueue(new Uint8Array([0x41])), 20);
            },
            cancel() {
              clearInterval(timer);
            },
          }),
          { headers: { "content-type": "text/plain" } },
        );
      }
      case "/gzip":
        return new Response(Buffer.from("x"), {
          headers: { "content-type": "text/plain", "content-encoding": "gzip" },
        });
      case "/to-metadata":
        return new Response(null, {
          status: 302,
          headers: { location: "http://169.254.169.254/latest/meta-data" },
        });
      case "/empty":
        return new Response(new Uint8Array(0), { headers: { "content-type": "image/png" } });
      default:
        return new Response("not found", { status: 404 });
    }
  };

  const slow = async (): Promise<Response> => {
    // Headers that never come: the handler waits until the server is stopped.
    hits.push("/slow-headers");
    const controller = new AbortController();
    controllers.add(controller);
    await new Promise<void>((resolve) => {
      controller.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    return new Response("too late");
  };

  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      onListen() {},
      ...(options.tls ? { cert: TEST_CERT, key: TEST_KEY } : {}),
    },
    (request) => new URL(request.url).pathname === "/slow-headers" ? slow() : handler(request),
  );
  const port = server.addr.port;
  return {
    origin: options.tls ? `https://media.test:${port}` : `http://127.0.0.1:${port}`,
    port,
    hits,
    bigSize,
    async [Symbol.asyncDispose]() {
      for (const controller of controllers) controller.abort();
      await server.shutdown();
    },
  };
}
