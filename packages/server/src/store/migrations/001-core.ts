import { sql } from 'kysely';
import type { BatonMigration } from './migration.ts';

/**
 * Timestamps are ISO-8601 UTC strings (`toISOString`) on both dialects: they sort as text and come
 * back identical from SQLite and PostgreSQL. JSON columns are `jsonb` on PostgreSQL, text on SQLite.
 */
export const coreMigration: BatonMigration = {
  async up(db, { jsonType, serialType, serialNeedsAutoIncrement }) {
    await db.schema
      .createTable('conversations')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('industry', 'text', (column) => column.notNull())
      .addColumn('channel', 'text', (column) => column.notNull())
      .addColumn('bot_id', 'text')
      .addColumn('customer_name', 'text')
      .addColumn('customer_token_hash', 'text', (column) => column.notNull())
      .addColumn('status', 'text', (column) => column.notNull())
      .addColumn('owner', jsonType, (column) => column.notNull())
      .addColumn('last_seq', 'integer', (column) => column.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (column) => column.notNull())
      .addColumn('updated_at', 'text', (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex('conversations_status_updated_idx')
      .on('conversations')
      .columns(['status', 'updated_at'])
      .execute();
    await db.schema.createIndex('conversations_updated_idx').on('conversations').column('updated_at').execute();

    await db.schema
      .createTable('events')
      .addColumn('conversation_id', 'text', (column) =>
        column.notNull().references('conversations.id').onDelete('cascade'),
      )
      .addColumn('seq', 'integer', (column) => column.notNull())
      .addColumn('type', 'text', (column) => column.notNull())
      .addColumn('at', 'text', (column) => column.notNull())
      .addColumn('body', jsonType, (column) => column.notNull())
      .addPrimaryKeyConstraint('events_pk', ['conversation_id', 'seq'])
      .execute();

    await db.schema
      .createTable('agents')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('email', 'text', (column) => column.notNull().unique())
      .addColumn('name', 'text', (column) => column.notNull())
      .addColumn('password_hash', 'text', (column) => column.notNull())
      .addColumn('role', 'text', (column) => column.notNull().defaultTo('agent'))
      .addColumn('skills', jsonType, (column) => column.notNull())
      .addColumn('languages', jsonType, (column) => column.notNull())
      .addColumn('capacity', 'integer', (column) => column.notNull().defaultTo(3))
      .addColumn('presence', 'text', (column) => column.notNull().defaultTo('offline'))
      .addColumn('created_at', 'text', (column) => column.notNull())
      .addCheckConstraint('agents_role_check', sql`role in ('agent', 'supervisor', 'admin')`)
      .execute();

    await db.schema
      .createTable('sessions')
      .addColumn('token_hash', 'text', (column) => column.primaryKey())
      .addColumn('agent_id', 'text', (column) => column.notNull().references('agents.id').onDelete('cascade'))
      .addColumn('expires_at', 'text', (column) => column.notNull())
      .execute();
    await db.schema.createIndex('sessions_agent_idx').on('sessions').column('agent_id').execute();

    await db.schema
      .createTable('api_keys')
      .addColumn('key_hash', 'text', (column) => column.primaryKey())
      .addColumn('name', 'text', (column) => column.notNull())
      .addColumn('bot_id', 'text')
      .addColumn('webhook_url', 'text')
      .addColumn('webhook_secret', 'text')
      .addColumn('created_at', 'text', (column) => column.notNull())
      .execute();

    await db.schema
      .createTable('audit_log')
      .addColumn('id', serialType, (column) => {
        const key = column.primaryKey();
        return serialNeedsAutoIncrement ? key.autoIncrement() : key;
      })
      .addColumn('at', 'text', (column) => column.notNull())
      .addColumn('actor_kind', 'text', (column) => column.notNull())
      .addColumn('actor_id', 'text')
      .addColumn('action', 'text', (column) => column.notNull())
      .addColumn('conversation_id', 'text')
      .addColumn('detail', jsonType, (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex('audit_log_conversation_idx')
      .on('audit_log')
      .columns(['conversation_id', 'id'])
      .execute();
  },

  async down(db) {
    for (const table of ['audit_log', 'api_keys', 'sessions', 'agents', 'events', 'conversations']) {
      await db.schema.dropTable(table).ifExists().execute();
    }
  },
};
