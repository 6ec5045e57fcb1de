import { sql } from 'kysely';
import type { BatonMigration } from './migration.ts';

/**
 * Indexes that keep what a routing pass reads independent of the desk's history: finished offers and
 * closed handoffs pile up (a desk making three offers a second keeps a quarter of a million a day), and
 * without these the pass's reads scanned all of them (measured with `scripts/desk-history.ts`).
 * - open offers by creation: the expired-offer sweep and the open-offer counts read only live offers;
 * - offers by agent and creation: each agent's last offer is one index probe;
 * - handoffs by state and last change: handle times read the last day's closed handoffs only;
 * - handoffs by start of the wait: the supervisor's metrics read their window only.
 */
export const deskHistoryMigration: BatonMigration = {
  async up(db) {
    await sql`create index desk_offers_open_idx on desk_offers (created_at) where state = 'open'`.execute(db);
    await db.schema
      .createIndex('desk_offers_agent_created_idx')
      .on('desk_offers')
      .columns(['agent_id', 'created_at'])
      .execute();
    await db.schema
      .createIndex('desk_handoffs_state_updated_idx')
      .on('desk_handoffs')
      .columns(['state', 'updated_at'])
      .execute();
    await db.schema
      .createIndex('desk_handoffs_waiting_since_idx')
      .on('desk_handoffs')
      .column('waiting_since')
      .execute();
  },
};
