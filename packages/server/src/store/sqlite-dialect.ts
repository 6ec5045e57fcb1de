import { resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  SqliteAdapter,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from 'kysely';
import { type DialectFactory, errorCode } from './database.ts';
import { SAFETY_AUTOCHECKPOINT_PAGES, startCheckpointer } from './sqlite-checkpointer.ts';
import { ConnectionLock, SqliteFastPath } from './sqlite-fast-path.ts';

export interface SqliteDialectOptions {
  file: string;
  /** How long a writer waits for another process's write lock before SQLITE_BUSY; default 5 s. */
  busyTimeoutMs?: number;
  /** Checkpoint the WAL from a worker thread instead of inside commits (sqlite-checkpointer.ts); default on. */
  backgroundCheckpoints?: boolean;
}

/** The few methods Kysely's SQLite driver calls. */
type SqliteDatabase = Pick<BetterSqlite3.Database, 'close'> & {
  prepare(sql: string): BetterSqlite3.Statement;
};

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew; better-sqlite3 statements are reusable, so the hot path
 * (append, read) compiles its SQL once. Safe because Kysely's SQLite driver serialises all use of
 * the single connection, so one statement never runs twice at once.
 */
function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(sql) {
      let statement = statements.get(sql);
      if (!statement) {
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear();
        statement = database.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
    close() {
      statements.clear();
      return database.close();
    },
  };
}

/**
 * better-sqlite3 waits for another connection's lock by blocking the thread. Two stores on one file
 * in the same process (a test, a CLI command next to a server) would then block the very event loop
 * the lock holder needs to finish, until busy_timeout fails the waiter. One lock per file per
 * process makes such connections take turns instead; other processes still meet SQLite's own lock.
 * The same lock keeps the fast path (sqlite-fast-path.ts) out of Kysely's transactions.
 */
const fileLocks = new Map<string, ConnectionLock>();

function connectionLockFor(file: string): ConnectionLock {
  // An in-memory database is private to its connection: a lock of its own.
  if (file === ':memory:' || file === '') return new ConnectionLock();
  const key = resolve(file);
  let lock = fileLocks.get(key);
  if (!lock) {
    lock = new ConnectionLock();
    fileLocks.set(key, lock);
  }
  return lock;
}

/**
 * Every transaction starts with `begin immediate`: it takes the write lock up front (waiting up to
 * busy_timeout), so two processes never both hold a read snapshot and then fail to upgrade it with
 * an immediate SQLITE_BUSY. Applies to `db.transaction()` everywhere, including Kysely's migrator.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  readonly #lock: ConnectionLock;

  constructor(config: SqliteDialectConfig, lock: ConnectionLock) {
    super(config);
    this.#lock = lock;
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    // Held from here to releaseConnection: a whole transaction, with every await inside it.
    await this.#lock.acquire();
    return super.acquireConnection();
  }

  override async releaseConnection(): Promise<void> {
    await super.releaseConnection();
    this.#lock.release();
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * SQLite does run DDL inside transactions, but Kysely's adapter says it does not, so its migrator
 * would run each migration bare: a failing one left half-applied, and no lock between processes.
 * Saying yes makes the migrator wrap the run in one (immediate) transaction.
 */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  readonly #lock: ConnectionLock;

  constructor(config: SqliteDialectConfig, lock: ConnectionLock) {
    super(config);
    this.#config = config;
    this.#lock = lock;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config, this.#lock);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalSqliteAdapter();
  }
}

/**
 * Puts the file in WAL mode (persistent: on a file already in WAL the pragma only reads the header). On a
 * fresh file the switch reads the header under a shared lock and then upgrades to a write lock; when
 * another process is switching the same fresh file at that moment, SQLite refuses the upgrade at once,
 * without waiting (SQLITE_BUSY: waiting could deadlock two upgraders). The other's switch is done a moment
 * later, so try again, for up to busy_timeout. Two servers, or two migrations, starting together on a new
 * file can meet this.
 */
export function switchToWal(connection: BetterSqlite3.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      connection.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if (!errorCode(error)?.startsWith('SQLITE_BUSY') || Date.now() >= deadline) throw error;
      // open() is synchronous (better-sqlite3 blocks the same way while it waits for a lock).
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, WAL_RETRY_MS);
    }
  }
}

const WAL_RETRY_MS = 5;

export function createSqliteDialect(options: SqliteDialectOptions): DialectFactory {
  // One connection, opened on first use by whichever comes first: Kysely's driver or the fast path.
  let connection: BetterSqlite3.Database | undefined;
  let checkpointerStopped: Promise<void> | undefined;
  const open = () => {
    if (!connection) {
      connection = new BetterSqlite3(options.file);
      // WAL lets readers in other processes work while one writes; NORMAL sync is durable across
      // process crashes in WAL mode and keeps commits off the fsync path.
      const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
      connection.pragma(`busy_timeout = ${busyTimeoutMs}`);
      switchToWal(connection, busyTimeoutMs);
      connection.pragma('synchronous = NORMAL');
      connection.pragma('foreign_keys = ON');
      if (options.backgroundCheckpoints !== false && options.file !== ':memory:' && options.file !== '') {
        connection.pragma(`wal_autocheckpoint = ${SAFETY_AUTOCHECKPOINT_PAGES}`);
        const checkpointer = startCheckpointer(options.file);
        const close = connection.close.bind(connection);
        connection.close = () => {
          // Ours first, then the worker's: closing at the same moment, each sees the other open and neither
          // deletes the WAL and shared-memory files; the worker, last, checkpoints and removes them.
          const closed = close();
          checkpointerStopped = checkpointer.stop();
          return closed;
        };
      }
    }
    return connection;
  };
  const lock = connectionLockFor(options.file);
  return {
    name: 'sqlite',
    dialect: new ImmediateSqliteDialect({ database: () => Promise.resolve(withStatementCache(open())) }, lock),
    sqliteFastPath: new SqliteFastPath(open, lock),
    settled: () => checkpointerStopped ?? Promise.resolve(),
    capabilities: {
      jsonType: 'text',
      serialType: 'integer',
      serialNeedsAutoIncrement: true,
      singleConnection: true,
    },
    classifyError(error) {
      const code = errorCode(error);
      if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') return 'unique_violation';
      if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign_key_violation';
      if (code?.startsWith('SQLITE_BUSY') || code?.startsWith('SQLITE_LOCKED')) return 'busy';
      return undefined;
    },
  };
}
