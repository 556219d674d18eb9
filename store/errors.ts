/**
 * @module
 * Why the store refused to open, for reasons an operator fixes: `main.ts` prints the message (one
 * line, no stack) and exits 1, as for a configuration error.
 */

/**
 * The store cannot be opened: another server holds the data folder, the database's schema is
 * newer than this version knows, the database cannot be reached.
 */
export class StoreRefusedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreRefusedError";
  }
}

/**
 * The database was migrated by a newer version of the server: this one would misread or undo
 * what that version writes (rolling back a rolling upgrade is done by starting the newer version).
 */
export class SchemaTooNewError extends StoreRefusedError {
  constructor(where: string, found: number, known: number) {
    super(
      `The database ${where} has schema version ${found}, newer than ${known}, the newest this ` +
        "version of wa-gateway knows: start a newer version",
    );
    this.name = "SchemaTooNewError";
  }
}

/**
 * The database could not be reached while serving (PostgreSQL down, restarting, or the network to
 * it cut): what was asked may not have been stored. The API answers `503 STORE_UNAVAILABLE`
 * (`errors.ts`); the message names no host, the cause (logged) has the driver's detail.
 */
export class StoreUnavailableError extends Error {
  constructor(options?: ErrorOptions) {
    super("The database cannot be reached: try again shortly", options);
    this.name = "StoreUnavailableError";
  }
}
