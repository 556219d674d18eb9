/**
 * @module
 * Renders a QR string (what WhatsApp encodes for linking) as a PNG data URL for the API and as
 * text for the server's terminal, with the maintained `qrcode` library.
 */
import QRCode from "qrcode";

/** The QR as a `data:image/png;base64,` URL. */
export function qrToDataUrl(value: string): Promise<string> {
  return QRCode.toDataURL(value, { errorCorrectionLevel: "M", margin: 2, scale: 6 });
}

/** The QR drawn with block characters, to scan from a terminal. */
export function qrToTerminal(value: string): Promise<string> {
  return QRCode.toString(value, { type: "terminal", small: true });
}
