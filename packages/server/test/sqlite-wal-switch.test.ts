import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { switchToWal } from '../src/store/sqlite-dialect.ts';

const directory = mkdtempSync(join(tmpdir(), 'baton-wal-switch-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

// Another connection, on its own thread, takes the write lock of a fresh file (still in rollback mode),
// says so, and commits `holdMs` later: what a second process does while it switches the same new file.
const HOLDER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.exec('begin immediate; create table other_process (id integer)');
parentPort.postMessage('holding');
setTimeout(() => { db.exec('commit'); db.close(); parentPort.postMessage('committed'); }, workerData.holdMs);
`;

async function holdWriteLock(file: string, holdMs: number): Promise<{ committed: Promise<void> }> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(HOLDER, { eval: true, workerData: { file, driver, holdMs } });
  const messages: string[] = [];
  const waiters = new Map<string, () => void>();
  worker.on('message', (message: string) => {
    messages.push(message);
    waiters.get(message)?.();
  });
  const seen = (message: string) =>
    new Promise<void>((resolve) => (messages.includes(message) ? resolve() : waiters.set(message, resolve)));
  await seen('holding');
  return { committed: seen('committed').then(() => worker.terminate().then(() => undefined)) };
}

function journalMode(file: string): string {
  const database = new BetterSqlite3(file, { readonly: true });
  try {
    return String(database.pragma('journal_mode', { simple: true }));
  } finally {
    database.close();
  }
}

describe('switching a new SQLite file to WAL while another process writes to it', () => {
  it('waits for the other writer and switches, where the bare pragma is refused at once', async () => {
    const file = join(directory, 'switch.db');
    const holder = await holdWriteLock(file, 300);
    const bare = new BetterSqlite3(file);
    const ours = new BetterSqlite3(file);
    try {
      // SQLite refuses the upgrade from the header read to the write without calling the busy handler.
      bare.pragma('busy_timeout = 5000');
      expect(() => bare.pragma('journal_mode = WAL')).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
      switchToWal(ours, 5000);
    } finally {
      bare.close();
      ours.close();
    }
    await holder.committed;
    expect(journalMode(file)).toBe('wal');
  });

  it('gives up with SQLITE_BUSY after its timeout when the other writer holds on', async () => {
    const file = join(directory, 'held.db');
    const holder = await holdWriteLock(file, 2_000);
    const ours = new BetterSqlite3(file);
    try {
      expect(() => switchToWal(ours, 100)).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
    } finally {
      ours.close();
    }
    await holder.committed;
    expect(journalMode(file)).toBe('delete');
  });
});
