import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '../src/store/sql-store.ts';

const directory = mkdtempSync(join(tmpdir(), 'baton-checkpoint-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Rows of `events` in the database file alone, without its WAL: what checkpoints have copied back. */
function eventsInMainFile(file: string, name: string): number {
  const copy = join(directory, `${name}.db`);
  copyFileSync(file, copy);
  const database = new BetterSqlite3(copy, { readonly: true });
  try {
    const hasTable = database.prepare("select 1 from sqlite_master where name = 'events'").get();
    return hasTable ? (database.prepare('select count(*) as n from events').get() as { n: number }).n : 0;
  } finally {
    database.close();
  }
}

describe('WAL checkpoints on SQLite', () => {
  it('happen in the background, not in a commit, and stop with the store', async () => {
    const file = join(directory, 'background.db');
    const store = createStore({ file });
    await store.migrate();
    await store.createConversation({
      id: 'c_checkpoint',
      industry: 'other',
      channel: 'api',
      customerTokenHash: 'x',
      owner: { kind: 'ai' },
    });
    for (let index = 0; index < 200; index++) {
      await store.append('c_checkpoint', [{ type: 'message', author: 'customer', text: `message ${index}` }]);
    }
    // Far below the commit-time threshold, so only the worker can have copied the pages back.
    let copied = 0;
    for (let attempt = 0; attempt < 40 && copied < 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      copied = eventsInMainFile(file, `copy-${attempt}`);
    }
    expect(copied).toBe(200);
    await store.close();
  });

  it('leaves the files at rest once the store has closed: the directory can go at once', async () => {
    // A test (or an operator's script) removes the data directory right after closing: the checkpoint
    // worker's own connection must be closed by then, or its close recreates or deletes files mid-removal.
    for (let round = 0; round < 5; round++) {
      const folder = join(directory, `at-rest-${round}`);
      mkdirSync(folder);
      const store = createStore({ file: join(folder, 'baton.db') });
      await store.migrate();
      await store.createConversation({
        id: `c_rest_${round}`,
        industry: 'other',
        channel: 'api',
        customerTokenHash: 'x',
        owner: { kind: 'ai' },
      });
      await store.append(`c_rest_${round}`, [{ type: 'message', author: 'customer', text: 'hello' }]);
      // Odd rounds close before the worker's first checkpoint, even ones after it holds the WAL open too.
      if (round % 2 === 0) await new Promise((resolve) => setTimeout(resolve, 400));
      await store.close();
      // The last connection to close checkpoints and deletes the WAL and shared-memory files.
      expect(readdirSync(folder)).toEqual(['baton.db']);
      rmSync(folder, { recursive: true });
    }
  });
});
