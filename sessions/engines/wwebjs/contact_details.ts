/**
 * @module
 * The wwebjs engine's contact details, through whatsapp-web.js's public API: numbers checked with
 * `Client.getNumberId`, a few at a time, a contact's "about" text with `Contact.getAbout()`
 * (null when hidden), and a business account's profile from the `BusinessContact` that
 * `Client.getContactById` answers for it.
 */
import {
  type BusinessProfileDto,
  type ContactDetailCapabilities,
  notFound,
  type NumberCheck,
} from "../../engine.ts";
import { type Lib, serialized } from "./mappers.ts";
import { findContact, unknownUserError, type WwebjsContext } from "./context.ts";

/** How many numbers of a bulk check are asked of WhatsApp at the same time. */
const CHECKS_AT_ONCE = 8;

/** The text of a business profile field that may be absent or empty. */
const text = (value: Lib): string | null =>
  typeof value === "string" && value.length > 0 ? value : null;

export function contactDetailCapabilities(ctx: WwebjsContext): ContactDetailCapabilities {
  return {
    async checkNumbers(phones) {
      ctx.ready();
      const check = async (phone: string): Promise<NumberCheck> => {
        const id = await ctx.call(() => ctx.client.getNumberId(phone)).catch((error) => {
          // WhatsApp Web throws for some numbers it cannot map to an account: not on WhatsApp.
          if (unknownUserError(error, phone)) return null;
          throw error;
        });
        return id ? { phone, exists: true, chatId: serialized(id) } : { phone, exists: false };
      };
      // Each number is a query to WhatsApp's servers: a few at a time, so a hundred answer well
      // within ENGINE_CALL_TIMEOUT_MS without a burst of a hundred at once.
      const results: NumberCheck[] = new Array(phones.length);
      let next = 0;
      const worker = async () => {
        while (next < phones.length) {
          const at = next++;
          results[at] = await check(phones[at]);
        }
      };
      await Promise.all(Array.from({ length: Math.min(CHECKS_AT_ONCE, phones.length) }, worker));
      return results;
    },
    async getContactAbout(contactId) {
      const contact = await findContact(ctx, contactId);
      const about = await ctx.call(() => contact.getAbout());
      return typeof about === "string" ? about : null;
    },
    async getBusinessProfile(contactId): Promise<BusinessProfileDto> {
      const contact = await findContact(ctx, contactId);
      const profile = contact.isBusiness ? contact.businessProfile : null;
      if (!profile) throw notFound(`"${contactId}" is not a business account`);
      return {
        id: serialized(contact.id),
        description: text(profile.description) ?? "",
        categories: (profile.categories ?? [])
          .map((c: Lib) => text(c?.localized_display_name) ?? text(c?.name))
          .filter((c: string | null): c is string => c !== null),
        email: text(profile.email),
        websites: (profile.website ?? [])
          .map((w: Lib) => text(typeof w === "string" ? w : w?.url))
          .filter((w: string | null): w is string => w !== null),
        address: text(profile.address),
      };
    },
  };
}
