import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * SQLite's automatic WAL checkpoint runs inside the commit that crosses its threshold: it copies about
 * a thousand pages back into the database file and syncs, on the event loop, and every request behind
 * that commit waits 20–70 ms. A worker thread with its own connection checkpoints instead, in PASSIVE
 * mode (it never blocks a writer and never waits for one), a few times a second. The connection's own
 * automatic checkpoint stays on at a much higher threshold, as a safety net should the worker stop.
 */
export const SAFETY_AUTOCHECKPOINT_PAGES = 20_000;
const INTERVAL_MS = 250;

// Plain CommonJS evaluated in the worker: no TypeScript loader is needed there (tests, tsx, bundles).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 0');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or closing: the next tick tries again */ }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  try { db.close(); } catch {}
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): void;
}

export function startCheckpointer(file: string): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs: INTERVAL_MS } });
  // A failing checkpointer only means the safety-net threshold does the work: never crash the server.
  worker.on('error', () => undefined);
  worker.unref();
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      worker.postMessage('stop');
    },
  };
}
