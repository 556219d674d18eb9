/**
 * @module
 * The fake WAHA's contacts (`/api/contacts…`), answering as WAHA's WEBJS engine does with
 * whatsapp-web.js's `Contact`: the phone's address book (Alice, Bob, Carol and Dave, saved by
 * name, as the simulator's are) and everyone the account has a chat with (`all`); one contact of
 * any id, as whatsapp-web.js makes a contact of any id (one it never heard of has no names); a
 * contact's about (Alice's says "Available", Dave's privacy settings hide his, the other numbers
 * 1555… share WhatsApp's default, anyone else's is hidden) and profile picture (Alice's and the
 * account's own only);
 * blocking and unblocking, which `isBlocked` then shows.
 */
import { ContactQuery, ContactRequest, type WAMessage } from "../../waha/schemas.ts";
import { NO_GROUP_ADDS, onWhatsApp } from "./groups.ts";
import { json, validate } from "./http.ts";

const ALICE = "15550000001@c.us";

/** The phone's address book: each saved contact's name. */
const ADDRESS_BOOK = new Map([
  [ALICE, "Alice"],
  ["15550000002@c.us", "Bob"],
  ["15550000003@c.us", "Carol"],
  [NO_GROUP_ADDS, "Dave"],
]);

/** What a session keeps of its contacts. */
export interface FakeContacts {
  blocked: Set<string>;
}

export function seedContacts(): FakeContacts {
  return { blocked: new Set() };
}

function aboutOf(contactId: string): string | null {
  if (contactId === ALICE) return "Available";
  if (contactId === NO_GROUP_ADDS || !onWhatsApp(contactId)) return null;
  return "Hey there! I am using WhatsApp.";
}

export interface ContactsRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The (WORKING) session named: its contacts, its chats, its own id and picture. */
  contactsOf(session: string | undefined): {
    contacts: FakeContacts;
    chats: Map<string, WAMessage[]>;
    me: { id: string; picture: string | null };
  };
}

/** Answers a contacts call, or null for a path that is not one. */
export function routeContacts(request: ContactsRequest): Response | null {
  const { method, path, query, body } = request;
  if (!path.startsWith("/api/contacts")) return null;
  const contactOf = (id: string, contacts: FakeContacts, chats: Map<string, WAMessage[]>) => {
    const number = id.split("@")[0];
    const name = ADDRESS_BOOK.get(id) ?? null;
    return {
      id,
      number,
      name,
      pushname: name || chats.has(id) ? `Contact ${number}` : null,
      isMyContact: name !== null,
      isBlocked: contacts.blocked.has(id),
      isUser: id.endsWith("@c.us"),
      isGroup: id.endsWith("@g.us"),
    };
  };
  if (method === "GET" && (path === "/api/contacts" || path === "/api/contacts/all")) {
    const { session } = query;
    const { contacts, chats } = request.contactsOf(session);
    if (path === "/api/contacts") {
      return json(200, contactOf(validate(ContactQuery, query).contactId, contacts, chats));
    }
    const ids = new Set([...ADDRESS_BOOK.keys(), ...chats.keys()]);
    return json(
      200,
      [...ids].filter((id) => id.endsWith("@c.us")).map((id) => contactOf(id, contacts, chats)),
    );
  }
  if (method === "GET" && (path === "/api/contacts/about" || path.endsWith("/profile-picture"))) {
    const asked = validate(ContactQuery, query);
    const { me } = request.contactsOf(asked.session);
    if (path === "/api/contacts/about") return json(200, { about: aboutOf(asked.contactId) });
    const picture = asked.contactId === me.id
      ? me.picture
      : asked.contactId === ALICE
      ? "https://pps.whatsapp.net/fake/alice.jpg"
      : null;
    return json(200, { profilePictureURL: picture });
  }
  if ((path === "/api/contacts/block" || path === "/api/contacts/unblock") && method === "POST") {
    const input = validate(ContactRequest, body);
    const { contacts } = request.contactsOf(input.session);
    if (path.endsWith("/block")) contacts.blocked.add(input.contactId);
    else contacts.blocked.delete(input.contactId);
    return json(201, undefined);
  }
  return null;
}
