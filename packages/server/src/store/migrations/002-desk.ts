import { sql } from 'kysely';
import type { BatonMigration } from './migration.ts';

/**
 * The live desk: who waits for a human, which offer is open, and the lease that serialises routing
 * across server processes. The event log stays the record; these rows are where the decisions that
 * must be made exactly once (an accept, an expiry) are taken, by conditional updates.
 */
export const deskMigration: BatonMigration = {
  async up(db) {
    await db.schema
      .createTable('desk_handoffs')
      .addColumn('conversation_id', 'text', (column) => column.primaryKey())
      // waiting | offered | assigned | callback | closed
      .addColumn('state', 'text', (column) => column.notNull())
      .addColumn('queue', 'text', (column) => column.notNull())
      .addColumn('priority', 'text', (column) => column.notNull())
      .addColumn('skills', 'text', (column) => column.notNull())
      .addColumn('language', 'text')
      .addColumn('target_agent_id', 'text')
      .addColumn('excluded_agent_ids', 'text', (column) => column.notNull())
      .addColumn('waiting_since', 'text', (column) => column.notNull())
      /** Seq of the request or transfer that started this wait: offers belong to one episode. */
      .addColumn('episode', 'integer', (column) => column.notNull())
      .addColumn('agent_id', 'text')
      .addColumn('assigned_at', 'text')
      .addColumn('position', 'integer')
      .addColumn('estimate_seconds', 'integer')
      .addColumn('updated_at', 'text', (column) => column.notNull())
      .execute();
    await db.schema.createIndex('desk_handoffs_state_idx').on('desk_handoffs').columns(['state', 'queue']).execute();
    await db.schema.createIndex('desk_handoffs_agent_idx').on('desk_handoffs').columns(['agent_id', 'state']).execute();

    await db.schema
      .createTable('desk_offers')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('conversation_id', 'text', (column) => column.notNull())
      .addColumn('episode', 'integer', (column) => column.notNull())
      .addColumn('agent_id', 'text', (column) => column.notNull())
      .addColumn('queue', 'text', (column) => column.notNull())
      // open | accepted | declined | expired | cancelled
      .addColumn('state', 'text', (column) => column.notNull())
      .addColumn('waiting_since', 'text', (column) => column.notNull())
      .addColumn('created_at', 'text', (column) => column.notNull())
      .addColumn('expires_at', 'text', (column) => column.notNull())
      .addColumn('decided_at', 'text')
      .execute();
    // The database, not a process, guarantees one open offer per conversation and one accept per episode.
    await sql`create unique index desk_offers_one_open on desk_offers (conversation_id) where state = 'open'`.execute(
      db,
    );
    await sql`create unique index desk_offers_one_accept on desk_offers (conversation_id, episode) where state = 'accepted'`.execute(
      db,
    );
    await db.schema.createIndex('desk_offers_agent_idx').on('desk_offers').columns(['agent_id', 'state']).execute();
    await db.schema.createIndex('desk_offers_created_idx').on('desk_offers').column('created_at').execute();

    await db.schema
      .createTable('desk_lease')
      .addColumn('id', 'integer', (column) => column.primaryKey())
      .addColumn('holder', 'text')
      .addColumn('until', 'text', (column) => column.notNull())
      .execute();
    await sql`insert into desk_lease (id, holder, until) values (1, null, '1970-01-01T00:00:00.000Z')`.execute(db);
  },

  async down(db) {
    for (const table of ['desk_lease', 'desk_offers', 'desk_handoffs']) {
      await db.schema.dropTable(table).ifExists().execute();
    }
  },
};
