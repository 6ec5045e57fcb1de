import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Dialect, Generated } from 'kysely';
import { Kysely } from 'kysely';
import type pg from 'pg';
import type { Logger } from 'pino';
import { createPostgresDialect } from './postgres-dialect.ts';
import { createSqliteDialect } from './sqlite-dialect.ts';
import type { SqliteFastPath } from './sqlite-fast-path.ts';

/**
 * Table types. JSON columns are typed as their stored form (`string`, or the parsed value on
 * PostgreSQL `jsonb`); read them through `readJson`. Other modules extend this with their own tables:
 * `Kysely<Database & DeskTables>`.
 */
export interface ConversationsTable {
  id: string;
  industry: string;
  channel: string;
  bot_id: string | null;
  customer_name: string | null;
  customer_token_hash: string;
  status: string;
  owner: JsonColumn;
  last_seq: number;
  created_at: string;
  updated_at: string;
  /** `updated_at` to the minute: what the list's indexes hold (see migration 006). */
  active_minute: string;
}

export interface EventsTable {
  conversation_id: string;
  seq: number;
  type: string;
  at: string;
  body: JsonColumn;
}

export interface AgentsTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  role: string;
  skills: JsonColumn;
  languages: JsonColumn;
  capacity: number;
  presence: string;
  /** Why the server last changed `presence` (see migration 003); null when the agent chose it. */
  presence_reason: string | null;
  created_at: string;
  /** When the agent was last offered a conversation, kept by the database (see migration 007). */
  last_offered_at: string | null;
}

export interface SessionsTable {
  token_hash: string;
  agent_id: string;
  expires_at: string;
}

export interface ApiKeysTable {
  key_hash: string;
  name: string;
  bot_id: string | null;
  webhook_url: string | null;
  webhook_secret: string | null;
  created_at: string;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  actor_kind: string;
  actor_id: string | null;
  action: string;
  conversation_id: string | null;
  detail: JsonColumn;
}

export interface Database {
  conversations: ConversationsTable;
  events: EventsTable;
  agents: AgentsTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
}

/** Written as a JSON string on both dialects; PostgreSQL hands `jsonb` back already parsed. */
export type JsonColumn = string | JsonValue;
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type DialectName = 'sqlite' | 'postgres';

/**
 * What differs between the dialects, as data. Queries and migrations read these flags instead of
 * branching on the dialect's name.
 */
export interface DialectCapabilities {
  /** Column type for JSON documents. */
  jsonType: 'jsonb' | 'text';
  /** Column type for an integer primary key the database fills in. */
  serialType: 'serial' | 'integer';
  /** SQLite needs `autoincrement` on the column to never reuse ids; PostgreSQL's serial never does. */
  serialNeedsAutoIncrement: boolean;
  /**
   * SQLite has a single connection: inside a transaction, a query through the outer `db` instead of
   * the transaction waits for ever. Code that could do that checks this flag.
   */
  singleConnection: boolean;
}

/** The database errors the store turns into BatonErrors; anything else is unexpected. */
export type DatabaseErrorKind = 'unique_violation' | 'foreign_key_violation' | 'busy';

export interface DialectFactory {
  name: DialectName;
  dialect: Dialect;
  capabilities: DialectCapabilities;
  classifyError(error: unknown): DatabaseErrorKind | undefined;
  /** SQLite only: synchronous prepared statements on Kysely's connection, for the store's hot path. */
  sqliteFastPath?: SqliteFastPath;
  /**
   * PostgreSQL only: the pool Kysely's connections come from, for what Kysely cannot say: a simple query
   * of several statements whose results are all wanted (Kysely keeps none of them).
   */
  postgresPool?: () => Promise<pg.Pool>;
  /** After the connections closed: settles once nothing of the dialect still works on the database's files. */
  settled?(): Promise<void>;
}

export interface DatabaseConfig {
  /** `postgres://…` or `postgresql://…` selects PostgreSQL; anything else is ignored. */
  url?: string;
  /** SQLite file; default `./data/baton.db`. `:memory:` works for throwaway stores. */
  file?: string;
  /** SQLite only: how long a writer waits for another process's write lock before `unavailable`; default 5 s. */
  busyTimeoutMs?: number;
  /** PostgreSQL only: the schema to work in (created when missing), e.g. to isolate a test run. */
  schema?: string;
  /** PostgreSQL pool size; default 10. */
  poolSize?: number;
  /** PostgreSQL: run parameterised statements as named prepared statements; default true. */
  preparedStatements?: boolean;
  logger?: Pick<Logger, 'warn'>;
}

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: DialectName;
  capabilities: DialectCapabilities;
  classifyError(error: unknown): DatabaseErrorKind | undefined;
  /** PostgreSQL schema the handle works in, when one was configured. */
  schema?: string;
  /** SQLite only: see `DialectFactory.sqliteFastPath`. */
  sqliteFastPath?: SqliteFastPath;
  /** PostgreSQL only: see `DialectFactory.postgresPool`. */
  postgresPool?: () => Promise<pg.Pool>;
  destroy(): Promise<void>;
}

export const DEFAULT_SQLITE_FILE = './data/baton.db';
/** PostgreSQL connections per process when nobody says (20 measured slower on 2 cores). */
export const DEFAULT_POOL_SIZE = 10;

export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url);
}

export function createDatabase(config: DatabaseConfig = {}): DatabaseHandle {
  let factory: DialectFactory;
  if (isPostgresUrl(config.url)) {
    factory = createPostgresDialect({
      url: config.url,
      ...(config.schema ? { schema: config.schema } : {}),
      poolSize: config.poolSize ?? DEFAULT_POOL_SIZE,
      ...(config.preparedStatements === false ? { preparedStatements: false } : {}),
      ...(config.logger ? { logger: config.logger } : {}),
    });
  } else {
    const file = config.file ?? DEFAULT_SQLITE_FILE;
    if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
    factory = createSqliteDialect({ file, busyTimeoutMs: config.busyTimeoutMs });
  }
  const db = new Kysely<Database>({ dialect: factory.dialect });
  const { sqliteFastPath, postgresPool } = factory;
  let destroyed: Promise<void> | undefined;
  return {
    db,
    dialect: factory.name,
    capabilities: factory.capabilities,
    classifyError: factory.classifyError,
    ...(isPostgresUrl(config.url) && config.schema ? { schema: config.schema } : {}),
    ...(sqliteFastPath ? { sqliteFastPath } : {}),
    ...(postgresPool ? { postgresPool } : {}),
    destroy() {
      // Kysely closes the connection only if it opened it; the fast path may have opened it alone.
      // Then wait for what closing left running (SQLite's checkpoint worker), so the files are at rest.
      destroyed ??= db
        .destroy()
        .then(() => sqliteFastPath?.close())
        .then(() => factory.settled?.());
      return destroyed;
    },
  };
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** Parses a JSON column whatever the dialect returned. */
export function readJson(value: JsonColumn): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}
