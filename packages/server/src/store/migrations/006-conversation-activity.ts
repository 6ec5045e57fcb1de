import { sql } from 'kysely';
import type { BatonMigration } from './migration.ts';

/**
 * The conversation list's recency order, kept without an index write on every append. Every append sets
 * the conversation's `updated_at`; with `updated_at` in two indexes, each append also moved the row in
 * both (SQLite: 2 index b-trees written per commit; PostgreSQL: no heap-only update, so a new entry in
 * every index of the table and the dead ones to vacuum). The indexes now hold `active_minute`, the
 * minute of `updated_at` (its first 16 characters, `YYYY-MM-DDTHH:MM`), which an append changes at most
 * once a minute: the appends of a conversation within a minute write no index. The list orders by
 * `active_minute`, then `updated_at`: the same order as before, each minute sorted on its own.
 * PostgreSQL keeps a fifth of each page free, so the row's new version fits beside the old one.
 */
export const conversationActivityMigration: BatonMigration = {
  async up(db, capabilities) {
    await db.schema
      .alterTable('conversations')
      .addColumn('active_minute', 'text', (column) => column.notNull().defaultTo(''))
      .execute();
    await sql`update conversations set active_minute = substr(updated_at, 1, 16)`.execute(db);
    await db.schema.dropIndex('conversations_status_updated_idx').execute();
    await db.schema.dropIndex('conversations_updated_idx').execute();
    await db.schema.createIndex('conversations_active_idx').on('conversations').column('active_minute').execute();
    await db.schema
      .createIndex('conversations_status_active_idx')
      .on('conversations')
      .columns(['status', 'active_minute'])
      .execute();
    if (capabilities.jsonType === 'jsonb') await sql`alter table conversations set (fillfactor = 80)`.execute(db);
  },
};
