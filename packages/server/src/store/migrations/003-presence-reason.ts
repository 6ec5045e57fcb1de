import type { BatonMigration } from './migration.ts';

/**
 * Why an agent's presence last changed when the server changed it (`console_closed`, `console_opened`),
 * null when the agent chose it: a supervisor sees why someone went offline, on every process.
 */
export const presenceReasonMigration: BatonMigration = {
  async up(db) {
    await db.schema.alterTable('agents').addColumn('presence_reason', 'text').execute();
  },
};
