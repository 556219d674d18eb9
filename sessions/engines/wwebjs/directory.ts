/**
 * @module
 * The wwebjs engine's directory: contacts (list, look up, picture, block), groups (create, read,
 * update, leave, add and remove participants with per-participant outcomes), the account's own
 * profile, and which LID belongs to which phone number — each through whatsapp-web.js's public
 * API. Contacts and participants may be named by phone number or LID; what is read carries the
 * other id beside.
 */
import { wwebjs } from "./lib.ts";
import {
  type ContactDto,
  type CreateGroupInput,
  type Engine,
  EngineError,
  type GroupCreated,
  type GroupDto,
  type GroupUpdate,
  type LidMapping,
  type MediaInput,
  type ParticipantResult,
  type ParticipantsChange,
  type ProfileDto,
} from "../../engine.ts";
import { type Lib, serialized, toContactDto, toGroupDto, toParticipantResults } from "./mappers.ts";
import {
  describeError,
  findContact,
  findGroup,
  TimeoutError,
  unknownUserError,
  type WwebjsContext,
} from "./context.ts";
import { idsOfGroup, isLid, isPhoneNumberId, pageAllLids } from "./lids.ts";

const { MessageMedia } = wwebjs;

export type DirectoryCapabilities = Pick<
  Engine,
  | "listContacts"
  | "getContact"
  | "getProfilePictureUrl"
  | "blockContact"
  | "unblockContact"
  | "createGroup"
  | "getGroup"
  | "updateGroup"
  | "leaveGroup"
  | "addParticipants"
  | "removeParticipants"
  | "getProfile"
  | "setProfileName"
  | "setProfileStatus"
  | "setProfilePicture"
  | "listLids"
  | "findPnByLid"
  | "findLidByPn"
>;

/** The contact, group and profile capabilities of one session. */
export function directoryCapabilities(ctx: WwebjsContext): DirectoryCapabilities {
  async function withOtherIds(contacts: ContactDto[]): Promise<ContactDto[]> {
    await ctx.lids.resolve(contacts.map((c) => c.id));
    return contacts.map((c) => ctx.lids.contact(c));
  }

  async function listContacts(): Promise<ContactDto[]> {
    const contacts: Lib[] = await ctx.call(() => ctx.client.getContacts());
    return await withOtherIds(contacts.map(toContactDto));
  }

  async function getContact(contactId: string): Promise<ContactDto> {
    const contact = await findContact(ctx, contactId);
    return (await withOtherIds([toContactDto(contact)]))[0];
  }

  async function getProfilePictureUrl(contactId: string): Promise<string | null> {
    const url = await ctx.call(() => ctx.client.getProfilePicUrl(contactId)).catch((error) => {
      throw unknownUserError(error, contactId) ?? error;
    });
    return url ?? null;
  }

  async function blockContact(contactId: string): Promise<void> {
    const contact = await findContact(ctx, contactId);
    await ctx.call(() => contact.block());
  }

  async function unblockContact(contactId: string): Promise<void> {
    const contact = await findContact(ctx, contactId);
    await ctx.call(() => contact.unblock());
  }

  // ---------- groups ----------

  async function createGroup({ name, participants }: CreateGroupInput): Promise<GroupCreated> {
    const asked = await byPhoneNumber(participants);
    const askable = asked.filter((a) => isPhoneNumberId(a.pn)).map((a) => a.pn);
    const created = await ctx.call(() => ctx.client.createGroup(name, askable));
    if (typeof created === "string" || !created?.gid) {
      throw new EngineError(
        "BAD_REQUEST",
        typeof created === "string" ? created : "Group not created",
      );
    }
    const group = await getGroup(serialized(created.gid));
    // The creator is listed too (as the group's superadmin): the results are about the others.
    const others = Object.fromEntries(
      Object.entries(created.participants ?? {}).filter(([, r]) => !(r as Lib)?.isGroupCreator),
    );
    return { ...group, results: asAsked(asked, toParticipantResults(others)) };
  }

  async function getGroup(groupId: string): Promise<GroupDto> {
    const group = toGroupDto(await findGroup(ctx, groupId));
    await ctx.lids.resolve(idsOfGroup(group));
    return ctx.lids.group(group);
  }

  /**
   * Participants as whatsapp-web.js adds them: by phone number (it looks a LID's up itself but
   * fails on one without a number). A LID whose number is unknown is answered without asking.
   */
  async function byPhoneNumber(ids: string[]): Promise<{ id: string; pn: string }[]> {
    await ctx.lids.resolve(ids);
    return ids.map((id) => ({ id, pn: isLid(id) ? ctx.lids.pn(id) ?? id : id }));
  }

  /** Results keyed by the ids as the caller named them; LIDs without a number refused. */
  function asAsked(
    asked: { id: string; pn: string }[],
    results: ParticipantResult[],
  ): ParticipantResult[] {
    return asked.map(({ id, pn }): ParticipantResult => {
      if (isLid(pn)) {
        return {
          id,
          result: "not_allowed",
          message: "WhatsApp does not say which phone number this LID belongs to",
        };
      }
      const found = results.find((r) => r.id === pn || r.id === id);
      return found ? { ...found, id } : { id, result: "not_allowed" };
    });
  }

  async function updateGroup({ groupId, ...update }: GroupUpdate): Promise<GroupDto> {
    const group = await findGroup(ctx, groupId);
    const steps: [string, () => Promise<boolean>][] = [];
    if (update.subject !== undefined) {
      steps.push(["subject", () => group.setSubject(update.subject)]);
    }
    if (update.description !== undefined) {
      steps.push(["description", () => group.setDescription(update.description)]);
    }
    if (update.messagesAdminsOnly !== undefined) {
      steps.push([
        "messagesAdminsOnly",
        () => group.setMessagesAdminsOnly(update.messagesAdminsOnly),
      ]);
    }
    if (update.infoAdminsOnly !== undefined) {
      steps.push(["infoAdminsOnly", () => group.setInfoAdminsOnly(update.infoAdminsOnly)]);
    }
    for (const [what, step] of steps) {
      const ok = await ctx.call(step);
      if (ok === false) throw new EngineError("BAD_REQUEST", `Cannot change the group's ${what}`);
    }
    return await getGroup(groupId);
  }

  async function leaveGroup(groupId: string): Promise<void> {
    const group = await findGroup(ctx, groupId);
    await ctx.call(() => group.leave());
  }

  async function addParticipants(
    { groupId, participants }: ParticipantsChange,
  ): Promise<ParticipantResult[]> {
    const group = await findGroup(ctx, groupId);
    const asked = await byPhoneNumber(participants);
    const askable = asked.filter((a) => isPhoneNumberId(a.pn)).map((a) => a.pn);
    const result = askable.length ? await ctx.call(() => group.addParticipants(askable)) : {};
    if (typeof result === "string") throw new EngineError("BAD_REQUEST", result);
    return asAsked(asked, toParticipantResults(result ?? {}));
  }

  async function removeParticipants(
    { groupId, participants }: ParticipantsChange,
  ): Promise<ParticipantResult[]> {
    // Members may be listed by LID or by phone number, and named either way.
    const members = async () => {
      const ids = toGroupDto(await findGroup(ctx, groupId)).participants.map((p) => p.id);
      await ctx.lids.resolve([...ids, ...participants]);
      return { has: (id: string) => ids.some((m) => ctx.lids.same(m, id)) };
    };
    const before = await members();
    const present = participants.filter((p) => before.has(p));
    let refusal = "The participant could not be removed";
    if (present.length) {
      const group = await findGroup(ctx, groupId);
      try {
        await ctx.call(() => group.removeParticipants(present));
      } catch (error) {
        // WhatsApp refuses (not an admin): the participants stay, and say why below.
        if (error instanceof TimeoutError) throw error;
        refusal = `The participant could not be removed: ${describeError(error)}`;
      }
    }
    const after = await members();
    return participants.map((id): ParticipantResult =>
      !before.has(id)
        ? { id, result: "not_in_group" }
        : after.has(id)
        ? { id, result: "not_allowed", message: refusal }
        : { id, result: "removed" }
    );
  }

  // ---------- profile ----------

  async function getProfile(): Promise<ProfileDto> {
    ctx.ready();
    const info = ctx.client.info;
    const id = serialized(info?.wid);
    let status = "";
    try {
      const me = await ctx.call(() => ctx.client.getContactById(id));
      status = (await ctx.call(() => me.getAbout())) ?? "";
    } catch {
      // The about text is optional.
    }
    let pictureUrl: string | null = null;
    try {
      pictureUrl = await getProfilePictureUrl(id);
    } catch {
      // Hidden or unavailable.
    }
    return { id, number: id.split("@")[0], name: String(info?.pushname ?? ""), status, pictureUrl };
  }

  async function setProfileName(name: string): Promise<void> {
    ctx.ready();
    const ok = await ctx.call(() => ctx.client.setDisplayName(name));
    if (ok === false) throw new EngineError("BAD_REQUEST", "The display name cannot be changed");
    // whatsapp-web.js reads `info.pushname` once, at ready: keep it current for getProfile().
    ctx.setPushName(name);
  }

  async function setProfileStatus(status: string): Promise<void> {
    ctx.ready();
    await ctx.call(() => ctx.client.setStatus(status));
  }

  // ---------- LIDs ----------

  async function listLids(): Promise<LidMapping[]> {
    ctx.ready();
    const all: LidMapping[] = await ctx.call(() => ctx.client.pupPage.evaluate(pageAllLids));
    for (const { lid, pn } of all) if (pn) ctx.lids.learn(lid, pn);
    return all.sort((a, b) => a.lid.localeCompare(b.lid));
  }

  /**
   * WhatsApp Web's mapping first; else whatsapp-web.js's own retrieval, which asks WhatsApp's
   * server (it answers only where the user's privacy allows).
   */
  async function lookUp(id: string): Promise<void> {
    ctx.ready();
    await ctx.lids.resolve([id]);
    if (ctx.lids.alternate(id)) return;
    try {
      const [pair] = await ctx.call(() => ctx.client.getContactLidAndPhone([id]));
      if (pair?.lid && pair?.pn) ctx.lids.learn(pair.lid, pair.pn);
    } catch (error) {
      if (error instanceof TimeoutError) throw error;
      // Unknown to WhatsApp as well: no mapping.
    }
  }

  async function findPnByLid(lid: string): Promise<LidMapping> {
    await lookUp(lid);
    return { lid, pn: ctx.lids.pn(lid) ?? null };
  }

  async function findLidByPn(pn: string): Promise<{ lid: string | null; pn: string }> {
    await lookUp(pn);
    return { lid: ctx.lids.lid(pn) ?? null, pn };
  }

  async function setProfilePicture(media: MediaInput): Promise<void> {
    ctx.ready();
    const picture = new MessageMedia(media.mimetype, media.data, media.filename);
    const ok = await ctx.call(() => ctx.client.setProfilePicture(picture));
    if (ok === false) throw new EngineError("BAD_REQUEST", "The profile picture cannot be changed");
  }

  return {
    listContacts,
    getContact,
    getProfilePictureUrl,
    blockContact,
    unblockContact,
    createGroup,
    getGroup,
    updateGroup,
    leaveGroup,
    addParticipants,
    removeParticipants,
    getProfile,
    setProfileName,
    setProfileStatus,
    setProfilePicture,
    listLids,
    findPnByLid,
    findLidByPn,
  };
}
