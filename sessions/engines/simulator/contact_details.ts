/**
 * @module
 * The simulator's contact details beyond the address book: bulk number checks (every number is on
 * WhatsApp but `NOT_ON_WHATSAPP`), the "about" texts of the contacts and chats it knows (Dave's
 * privacy settings hide his; the account's own is its profile status), and the business profile of one business account, `SIMULATOR_BUSINESS`, which is on WhatsApp
 * without being in the address book; every other account is not a business.
 */
import { type BusinessProfileDto, type ContactDetailCapabilities, notFound } from "../../engine.ts";
import { ECHO_CONTACT, NO_GROUP_ADDS, NOT_ON_WHATSAPP, type SimulatorData } from "./data.ts";

/** A business account the simulator knows. */
export const SIMULATOR_BUSINESS = "15550000010@c.us";

const DEFAULT_ABOUT = "Hey there! I am using WhatsApp.";

const ABOUT: Record<string, string | null> = {
  [ECHO_CONTACT]: "I echo what you send",
  "15550000001@c.us": "Available",
  "15550000002@c.us": "Busy",
  [NO_GROUP_ADDS]: null,
  [SIMULATOR_BUSINESS]: "Open 9 to 5",
};

const BUSINESS: BusinessProfileDto = {
  id: SIMULATOR_BUSINESS,
  description: "Everything the simulator sells",
  categories: ["Shopping & retail"],
  email: "shop@example.invalid",
  websites: ["https://shop.example.invalid"],
  address: "1 Simulator Street",
};

export function createSimulatorContactDetails(
  data: SimulatorData,
  /** The account's own "about" text now. */
  ownAbout: () => string,
): ContactDetailCapabilities {
  return {
    checkNumbers(phones) {
      return Promise.resolve(phones.map((phone) => {
        const id = `${phone}@c.us`;
        return id === NOT_ON_WHATSAPP
          ? { phone, exists: false }
          : { phone, exists: true, chatId: id };
      }));
    },
    getContactAbout(contactId) {
      if (contactId === data.meId) return Promise.resolve(ownAbout());
      if (contactId in ABOUT) return Promise.resolve(ABOUT[contactId]);
      // Anyone else the phone knows has WhatsApp's default.
      if (data.contacts.has(contactId) || data.chats.has(contactId)) {
        return Promise.resolve(DEFAULT_ABOUT);
      }
      return Promise.reject(notFound(`Contact "${contactId}" not found`));
    },
    getBusinessProfile(contactId) {
      if (contactId === SIMULATOR_BUSINESS) return Promise.resolve(structuredClone(BUSINESS));
      const known = contactId === data.meId || data.contacts.has(contactId) ||
        contactId in ABOUT;
      return Promise.reject(
        notFound(
          known ? `"${contactId}" is not a business account` : `Contact "${contactId}" not found`,
        ),
      );
    },
  };
}
