import type { Kysely } from 'kysely';
import type { DialectCapabilities } from '../database.ts';

/**
 * A schema change, written once for both dialects. `capabilities` gives the column types that
 * differ (JSON, serial ids). Migrations run in name order; never edit one that has shipped.
 */
export interface BatonMigration {
  up(db: Kysely<unknown>, capabilities: DialectCapabilities): Promise<void>;
  down?(db: Kysely<unknown>, capabilities: DialectCapabilities): Promise<void>;
}
