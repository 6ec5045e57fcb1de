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
  /**
   * Closes the worker's connection; settles once the worker has exited, so nothing touches the files after
   * (the last connection to close deletes the -wal and -shm files: a caller removing the directory must
   * wait for that). Never rejects; gives up waiting after `STOP_WAIT_MS`.
   */
  stop(): Promise<void>;
}

const STOP_WAIT_MS = 5_000;

export function startCheckpointer(file: string): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs: INTERVAL_MS } });
  // A failing checkpointer only means the safety-net threshold does the work: never crash the server.
  worker.on('error', () => undefined);
  worker.unref();
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    worker.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      if (!stopping) {
        if (exited) return Promise.resolve();
        // Keep the process alive until the worker has gone (it was unref'd so as not to hold a server open).
        worker.ref();
        worker.postMessage('stop');
        let timer: ReturnType<typeof setTimeout> | undefined;
        const givenUp = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            void worker.terminate();
            resolve();
          }, STOP_WAIT_MS);
        });
        stopping = Promise.race([exit, givenUp]).finally(() => clearTimeout(timer));
      }
      return stopping;
    },
  };
}
