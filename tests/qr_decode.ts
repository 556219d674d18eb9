/**
 * @module
 * Reads back what a QR code PNG (as a data URL) says, with pngjs and jsQR, so tests check the
 * content of the image rather than its existence.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import jsQRModule from "jsqr";
import { PNG } from "pngjs";

type JsQr = (
  data: Uint8ClampedArray,
  width: number,
  height: number,
) => { data: string } | null;

// jsqr's typings describe a namespace; at run time the default export is the function.
const jsQR = jsQRModule as unknown as JsQr;

/** The text encoded in a `data:image/png;base64,` QR code; fails the test when unreadable. */
export function decodeQrDataUrl(dataUrl: string): string {
  assert.match(dataUrl, /^data:image\/png;base64,/);
  const png = PNG.sync.read(Buffer.from(dataUrl.slice(dataUrl.indexOf(",") + 1), "base64"));
  const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  assert.ok(decoded, "the PNG holds a readable QR code");
  return decoded.data;
}
