import { coreMigration } from './001-core.ts';
import { deskMigration } from './002-desk.ts';
import { presenceReasonMigration } from './003-presence-reason.ts';
import { deskLeaderMigration } from './004-desk-leader.ts';
import { deskHistoryMigration } from './005-desk-history.ts';
import { conversationActivityMigration } from './006-conversation-activity.ts';
import { agentLastOfferMigration } from './007-agent-last-offer.ts';
import type { BatonMigration } from './migration.ts';

export type { BatonMigration } from './migration.ts';

/**
 * Every migration, by name; names sort in the order they run. A module with its own tables adds
 * its file here (`002-desk.ts` …) or calls `registerMigration` before the store migrates.
 */
export const migrations: Record<string, BatonMigration> = {
  '001-core': coreMigration,
  '002-desk': deskMigration,
  '003-presence-reason': presenceReasonMigration,
  '004-desk-leader': deskLeaderMigration,
  '005-desk-history': deskHistoryMigration,
  '006-conversation-activity': conversationActivityMigration,
  '007-agent-last-offer': agentLastOfferMigration,
};

export function registerMigration(name: string, migration: BatonMigration): void {
  const existing = migrations[name];
  if (existing && existing !== migration) throw new Error(`migration ${name} is already registered`);
  migrations[name] = migration;
}
