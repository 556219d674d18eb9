/**
 * @module
 * Who may act on a number, as one rule used twice: by the guard when a request arrives, and again
 * by the session manager and the webhook store at the moment the action takes effect (a body can
 * take seconds to arrive, and a number can change hands meanwhile). The admin may act on any
 * number; an account only on the numbers it owns; a number without a record is not started.
 */
import { ApiError, forbidden, sessionNotFound } from "../errors.ts";
import type { ClaimOutcome, SessionRecord } from "../store/store.ts";

/** The caller an action is done for: the request's principal, as the manager sees it. */
export interface SessionCaller {
  kind: "admin" | "account";
  /** The account's id; null for the admin. */
  accountId: string | null;
}

/** Throws `404` (no such session) or `403` (another's) unless the caller may act on the number. */
export function assertMayAct(
  phoneNumber: string,
  record: SessionRecord | null,
  caller: SessionCaller | undefined,
): void {
  if (!caller || caller.kind === "admin") return;
  if (!record) throw sessionNotFound(phoneNumber);
  if (record.ownerAccountId === null) {
    throw forbidden(`Session "${phoneNumber}" has no owner: it was started with the admin key`);
  }
  if (record.ownerAccountId !== caller.accountId) throw belongsToAnother(phoneNumber);
}

/** The refusal for a claim's outcome, or null when the account may have the number. */
export function claimRefusal(
  outcome: ClaimOutcome,
  phoneNumber: string,
  accountId: string,
  max: number,
): ApiError | null {
  switch (outcome) {
    case "claimed":
    case "owned":
      return null;
    case "taken":
      return belongsToAnother(phoneNumber);
    case "admin":
      return forbidden(
        `Session "${phoneNumber}" was started with the admin key: the admin may free it with DELETE`,
      );
    case "limit":
      return forbidden(
        `Account "${accountId}" already owns ${max} number${max === 1 ? "" : "s"} ` +
          `(MAX_NUMBERS_PER_ACCOUNT=${max})`,
      );
  }
}

function belongsToAnother(phoneNumber: string): ApiError {
  return forbidden(`Session "${phoneNumber}" belongs to another account`);
}
