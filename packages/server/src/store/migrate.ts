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
  let { error, results } = await migrator.migrateToLatest();
  // Kysely checks for its tables by listing every table of every schema; a neighbouring schema dropped in
  // the middle of that listing (another tenant, another test run) fails it with 3F000 although nothing of
  // ours is wrong. Migrations run in one transaction and are idempotent, so trying again is safe.
  // Likewise when another process starting at the same moment held SQLite's write lock for longer than
  // busy_timeout (its own migrations, on a loaded machine): by the next attempt they are done.
  const worthAnotherTry = (failure: unknown) =>
    isVanishedNeighbourSchema(failure, handle.schema) || handle.classifyError(failure) === 'busy';
  for (let attempt = 1; error && worthAnotherTry(error) && attempt <= 3; attempt++) {
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error) {
    const failed = results?.find((result) => result.status === 'Error');
    throw new BatonError('internal', `migration ${failed?.migrationName ?? '(unknown)'} failed`, { cause: error });
  }
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

function isVanishedNeighbourSchema(error: unknown, ownSchema: string | undefined): boolean {
  if (typeof error !== 'object' || error === null || Reflect.get(error, 'code') !== '3F000') return false;
  const message = String(Reflect.get(error, 'message') ?? '');
  return ownSchema === undefined || !message.includes(`"${ownSchema}"`);
}
