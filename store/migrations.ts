/**
 * @module
 * The store's schema, as numbered migrations applied in order. The database remembers the last one
 * it applied in `PRAGMA user_version`; append new migrations, never edit an applied one.
 */

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "sessions",
    sql: `
      CREATE TABLE sessions (
        phone_number TEXT PRIMARY KEY,
        engine TEXT NOT NULL,
        should_run INTEGER NOT NULL DEFAULT 0,
        owner_account_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX sessions_owner ON sessions (owner_account_id);
    `,
  },
];
