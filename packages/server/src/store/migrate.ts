import { BatonError } from '@baton/core';
import type { Migration, MigrationProvider } from 'kysely';
import { Migrator } from 'kysely';
import type { DatabaseHandle } from './database.ts';
import { type BatonMigration, migrations as registry } from './migrations/index.ts';

/** A static provider: migrations are modules bundled with the code, never files found at run time. */
class RegistryMigrationProvider implements MigrationProvider {
  constructor(
    private readonly migrations: Record<string, BatonMigration>,
    private readonly handle: DatabaseHandle,
  ) {}

  getMigrations(): Promise<Record<string, Migration>> {
    const { capabilities } = this.handle;
    const result: Record<string, Migration> = {};
    for (const [name, migration] of Object.entries(this.migrations)) {
      const { down } = migration;
      result[name] = {
        up: (db) => migration.up(db, capabilities),
        ...(down ? { down: (db) => down(db, capabilities) } : {}),
      };
    }
    return Promise.resolve(result);
  }
}

/** Brings the schema to the latest migration. Kysely's migrator takes a lock, so concurrent starts are safe. */
export async function migrateToLatest(
  handle: DatabaseHandle,
  migrations: Record<string, BatonMigration> = registry,
): Promise<string[]> {
  const migrator = new Migrator({
    db: handle.db,
    provider: new RegistryMigrationProvider(migrations, handle),
    // Kysely looks for its own tables in every schema unless told which: a migration table in a
    // neighbouring schema (another test run, another tenant) would make it skip creating ours.
    ...(handle.schema ? { migrationTableSchema: handle.schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error');
    throw new BatonError('internal', `migration ${failed?.migrationName ?? '(unknown)'} failed`, { cause: error });
  }
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
