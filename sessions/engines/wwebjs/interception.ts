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
 * them with it) and its image, font and media requests (when `block`, to refuse them), and answers
 * the number's proxy when it asks for credentials (`proxyCredentials`).
 *
 * DevTools reports a proxy's challenge only for a request it holds, and holding every request
 * would bring the page's uploads here whole. So every request is held only until the proxy has
 * accepted the credentials once: Chromium then keeps them for that proxy and sends them ahead on
 * every later request and connection, and the holding narrows to the patterns above.
 */
export async function interceptPage(
  page: Lib,
  { pinnedPage, block, proxyCredentials }: {
    pinnedPage: string | null;
    block: boolean;
    proxyCredentials?: { username: string; password: string };
  },
): Promise<void> {
  if (!pinnedPage && !block && !proxyCredentials) return;
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
  if (!proxyCredentials) {
    await cdp.send("Fetch.enable", { patterns });
    return;
  }
  let narrowed = false;
  cdp.on("Fetch.authRequired", (event: Lib) => {
    const fromProxy = event.authChallenge?.source === "Proxy";
    cdp.send("Fetch.continueWithAuth", {
      requestId: event.requestId,
      // A site's own challenge is the page's business (WhatsApp asks none).
      authChallengeResponse: fromProxy
        ? { response: "ProvideCredentials", ...proxyCredentials }
        : { response: "Default" },
    }).catch(() => {});
  });
  // The first answer from the network other than a 407: the proxy took the credentials (or asks
  // none). Answers the engine made itself (the pinned page) come from no address.
  cdp.on("Network.responseReceived", (event: Lib) => {
    const response = event.response;
    if (narrowed || !response?.remoteIPAddress || response.status === 407) return;
    narrowed = true;
    cdp.send("Fetch.enable", { patterns, handleAuthRequests: true })
      .then(() => cdp.send("Network.disable"))
      .catch(() => {});
  });
  await cdp.send("Network.enable");
  await cdp.send("Fetch.enable", {
    patterns: [...patterns, { urlPattern: "*", requestStage: "Request" }],
    handleAuthRequests: true,
  });
}
