import { setImmediate } from 'node:timers';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * A FIFO lock with a synchronous try. Every user of one SQLite connection holds it for as long as it
 * uses the connection: Kysely from `acquireConnection` to `releaseConnection` (a whole transaction,
 * across its awaits), the fast path for one synchronous call. One lock per file per process, so stores
 * that share a file in one process take turns too (see sqlite-dialect.ts).
 */
export class ConnectionLock {
  #held = false;
  /** Non-empty only while held: `release` hands the lock straight to the next waiter, so none is overtaken. */
  readonly #waiters: (() => void)[] = [];

  tryAcquire(): boolean {
    if (this.#held) return false;
    this.#held = true;
    return true;
  }

  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#held = false;
  }
}

export type SqliteValue = string | number | bigint | null;

/**
 * Transactions a turn of the event loop runs at once before grouping the rest. A handoff writes about
 * four times in one chain (the customer's message, the AI's reply and request, the offer, its event).
 * Measured in the bench: under its realistic load a turn runs 1-4 transactions (a few over 4), so all
 * go straight through; a saturated turn runs 30-130, and all but these few commit as one group.
 */
export const IMMEDIATE_PER_TURN = 8;
/** A busy turn makes the turns in this window group at once (a saturated turn lasts ~10-50 ms). */
const BUSY_FOR_MS = 100;

interface PendingTransaction {
  work: (statements: SqliteStatements) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The statements one fast-path call may run, each prepared once per connection. */
export interface SqliteStatements {
  get<Row>(sql: string, ...parameters: SqliteValue[]): Row | undefined;
  all<Row>(sql: string, ...parameters: SqliteValue[]): Row[];
  run(sql: string, ...parameters: SqliteValue[]): void;
}

/**
 * Runs prepared better-sqlite3 statements synchronously on the connection Kysely also uses, without
 * Kysely's query building, compiling and async driver in the path. A call takes the connection lock:
 * when it is free (the common case) a read runs at once, before the caller's first await, and ends
 * before any other JavaScript runs, so nothing can interleave with it; otherwise it waits its turn and
 * so never runs inside someone else's open Kysely transaction. Transactions in a busy turn of the event
 * loop are grouped (see `transaction`): they run together at the end of the turn, under the lock, each
 * whole. Writes run in `BEGIN IMMEDIATE … COMMIT`; another process's write lock blocks the thread for up to
 * busy_timeout, as it does in the driver.
 */
export class SqliteFastPath implements SqliteStatements {
  readonly #open: () => BetterSqlite3.Database;
  readonly #lock: ConnectionLock;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();
  #database: BetterSqlite3.Database | undefined;
  /** Transactions waiting for the end of the turn, to commit as one group. */
  #batch: PendingTransaction[] = [];
  /** Transactions asked for in this turn of the event loop, and those of them run at once. */
  #requestedThisTurn = 0;
  #immediateThisTurn = 0;
  /** When the last busy turn (more than `IMMEDIATE_PER_TURN` transactions) ended. */
  #busyAt: number | undefined;

  constructor(open: () => BetterSqlite3.Database, lock: ConnectionLock) {
    this.#open = open;
    this.#lock = lock;
  }

  /** Reads, or a single statement that commits on its own. */
  async execute<T>(work: (statements: SqliteStatements) => T): Promise<T> {
    if (!this.#lock.tryAcquire()) await this.#lock.acquire();
    try {
      this.#assertNoOpenTransaction();
      return work(this);
    } finally {
      this.#lock.release();
    }
  }

  /**
   * `work` in an immediate transaction: its writes are committed when it returns and rolled back when it
   * throws, and the promise settles only after that commit (or rollback). Group commit: the first few
   * transactions in a turn of the event loop run at once, alone, so an idle or lightly loaded server waits
   * for nothing (a handoff's chain of writes goes straight through). Past those, in a busy turn (requests
   * that arrived together, under load; and right after one, all but the first), they wait for the end of
   * the turn and run in one `BEGIN IMMEDIATE … COMMIT`, each in its own savepoint, so one that throws is
   * rolled back alone and the others commit. One commit then pays for many: the WAL pages written once,
   * the write lock taken once. Each `work` runs whole, with nothing interleaved, in the order of the calls.
   */
  transaction<T>(work: (statements: SqliteStatements) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: PendingTransaction = { work, resolve: resolve as (value: unknown) => void, reject };
      if (this.#requestedThisTurn++ === 0) {
        // node:timers' own setImmediate: a test's fake timers replace the global one, not this.
        setImmediate(() => this.#endTurn());
      }
      // After a busy turn the next is likely busy too (a flood): group all but the first at once.
      const busy = this.#busyAt !== undefined && performance.now() - this.#busyAt < BUSY_FOR_MS;
      const limit = busy ? 1 : IMMEDIATE_PER_TURN;
      if (this.#batch.length === 0 && this.#immediateThisTurn < limit && this.#lock.tryAcquire()) {
        this.#immediateThisTurn += 1;
        try {
          this.#commit([pending], 0);
        } finally {
          this.#lock.release();
        }
        return;
      }
      this.#batch.push(pending);
    });
  }

  #endTurn(): void {
    this.#busyAt = this.#requestedThisTurn > IMMEDIATE_PER_TURN ? performance.now() : undefined;
    this.#requestedThisTurn = 0;
    this.#immediateThisTurn = 0;
    if (this.#batch.length > 0) void this.#flush();
  }

  async #flush(): Promise<void> {
    const batch = this.#batch;
    this.#batch = [];
    if (!this.#lock.tryAcquire()) await this.#lock.acquire();
    try {
      let next = 0;
      while (next < batch.length) next = this.#commit(batch, next);
    } finally {
      this.#lock.release();
    }
  }

  /**
   * One transaction for `batch` from `start` on; returns where the next one starts (normally the end).
   * SQLite ends a transaction itself on some errors (SQLITE_FULL, an interrupted busy wait): what was
   * done in it is gone, so those calls fail with that error and the rest start a new transaction.
   */
  #commit(batch: readonly PendingTransaction[], start: number): number {
    const done: { pending: PendingTransaction; result: unknown }[] = [];
    const failDone = (error: unknown) => {
      for (const entry of done) entry.pending.reject(error);
    };
    try {
      this.#assertNoOpenTransaction();
      this.run('begin immediate');
    } catch (error) {
      for (const pending of batch.slice(start)) pending.reject(error);
      return batch.length;
    }
    // A batch of one needs no savepoint: the transaction is its own.
    const alone = batch.length - start === 1;
    for (let index = start; index < batch.length; index++) {
      const pending = batch[index] as PendingTransaction;
      if (!alone) this.run('savepoint batched');
      try {
        const result = pending.work(this);
        if (!alone) this.run('release batched');
        done.push({ pending, result });
      } catch (error) {
        pending.reject(error);
        if (!this.#connection().inTransaction) {
          failDone(error);
          return index + 1;
        }
        if (alone) {
          this.run('rollback');
          return batch.length;
        }
        this.run('rollback to batched');
        this.run('release batched');
      }
    }
    try {
      this.run('commit');
    } catch (error) {
      if (this.#connection().inTransaction) this.run('rollback');
      failDone(error);
      return batch.length;
    }
    for (const { pending, result } of done) pending.resolve(result);
    return batch.length;
  }

  get<Row>(sql: string, ...parameters: SqliteValue[]): Row | undefined {
    return this.#statement(sql).get(...parameters) as Row | undefined;
  }

  all<Row>(sql: string, ...parameters: SqliteValue[]): Row[] {
    return this.#statement(sql).all(...parameters) as Row[];
  }

  run(sql: string, ...parameters: SqliteValue[]): void {
    this.#statement(sql).run(...parameters);
  }

  close(): void {
    this.#statements.clear();
    this.#database?.close();
  }

  #connection(): BetterSqlite3.Database {
    this.#database ??= this.#open();
    return this.#database;
  }

  #statement(sql: string): BetterSqlite3.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#connection().prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Holding the lock means no one else is using the connection; a transaction open anyway would be
   * joined and committed by ours. Fail loudly instead.
   */
  #assertNoOpenTransaction(): void {
    if (this.#connection().inTransaction) {
      throw new Error('sqlite fast path: a transaction is open on the connection although its lock is free');
    }
  }
}
