/**
 * @module
 * Renders a QR string (what WhatsApp encodes for linking) as a PNG data URL for the API and as
 * text for the server's terminal, with the maintained `qrcode` library. Only the main thread draws
 * QRs (engines emit what the QR encodes), and loads the library on first use: in a session Worker
 * it would cost each Worker Deno's Node compatibility layer (bench/README.md).
 */

async function qrcode() {
  return (await import("qrcode")).default;
}

/** The QR as a `data:image/png;base64,` URL. */
export async function qrToDataUrl(value: string): Promise<string> {
  return (await qrcode()).toDataURL(value, { errorCorrectionLevel: "M", margin: 2, scale: 6 });
}

/** The QR drawn with block characters, to scan from a terminal. */
export async function qrToTerminal(value: string): Promise<string> {
  return (await qrcode()).toString(value, { type: "terminal", small: true });
}
