/**
 * @module
 * Builds the vCard 3.0 text WhatsApp expects for a shared contact from a name and a phone number
 * (with the `waid` parameter that makes the card open a chat), escaping what vCard reserves.
 */

export interface ContactCard {
  name: string;
  /** Digits, optionally with a leading `+`. */
  phone: string;
  organization?: string;
  email?: string;
}

/** Escapes a vCard text value (RFC 6350 §3.4): backslash, comma, semicolon and newlines. */
function escape(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/([,;])/g, "\\$1").replace(/\r?\n/g, "\\n");
}

/** One vCard 3.0 for the contact, lines separated by CRLF as the format requires. */
export function buildVCard(card: ContactCard): string {
  const digits = card.phone.replace(/\D/g, "");
  const lines = [
    "BEGIN:VCARD",
    "VERSION:3.0",
    `FN:${escape(card.name)}`,
    `N:;${escape(card.name)};;;`,
    ...(card.organization ? [`ORG:${escape(card.organization)}`] : []),
    ...(card.email ? [`EMAIL:${escape(card.email)}`] : []),
    `TEL;type=CELL;type=VOICE;waid=${digits}:+${digits}`,
    "END:VCARD",
  ];
  return lines.join("\r\n");
}
