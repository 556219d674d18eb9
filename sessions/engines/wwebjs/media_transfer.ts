/**
 * @module
 * Large media between the session Worker and the WhatsApp page, in pieces. whatsapp-web.js moves
 * a media file as one base64 string inside one DevTools message each way (`sendMessage`'s
 * argument, `downloadMedia`'s result): the Worker's thread then builds or parses, and masks, a
 * message of 90 MB for a 64 MiB file in one go, long enough to miss its heartbeat. Here the
 * library's own flow stays (upload, resolve, re-request, decrypt), and only the bytes travel in
 * pieces of {@link PIECE_CHARS}: the engine stages a large upload in the page and hands the
 * library a token for it; a large download is kept in the page and read back piece by piece.
 */
import type { Lib } from "./mappers.ts";

/** The largest piece of base64 one DevTools message carries. */
export const PIECE_CHARS = 4 * 1024 * 1024;
const TOKEN = "wa-gateway-media:";

/** A page evaluation, timed and counted by the session (`WwebjsContext.call` on `pupPage`). */
export type PageCall = <T>(
  fn: (...args: Lib[]) => T | Promise<T>,
  ...args: unknown[]
) => Promise<T>;

/**
 * Runs in the page once per load (whatsapp-web.js's `WWebJS` must exist): media larger than one
 * piece stays in the page behind a token, both ways.
 */
export function pageInstallMediaPieces(pieceChars: number, tokenPrefix: string): void {
  const page = globalThis as Lib;
  if (page.waGatewayMedia || !page.WWebJS) return;
  const staged = new Map<string, string | string[]>();
  page.waGatewayMedia = staged;
  const toBase64 = page.WWebJS.arrayBufferToBase64Async;
  page.WWebJS.arrayBufferToBase64Async = async (buffer: ArrayBuffer) => {
    const data: string = await toBase64(buffer);
    if (data.length <= pieceChars) return data;
    const token = tokenPrefix + crypto.randomUUID();
    staged.set(token, data);
    return token;
  };
  const toFile = page.WWebJS.mediaInfoToFile;
  page.WWebJS.mediaInfoToFile = (info: Lib) => {
    const data = typeof info.data === "string" && staged.get(info.data);
    if (typeof data !== "string") return toFile(info);
    staged.delete(info.data);
    return toFile({ ...info, data });
  };
}

/** Installs the pieces in the page (after each `ready`: a reload makes a new `WWebJS`). */
export async function installMediaPieces(call: PageCall): Promise<void> {
  await call(pageInstallMediaPieces, PIECE_CHARS, TOKEN);
}

/**
 * The `data` to give whatsapp-web.js for an upload: the base64 itself when small, else a token
 * for the same base64 staged in the page piece by piece.
 */
export async function stageUpload(call: PageCall, data: string): Promise<string> {
  if (data.length <= PIECE_CHARS) return data;
  const token = TOKEN + crypto.randomUUID();
  const staged = await call((token: string) => {
    const media = (globalThis as Lib).waGatewayMedia;
    if (!media) return false;
    media.set(token, []);
    return true;
  }, token);
  // Not installed (an old page): the library's own way, in one piece.
  if (!staged) return data;
  for (let at = 0; at < data.length; at += PIECE_CHARS) {
    await call(
      (token: string, piece: string) => (globalThis as Lib).waGatewayMedia.get(token).push(piece),
      token,
      data.slice(at, at + PIECE_CHARS),
    );
  }
  await call((token: string) => {
    const media = (globalThis as Lib).waGatewayMedia;
    media.set(token, media.get(token).join(""));
  }, token);
  return token;
}

/** The base64 of a download: itself when whatsapp-web.js answered it whole, else read back. */
export async function readDownload(call: PageCall, data: string): Promise<string> {
  if (!data.startsWith(TOKEN)) return data;
  const length = await call(
    (token: string) => (globalThis as Lib).waGatewayMedia?.get(token)?.length ?? -1,
    data,
  );
  if (length < 0) throw new Error("The downloaded media is no longer in the page");
  const pieces: string[] = [];
  try {
    for (let at = 0; at < length; at += PIECE_CHARS) {
      pieces.push(
        await call(
          (token: string, at: number, n: number) =>
            (globalThis as Lib).waGatewayMedia.get(token).slice(at, at + n),
          data,
          at,
          PIECE_CHARS,
        ),
      );
    }
  } finally {
    await call((token: string) => (globalThis as Lib).waGatewayMedia?.delete(token), data)
      .catch(() => {});
  }
  return pieces.join("");
}
