import { sql } from 'kysely';
import type { BatonMigration } from './migration.ts';

/**
 * Row 2 of `desk_lease`: which server process runs the routing passes. Only that one does (the others
 * hand it their kicks over the bus), so the passes no longer queue on the desk lease behind each other.
 */
export const deskLeaderMigration: BatonMigration = {
  async up(db) {
    await sql`insert into desk_lease (id, holder, until) values (2, null, '1970-01-01T00:00:00.000Z')`.execute(db);
  },
};
