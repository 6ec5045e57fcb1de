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

/** The statements one fast-path call may run, each prepared once per connection. */
export interface SqliteStatements {
  get<Row>(sql: string, ...parameters: SqliteValue[]): Row | undefined;
  all<Row>(sql: string, ...parameters: SqliteValue[]): Row[];
  run(sql: string, ...parameters: SqliteValue[]): void;
}

/**
 * Runs prepared better-sqlite3 statements synchronously on the connection Kysely also uses, without
 * Kysely's query building, compiling and async driver in the path. A call takes the connection lock:
 * when it is free (the common case) the work runs at once, before the caller's first await, and ends
 * before any other JavaScript runs, so nothing can interleave with it; otherwise it waits its turn and
 * so never runs inside someone else's open Kysely transaction. Writes run in `BEGIN IMMEDIATE … COMMIT`;
 * another process's write lock blocks the thread for up to busy_timeout, as it does in the driver.
 */
export class SqliteFastPath implements SqliteStatements {
  readonly #open: () => BetterSqlite3.Database;
  readonly #lock: ConnectionLock;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();
  #database: BetterSqlite3.Database | undefined;

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

  /** One immediate transaction: committed when `work` returns, rolled back when it throws. */
  async transaction<T>(work: (statements: SqliteStatements) => T): Promise<T> {
    if (!this.#lock.tryAcquire()) await this.#lock.acquire();
    try {
      this.#assertNoOpenTransaction();
      this.run('begin immediate');
      let result: T;
      try {
        result = work(this);
      } catch (error) {
        // Some errors (SQLITE_FULL, an interrupted busy wait) end the transaction themselves.
        if (this.#connection().inTransaction) this.run('rollback');
        throw error;
      }
      this.run('commit');
      return result;
    } finally {
      this.#lock.release();
    }
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
