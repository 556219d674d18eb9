/**
 * @module
 * The two ways a phone links to a session that waits for it: the QR to scan (drawn as a PNG once
 * per QR, however often it is asked for) and the pairing code to type.
 */
import { ApiError, clientNotReady } from "../errors.ts";
import type { Calls } from "./calls.ts";
import type { SessionCaller } from "./ownership.ts";
import { qrToDataUrl } from "./qr.ts";
import type { SessionEntry } from "./session_entry.ts";
import type { StatusMachine } from "./status_machine.ts";

export interface LinkCodes {
  /**
   * The QR to scan, as a PNG data URL; with `raw`, the value it encodes (WAHA's
   * `GET /api/{session}/auth/qr?format=raw`).
   */
  getQr(
    phoneNumber: string,
    options?: { waitMs?: number; caller?: SessionCaller; raw?: boolean },
  ): Promise<string>;
  requestPairingCode(
    phoneNumber: string,
    options?: { phoneForCode?: string; caller?: SessionCaller },
  ): Promise<string>;
}

/**
 * A linked session has nothing to link: say so, rather than "not connected". Still `409`: the
 * request does not fit the session's state.
 */
function alreadyConnected(phoneNumber: string, what: string): ApiError {
  return new ApiError("CLIENT_NOT_READY", `Session "${phoneNumber}" is already connected: ${what}`);
}

export interface LinkCodesDeps {
  entries: Map<string, SessionEntry>;
  status: StatusMachine;
  calls: Calls;
  /** Rejects unless `caller` may act on the number now. */
  authorize: (phoneNumber: string, caller?: SessionCaller) => Promise<unknown>;
}

export function createLinkCodes(deps: LinkCodesDeps): LinkCodes {
  const { entries, status, calls, authorize } = deps;

  /** The QR `value` as a PNG data URL, drawn once per QR however often it is asked for. */
  function drawQr(entry: SessionEntry, value: string): Promise<string> {
    if (entry.qrImage?.value === value) return entry.qrImage.dataUrl;
    const image = { value, dataUrl: qrToDataUrl(value) };
    entry.qrImage = image;
    // A failed drawing is not kept: the next request tries again.
    image.dataUrl.catch(() => {
      if (entry.qrImage === image) entry.qrImage = null;
    });
    return image.dataUrl;
  }

  return {
    async getQr(phoneNumber, { waitMs = 10_000, caller, raw = false } = {}) {
      await authorize(phoneNumber, caller);
      const entry = entries.get(phoneNumber);
      if (!entry || !entry.wanted) {
        throw clientNotReady(phoneNumber, entry?.status ?? "STOPPED");
      }
      await status.waitFor(
        entry,
        () => entry.qr !== null || (entry.status !== "STARTING" && entry.status !== "SCAN_QR_CODE"),
        waitMs,
      );
      // The wait may have been long enough for the number to change hands.
      await authorize(phoneNumber, caller);
      if (entry.status === "WORKING") {
        throw alreadyConnected(phoneNumber, "no QR to scan");
      }
      if (entry.qr === null) throw clientNotReady(phoneNumber, entry.status);
      return raw ? entry.qr : await drawQr(entry, entry.qr);
    },

    async requestPairingCode(phoneNumber, { phoneForCode, caller } = {}) {
      await authorize(phoneNumber, caller);
      const entry = entries.get(phoneNumber);
      if (entry?.status === "WORKING") {
        throw alreadyConnected(phoneNumber, "no pairing code needed");
      }
      if (!entry?.host || (entry.status !== "SCAN_QR_CODE" && entry.status !== "STARTING")) {
        throw clientNotReady(phoneNumber, entry?.status ?? "STOPPED");
      }
      return await calls.request<string>(entry, entry.host, "requestPairingCode", [
        phoneForCode ?? phoneNumber,
      ]);
    },
  };
}
