/**
 * @module
 * Which of the WhatsApp page's requests the engine holds: only the ones it answers itself, through
 * the DevTools Fetch domain with patterns by resource type. Images, fonts and media are refused
 * (renderer memory), and with a pinned version every load of WhatsApp Web's own address (its
 * reloads, `/?post_logout=1`, included) gets the pinned page.
 *
 * Not puppeteer's request interception, which whatsapp-web.js turns on for a pinned version: it
 * holds every request, and DevTools then hands the engine each request's body, so a media upload
 * the page makes arrives whole (an 8 MiB file as a 60 MB message) on the session Worker's thread,
 * blocking it long enough to miss its heartbeat. Uploads are not held here.
 */
import { BLOCKED_RESOURCE_TYPES } from "./chromium.ts";
import type { Lib } from "./mappers.ts";

/** The address whatsapp-web.js opens. */
export const WHATSAPP_WEB = "https://web.whatsapp.com/";

/** DevTools' names for the resource types we refuse. */
const BLOCKED_CDP_TYPES = [...BLOCKED_RESOURCE_TYPES].map((t) => t[0].toUpperCase() + t.slice(1));

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/**
 * Starts holding the page's document loads of WhatsApp Web (when `pinnedPage` is given, to answer
 * them with it) and its image, font and media requests (when `block`, to refuse them).
 */
export async function interceptPage(
  page: Lib,
  { pinnedPage, block }: { pinnedPage: string | null; block: boolean },
): Promise<void> {
  if (!pinnedPage && !block) return;
  const cdp = await page.createCDPSession();
  const patterns: Record<string, string>[] = [];
  if (pinnedPage) {
    patterns.push({
      urlPattern: `${WHATSAPP_WEB}*`,
      resourceType: "Document",
      requestStage: "Request",
    });
  }
  if (block) {
    for (const resourceType of BLOCKED_CDP_TYPES) {
      patterns.push({ urlPattern: "*", resourceType, requestStage: "Request" });
    }
  }
  const body = pinnedPage ? base64(pinnedPage) : "";
  cdp.on("Fetch.requestPaused", (event: Lib) => {
    const requestId = event.requestId;
    const url: string = event.request?.url ?? "";
    const answer = event.resourceType === "Document" && pinnedPage && url.startsWith(WHATSAPP_WEB)
      ? cdp.send("Fetch.fulfillRequest", {
        requestId,
        responseCode: 200,
        responseHeaders: [{ name: "Content-Type", value: "text/html; charset=utf-8" }],
        body,
      })
      : BLOCKED_CDP_TYPES.includes(event.resourceType) && block
      ? cdp.send("Fetch.failRequest", { requestId, errorReason: "BlockedByClient" })
      : cdp.send("Fetch.continueRequest", { requestId });
    // The page may be gone by the time it is answered.
    answer.catch(() => {});
  });
  await cdp.send("Fetch.enable", { patterns });
}
